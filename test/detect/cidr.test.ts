import { AddressSet, destinationTableOf } from '../../src/detect/cidr';
import { DestinationTable } from '../../src/metrics/destinations';
import { parseCidr } from '../../src/metrics/networks';

describe('destinationTableOf', () => {
  it('reads the distinct destinations of ip:port texts (IPv4, IPv6, IPv4-mapped as IPv4), skipping what is no address', () => {
    const table = destinationTableOf(
      ['10.0.0.1:443', '10.0.0.1:80', '[2001:db8::1]:8883', '198.51.100.7:22', 'garbage', '[::ffff:10.1.1.1]:1'].map((remoteAddr) => ({
        remoteAddr,
      })),
    );
    expect(Array.from({ length: table.count }, (_, i) => [table.text(i), table.family[i]])).toEqual([
      ['10.0.0.1', 4],
      ['2001:db8::1', 6],
      ['198.51.100.7', 4],
      ['10.1.1.1', 4],
    ]);
  });
});

describe('AddressSet', () => {
  it('matches networks against the destinations as bitmaps, IPv4 inside ::ffff:0:0/96 and ::/0', () => {
    const table = new DestinationTable();
    table.addV4('10.0.0.1', 0x0a000001);
    table.addV6('2001:db8::1', 0x20010db8, 0, 0, 1);
    table.addV4('198.51.100.7', 0xc6336407);
    table.addV4('10.1.1.1', 0x0a010101);
    const set = new AddressSet(table);
    expect(set.count).toBe(4);
    expect([0, 1, 2, 3].map((i) => set.address(i))).toEqual(['10.0.0.1', '2001:db8::1', '198.51.100.7', '10.1.1.1']);
    const networks = ['10.0.0.0/8', '2001:db8::/32'].map((c) => parseCidr(c)!);
    expect(Array.from(set.inside(networks))).toEqual([0b1011]);
    expect(Array.from(set.inside([parseCidr('::/0')!]))).toEqual([0b1111]);
    expect(Array.from(set.inside([parseCidr('::ffff:0:0/96')!]))).toEqual([0b1101]);
    expect(Array.from(set.inside([]))).toEqual([0]);
  });

  it('grows past its first capacity and keeps every address', () => {
    const table = new DestinationTable(2);
    for (let i = 0; i < 100; i++) table.addV4(`10.0.0.${i}`, 0x0a000000 + i);
    const set = new AddressSet(table);
    expect(Array.from(set.inside([parseCidr('10.0.0.64/26')!]))).toEqual([0, 0, 0xffffffff | 0, 0xf].map((w) => w >>> 0));
  });
});

describe('AddressSet word by word', () => {
  /** The table of `texts`, each parsed as IPv6 (IPv4 as its own family). */
  const tableOf = (texts: string[]) => destinationTableOf(texts.map((t) => ({ remoteAddr: t.includes(':') ? `[${t}]:1` : `${t}:1` })));
  const insideOf = (cidr: string, texts: string[]) => {
    const set = new AddressSet(tableOf(texts));
    const bitmap = set.inside([parseCidr(cidr)!]);
    return texts.filter((_, i) => ((bitmap[i >>> 5] as number) & (1 << (i & 31))) !== 0);
  };

  it('an IPv6 address differing from a network in any one of its four 32-bit words is outside it', () => {
    const network = '2001:db8:1:2:3:4:5:6';
    const near = ['2001:db9:1:2:3:4:5:6', '2001:db8:1:3:3:4:5:6', '2001:db8:1:2:3:5:5:6', '2001:db8:1:2:3:4:5:7'];
    expect(insideOf(`${network}/128`, [...near, network])).toEqual([network]);
  });

  it('an IPv4 address is inside only networks whose first 96 bits are ::ffff:0:0, or that leave them open', () => {
    const v4 = ['10.0.0.1', '192.0.2.1'];
    for (const cidr of ['1::ffff:0:0/96', '0:0:1::ffff:0:0/96', '::fffe:0:0/96', '::/96', '2001:db8::/32']) {
      expect([cidr, insideOf(cidr, v4)]).toEqual([cidr, []]);
    }
    expect(insideOf('::ffff:10.0.0.0/104', v4)).toEqual(['10.0.0.1']);
    expect(insideOf('::/80', v4)).toEqual(v4);
    // ::10.0.0.1 (IPv4-compatible, not mapped) is an IPv6 address outside 10.0.0.0/8; ::ffff:10.0.0.1 is 10.0.0.1.
    expect(insideOf('10.0.0.0/8', ['192.0.2.1', '::a00:1', '::ffff:a00:1'])).toEqual(['::ffff:a00:1']);
  });
});
