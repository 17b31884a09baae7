/**
 * IP address text as the report carries it: IPv4 dotted quad, IPv6 in the RFC 5952 form (lowercase, the first longest
 * run of two or more zero groups shortened to `::`), IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as plain IPv4 because that is
 * the peer the socket really talks to.
 */

const IPV4_WILDCARD = '0.0.0.0';
const IPV6_WILDCARD = '::';

/** Hex digit values by character code; -1 for anything else. */
const HEX_DIGITS = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX_DIGITS[48 + c] = c;
for (let c = 0; c < 6; c++) HEX_DIGITS[65 + c] = HEX_DIGITS[97 + c] = 10 + c;

/**
 * The value of the four hex digits at `start`, or -1 if any is not one: unrolled, in int32 arithmetic, because the
 * socket tables have five such fields per row and tens of thousands of rows. The bytes must exist.
 */
export function parseHex4(bytes: Uint8Array, start: number): number {
  const a = HEX_DIGITS[bytes[start] as number] as number;
  const b = HEX_DIGITS[bytes[start + 1] as number] as number;
  const c = HEX_DIGITS[bytes[start + 2] as number] as number;
  const d = HEX_DIGITS[bytes[start + 3] as number] as number;
  return (a | b | c | d) < 0 ? -1 : (a << 12) | (b << 8) | (c << 4) | d;
}

/** The unsigned value of the eight hex digits at `start`, or -1 (see parseHex4). */
export function parseHex8(bytes: Uint8Array, start: number): number {
  const high = parseHex4(bytes, start);
  const low = parseHex4(bytes, start + 4);
  return (high | low) < 0 ? -1 : high * 65536 + low;
}

/** Unsigned value of `length` (at most 8) hex digits at `start` of ASCII `bytes`, or -1 if any is not a hex digit. */
export function parseHex(bytes: Uint8Array, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const digit = HEX_DIGITS[bytes[i] ?? 0] ?? -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** A 32-bit word that the kernel printed in host byte order (little-endian), as the same four bytes in network order. */
export function networkOrder(word: number): number {
  return (((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) >>> 0;
}

/** Dotted quad of an IPv4 address in network order. */
export function dottedIpv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** The IPv6 address of the 32 hex digits (four little-endian words) at `start` of a /proc/net/{tcp6,udp6} row, as four words in network order; undefined if not hex. */
export function procIpv6WordsAt(bytes: Uint8Array, start: number): [number, number, number, number] | undefined {
  const words: [number, number, number, number] = [0, 0, 0, 0];
  for (let w = 0; w < 4; w++) {
    const word = parseHex8(bytes, start + w * 8);
    if (word < 0) return undefined;
    words[w] = networkOrder(word);
  }
  return words;
}

/** True for ::ffff:a.b.c.d, whose peer is the IPv4 address in the last word. */
export function isIpv4Mapped(words: readonly number[]): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/** Canonical text of an IPv6 address given as four words in network order (IPv4-mapped as the IPv4 address). */
export function ipv6Text(words: readonly number[]): string {
  if (isIpv4Mapped(words)) return dottedIpv4(words[3] as number);
  const groups: number[] = [];
  for (let g = 0; g < 8; g++) groups.push(((words[g >> 1] as number) >>> (g & 1 ? 0 : 16)) & 0xffff);
  return formatIpv6Groups(groups);
}

/** RFC 5952 text of eight 16-bit groups. */
export function formatIpv6Groups(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  return bestStart < 0 ? hex(0, 8) : `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/**
 * The canonical text of an address as the OS lists it (zone id stripped), so that it compares equal to the addresses
 * read from /proc. Undefined if it is not an IP address.
 */
export function canonicalIp(address: string): string | undefined {
  const withoutZone = address.split('%')[0] ?? '';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(withoutZone)) return withoutZone;
  if (!withoutZone.includes(':')) return undefined;
  let host: string;
  try {
    // The WHATWG URL parser validates IPv6 and serialises it in RFC 5952 form.
    host = new URL(`http://[${withoutZone}]`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!mapped) return host;
  const high = parseInt(mapped[1] ?? '', 16);
  const low = parseInt(mapped[2] ?? '', 16);
  return dottedIpv4(((high << 16) | low) >>> 0);
}

export function isLoopback(canonical: string): boolean {
  return canonical === '::1' || canonical.startsWith('127.');
}

export function isWildcard(canonical: string): boolean {
  return canonical === IPV4_WILDCARD || canonical === IPV6_WILDCARD;
}

/** `ip:port`, IPv6 bracketed (`[2001:db8::1]:443`), as remote_addr wants it. */
export function formatEndpoint(canonical: string, port: number): string {
  return canonical.includes(':') ? `[${canonical}]:${port}` : `${canonical}:${port}`;
}
