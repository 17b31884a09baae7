/**
 * Each metric type against each comparison operator it takes, on both sides of the threshold or set, through the
 * detector as the agent drives it: what is measured, whether it violates, and what the alarm carries.
 */
import { parseBehaviors } from '../../src/config/behaviors';
import { Detector, type TrafficDelta } from '../../src/detect/detector';
import type { DetectionSample } from '../../src/detect/measure';
import { DestinationTable } from '../../src/metrics/destinations';
import type { CustomMetricValue, NetworkTotals } from '../../src/metrics/types';

const sample = (fields: Partial<DetectionSample> = {}): DetectionSample => ({ customMetrics: {}, ...fields });
const listening = (count: number) => Array.from({ length: count }, (_, i) => ({ port: 1000 + i }));
const connectionsTo = (...hosts: string[]) =>
  hosts.map((host, i) => ({ remoteAddr: host.includes(':') ? `[${host}]:443` : `${host}:443`, localPort: 40_000 + i }));

function detectorFor(metric: string, criteria: Record<string, unknown>): Detector {
  let next = 0;
  const detector = new Detector(() => `v-${++next}`);
  detector.configure(parseBehaviors([{ name: 'b', metric, criteria }]));
  return detector;
}

/** The alarm one sample raises on a fresh detector, as [type, metricValue], or [] when it conforms. */
function judge(detector: Detector, observed: DetectionSample, traffic?: TrafficDelta): unknown[] {
  return detector.evaluate(observed, traffic).map((c) => [c.type, c.metricValue]);
}

const NUMERIC: Array<[string, number, number, boolean]> = [
  // [operator, threshold, measured, violating]: `measured <operator> threshold` is the normal behavior.
  ['less-than', 5, 4, false],
  ['less-than', 5, 5, true],
  ['less-than', 5, 6, true],
  ['less-than-equals', 5, 4, false],
  ['less-than-equals', 5, 5, false],
  ['less-than-equals', 5, 6, true],
  ['greater-than', 5, 6, false],
  ['greater-than', 5, 5, true],
  ['greater-than', 5, 4, true],
  ['greater-than-equals', 5, 6, false],
  ['greater-than-equals', 5, 5, false],
  ['greater-than-equals', 5, 4, true],
];

describe('count metrics x numeric operators', () => {
  const lists: Array<[string, (n: number) => Partial<DetectionSample>]> = [
    ['aws:num-listening-tcp-ports', (n) => ({ listeningTcpPorts: listening(n) })],
    ['aws:num-listening-udp-ports', (n) => ({ listeningUdpPorts: listening(n) })],
    [
      'aws:num-established-tcp-connections',
      (n) => ({ establishedConnections: connectionsTo(...listening(n).map((p) => `10.0.0.${p.port % 250}`)) }),
    ],
  ];
  const cases = lists.flatMap(([metric, fields]) =>
    NUMERIC.map(([op, threshold, measured, violating]) => [metric, op, threshold, measured, violating, fields] as const),
  );
  it.each(cases)('%s %s %i measuring %i: violating %s', (metric, operator, threshold, measured, violating, fields) => {
    const detector = detectorFor(metric, { comparisonOperator: operator, value: { count: threshold } });
    expect(judge(detector, sample(fields(measured)))).toEqual(violating ? [['in-alarm', { count: BigInt(measured) }]] : []);
  });

  it('each count metric reads its own list only', () => {
    const tcp = detectorFor('aws:num-listening-tcp-ports', { comparisonOperator: 'less-than', value: { count: 1 } });
    const udp = detectorFor('aws:num-listening-udp-ports', { comparisonOperator: 'less-than', value: { count: 1 } });
    expect(judge(tcp, sample({ listeningTcpPorts: [], listeningUdpPorts: listening(3) }))).toEqual([]);
    expect(judge(udp, sample({ listeningTcpPorts: listening(3), listeningUdpPorts: [] }))).toEqual([]);
  });

  it('the listening-port counts are the list length, whatever establishedConnectionsTotal says', () => {
    const tcp = detectorFor('aws:num-listening-tcp-ports', { comparisonOperator: 'less-than', value: { count: 3 } });
    expect(judge(tcp, sample({ listeningTcpPorts: listening(2), establishedConnectionsTotal: 9 }))).toEqual([]);
  });
});

