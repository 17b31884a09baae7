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
    expect(parseLocalIpv4('|-- 999.1.1.1\n/32 host LOCAL\n', ROUTE)).toEqual([]);
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
    ].join('\n');
    expect(parseIfInet6(text)).toEqual([
      { name: 'lo', address: '::1', family: 6, internal: true },
      { name: 'eth0', address: 'fe80::fc:ff:fe00:1', family: 6, internal: false },
      { name: 'va', address: '2001:db8:9::1', family: 6, internal: false },
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
      ],
      new Set(['lo', 'eth0', 'va']),
    );
    expect(merged).toEqual({
      addresses: [
        ...system,
        { name: 'va', address: '10.9.0.1', family: 4, internal: false },
        { name: 'lo', address: '127.0.0.2', family: 4, internal: true },
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
