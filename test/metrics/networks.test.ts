import { ipWords, networkContains, parseCidr } from '../../src/metrics/networks';

describe('CIDR matching', () => {
  const contains = (cidr: string, address: string) => {
    const network = parseCidr(cidr);
    const words = ipWords(address);
    if (!network || !words) throw new Error(`bad test input ${cidr} ${address}`);
    return networkContains(network, words);
  };

  it('matches IPv4 and IPv6 networks and single hosts', () => {
    expect(contains('10.0.0.0/8', '10.255.1.2')).toBe(true);
    expect(contains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(contains('192.168.1.0/25', '192.168.1.127')).toBe(true);
    expect(contains('192.168.1.0/25', '192.168.1.128')).toBe(false);
    expect(contains('203.0.113.7', '203.0.113.7')).toBe(true);
    expect(contains('203.0.113.7', '203.0.113.8')).toBe(false);
    expect(contains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(contains('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(contains('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(contains('10.0.0.0/8', '2001:db8::1')).toBe(false);
  });

  it('refuses what is not a network', () => {
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('300.0.0.0/8')).toBeUndefined();
    expect(parseCidr('2001:db8::/129')).toBeUndefined();
    expect(parseCidr('10.0.0.0/8/1')).toBeUndefined();
    expect(ipWords('not-an-ip')).toBeUndefined();
    expect(ipWords('1.2.3.256')).toBeUndefined();
    expect(ipWords('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(ipWords('1::2::3')).toBeUndefined();
  });
});

describe('ipWords', () => {
  it('reads IPv4, canonical and non-canonical IPv6 alike', () => {
    expect(ipWords('192.0.2.1')).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect(ipWords('2001:db8::1')).toEqual([0x20010db8, 0, 0, 1]);
    expect(ipWords('2001:DB8:0:0:0:0:0:1')).toEqual([0x20010db8, 0, 0, 1]);
    expect(ipWords('::ffff:192.0.2.1')).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect(ipWords('::')).toEqual([0, 0, 0, 0]);
  });
});
