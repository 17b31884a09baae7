import { dottedIpv4, isIpv4Mapped } from '../collect/ip';
import { DestinationTable } from '../metrics/destinations';

/**
 * IP addresses and CIDR networks as four 32-bit words (IPv4 as IPv4-mapped IPv6, ::ffff:a.b.c.d), so that matching
 * is four masked compares. A sample's destinations come as numbers (src/metrics/destinations.ts), and each distinct
 * CIDR is matched against them once, as a bitmap the behaviors that name it share.
 */

export type Words = [number, number, number, number];

export interface Network {
  text: string;
  /** The network address, already masked. */
  words: Words;
  masks: Words;
}

const V4_MAPPED_WORD = 0xffff;
/** Bitmaps a new arena holds: a sample's worth for most configurations. */
const ARENA_BITMAPS = 64;

/** The words of an IPv4 dotted quad at `start..end` of `text`, or undefined. No allocation: this runs 10,000 times a sample. */
function ipv4Word(text: string, start: number, end: number): number | undefined {
  let word = 0;
  let octet = -1;
  let dots = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (octet < 0) return undefined;
      word = word * 256 + octet;
      octet = -1;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      octet = Math.max(octet, 0) * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || octet < 0) return undefined;
  return word * 256 + octet;
}

/** IPv6 text (any valid form) as words, or undefined. */
function ipv6Words(text: string): Words | undefined {
  let host = text;
  // Only unusual forms (a dotted tail, upper case, a zone) need the URL parser's normalisation.
  if (!/^[0-9a-f:]+$/.test(text)) {
    try {
      host = new URL(`http://[${text.split('%')[0]}]`).hostname.slice(1, -1);
    } catch {
      return undefined;
    }
  }
  const halves = host.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...right];
  const words: Words = [0, 0, 0, 0];
  for (let g = 0; g < 8; g++) {
    const group = all[g] ?? '';
    if (!/^[0-9a-f]{1,4}$/.test(group)) return undefined;
    words[g >> 1] = (words[g >> 1] as number) * 0x10000 + parseInt(group, 16);
  }
  return words;
}

/** An IPv4 or IPv6 address as words, or undefined when it is not one. */
export function ipWords(address: string): Words | undefined {
  if (!address.includes(':')) {
    const v4 = ipv4Word(address, 0, address.length);
    return v4 === undefined ? undefined : [0, 0, V4_MAPPED_WORD, v4];
  }
  return ipv6Words(address.toLowerCase());
}

/** `a.b.c.d/n` or `v6/n`; an address without a prefix is a single host. Undefined when it is not a network. */
export function parseCidr(text: string): Network | undefined {
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const [address = '', prefixText] = parts;
  const words = ipWords(address);
  if (!words) return undefined;
  const isV4 = !address.includes(':');
  const max = isV4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  let bits = isV4 ? prefix + 96 : prefix;
  const masks: Words = [0, 0, 0, 0];
  for (let w = 0; w < 4; w++, bits -= 32) masks[w] = bits >= 32 ? 0xffffffff : bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const masked = words.map((word, w) => (word & (masks[w] as number)) >>> 0) as Words;
  return { text, words: masked, masks };
}

export function networkContains(network: Network, address: ArrayLike<number>, offset = 0): boolean {
  const { words, masks } = network;
  for (let w = 0; w < 4; w++) {
    if (((address[offset + w] as number) & (masks[w] as number)) >>> 0 !== words[w]) return false;
  }
  return true;
}

/** What one sample's AddressSet leaves for the next: the bitmaps' backing store, so a sample at 10,000 peers allocates (and page-faults in) nothing large. */
export class AddressCache {
  arena = new Uint32Array(0);
}

/**
 * The destinations of connections given as `ip:port` text (samples that carry no destination table, such as the
 * custom ones tests build), distinct, as a table. The collector's samples carry the table, filled from /proc's numbers.
 */
