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
    if (violating) expect(changes[0]?.metricValue).toEqual({ count: BigInt(count) });
  });

  it('counts UDP listeners and established connections from the true lists, however long', () => {
    const udp = detectorFor(one('aws:num-listening-udp-ports', { comparisonOperator: 'less-than', value: { count: 2 } }));
    expect(run(udp, [[sample({ listeningUdpPorts: ports(53, 67) })]])).toEqual([['in-alarm']]);
    const established = detectorFor(
      one('aws:num-established-tcp-connections', { comparisonOperator: 'less-than-equals', value: { count: 9_999 } }),
    );
    const many = Array.from({ length: 10_000 }, (_, i) => `10.0.${i >> 8}.${i & 255}:443`);
    const changes = established.evaluate(sample({ establishedConnections: connections(...many) }), undefined);
    expect(changes[0]?.metricValue).toEqual({ count: 10_000n });
  });

  it('counts established connections by their true total when the collection listed only some of them', () => {
    const detector = detectorFor(one('aws:num-established-tcp-connections', { comparisonOperator: 'less-than', value: { count: 1_000 } }));
    const changes = detector.evaluate(
      sample({ establishedConnections: connections('10.0.0.1:443'), establishedConnectionsTotal: 20_000 }),
      undefined,
    );
    expect(changes.map((c) => c.metricValue)).toEqual([{ count: 20_000n }]);
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

describe('counts beyond 2^53, as the API allows (UnsignedLong)', () => {
  const exactTraffic = (bytesOut: bigint): TrafficDelta => ({
    delta: { bytesOut, bytesIn: 0n, packetsIn: 0n, packetsOut: 0n },
    coveredMs: 5 * MINUTE,
  });
  const limit = (count: string) => one('aws:all-bytes-out', { comparisonOperator: 'less-than-equals', value: { count } });

  it('compares exactly: one byte over a count of 2^53+1 violates, the count itself conforms', () => {
    const detector = detectorFor(limit('9007199254740993'));
    expect(detector.evaluate(sample(), exactTraffic(9_007_199_254_740_993n))).toEqual([]);
    const changes = detector.evaluate(sample(), exactTraffic(9_007_199_254_740_994n));
    expect(changes.map((c) => [c.type, c.metricValue])).toEqual([['in-alarm', { count: 9_007_199_254_740_994n }]]);
  });

  it('measures a traffic sum over durationSeconds exactly in the alarm', () => {
    const detector = detectorFor(
      one('aws:all-bytes-out', { comparisonOperator: 'less-than-equals', value: { count: 1 }, durationSeconds: 600 }),
    );
    expect(detector.evaluate(sample(), exactTraffic(2n ** 53n))).toEqual([]);
    const changes = detector.evaluate(sample(), exactTraffic(2n ** 53n + 3n));
    expect(changes[0]?.metricValue).toEqual({ count: 2n ** 54n + 3n });
  });

  it('fingerprints a count by its exact digits, and a count that fits a double as before (saved state stays valid)', () => {
    const near = detectorFor(limit('9007199254740993'));
    const far = detectorFor(limit('9007199254740992'));
    expect(near.snapshot().b?.fingerprint).toBe(
      '["aws:all-bytes-out",{"comparisonOperator":"less-than-equals","value":{"count":9007199254740993}}]',
    );
    expect(far.snapshot().b?.fingerprint).not.toBe(near.snapshot().b?.fingerprint);
    expect(detectorFor(limit('5')).snapshot().b?.fingerprint).toBe(
      '["aws:all-bytes-out",{"comparisonOperator":"less-than-equals","value":{"count":5}}]',
    );
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
    expect(changes[2]?.[0]?.metricValue).toEqual({ count: 1200n });
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
      expect(detector.evaluate(sample(), { delta, coveredMs: MINUTE }).map((c) => c.metricValue)).toEqual([{ count: 10n }]);
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

  it('a raised alarm without datapoints for more than two days is invalidated once; a clock stepped back restarts the wait', () => {
    const HOUR = 60 * MINUTE;
    const detector = detectorFor(one('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [22] } }));
    const t0 = Date.UTC(2026, 11, 1);
    expect(detector.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined, t0).map((c) => c.type)).toEqual(['in-alarm']);
    expect(detector.evaluate(sample(), undefined, t0 + HOUR)).toEqual([]);
    expect(detector.snapshot().b?.silentSinceMs).toBe(t0 + HOUR);
    // The clock stepped back a day: the silence is counted again from there, never shortened.
    expect(detector.evaluate(sample(), undefined, t0 - 23 * HOUR)).toEqual([]);
    expect(detector.evaluate(sample(), undefined, t0 + 25 * HOUR)).toEqual([]);
    const changes = detector.evaluate(sample(), undefined, t0 + 25 * HOUR + 1);
    expect(changes.map((c) => [c.type, c.violationId, c.metricValue, c.silentSinceMs])).toEqual([
      ['alarm-invalidated', 'v-1', {}, t0 - 23 * HOUR],
    ]);
    expect(detector.evaluate(sample(), undefined, t0 + 100 * HOUR)).toEqual([]);
    expect(detector.snapshot().b).toMatchObject({ inAlarm: false });
    expect(detector.snapshot().b?.violationId).toBeUndefined();
  });

  it('a datapoint ends the silence; a traffic period still being summed is no silence', () => {
    const DAY = 24 * 60 * MINUTE;
    const detector = detectorFor([
      { name: 'b', metric: 'aws:listening-tcp-ports', criteria: { comparisonOperator: 'in-port-set', value: { ports: [22] } } },
      {
        name: 'out',
        metric: 'aws:all-bytes-out',
        criteria: { comparisonOperator: 'less-than', value: { count: 10 }, durationSeconds: 3600 },
      },
    ]);
    const t0 = Date.UTC(2026, 11, 1);
    detector.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined, t0);
    detector.evaluate(sample(), undefined, t0 + DAY);
    detector.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined, t0 + 2 * DAY);
    expect(detector.evaluate(sample(), undefined, t0 + 3 * DAY)).toEqual([]);
    expect(detector.evaluate(sample(), undefined, t0 + 5 * DAY + 1).map((c) => [c.behavior.name, c.type])).toEqual([
      ['b', 'alarm-invalidated'],
    ]);
    for (let i = 1; i <= 12; i++) detector.evaluate(sample(), traffic(100, 5 * MINUTE), t0 + i * 5 * MINUTE);
    expect(detector.snapshot().out?.inAlarm).toBe(true);
    for (let i = 1; i <= 11; i++) detector.evaluate(sample(), traffic(100, 5 * MINUTE), t0 + i * 3 * DAY);
    expect(detector.snapshot().out).toMatchObject({ inAlarm: true });
    expect(detector.snapshot().out?.silentSinceMs).toBeUndefined();
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

describe('a sample without the block a metric needs', () => {
  // [metric, criteria, a violating sample, the same sample with the block missing (it could not be read)]
  const cases: Array<[string, Record<string, unknown>, DetectionSample, DetectionSample]> = [
    [
      'aws:num-listening-tcp-ports',
      { comparisonOperator: 'less-than', value: { count: 1 } },
      sample({ listeningTcpPorts: ports(1) }),
      sample({ listeningUdpPorts: [] }),
    ],
    [
      'aws:num-listening-udp-ports',
      { comparisonOperator: 'less-than', value: { count: 1 } },
      sample({ listeningUdpPorts: ports(1) }),
      sample({ listeningTcpPorts: [] }),
    ],
    [
      'aws:num-established-tcp-connections',
      { comparisonOperator: 'less-than', value: { count: 1 } },
      sample({ establishedConnections: connections('10.0.0.1:1') }),
      sample({ listeningTcpPorts: [] }),
    ],
    [
      'aws:listening-tcp-ports',
      { comparisonOperator: 'in-port-set', value: { ports: [22] } },
      sample({ listeningTcpPorts: ports(23) }),
      sample({ listeningUdpPorts: [] }),
    ],
    [
      'aws:listening-udp-ports',
      { comparisonOperator: 'in-port-set', value: { ports: [53] } },
      sample({ listeningUdpPorts: ports(54) }),
      sample({ listeningTcpPorts: [] }),
    ],
    [
      'aws:destination-ip-addresses',
      { comparisonOperator: 'in-cidr-set', value: { cidrs: ['10.0.0.0/8'] } },
      sample({ establishedConnections: connections('192.0.2.1:443') }),
      sample({ listeningUdpPorts: [] }),
    ],
    [
      'cpu',
      { comparisonOperator: 'less-than', value: { number: 50 } },
      sample({ customMetrics: { cpu: { type: 'number', value: 99 } } }),
      sample(),
    ],
    [
      'cpu',
      { comparisonOperator: 'less-than', value: { number: 50 } },
      sample({ customMetrics: { cpu: { type: 'number', value: 99 } } }),
      sample({ customMetrics: { cpu: { type: 'number-list', value: [1] } } }),
    ],
    [
      'ifs',
      { comparisonOperator: 'in-set', value: { strings: ['eth0'] } },
      sample({ customMetrics: { ifs: { type: 'string-list', value: ['tun0'] } } }),
      sample({ customMetrics: { other: { type: 'string-list', value: [] } } }),
    ],
    [
      'load',
      { comparisonOperator: 'not-in-set', value: { numbers: [9] } },
      sample({ customMetrics: { load: { type: 'number-list', value: [9] } } }),
      sample(),
    ],
    [
      'ips',
      { comparisonOperator: 'in-cidr-set', value: { cidrs: ['10.0.0.0/8'] } },
      sample({ customMetrics: { ips: { type: 'ip-address-list', value: ['192.0.2.1'] } } }),
      sample({ customMetrics: { ips: { type: 'string-list', value: [] } } }),
    ],
  ];

  it.each(cases)(
    '%s: no datapoint, so an alarm raised stays raised and a streak stays as it was',
    (metric, criteria, violating, missing) => {
      const detector = detectorFor([{ name: 'b', metric, criteria: { ...criteria, consecutiveDatapointsToAlarm: 2 } }]);
      expect(run(detector, [[violating], [missing], [missing], [violating], [missing], [missing]])).toEqual([
        [],
        [],
        [],
        ['in-alarm'],
        [],
        [],
      ]);
      expect(detector.snapshot().b).toMatchObject({ inAlarm: true, violating: 2, conforming: 0 });
    },
  );

  it('traffic: no delta (first sample, reboot, unreadable counters) or one covering no time is no datapoint', () => {
    const detector = detectorFor(one('aws:all-bytes-out', { comparisonOperator: 'less-than', value: { count: 10 } }));
    expect(
      run(detector, [
        [sample(), traffic(10)],
        [sample(), undefined],
        [sample(), traffic(0, 0)],
        [sample(), traffic(0, -5)],
      ]),
    ).toEqual([['in-alarm'], [], [], []]);
    expect(run(detector, [[sample(), traffic(0)]])).toEqual([['alarm-cleared']]);
  });
});

describe('reconfiguration while in alarm', () => {
  const ids = () => {
    let next = 0;
    return () => `v-${++next}`;
  };
  const tcpPorts = (allowed: number[], extra: Record<string, unknown> = {}) =>
    parseBehaviors([
      {
        name: 'b',
        metric: 'aws:listening-tcp-ports',
        criteria: { comparisonOperator: 'in-port-set', value: { ports: allowed }, ...extra },
      },
    ]);
  const listening = (...numbers: number[]) => sample({ listeningTcpPorts: ports(...numbers) });
  const types = (detector: Detector, observed: DetectionSample) =>
    detector.evaluate(observed, undefined).map((c) => [c.type, c.violationId]);

  it('keeps the violation id through a change of criteria, so the clear names the alarm it ends', () => {
    const detector = new Detector(ids());
    detector.configure(tcpPorts([22]));
    expect(types(detector, listening(23))).toEqual([['in-alarm', 'v-1']]);
    detector.configure(tcpPorts([22, 24]));
    expect(types(detector, listening(23))).toEqual([]);
    detector.configure(tcpPorts([22, 23]));
    expect(types(detector, listening(23))).toEqual([['alarm-cleared', 'v-1']]);
    expect(types(detector, listening(25))).toEqual([['in-alarm', 'v-2']]);
  });

  it('keeps the violation id through a change of metric', () => {
    const detector = new Detector(ids());
    detector.configure(tcpPorts([22]));
    detector.evaluate(listening(23), undefined);
    detector.configure(
      parseBehaviors([
        { name: 'b', metric: 'aws:listening-udp-ports', criteria: { comparisonOperator: 'in-port-set', value: { ports: [53] } } },
      ]),
    );
    expect(types(detector, sample({ listeningUdpPorts: ports(53) }))).toEqual([['alarm-cleared', 'v-1']]);
  });

  it('the same behavior configured again keeps its streaks', () => {
    const detector = new Detector(ids());
    detector.configure(tcpPorts([22], { consecutiveDatapointsToAlarm: 3, consecutiveDatapointsToClear: 2 }));
    expect(run(detector, [[listening(23)], [listening(23)]])).toEqual([[], []]);
    detector.configure(tcpPorts([22], { consecutiveDatapointsToAlarm: 3, consecutiveDatapointsToClear: 2 }));
    expect(run(detector, [[listening(23)], [listening(22)]])).toEqual([['in-alarm'], []]);
    detector.configure(tcpPorts([22], { consecutiveDatapointsToAlarm: 3, consecutiveDatapointsToClear: 2 }));
    expect(run(detector, [[listening(22)]])).toEqual([['alarm-cleared']]);
  });

  it('a change of suppressAlerts or exportMetric alone keeps the streaks', () => {
    const detector = new Detector(ids());
    const behavior = (flags: Record<string, unknown>) =>
      parseBehaviors([
        {
          name: 'b',
          metric: 'aws:listening-tcp-ports',
          ...flags,
          criteria: { comparisonOperator: 'in-port-set', value: { ports: [22] }, consecutiveDatapointsToAlarm: 2 },
        },
      ]);
    detector.configure(behavior({}));
    expect(run(detector, [[listening(23)]])).toEqual([[]]);
    detector.configure(behavior({ suppressAlerts: true, exportMetric: true }));
    expect(run(detector, [[listening(23)]])).toEqual([['in-alarm']]);
  });

  it('a change of criteria restarts the violating streak', () => {
    const detector = new Detector(ids());
    detector.configure(tcpPorts([22], { consecutiveDatapointsToAlarm: 2 }));
    expect(run(detector, [[listening(23)]])).toEqual([[]]);
    detector.configure(tcpPorts([22, 80], { consecutiveDatapointsToAlarm: 2 }));
    expect(run(detector, [[listening(23)], [listening(23)]])).toEqual([[], ['in-alarm']]);
  });

  it('a change of criteria restarts the conforming streak of a raised alarm, which stays raised', () => {
    const detector = new Detector(ids());
    detector.configure(tcpPorts([22], { consecutiveDatapointsToClear: 2 }));
    expect(run(detector, [[listening(23)], [listening(22)]])).toEqual([['in-alarm'], []]);
    detector.configure(tcpPorts([22, 80], { consecutiveDatapointsToClear: 2 }));
    expect(detector.snapshot().b).toMatchObject({ inAlarm: true, violationId: 'v-1', violating: 0, conforming: 0 });
    expect(run(detector, [[listening(22)], [listening(22)]])).toEqual([[], ['alarm-cleared']]);
  });

  it('a change of metric restarts the streaks', () => {
    const detector = new Detector(ids());
    const on = (metric: string) =>
      parseBehaviors([
        { name: 'b', metric, criteria: { comparisonOperator: 'less-than', value: { count: 1 }, consecutiveDatapointsToAlarm: 2 } },
      ]);
    detector.configure(on('aws:num-listening-tcp-ports'));
    const both = sample({ listeningTcpPorts: ports(1), listeningUdpPorts: ports(1) });
    expect(run(detector, [[both]])).toEqual([[]]);
    detector.configure(on('aws:num-listening-udp-ports'));
    expect(run(detector, [[both], [both]])).toEqual([[], ['in-alarm']]);
  });

  it('a traffic sum in progress is kept by the same behavior and restarted by a changed one', () => {
    const detector = new Detector(ids());
    const bytesOut = (count: number) =>
      parseBehaviors(one('aws:all-bytes-out', { comparisonOperator: 'less-than-equals', value: { count }, durationSeconds: 600 }));
    detector.configure(bytesOut(1000));
    expect(run(detector, [[sample(), traffic(600)]])).toEqual([[]]);
    detector.configure(bytesOut(1000));
    expect(run(detector, [[sample(), traffic(600)]])).toEqual([['in-alarm']]);
    expect(run(detector, [[sample(), traffic(600)]])).toEqual([[]]);
    detector.configure(bytesOut(1100));
    expect(
      run(detector, [
        [sample(), traffic(600)],
        [sample(), traffic(400)],
      ]),
    ).toEqual([[], ['alarm-cleared']]);
  });

  it('a behavior renamed is a new one: the old alarm is reported as forgotten and the new one raises its own', () => {
    const detector = new Detector(ids());
    detector.configure(tcpPorts([22]));
    detector.evaluate(listening(23), undefined);
    const renamed = parseBehaviors([
      { name: 'c', metric: 'aws:listening-tcp-ports', criteria: { comparisonOperator: 'in-port-set', value: { ports: [22] } } },
    ]);
    expect(detector.configure(renamed)).toEqual(['b']);
    expect(types(detector, listening(23))).toEqual([['in-alarm', 'v-2']]);
  });

  it('a removed behavior that was not in alarm is not reported as forgotten (no alarm to end)', () => {
    const detector = new Detector(ids());
    detector.configure(tcpPorts([22]));
    detector.evaluate(listening(22), undefined);
    expect(detector.configure(parseBehaviors([]))).toEqual([]);
  });

  it('a behavior whose criteria are removed is no longer evaluated, and its alarm is reported as forgotten', () => {
    const detector = new Detector(ids());
    detector.configure(tcpPorts([22]));
    detector.evaluate(listening(23), undefined);
    expect(detector.configure(parseBehaviors([{ name: 'b', metric: 'aws:listening-tcp-ports' }]))).toEqual(['b']);
    expect(detector.evaluate(listening(23), undefined)).toEqual([]);
    expect(detector.snapshot()).toEqual({});
  });
});

describe('restored detection state', () => {
  const tcpPorts = (allowed: number[], extra: Record<string, unknown> = {}) =>
    parseBehaviors([
      {
        name: 'b',
        metric: 'aws:listening-tcp-ports',
        criteria: { comparisonOperator: 'in-port-set', value: { ports: allowed }, ...extra },
      },
    ]);
  const listening = (...numbers: number[]) => sample({ listeningTcpPorts: ports(...numbers) });

  it('restored before or after configure, the streaks of an unchanged behavior go on', () => {
    const before = new Detector(() => 'first');
    before.configure(tcpPorts([22], { consecutiveDatapointsToAlarm: 2 }));
    before.evaluate(listening(23), undefined);
    const saved = JSON.parse(JSON.stringify(before.snapshot()));
    for (const order of ['restore first', 'configure first']) {
      const after = new Detector(() => 'second');
      if (order === 'restore first') after.restore(saved);
      after.configure(tcpPorts([22], { consecutiveDatapointsToAlarm: 2 }));
      if (order === 'configure first') after.restore(saved);
      expect([order, after.evaluate(listening(23), undefined).map((c) => [c.type, c.violationId])]).toEqual([
        order,
        [['in-alarm', 'second']],
      ]);
    }
  });

  it('state saved for other criteria keeps the alarm and its id but restarts the streaks', () => {
    const before = new Detector(() => 'first');
    before.configure(tcpPorts([22], { consecutiveDatapointsToClear: 2 }));
    before.evaluate(listening(23), undefined);
    before.evaluate(listening(22), undefined);
    const after = new Detector(() => 'second');
    after.restore(JSON.parse(JSON.stringify(before.snapshot())));
    after.configure(tcpPorts([22, 80], { consecutiveDatapointsToClear: 2 }));
    expect(after.evaluate(listening(22), undefined)).toEqual([]);
    expect(after.evaluate(listening(22), undefined).map((c) => [c.type, c.violationId])).toEqual([['alarm-cleared', 'first']]);
  });

  it('restored state with no behaviors configured yet: a sample raises and clears nothing, the alarm waits for its behavior', () => {
    const detector = new Detector(() => 'new');
    const configured = new Detector(() => 'id');
    configured.configure(tcpPorts([22]));
    const fingerprint = (configured.snapshot().b as { fingerprint: string }).fingerprint;
    detector.restore({ b: { fingerprint, inAlarm: true, violationId: 'saved', violating: 1, conforming: 0 } });
    expect(detector.evaluate(listening(22), undefined)).toEqual([]);
    detector.configure(tcpPorts([22]));
    expect(detector.evaluate(listening(22), undefined).map((c) => [c.type, c.violationId])).toEqual([['alarm-cleared', 'saved']]);
  });

  it('state of a behavior no longer configured is dropped', () => {
    const after = new Detector(() => 'id');
    after.configure(tcpPorts([22]));
    after.restore({ gone: { fingerprint: 'x', inAlarm: true, violationId: 'old', violating: 1, conforming: 0 } });
    expect(Object.keys(after.snapshot())).toEqual(['b']);
  });

  it('an alarm restored without its id is cleared under a new one rather than none', () => {
    const after = new Detector(() => 'fresh');
    after.configure(tcpPorts([22]));
    const fingerprint = (after.snapshot().b as { fingerprint: string }).fingerprint;
    after.restore({ b: { fingerprint, inAlarm: true, violating: 0, conforming: 0 } });
    expect(after.evaluate(listening(22), undefined).map((c) => [c.type, c.violationId])).toEqual([['alarm-cleared', 'fresh']]);
  });

  it('the snapshot is a copy: changing it or the restored object changes nothing inside', () => {
    const detector = new Detector(() => 'id');
    detector.configure(tcpPorts([22]));
    const saved = detector.snapshot();
    (saved.b as { inAlarm: boolean }).inAlarm = true;
    expect(detector.evaluate(listening(22), undefined)).toEqual([]);
    const restored = JSON.parse(JSON.stringify(detector.snapshot()));
    detector.restore(restored);
    restored.b.inAlarm = true;
    expect(detector.evaluate(listening(22), undefined)).toEqual([]);
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

describe('edges of a traffic period and of an invalidated alarm', () => {
  const DAY = 24 * 60 * MINUTE;

  it('a traffic period up to 1 s short of durationSeconds is complete (timers fire either side); more is still summed', () => {
    const criteria = { comparisonOperator: 'less-than-equals', value: { count: 100 }, durationSeconds: 300 };
    const complete = detectorFor(one('aws:all-bytes-out', criteria));
    expect(complete.evaluate(sample(), traffic(200, 299_000)).map((c) => [c.type, c.metricValue])).toEqual([['in-alarm', { count: 200n }]]);
    const short = detectorFor(one('aws:all-bytes-out', criteria));
    expect(short.evaluate(sample(), traffic(200, 298_999))).toEqual([]);
    expect(short.snapshot().b).toMatchObject({ trafficSum: '200', trafficCoveredMs: 298_999 });
    expect(short.evaluate(sample(), traffic(0, 1)).map((c) => c.type)).toEqual(['in-alarm']);
    expect(short.snapshot().b?.trafficSum).toBeUndefined();
    expect(short.snapshot().b?.trafficCoveredMs).toBeUndefined();
  });

  it('an alarm invalidated after two days of silence starts over: the next alarm takes its full streak and a new id', () => {
    const detector = detectorFor(
      one('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [22] }, consecutiveDatapointsToAlarm: 2 }),
    );
    const t0 = Date.UTC(2026, 11, 1);
    const bad = sample({ listeningTcpPorts: ports(23) });
    expect([t0, t0 + 1].map((t) => detector.evaluate(bad, undefined, t).map((c) => [c.type, c.violationId]))).toEqual([
      [],
      [['in-alarm', 'v-1']],
    ]);
    detector.evaluate(sample(), undefined, t0 + 2);
    expect(detector.evaluate(sample(), undefined, t0 + 2 + 2 * DAY + 1).map((c) => [c.type, c.violationId])).toEqual([
      ['alarm-invalidated', 'v-1'],
    ]);
    // What a restart would read: no alarm, no streak, no silence.
    expect(detector.snapshot().b).toEqual({ fingerprint: expect.any(String), inAlarm: false, violating: 0, conforming: 0 });
    expect(run(detector, [[bad], [bad]])).toEqual([[], ['in-alarm']]);
    expect(detector.snapshot().b?.violationId).toBe('v-2');
  });

  it('an alarm restored without its id is invalidated under a new one rather than none', () => {
    const detector = detectorFor(one('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [22] } }));
    const fingerprint = (detector.snapshot().b as { fingerprint: string }).fingerprint;
    detector.restore({ b: { fingerprint, inAlarm: true, violating: 1, conforming: 0, silentSinceMs: 0 } });
    expect(detector.evaluate(sample(), undefined, 2 * DAY + 1).map((c) => [c.type, c.violationId, c.silentSinceMs])).toEqual([
      ['alarm-invalidated', 'v-1', 0],
    ]);
  });

  it('a silence keeps its start through a change of criteria: the alarm is invalidated two days after its last datapoint', () => {
    const portsIn = (allowed: number[]) =>
      parseBehaviors(one('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: allowed } }));
    const detector = new Detector(() => 'v');
    detector.configure(portsIn([22]));
    const t0 = Date.UTC(2026, 11, 1);
    detector.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined, t0);
    detector.evaluate(sample(), undefined, t0 + 1);
    detector.configure(portsIn([22, 80]));
    expect(detector.snapshot().b?.silentSinceMs).toBe(t0 + 1);
    expect(detector.evaluate(sample(), undefined, t0 + 1 + 2 * DAY + 1).map((c) => [c.type, c.silentSinceMs])).toEqual([
      ['alarm-invalidated', t0 + 1],
    ]);
  });

  it('samples whose traffic is still being summed neither start nor end a silence: two days without a complete period invalidate', () => {
    const detector = detectorFor(
      one('aws:all-bytes-out', { comparisonOperator: 'less-than', value: { count: 10 }, durationSeconds: 3600 }),
    );
    const t0 = Date.UTC(2026, 11, 1);
    for (let i = 1; i <= 12; i++) detector.evaluate(sample(), traffic(100), t0 + i * 5 * MINUTE);
    expect(detector.snapshot().b?.inAlarm).toBe(true);
    // Unreadable counters, then a period that starts and never completes, then unreadable counters again.
    const t1 = t0 + 2 * 60 * MINUTE;
    expect(detector.evaluate(sample(), undefined, t1)).toEqual([]);
    expect(detector.evaluate(sample(), traffic(0), t1 + 5 * MINUTE)).toEqual([]);
    expect(detector.snapshot().b?.silentSinceMs).toBe(t1);
    expect(detector.evaluate(sample(), undefined, t1 + 2 * DAY + 1).map((c) => [c.type, c.silentSinceMs])).toEqual([
      ['alarm-invalidated', t1],
    ]);
  });

  it('a sample without a time neither starts nor ends the timing of a silence', () => {
    const detector = detectorFor(one('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [22] } }));
    const t0 = Date.UTC(2026, 11, 1);
    detector.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined, t0);
    expect(detector.evaluate(sample(), undefined)).toEqual([]);
    expect(detector.snapshot().b?.silentSinceMs).toBeUndefined();
    detector.evaluate(sample(), undefined, t0 + 1);
    expect(detector.evaluate(sample(), undefined)).toEqual([]);
    expect(detector.snapshot().b).toMatchObject({ inAlarm: true, silentSinceMs: t0 + 1 });
  });

  it('a datapoint within the silence restarts it: two days are counted from the next sample without one', () => {
    const detector = detectorFor(one('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [22] } }));
    const t0 = Date.UTC(2026, 11, 1);
    const HOUR = 60 * MINUTE;
    detector.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined, t0);
    detector.evaluate(sample(), undefined, t0 + HOUR);
    detector.evaluate(sample({ listeningTcpPorts: ports(23) }), undefined, t0 + DAY);
    expect(detector.snapshot().b?.silentSinceMs).toBeUndefined();
    expect(detector.evaluate(sample(), undefined, t0 + DAY + HOUR)).toEqual([]);
    expect(detector.evaluate(sample(), undefined, t0 + 2 * DAY + 2 * HOUR)).toEqual([]);
    expect(detector.evaluate(sample(), undefined, t0 + 3 * DAY + HOUR + 1).map((c) => c.type)).toEqual(['alarm-invalidated']);
  });

  it('a conforming streak broken by a violation starts again, and streaks stop counting at 10', () => {
    const detector = detectorFor(
      one('aws:listening-tcp-ports', {
        comparisonOperator: 'in-port-set',
        value: { ports: [22] },
        consecutiveDatapointsToAlarm: 1,
        consecutiveDatapointsToClear: 3,
      }),
    );
    const bad = sample({ listeningTcpPorts: ports(23) });
    const good = sample({ listeningTcpPorts: ports(22) });
    expect(run(detector, [[bad], [good], [good], [bad], [good], [good]])).toEqual([['in-alarm'], [], [], [], [], []]);
    expect(run(detector, [[good]])).toEqual([['alarm-cleared']]);
    for (let i = 0; i < 12; i++) detector.evaluate(good, undefined);
    expect(detector.snapshot().b).toMatchObject({ conforming: 10, violating: 0 });
    for (let i = 0; i < 12; i++) detector.evaluate(bad, undefined);
    expect(detector.snapshot().b).toMatchObject({ conforming: 0, violating: 10, inAlarm: true });
  });
});
