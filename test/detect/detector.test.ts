import { type Behavior, parseBehaviors } from '../../src/config/behaviors';
import { Detector, type TrafficDelta } from '../../src/detect/detector';
import type { DetectionSample } from '../../src/detect/measure';
import type { EstablishedConnection, ListeningPort } from '../../src/metrics/types';

const MINUTE = 60_000;

function detectorFor(behaviors: unknown[]): Detector {
  let next = 0;
  const detector = new Detector(() => `v-${++next}`);
  detector.configure(parseBehaviors(behaviors));
  return detector;
}

const one = (metric: string, criteria: Record<string, unknown>): unknown[] => [{ name: 'b', metric, criteria }];
const ports = (...numbers: number[]): ListeningPort[] => numbers.map((port) => ({ port }));
const connections = (...remotes: string[]): EstablishedConnection[] => remotes.map((remoteAddr) => ({ remoteAddr, localPort: 50_000 }));
const sample = (fields: Partial<DetectionSample> = {}): DetectionSample => ({ customMetrics: {}, ...fields });
const traffic = (bytesOut: number, coveredMs = 5 * MINUTE): TrafficDelta => ({
  delta: { bytesOut: BigInt(bytesOut), bytesIn: 0n, packetsIn: 0n, packetsOut: 0n },
  coveredMs,
});

/** Event types over a sequence of samples. */
function run(detector: Detector, samples: Array<[DetectionSample, TrafficDelta?]>): string[][] {
  return samples.map(([s, t]) => detector.evaluate(s, t).map((c) => c.type));
}

describe('numeric operators on counts', () => {
  const cases: Array<[string, number, boolean]> = [
    ['less-than', 4, false],
    ['less-than', 5, true],
    ['less-than-equals', 5, false],
    ['less-than-equals', 6, true],
    ['greater-than', 6, false],
    ['greater-than', 5, true],
    ['greater-than-equals', 5, false],
    ['greater-than-equals', 4, true],
  ];
  it.each(cases)('aws:num-listening-tcp-ports %s 5 with %i ports: violating %s', (operator, count, violating) => {
    const detector = detectorFor(one('aws:num-listening-tcp-ports', { comparisonOperator: operator, value: { count: 5 } }));
    const changes = detector.evaluate(
      sample({ listeningTcpPorts: ports(...Array.from({ length: count }, (_, i) => 1000 + i)) }),
      undefined,
    );
    expect(changes.map((c) => c.type)).toEqual(violating ? ['in-alarm'] : []);
    if (violating) expect(changes[0]?.metricValue).toEqual({ count });
  });

  it('counts UDP listeners and established connections from the true lists, however long', () => {
    const udp = detectorFor(one('aws:num-listening-udp-ports', { comparisonOperator: 'less-than', value: { count: 2 } }));
    expect(run(udp, [[sample({ listeningUdpPorts: ports(53, 67) })]])).toEqual([['in-alarm']]);
    const established = detectorFor(
      one('aws:num-established-tcp-connections', { comparisonOperator: 'less-than-equals', value: { count: 9_999 } }),
    );
    const many = Array.from({ length: 10_000 }, (_, i) => `10.0.${i >> 8}.${i & 255}:443`);
    const changes = established.evaluate(sample({ establishedConnections: connections(...many) }), undefined);
    expect(changes[0]?.metricValue).toEqual({ count: 10_000 });
  });

  it('counts established connections by their true total when the collection listed only some of them', () => {
    const detector = detectorFor(one('aws:num-established-tcp-connections', { comparisonOperator: 'less-than', value: { count: 1_000 } }));
    const changes = detector.evaluate(
      sample({ establishedConnections: connections('10.0.0.1:443'), establishedConnectionsTotal: 20_000 }),
      undefined,
    );
    expect(changes.map((c) => c.metricValue)).toEqual([{ count: 20_000 }]);
  });
});