describe('traffic metrics x numeric operators', () => {
  const counters: Array<[string, keyof NetworkTotals]> = [
    ['aws:all-bytes-out', 'bytesOut'],
    ['aws:all-bytes-in', 'bytesIn'],
    ['aws:all-packets-out', 'packetsOut'],
    ['aws:all-packets-in', 'packetsIn'],
  ];
  const cases = counters.flatMap(([metric, counter]) =>
    NUMERIC.map(([op, threshold, measured, violating]) => [metric, op, threshold, measured, violating, counter] as const),
  );
  it.each(cases)('%s %s %i measuring %i: violating %s', (metric, operator, threshold, measured, violating, counter) => {
    const detector = detectorFor(metric, { comparisonOperator: operator, value: { count: threshold } });
    // The other three counters carry a value that would flip the verdict if it were read instead.
    const others = violating ? threshold + (operator.startsWith('less') ? -1 : 1) : threshold + (operator.startsWith('less') ? 1 : -1);
    const delta = { bytesIn: BigInt(others), bytesOut: BigInt(others), packetsIn: BigInt(others), packetsOut: BigInt(others) };
    delta[counter] = BigInt(measured);
    expect(judge(detector, sample(), { delta, coveredMs: 300_000 })).toEqual(violating ? [['in-alarm', { count: BigInt(measured) }]] : []);
  });
});

describe('custom number metrics x numeric operators', () => {
  it.each(NUMERIC)('cpu %s %d measuring %d: violating %s', (operator, threshold, measured, violating) => {
    const detector = detectorFor('cpu', { comparisonOperator: operator, value: { number: threshold - 0.5 } });
    const value = measured - 0.5;
    expect(judge(detector, sample({ customMetrics: { cpu: { type: 'number', value } } }))).toEqual(
      violating ? [['in-alarm', { number: value }]] : [],
    );
  });
});