export function destinationTableOf(connections: ReadonlyArray<{ remoteAddr: string }>): DestinationTable {
  const table = new DestinationTable(connections.length);
  const seen = new Set<string>();
  for (const { remoteAddr } of connections) {
    const host = remoteAddr.startsWith('[')
      ? remoteAddr.slice(1, remoteAddr.indexOf(']'))
      : remoteAddr.slice(0, remoteAddr.lastIndexOf(':'));
    const words = ipWords(host);
    if (!words) continue;
    const mapped = isIpv4Mapped(words);
    const text = mapped ? dottedIpv4(words[3]) : host;
    if (seen.has(text)) continue;
    seen.add(text);
    if (mapped) table.addV4(text, words[3]);
    else table.addV6(text, words[0], words[1], words[2], words[3]);
  }
  return table;
}

/**
 * A sample's destination addresses with the CIDR matching done on them: IPv4 matched with one masked compare, IPv6
 * with four. `inside(networks)` is the bitmap of the addresses inside any of them; each network's bitmap is computed
 * once per sample, however many behaviors name it.
 */
export class AddressSet {
  readonly count: number;
  private readonly bitmaps = new Map<string, Uint32Array>();
  private arenaUsed = 0;

  /** `cache` lends the bitmaps' backing store; the set is valid until the cache's next use. */
  constructor(
    private readonly table: DestinationTable,
    private readonly cache: AddressCache = new AddressCache(),
  ) {
    this.count = table.count;
    // An arena sized for a burst of peers is given back once samples are far smaller again.
    if (cache.arena.length > ARENA_BITMAPS * 8 * this.words()) cache.arena = new Uint32Array(0);
  }

  private words(): number {
    return (this.count + 31) >>> 5;
  }

  /** A zeroed bitmap of `count` bits from the cache's arena (valid until the cache's next use). */
  private bitmap(): Uint32Array {
    const words = this.words();
    if (this.arenaUsed + words > this.cache.arena.length) {
      // Bitmaps handed out earlier keep the old buffer; the new one is large enough for a whole sample's worth.
      this.cache.arena = new Uint32Array(Math.max(this.cache.arena.length * 2, words * ARENA_BITMAPS));
      this.arenaUsed = 0;
    }
    const view = this.cache.arena.subarray(this.arenaUsed, this.arenaUsed + words);
    view.fill(0);
    this.arenaUsed += words;
    return view;
  }

  /** The text of address `i`. */
  address(i: number): string {
    return this.table.text(i);
  }

  /** Bit i set when address i is inside any of `networks`. */
  inside(networks: readonly Network[]): Uint32Array {
    const result = this.bitmap();
    for (const network of networks) {
      const bitmap = this.bitmapOf(network);
      for (let w = 0; w < result.length; w++) result[w] = (result[w] as number) | (bitmap[w] as number);
    }
    return result;
  }

  private bitmapOf(network: Network): Uint32Array {
    let bitmap = this.bitmaps.get(network.text);
    if (bitmap) return bitmap;
    bitmap = this.bitmap();
    // Signed 32-bit copies: `&` yields int32, and int32 compares stay in registers where uint32 ones become doubles.
    const n0 = network.words[0] | 0;
    const n1 = network.words[1] | 0;
    const n2 = network.words[2] | 0;
    const n3 = network.words[3] | 0;
    const m0 = network.masks[0] | 0;
    const m1 = network.masks[1] | 0;
    const m2 = network.masks[2] | 0;
    const m3 = network.masks[3] | 0;
    // An IPv4 address is ::ffff:a.b.c.d: inside when the network's first three words admit that prefix.
    const v4Possible = n0 === 0 && n1 === 0 && (V4_MAPPED_WORD & m2) === n2;
    const { family, v4, v6 } = this.table;
    const count = this.count;
    for (let i = 0; i < count; i++) {
      let inside: boolean;
      if (family[i] === 4) inside = v4Possible && ((v4[i] as number) & m3) === n3;
      else {
        const o = i * 4;
        inside =
          ((v6[o] as number) & m0) === n0 &&
          ((v6[o + 1] as number) & m1) === n1 &&
          ((v6[o + 2] as number) & m2) === n2 &&
          ((v6[o + 3] as number) & m3) === n3;
      }
      if (inside) bitmap[i >>> 5] = (bitmap[i >>> 5] as number) | (1 << (i & 31));
    }
    this.bitmaps.set(network.text, bitmap);
    return bitmap;
  }
}
