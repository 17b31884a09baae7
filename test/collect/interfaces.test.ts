import { mergeInterfaceAddresses, parseIfInet6, parseLocalIpv4 } from '../../src/collect/interfaces';
import type { InterfaceAddress } from '../../src/procfs/interfaces';

/** As an unplugged veth with 10.9.0.1/24 and a /32 elsewhere shows them (captured in a network namespace of our own). */
const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.9.0.0/24 2 0 2
        +-- 10.9.0.0/31 1 0 0
           |-- 10.9.0.0
              /24 link UNICAST
           |-- 10.9.0.1
              /32 host LOCAL
        |-- 10.9.0.255
           /32 link BROADCAST
     |-- 127.0.0.1
        /32 host LOCAL
     |-- 172.16.5.5
        /32 host LOCAL
     |-- 192.0.2.2
        /32 host LOCAL
Local:
     |-- 10.9.0.1
        /32 host LOCAL
`;
const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
va\t0000090A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
va\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0
wg0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
garbage
`;

describe('parseLocalIpv4', () => {
  it('names each local address by the most specific connected route; ambiguous, loopback and unrouted ones are left out', () => {
    expect(parseLocalIpv4(FIB_TRIE, ROUTE)).toEqual([{ name: 'va', address: '10.9.0.1', family: 4, internal: false }]);
  });

  it('reads nothing from empty or garbage files', () => {
    expect(parseLocalIpv4('', '')).toEqual([]);
    // 999 wraps to 231 in 32-bit arithmetic: a route for 231.0.0.0/8 must not name it.
    expect(parseLocalIpv4('|-- 999.1.1.1\n/32 host LOCAL\n', `${ROUTE}eth9\t000000E7\t00000000\t0001\t0\t0\t0\t000000FF\n`)).toEqual([]);
    expect(parseLocalIpv4('        /32 host LOCAL\n|-- 10.9.0.1\n', ROUTE)).toEqual([]);
  });

  /** A connected route row as /proc/net/route prints it (host byte order, padded to 127 characters). */
  const route = (name: string, destination: string, mask: string, gateway = '00000000', flags = '0001') =>
    `${name}\t${destination}\t${gateway}\t${flags}\t0\t0\t0\t${mask}\t0\t0\t0`.padEnd(127);
  const header = ROUTE.split('\n')[0];
  const named = (fib: string, ...rows: string[]) =>
    parseLocalIpv4(fib, [header, ...rows, ''].join('\n')).map((a) => `${a.address} ${a.name}`);
  const local = (...addresses: string[]) => ['Main:', ...addresses.map((a) => `     |-- ${a}\n        /32 host LOCAL`), ''].join('\n');

  it('uses no route through a router: neither one flagged RTF_GATEWAY nor one with a gateway address', () => {
    const va = route('va', '0000090A', '00FFFFFF');
    expect(named(local('10.9.0.1'), va, route('gw1', '0100090A', 'FFFFFFFF', '00000000', '0003'))).toEqual(['10.9.0.1 va']);
    expect(named(local('10.9.0.1'), va, route('gw2', '0100090A', 'FFFFFFFF', '010200C0', '0001'))).toEqual(['10.9.0.1 va']);
  });

  it('uses no row whose destination, gateway or mask is not hex', () => {
    const va = route('va', '0000090A', '00FFFFFF');
    for (const bad of [
      route('x1', '0000090G', '00FFFFFF'),
      route('x2', '0000090A', '00FFFFFF', 'XXXXXXXX'),
      route('x3', '0000090A', '00FFFFFZ'),
    ])
      expect([bad, named(local('10.9.0.1'), va, bad)]).toEqual([bad, ['10.9.0.1 va']]);
  });

  it('reads the columns whatever the whitespace between and around them', () => {
    const spaced = ` va   0000090A  00000000 0001 0 0 0   00FFFFFF 0 0 0 `;
    expect(named(local('10.9.0.1'), spaced)).toEqual(['10.9.0.1 va']);
  });

  it('leaves out loopback and 0.0.0.0 even where a route holds them, and reads up to 255.255.255.255', () => {
    const rows = [route('lo', '0000007F', '000000FF'), route('eth0', '00000000', '000000FF'), route('eth9', '00FFFFFF', '00FFFFFF')];
    expect(named(local('127.0.0.1', '0.0.0.0', '255.255.255.255'), ...rows)).toEqual(['255.255.255.255 eth9']);
  });

  it('names an address by its most specific route, whatever order the routes come in', () => {
    const rows = [route('va', '0000090A', '00FFFFFF'), route('eth0', '0000000A', '000000FF')];
    expect(named(local('10.9.0.1'), ...rows)).toEqual(['10.9.0.1 va']);
    expect(named(local('10.9.0.1'), ...rows.reverse())).toEqual(['10.9.0.1 va']);
  });

  it('names an address by an interface whose route is listed twice (two metrics), and not by two interfaces tied', () => {
    expect(named(local('10.9.0.1'), route('va', '0000090A', '00FFFFFF'), route('va', '0000090A', '00FFFFFF'))).toEqual(['10.9.0.1 va']);
    const tied = [route('va', '0000090A', '00FFFFFF'), route('vb', '0000090A', '00FFFFFF')];
    expect(named(local('10.9.0.1'), ...tied)).toEqual([]);
    // A more specific route after the tie still names it.
    expect(named(local('10.9.0.1'), ...tied, route('vb', '0100090A', 'FFFFFFFF'))).toEqual(['10.9.0.1 vb']);
  });
});