describe('port sets x in-port-set / not-in-port-set', () => {
  const cases: Array<[string, string, number[], Array<number[] | false>]> = [
    // [metric, operator, listening, [set, expected alarm ports or false], ...]
    ['aws:listening-tcp-ports', 'in-port-set', [22, 443], [[22, 443], false]],
    [
      'aws:listening-tcp-ports',
      'in-port-set',
      [22, 443, 8080],
      [
        [22, 443],
        [8080, 22, 443],
      ],
    ],
    ['aws:listening-tcp-ports', 'not-in-port-set', [22, 443], [[23], false]],
    ['aws:listening-tcp-ports', 'not-in-port-set', [22, 443], [[443], [443, 22]]],
    ['aws:listening-udp-ports', 'in-port-set', [53, 67], [[53, 67], false]],
    ['aws:listening-udp-ports', 'in-port-set', [53, 67], [[53], [67, 53]]],
    ['aws:listening-udp-ports', 'not-in-port-set', [53], [[69], false]],
    ['aws:listening-udp-ports', 'not-in-port-set', [53, 69], [[69], [69, 53]]],
  ];
  it.each(cases)('%s %s listening on %j', (metric, operator, ports, [set, alarm]) => {
    const detector = detectorFor(metric, { comparisonOperator: operator, value: { ports: set } });
    const list = ports.map((port) => ({ port }));
    const observed = sample(metric.includes('tcp') ? { listeningTcpPorts: list } : { listeningUdpPorts: list });
    expect(judge(detector, observed)).toEqual(alarm === false ? [] : [['in-alarm', { ports: alarm }]]);
  });

  it('a port listening on several interfaces is one element; each list is read by its own metric', () => {
    const detector = detectorFor('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [22] } });
    const observed = sample({
      listeningTcpPorts: [
        { port: 9, interface: 'eth0' },
        { port: 9, interface: 'lo' },
      ],
      listeningUdpPorts: [{ port: 22 }],
    });
    expect(judge(detector, observed)).toEqual([['in-alarm', { ports: [9] }]]);
  });
});

describe('custom list metrics x in-set / not-in-set', () => {
  const cases: Array<[string, CustomMetricValue, Record<string, unknown>, unknown]> = [
    // [operator, measured, criteria value, alarm metricValue or false]
    ['in-set', { type: 'number-list', value: [1, 2] }, { numbers: [1, 2, 3] }, false],
    ['in-set', { type: 'number-list', value: [1, 4] }, { numbers: [1, 2, 3] }, { numbers: [4, 1] }],
    ['not-in-set', { type: 'number-list', value: [4, 5] }, { numbers: [1, 2, 3] }, false],
    ['not-in-set', { type: 'number-list', value: [4, 2] }, { numbers: [1, 2, 3] }, { numbers: [2, 4] }],
    ['in-set', { type: 'string-list', value: ['eth0'] }, { strings: ['eth0', 'wlan0'] }, false],
    ['in-set', { type: 'string-list', value: ['eth0', 'tun0'] }, { strings: ['eth0', 'wlan0'] }, { strings: ['tun0', 'eth0'] }],
    ['not-in-set', { type: 'string-list', value: ['eth0'] }, { strings: ['tun0'] }, false],
    ['not-in-set', { type: 'string-list', value: ['eth0', 'tun0'] }, { strings: ['tun0'] }, { strings: ['tun0', 'eth0'] }],
    ['in-set', { type: 'number-list', value: [] }, { numbers: [1] }, false],
    ['not-in-set', { type: 'string-list', value: [] }, { strings: ['x'] }, false],
  ];
  it.each(cases)('%s on %j against %j', (operator, measured, value, alarm) => {
    const detector = detectorFor('m', { comparisonOperator: operator, value });
    expect(judge(detector, sample({ customMetrics: { m: measured } }))).toEqual(alarm === false ? [] : [['in-alarm', alarm]]);
  });

  it('a string-list behavior does not read a number-list metric of the same name, nor the reverse', () => {
    const strings = detectorFor('m', { comparisonOperator: 'in-set', value: { strings: ['a'] } });
    const numbers = detectorFor('m', { comparisonOperator: 'in-set', value: { numbers: [1] } });
    expect(judge(strings, sample({ customMetrics: { m: { type: 'number-list', value: [2] } } }))).toEqual([]);
    expect(judge(numbers, sample({ customMetrics: { m: { type: 'string-list', value: ['b'] } } }))).toEqual([]);
    expect(judge(strings, sample({ customMetrics: { m: { type: 'string-list', value: ['b'] } } }))).toEqual([
      ['in-alarm', { strings: ['b'] }],
    ]);
    expect(judge(numbers, sample({ customMetrics: { m: { type: 'number-list', value: [2] } } }))).toEqual([['in-alarm', { numbers: [2] }]]);
  });

  it('a number behavior reads only a number metric, an ip-address-list behavior only an ip-address-list', () => {
    const number = detectorFor('m', { comparisonOperator: 'less-than', value: { number: 1 } });
    const ips = detectorFor('m', { comparisonOperator: 'in-cidr-set', value: { cidrs: ['10.0.0.0/8'] } });
    expect(judge(number, sample({ customMetrics: { m: { type: 'string-list', value: ['5'] } } }))).toEqual([]);
    expect(judge(ips, sample({ customMetrics: { m: { type: 'string-list', value: ['192.0.2.1'] } } }))).toEqual([]);
    expect(judge(ips, sample({ customMetrics: { m: { type: 'ip-address-list', value: ['192.0.2.1'] } } }))).toEqual([
      ['in-alarm', { cidrs: ['192.0.2.1'] }],
    ]);
  });

  it('lists at most 100 elements, the offending ones first', () => {
    const detector = detectorFor('m', { comparisonOperator: 'in-set', value: { numbers: [0] } });
    const value = [0, ...Array.from({ length: 150 }, (_, i) => i + 1)];
    const [change] = detector.evaluate(sample({ customMetrics: { m: { type: 'number-list', value } } }), undefined);
    expect(change?.metricValue.numbers).toEqual(value.slice(1, 101));
  });
});

describe('CIDR sets of one and several networks', () => {
  const cases: Array<[string, string[], string[], unknown]> = [
    // [operator, cidrs, destinations, alarm cidrs or false]
    ['in-cidr-set', ['10.0.0.0/8'], ['10.1.2.3'], false],
    ['in-cidr-set', ['10.0.0.0/8'], ['11.0.0.1'], ['11.0.0.1']],
    ['in-cidr-set', ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32'], ['192.168.7.7'], false],
    ['in-cidr-set', ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32'], ['2001:db8:1::5', '10.9.9.9', '192.168.0.1'], false],
    ['in-cidr-set', ['10.0.0.0/8', '192.168.0.0/16'], ['192.169.0.1', '10.0.0.1'], ['192.169.0.1', '10.0.0.1']],
    ['in-cidr-set', ['192.0.2.7'], ['192.0.2.7'], false],
    ['in-cidr-set', ['192.0.2.7'], ['192.0.2.8'], ['192.0.2.8']],
    ['in-cidr-set', ['0.0.0.0/0'], ['203.0.113.1', '1.1.1.1'], false],
    ['in-cidr-set', ['0.0.0.0/0'], ['2001:db8::1'], ['2001:db8::1']],
    ['in-cidr-set', ['::/0'], ['2001:db8::1', '203.0.113.1'], false],
    ['in-cidr-set', ['::ffff:0:0/96'], ['203.0.113.1'], false],
    ['in-cidr-set', ['2001:db8::/32'], ['2001:db9::1', '2001:db8:ffff::1'], ['2001:db9::1', '2001:db8:ffff::1']],
    ['in-cidr-set', ['2001:db8::1/128'], ['2001:db8::1', '2001:db8::2'], ['2001:db8::2', '2001:db8::1']],
    ['in-cidr-set', ['2001:db8:0:0:0:0:0:1/127'], ['2001:db8::1', '2001:db8::2'], ['2001:db8::2', '2001:db8::1']],
    ['not-in-cidr-set', ['198.51.100.0/24'], ['203.0.113.1'], false],
    ['not-in-cidr-set', ['198.51.100.0/24'], ['203.0.113.1', '198.51.100.7'], ['198.51.100.7', '203.0.113.1']],
    ['not-in-cidr-set', ['10.0.0.0/8', '198.51.100.0/24'], ['198.51.100.7'], ['198.51.100.7']],
    ['not-in-cidr-set', ['10.0.0.0/8', '198.51.100.0/24'], ['172.16.0.1', '2001:db8::1'], false],
    ['not-in-cidr-set', ['10.0.0.0/8', '2001:db8::/32'], ['2001:db8::1'], ['2001:db8::1']],
  ];

  it.each(cases)('aws:destination-ip-addresses %s %j with peers %j', (operator, cidrs, hosts, alarm) => {
    const detector = detectorFor('aws:destination-ip-addresses', { comparisonOperator: operator, value: { cidrs } });
    expect(judge(detector, sample({ establishedConnections: connectionsTo(...hosts) }))).toEqual(
      alarm === false ? [] : [['in-alarm', { cidrs: alarm }]],
    );
  });

  it.each(cases)('custom ip-address-list %s %j with addresses %j', (operator, cidrs, hosts, alarm) => {
    const detector = detectorFor('ips', { comparisonOperator: operator, value: { cidrs } });
    expect(judge(detector, sample({ customMetrics: { ips: { type: 'ip-address-list', value: hosts } } }))).toEqual(
      alarm === false ? [] : [['in-alarm', { cidrs: alarm }]],
    );
  });

  it('a custom ip-address-list element that is not an address is outside every network', () => {
    const inSet = detectorFor('ips', { comparisonOperator: 'in-cidr-set', value: { cidrs: ['0.0.0.0/0', '::/0'] } });
    const notInSet = detectorFor('ips', { comparisonOperator: 'not-in-cidr-set', value: { cidrs: ['0.0.0.0/0', '::/0'] } });
    const observed = sample({ customMetrics: { ips: { type: 'ip-address-list', value: ['not-an-ip'] } } });
    expect(judge(inSet, observed)).toEqual([['in-alarm', { cidrs: ['not-an-ip'] }]]);
    expect(judge(notInSet, observed)).toEqual([]);
  });

  it('two behaviors naming the same CIDR, and one naming it among others, judge the sample alike', () => {
    let next = 0;
    const detector = new Detector(() => `v-${++next}`);
    detector.configure(
      parseBehaviors([
        {
          name: 'a',
          metric: 'aws:destination-ip-addresses',
          criteria: { comparisonOperator: 'in-cidr-set', value: { cidrs: ['10.0.0.0/8'] } },
        },
        {
          name: 'b',
          metric: 'aws:destination-ip-addresses',
          criteria: { comparisonOperator: 'not-in-cidr-set', value: { cidrs: ['10.0.0.0/8'] } },
        },
        {
          name: 'c',
          metric: 'aws:destination-ip-addresses',
          criteria: { comparisonOperator: 'in-cidr-set', value: { cidrs: ['192.168.0.0/16', '10.0.0.0/8'] } },
        },
      ]),
    );
    const changes = detector.evaluate(sample({ establishedConnections: connectionsTo('10.0.0.1', '192.168.1.1') }), undefined);
    expect(changes.map((c) => [c.behavior.name, c.metricValue])).toEqual([
      ['a', { cidrs: ['192.168.1.1', '10.0.0.1'] }],
      ['b', { cidrs: ['10.0.0.1', '192.168.1.1'] }],
    ]);
  });
});

describe('aws:destination-ip-addresses around the bitmap word boundaries', () => {
  /** n distinct peers in 10.0.0.0/24 and beyond: peer i is 10.0.<i / 250>.<i % 250 + 1>. */
  const peers = (n: number) => Array.from({ length: n }, (_, i) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  const inside = (cidrs: string[]) => detectorFor('aws:destination-ip-addresses', { comparisonOperator: 'in-cidr-set', value: { cidrs } });
  const notInside = (cidrs: string[]) =>
    detectorFor('aws:destination-ip-addresses', { comparisonOperator: 'not-in-cidr-set', value: { cidrs } });

  it.each([31, 32, 33, 64, 65])('%i peers all inside the set conform; the last one alone outside violates', (n) => {
    const hosts = peers(n);
    expect(judge(inside(['10.0.0.0/16']), sample({ establishedConnections: connectionsTo(...hosts) }))).toEqual([]);
    const last = hosts[n - 1] as string;
    const cidrs = hosts.slice(0, -1).map((h) => `${h}/32`);
    const [change] = inside(cidrs).evaluate(sample({ establishedConnections: connectionsTo(...hosts) }), undefined);
    expect(change?.type).toBe('in-alarm');
    expect(change?.metricValue.cidrs?.[0]).toBe(last);
    expect(change?.metricValue.cidrs).toHaveLength(Math.min(n, 100));
  });

  it.each([31, 32, 33, 64, 65])('%i peers all outside a not-in set conform; the last one alone inside violates', (n) => {
    const hosts = peers(n);
    expect(judge(notInside(['192.0.2.0/24']), sample({ establishedConnections: connectionsTo(...hosts) }))).toEqual([]);
    const last = hosts[n - 1] as string;
    const [change] = notInside([`${last}/32`]).evaluate(sample({ establishedConnections: connectionsTo(...hosts) }), undefined);
    expect(change?.type).toBe('in-alarm');
    expect(change?.metricValue.cidrs).toEqual([last, ...hosts.slice(0, Math.min(n, 100) - 1)]);
  });

  it.each([31, 32, 33, 65])('%i peers, the first one alone outside: only it offends, listed first', (n) => {
    const hosts = peers(n);
    const [change] = inside(hosts.slice(1).map((h) => `${h}/32`)).evaluate(
      sample({ establishedConnections: connectionsTo(...hosts) }),
      undefined,
    );
    expect(change?.metricValue.cidrs).toEqual([hosts[0], ...hosts.slice(1)]);
  });

  it('judges every one of thousands of peers and lists 100, the offending first', () => {
    const hosts = peers(10_000);
    // 10.0.0.0/19 is 10.0.0.x to 10.0.31.x: peers 0 to 7,999. Peer 9,999 is the only one outside.
    const connected = [...hosts.slice(0, 8_000), hosts[9_999] as string];
    expect(judge(inside(['10.0.0.0/19']), sample({ establishedConnections: connectionsTo(...hosts.slice(0, 8_000)) }))).toEqual([]);
    const [change] = inside(['10.0.0.0/19']).evaluate(sample({ establishedConnections: connectionsTo(...connected) }), undefined);
    expect(change?.metricValue.cidrs).toEqual([hosts[9_999], ...hosts.slice(0, 99)]);
  });

  it('a destination table in the sample is what is judged, the listed connections aside', () => {
    const detector = inside(['10.0.0.0/8']);
    // The collector lists at most maxListedConnections; its table holds every peer.
    const table = new DestinationTable();
    table.addV4('10.0.0.1', 0x0a000001);
    table.addV4('203.0.113.9', 0xcb007109);
    expect(judge(detector, sample({ establishedConnections: connectionsTo('10.0.0.1'), destinations: table }))).toEqual([
      ['in-alarm', { cidrs: ['203.0.113.9', '10.0.0.1'] }],
    ]);
  });
});
