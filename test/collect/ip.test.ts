import {
  canonicalIp,
  formatEndpoint,
  formatIpv6Groups,
  isLoopback,
  isWildcard,
  parseHex,
  parseHex4,
  parseHex8,
  dottedIpv4,
  ipv6Text,
  networkOrder,
  procIpv6WordsAt,
} from '../../src/collect/ip';
import { procHexIpv6 } from '../fixtures/proc/generate';

describe('addresses as /proc prints them', () => {
  const ascii = (text: string) => Buffer.from(text, 'latin1');
  /** As the socket table parser reads an address: the words, then their text. */
  const ipv6At = (bytes: Uint8Array, start: number) => {
    const words = procIpv6WordsAt(bytes, start);
    return words === undefined ? undefined : ipv6Text(words);
  };
  const ipv6 = (hex: string) => ipv6At(ascii(hex), 0);

  it('reads the IPv4 word in little-endian order', () => {
    const ipv4 = (hex: string) => dottedIpv4(networkOrder(parseHex8(ascii(hex), 0)));
    expect(ipv4('0100007F')).toBe('127.0.0.1');
    expect(ipv4('020200C0')).toBe('192.0.2.2');
    expect(ipv4('00000000')).toBe('0.0.0.0');
    expect(ipv4('FFFFFFFF')).toBe('255.255.255.255');
  });

  it('reads IPv6 as four little-endian words', () => {
    expect(ipv6('00000000000000000000000001000000')).toBe('::1');
    expect(ipv6('00000000000000000000000000000000')).toBe('::');
    expect(ipv6('000000FD000000000000000002000000')).toBe('fd00::2');
    expect(ipv6('B80D0120000000000000000001000000')).toBe('2001:db8::1');
    expect(ipv6At(ascii('xx:00000000000000000000000001000000'), 3)).toBe('::1');
  });

  it('shows IPv4-mapped IPv6 as plain IPv4', () => {
    expect(ipv6('0000000000000000FFFF00000100007F')).toBe('127.0.0.1');
    // ::ffff:0:1 is not mapped (the ffff is in the wrong group).
    expect(ipv6('000000000000000000000000FFFF0000')).not.toMatch(/\./);
    // ffff in its place, but not after 80 zero bits: 1::ffff:102:304 and ::1:0:0:ffff:102:304.
    expect(ipv6Text([0x00010000, 0, 0xffff, 0x01020304])).toBe('1::ffff:102:304');
    expect(ipv6Text([0, 0x00010000, 0xffff, 0x01020304])).toBe('::1:0:0:ffff:102:304');
  });

  it('rejects non-hex digits instead of reading a prefix', () => {
    expect(parseHex(ascii('0100007G'), 0, 8)).toBe(-1);
    expect(ipv6('0000000000000000000000000100000Z')).toBeUndefined();
    expect(parseHex(ascii('1f'), 0, 2)).toBe(31);
    expect(parseHex(ascii('1 '), 0, 2)).toBe(-1);
  });

  it('reads four and eight digits unrolled exactly as the general reader does, any character at any place', () => {
    const alphabet = '0123456789abcdefABCDEFgG :\u0000\u00ff';
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let n = 0; n < 5_000; n++) {
      const digits = Array.from({ length: 8 }, () =>
        next() % 8 === 0 ? alphabet[next() % alphabet.length] : '0123456789abcdefABCDEF'[next() % 22],
      );
      const bytes = ascii(`x${digits.join('')}`);
      expect(parseHex4(bytes, 1)).toBe(parseHex(bytes, 1, 4));
      expect(parseHex8(bytes, 1)).toBe(parseHex(bytes, 1, 8));
    }
    expect(parseHex8(ascii('FFFFFFFF'), 0)).toBe(0xffffffff);
  });

  it('writes IPv6 in RFC 5952 form, as the WHATWG URL serialiser does', () => {
    const cases = [
      [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 0, 0],
      [1, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 1],
      [0x2001, 0xdb8, 0, 1, 1, 1, 1, 1],
      [0x2001, 0, 0, 1, 0, 0, 0, 1],
      [0xfe80, 0, 0, 0, 0xfc, 0xff, 0xfe00, 1],
      [0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff],
    ];
    let seed = 7;
    for (let n = 0; n < 500; n++) {
      cases.push(
        Array.from({ length: 8 }, () => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return seed % 3 === 0 ? seed % 0x10000 : 0;
        }),
      );
    }
    for (const groups of cases) {
      const text = groups.map((g) => g.toString(16)).join(':');
      expect(formatIpv6Groups(groups)).toBe(new URL(`http://[${text}]`).hostname.slice(1, -1));
    }
  });

  it('round-trips through the fixture generator', () => {
    for (const address of ['2001:db8::2', '::1', 'fe80::fc:ff:fe00:1', '1:2:3:4:5:6:7:8']) {
      expect(ipv6(procHexIpv6(address))).toBe(address);
    }
  });
});

describe('canonicalIp', () => {
  it('strips zone ids and normalises case and zero runs', () => {
    expect(canonicalIp('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('10.1.2.3')).toBe('10.1.2.3');
    expect(canonicalIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    // Mapped only after 80 zero bits.
    expect(canonicalIp('1::ffff:a:b')).toBe('1::ffff:a:b');
    expect(canonicalIp('::ffff:a:b:c')).toBe('::ffff:a:b:c');
  });

  it('refuses what is not an address', () => {
    expect(canonicalIp('eth0')).toBeUndefined();
    expect(canonicalIp('1::2::3')).toBeUndefined();
    expect(canonicalIp('10.1.2.3.4')).toBeUndefined();
    expect(canonicalIp('10.1.2.3x')).toBeUndefined();
  });
});

describe('address classes and endpoints', () => {
  it('knows loopback and wildcard addresses', () => {
    expect(isLoopback('127.0.0.2')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isWildcard('0.0.0.0')).toBe(true);
    expect(isWildcard('::')).toBe(true);
    expect(isWildcard('::1')).toBe(false);
  });

  it('brackets IPv6 in ip:port', () => {
    expect(formatEndpoint('2001:db8::1', 443)).toBe('[2001:db8::1]:443');
    expect(formatEndpoint('192.0.2.1', 8000)).toBe('192.0.2.1:8000');
  });
});