describe('parseIfInet6', () => {
  it('reads each address with its interface, in RFC 5952 form, ::1 as loopback', () => {
    const text = [
      '00000000000000000000000000000001 01 80 10 80       lo',
      'fe8000000000000000fc00fffe000001 04 40 20 80     eth0',
      '20010db8000900000000000000000001 03 40 00 82       va',
      'not a row',
      '20010db800090000000000000000000 03 40 00 82       short',
      '  20010db8000900000000000000000002 03 40 00 82       vb  \r',
    ].join('\n');
    expect(parseIfInet6(text)).toEqual([
      { name: 'lo', address: '::1', family: 6, internal: true },
      { name: 'eth0', address: 'fe80::fc:ff:fe00:1', family: 6, internal: false },
      { name: 'va', address: '2001:db8:9::1', family: 6, internal: false },
      { name: 'vb', address: '2001:db8:9::2', family: 6, internal: false },
    ]);
  });
});

describe('mergeInterfaceAddresses', () => {
  const system: InterfaceAddress[] = [
    { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
    { name: 'eth0', address: '192.0.2.2', family: 4, internal: false },
    { name: 'eth0', address: 'fe80::fc:ff:fe00:1', family: 6, internal: false },
  ];

  it('adds the addresses getifaddrs left out, once, and keeps loopback marked', () => {
    const merged = mergeInterfaceAddresses(
      system,
      [
        { name: 'va', address: '10.9.0.1', family: 4, internal: false },
        { name: 'eth0', address: 'fe80::fc:ff:fe00:1', family: 6, internal: false },
        { name: 'lo', address: '127.0.0.2', family: 4, internal: false },
        { name: 'eth0', address: '192.0.2.9', family: 4, internal: false },
        { name: 'va', address: '10.9.0.1', family: 4, internal: false },
      ],
      new Set(['lo', 'eth0', 'va']),
    );
    expect(merged).toEqual({
      addresses: [
        ...system,
        { name: 'va', address: '10.9.0.1', family: 4, internal: false },
        { name: 'lo', address: '127.0.0.2', family: 4, internal: true },
        { name: 'eth0', address: '192.0.2.9', family: 4, internal: false },
      ],
      foreign: [],
    });
  });

  it('uses no interface that the socket tables’ namespace does not list, and names them', () => {
    const merged = mergeInterfaceAddresses(system, [], new Set(['lo', 'veth9']));
    expect(merged).toEqual({ addresses: [system[0]], foreign: ['eth0'] });
  });

  it('trusts getifaddrs alone when net/dev could not be read', () => {
    expect(mergeInterfaceAddresses(system, [], undefined)).toEqual({ addresses: system, foreign: [] });
  });
});