describe('port sets', () => {
  it('in-port-set: a listener outside the set violates, the offending port listed first; an empty list conforms and clears', () => {
    const detector = detectorFor(one('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [22, 8888] } }));
    const raised = detector.evaluate(sample({ listeningTcpPorts: ports(22, 443, 22) }), undefined);
    expect(raised.map((c) => [c.type, c.metricValue])).toEqual([['in-alarm', { ports: [443, 22] }]]);
    expect(run(detector, [[sample({ listeningTcpPorts: ports(22, 8888) })]])).toEqual([['alarm-cleared']]);
    expect(run(detector, [[sample({ listeningTcpPorts: ports(1) })], [sample({ listeningTcpPorts: [] })]])).toEqual([
      ['in-alarm'],
      ['alarm-cleared'],
    ]);
  });

  it('not-in-port-set: a listener inside the set violates', () => {
    const detector = detectorFor(one('aws:listening-udp-ports', { comparisonOperator: 'not-in-port-set', value: { ports: [69] } }));
    expect(run(detector, [[sample({ listeningUdpPorts: ports(53) })], [sample({ listeningUdpPorts: ports(53, 69) })]])).toEqual([
      [],
      ['in-alarm'],
    ]);
  });
});

describe('destination IP addresses', () => {
  it('in-cidr-set: a connection to an address outside every CIDR violates; IPv6 and ports are handled', () => {
    const detector = detectorFor(
      one('aws:destination-ip-addresses', { comparisonOperator: 'in-cidr-set', value: { cidrs: ['10.0.0.0/8', '2001:db8::/32'] } }),
    );
    expect(run(detector, [[sample({ establishedConnections: connections('10.1.2.3:443', '[2001:db8::1]:8883') })]])).toEqual([[]]);
    const changes = detector.evaluate(
      sample({ establishedConnections: connections('10.1.2.3:443', '203.0.113.9:22', '203.0.113.9:23') }),
      undefined,
    );
    expect(changes.map((c) => [c.type, c.metricValue])).toEqual([['in-alarm', { cidrs: ['203.0.113.9', '10.1.2.3'] }]]);
  });

  it('not-in-cidr-set: a connection into a listed network violates', () => {
    const detector = detectorFor(
      one('aws:destination-ip-addresses', { comparisonOperator: 'not-in-cidr-set', value: { cidrs: ['198.51.100.0/24'] } }),
    );
    expect(
      run(detector, [
        [sample({ establishedConnections: connections('203.0.113.1:1') })],
        [sample({ establishedConnections: connections('198.51.100.7:1') })],
      ]),
    ).toEqual([[], ['in-alarm']]);
  });
});

describe('custom metrics', () => {
  it('number, number-list, string-list and ip-address-list by their operators', () => {
    const detector = detectorFor([
      { name: 'cpu', metric: 'cpu', criteria: { comparisonOperator: 'less-than', value: { number: 90 } } },
      { name: 'load', metric: 'load', criteria: { comparisonOperator: 'in-set', value: { numbers: [1, 2] } } },
      { name: 'ifs', metric: 'ifs', criteria: { comparisonOperator: 'not-in-set', value: { strings: ['wlan0'] } } },
      { name: 'ips', metric: 'ips', criteria: { comparisonOperator: 'in-cidr-set', value: { cidrs: ['192.168.0.0/16'] } } },
    ]);
    const conforming = detector.evaluate(
      sample({
        customMetrics: {
          cpu: { type: 'number', value: 89.9 },
          load: { type: 'number-list', value: [1, 2] },
          ifs: { type: 'string-list', value: ['eth0'] },
          ips: { type: 'ip-address-list', value: ['192.168.1.5'] },
        },
      }),
      undefined,
    );
    expect(conforming).toEqual([]);
    const violating = detector.evaluate(
      sample({
        customMetrics: {
          cpu: { type: 'number', value: 90 },
          load: { type: 'number-list', value: [1, 3] },
          ifs: { type: 'string-list', value: ['eth0', 'wlan0'] },
          ips: { type: 'ip-address-list', value: ['10.0.0.1'] },
        },
      }),
      undefined,
    );
    expect(violating.map((c) => [c.behavior.name, c.metricValue])).toEqual([
      ['cpu', { number: 90 }],
      ['load', { numbers: [3, 1] }],
      ['ifs', { strings: ['wlan0', 'eth0'] }],
      ['ips', { cidrs: ['10.0.0.1'] }],
    ]);
  });

  it('a custom metric missing from the sample or of another type is no datapoint', () => {
    const detector = detectorFor(one('cpu', { comparisonOperator: 'less-than', value: { number: 1 } }));
    expect(detector.evaluate(sample(), undefined)).toEqual([]);
    expect(detector.evaluate(sample({ customMetrics: { cpu: { type: 'number-list', value: [5] } } }), undefined)).toEqual([]);
  });
});

describe('traffic over durationSeconds', () => {
  const bytesOut = (criteria: Record<string, unknown>) =>
    detectorFor(one('aws:all-bytes-out', { comparisonOperator: 'less-than-equals', ...criteria }));

  it('without durationSeconds, every delta is a datapoint', () => {
    const detector = bytesOut({ value: { count: 1000 } });
    expect(
      run(detector, [
        [sample(), traffic(1001)],
        [sample(), traffic(1000)],
      ]),
    ).toEqual([['in-alarm'], ['alarm-cleared']]);
  });

  it('sums the deltas until they cover durationSeconds, then evaluates the sum once', () => {
    const detector = bytesOut({ value: { count: 1000 }, durationSeconds: 900 });
    // Three 5-minute deltas of 400 bytes: no datapoint until 15 minutes are covered, then 1,200 > 1,000.
    const changes = [traffic(400), traffic(400), traffic(400)].map((t) => detector.evaluate(sample(), t));
    expect(changes.map((c) => c.map((x) => x.type))).toEqual([[], [], ['in-alarm']]);
    expect(changes[2]?.[0]?.metricValue).toEqual({ count: 1200 });
    // The next period starts empty: 3 x 300 = 900 conforms and clears.
    expect(
      run(detector, [
        [sample(), traffic(300)],
        [sample(), traffic(300)],
        [sample(), traffic(300)],
      ]),
    ).toEqual([[], [], ['alarm-cleared']]);
  });

  it('counts fast samples (5 s) into the same 300 s period', () => {
    const detector = bytesOut({ value: { count: 5_000 }, durationSeconds: 300 });
    const events = Array.from({ length: 60 }, () => detector.evaluate(sample(), traffic(100, 5_000)).map((c) => c.type));
    expect(events.slice(0, 59).flat()).toEqual([]);
    expect(events[59]).toEqual(['in-alarm']);
  });

  it('a gap in the deltas (reboot, first sample) restarts the period', () => {
    const detector = bytesOut({ value: { count: 1000 }, durationSeconds: 600 });
    expect(
      run(detector, [
        [sample(), traffic(900)],
        [sample(), undefined],
        [sample(), traffic(900)],
        [sample(), traffic(0)],
      ]),
    ).toEqual([[], [], [], []]);
    expect(
      run(detector, [
        [sample(), traffic(1001)],
        [sample(), traffic(0)],
      ]),
    ).toEqual([[], ['in-alarm']]);
  });

  it('evaluates each of the four counters', () => {
    const metrics: Array<[string, keyof TrafficDelta['delta']]> = [
      ['aws:all-bytes-in', 'bytesIn'],
      ['aws:all-packets-out', 'packetsOut'],
      ['aws:all-packets-in', 'packetsIn'],
    ];
    for (const [metric, counter] of metrics) {
      const detector = detectorFor(one(metric, { comparisonOperator: 'less-than', value: { count: 10 } }));
      const delta = { bytesIn: 0n, bytesOut: 0n, packetsIn: 0n, packetsOut: 0n, [counter]: 10n };
      expect(detector.evaluate(sample(), { delta, coveredMs: MINUTE }).map((c) => c.metricValue)).toEqual([{ count: 10 }]);
    }
  });
});

describe('consecutive datapoints', () => {
  it('alarms after consecutiveDatapointsToAlarm violations in a row and clears after consecutiveDatapointsToClear conforming ones', () => {
    const detector = detectorFor(
      one('aws:num-listening-tcp-ports', {
        comparisonOperator: 'less-than',
        value: { count: 2 },
        consecutiveDatapointsToAlarm: 3,
        consecutiveDatapointsToClear: 2,
      }),
    );
    const bad = sample({ listeningTcpPorts: ports(1, 2) });
    const good = sample({ listeningTcpPorts: ports(1) });
    expect(run(detector, [[bad], [bad], [good], [bad], [bad], [bad], [bad], [good], [bad], [good], [good]])).toEqual([
      [],
      [],
      [],
      [],
      [],
      ['in-alarm'],
      [],
      [],
      [],
      [],
      ['alarm-cleared'],
    ]);
  });

  it('a sample without the metric leaves the streak as it was', () => {
    const detector = detectorFor(
      one('aws:num-listening-tcp-ports', { comparisonOperator: 'less-than', value: { count: 2 }, consecutiveDatapointsToAlarm: 2 }),
    );
    const bad = sample({ listeningTcpPorts: ports(1, 2) });
    expect(run(detector, [[bad], [sample()], [bad]])).toEqual([[], [], ['in-alarm']]);
  });

  it('one violation id from in-alarm to alarm-cleared, a new one for the next alarm', () => {
    const detector = detectorFor(one('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [22] } }));
    const ids = [ports(23), ports(22), ports(23)].map(
      (p) => detector.evaluate(sample({ listeningTcpPorts: p }), undefined)[0]?.violationId,
    );
    expect(ids).toEqual(['v-1', 'v-1', 'v-2']);
  });
});

describe('configuration changes and restored state', () => {
  const portsBehavior = (allowed: number[]): Behavior[] =>
    parseBehaviors(one('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: allowed } }));

  it('an alarm raised before a restart is not raised again, and is cleared once', () => {
    const before = new Detector(() => 'first');
    before.configure(portsBehavior([22]));
    expect(before.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined).map((c) => c.type)).toEqual(['in-alarm']);
    const after = new Detector(() => 'second');
    after.restore(JSON.parse(JSON.stringify(before.snapshot())));
    after.configure(portsBehavior([22]));
    expect(after.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined)).toEqual([]);
    const cleared = after.evaluate(sample({ listeningTcpPorts: ports(22) }), undefined);
    expect(cleared.map((c) => [c.type, c.violationId])).toEqual([['alarm-cleared', 'first']]);
    expect(after.evaluate(sample({ listeningTcpPorts: ports(22) }), undefined)).toEqual([]);
  });

  it('a changed behavior keeps its alarm and is judged by the new criteria; a removed one is reported as forgotten', () => {
    const detector = new Detector(() => 'id');
    detector.configure(portsBehavior([22]));
    detector.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined);
    expect(detector.configure(portsBehavior([22, 23]))).toEqual([]);
    expect(detector.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined).map((c) => c.type)).toEqual(['alarm-cleared']);
    detector.evaluate(sample({ listeningTcpPorts: ports(24) }), undefined);
    expect(detector.configure([])).toEqual(['b']);
    expect(detector.snapshot()).toEqual({});
  });
});

describe("custom metrics named like Object.prototype's members", () => {
  it.each(['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__'])('evaluates a behavior on %s', (metric) => {
    const detector = detectorFor(one(metric, { comparisonOperator: 'less-than', value: { number: 5 } }));
    const customMetrics = Object.defineProperty({}, metric, { value: { type: 'number', value: 7 }, enumerable: true });
    const changes = detector.evaluate(sample({ customMetrics }), undefined);
    expect(changes.map((c) => [c.type, c.metricValue])).toEqual([['in-alarm', { number: 7 }]]);
  });
});
