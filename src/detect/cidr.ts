/**
 * IP addresses and CIDR networks as four 32-bit words (IPv4 as IPv4-mapped IPv6, ::ffff:a.b.c.d), so that matching
 * is four masked compares. At 10,000 connections the destination addresses are parsed once per sample and each
 * distinct CIDR is matched against them once, as a bitmap the behaviors that name it share.
 */

export type Words = [number, number, number, number];

export interface Network {
  text: string;
  /** The network address, already masked. */
  words: Words;
  masks: Words;
}

const V4_MAPPED_WORD = 0xffff;
/** IPv6 addresses kept parsed between samples: more than 10,000 connections ever list. */
const MAX_CACHED_V6 = 50_000;

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

/**
 * What one sample's AddressSet leaves for the next: parsed IPv6 addresses (connections mostly persist) and the
 * buffers, reused so that a sample at 10,000 connections allocates (and page-faults in) nothing large.
 */
export class AddressCache {
  readonly v6 = new Map<string, Words>();
  family = new Uint8Array(0);
  v4 = new Uint32Array(0);
  v6Words = new Uint32Array(0);
  /** Bitmaps of one sample are carved from here: one backing store instead of dozens per sample. */
  arena = new Uint32Array(0);

  /** Buffers for `count` connections, zeroed; valid until the next call. */
  buffers(count: number): { family: Uint8Array; v4: Uint32Array; v6Words: Uint32Array } {
    if (this.family.length < count) {
      this.family = new Uint8Array(count);
      this.v4 = new Uint32Array(count);
      this.v6Words = new Uint32Array(count * 4);
    }
    if (this.v6.size > MAX_CACHED_V6) this.v6.clear();
    const family = this.family.subarray(0, count);
    family.fill(0);
    return { family, v4: this.v4.subarray(0, count), v6Words: this.v6Words.subarray(0, count * 4) };
  }
}

/**
 * The destination addresses of a sample's connections, parsed once: IPv4 as one word (the common case, matched with
 * one masked compare), IPv6 as four. `matches(networks)` is the bitmap of the connections whose address is inside
 * any of them; each network's bitmap is computed once per sample, however many behaviors name it.
 */
export class AddressSet {
  readonly count: number;
  /** 4: `v4[i]` holds the address; 6: `v6[4i..4i+3]` does; 0: not an address. */
  private readonly family: Uint8Array;
  private readonly v4: Uint32Array;
  private readonly v6: Uint32Array;
  /** Bit i set when connection i has an address. */
  readonly valid: Uint32Array;
  private readonly bitmaps = new Map<string, Uint32Array>();
  private arenaUsed = 0;

  /** `cache` lends the buffers and the parsed IPv6 addresses; the set is valid until the cache's next use. */
  constructor(
    private readonly connections: ReadonlyArray<{ remoteAddr: string }>,
    private readonly cache: AddressCache = new AddressCache(),
  ) {
    const count = connections.length;
    this.count = count;
    const { family, v4, v6Words } = cache.buffers(count);
    this.family = family;
    this.v4 = v4;
    this.v6 = v6Words;
    for (let i = 0; i < count; i++) {
      const endpoint = (connections[i] as { remoteAddr: string }).remoteAddr;
      if (endpoint.charCodeAt(0) !== 91) {
        const colon = endpoint.lastIndexOf(':');
        const word = ipv4Word(endpoint, 0, colon < 0 ? endpoint.length : colon);
        if (word === undefined) continue;
        v4[i] = word;
        family[i] = 4;
        continue;
      }
      const host = endpoint.slice(1, endpoint.indexOf(']'));
      let parsed = cache.v6.get(host);
      if (!parsed) {
        parsed = ipWords(host);
        if (!parsed) continue;
        cache.v6.set(host, parsed);
      }
      if (parsed[0] === 0 && parsed[1] === 0 && parsed[2] === V4_MAPPED_WORD) {
        v4[i] = parsed[3];
        family[i] = 4;
        continue;
      }
      const o = i * 4;
      v6Words[o] = parsed[0];
      v6Words[o + 1] = parsed[1];
      v6Words[o + 2] = parsed[2];
      v6Words[o + 3] = parsed[3];
      family[i] = 6;
    }
    this.valid = this.bitmap();
    for (let i = 0; i < count; i++) if (family[i] !== 0) this.valid[i >>> 5] = (this.valid[i >>> 5] as number) | (1 << (i & 31));
  }

  /** A zeroed bitmap of `count` bits from the cache's arena (valid until the cache's next use). */
  private bitmap(): Uint32Array {
    const words = (this.count + 31) >>> 5;
    if (this.arenaUsed + words > this.cache.arena.length) {
      // Bitmaps handed out earlier keep the old buffer; the new one is large enough for a whole sample's worth.
      this.cache.arena = new Uint32Array(Math.max(this.cache.arena.length * 2, words * 64));
      this.arenaUsed = 0;
    }
    const view = this.cache.arena.subarray(this.arenaUsed, this.arenaUsed + words);
    view.fill(0);
    this.arenaUsed += words;
    return view;
  }

  /** The address of connection `i`, without its port; undefined when it is not an address. */
  address(i: number): string | undefined {
    if (this.family[i] === 0) return undefined;
    const endpoint = (this.connections[i] as { remoteAddr: string }).remoteAddr;
    return endpoint.startsWith('[') ? endpoint.slice(1, endpoint.indexOf(']')) : endpoint.slice(0, endpoint.lastIndexOf(':'));
  }

  isAddress(i: number): boolean {
    return this.family[i] !== 0;
  }

  /** Bit i set when the address of connection i is inside any of `networks`. */
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
    const { family, v4, v6, count } = this;
    for (let i = 0; i < count; i++) {
      const f = family[i];
      let inside: boolean;
      if (f === 4) inside = v4Possible && ((v4[i] as number) & m3) === n3;
      else if (f === 6) {
        const o = i * 4;
        inside =
          ((v6[o] as number) & m0) === n0 &&
          ((v6[o + 1] as number) & m1) === n1 &&
          ((v6[o + 2] as number) & m2) === n2 &&
          ((v6[o + 3] as number) & m3) === n3;
      } else inside = false;
      if (inside) bitmap[i >>> 5] = (bitmap[i >>> 5] as number) | (1 << (i & 31));
    }
    this.bitmaps.set(network.text, bitmap);
    return bitmap;
  }
}
