/**
 * IP addresses and CIDR networks as four 32-bit words (IPv4 as IPv4-mapped IPv6, ::ffff:a.b.c.d), so that matching
 * is four masked compares. A sample's destinations come as numbers (src/metrics/destinations.ts).
 */

export type Words = [number, number, number, number];

export interface Network {
  text: string;
  /** The network address, already masked. */
  words: Words;
  masks: Words;
}

/** The third word of an IPv4-mapped IPv6 address. */
export const V4_MAPPED_WORD = 0xffff;

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
