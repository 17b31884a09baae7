import { InvalidValue } from '../../src/config/values';
import { metricKindOf, parseBehaviors } from '../../src/config/behaviors';

const behavior = (metric: string, criteria: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name: 'b1',
  metric,
  criteria,
  ...extra,
});

function problem(value: unknown): string {
  try {
    parseBehaviors(value);
  } catch (error) {
    if (error instanceof InvalidValue) return error.message;
    throw error;
  }
  throw new Error('expected the behaviors to be refused');
}

describe('parseBehaviors', () => {
  it('takes the shape of CreateSecurityProfile behaviors for every device-side metric', () => {
    const parsed = parseBehaviors([
      {
        name: 'out',
        metric: 'aws:all-bytes-out',
        criteria: { comparisonOperator: 'less-than-equals', value: { count: 4096 }, durationSeconds: 300 },
      },
      { name: 'in', metric: 'aws:all-bytes-in', criteria: { comparisonOperator: 'less-than', value: { count: '10' } } },
      { name: 'pout', metric: 'aws:all-packets-out', criteria: { comparisonOperator: 'greater-than', value: { count: 0 } } },
      { name: 'pin', metric: 'aws:all-packets-in', criteria: { comparisonOperator: 'greater-than-equals', value: { count: 1 } } },
      { name: 'ntcp', metric: 'aws:num-listening-tcp-ports', criteria: { comparisonOperator: 'less-than', value: { count: 5 } } },
      { name: 'nudp', metric: 'aws:num-listening-udp-ports', criteria: { comparisonOperator: 'less-than', value: { count: 5 } } },
      { name: 'tcp', metric: 'aws:listening-tcp-ports', criteria: { comparisonOperator: 'in-port-set', value: { ports: [22, 443] } } },
      { name: 'udp', metric: 'aws:listening-udp-ports', criteria: { comparisonOperator: 'not-in-port-set', value: { ports: [69] } } },
      {
        name: 'conn',
        metric: 'aws:num-established-tcp-connections',
        criteria: {
          comparisonOperator: 'less-than',
          value: { count: 100 },
          consecutiveDatapointsToAlarm: 2,
          consecutiveDatapointsToClear: '3',
        },
      },
      {
        name: 'dst',
        metric: 'aws:destination-ip-addresses',
        criteria: { comparisonOperator: 'in-cidr-set', value: { cidrs: ['10.0.0.0/8', '2001:db8::/32'] } },
      },
      { name: 'retain', metric: 'aws:all-bytes-out' },
    ]);
    expect(parsed).toHaveLength(11);
    expect(parsed[0]).toEqual({
      name: 'out',
      metric: 'aws:all-bytes-out',
      criteria: { comparisonOperator: 'less-than-equals', value: { count: 4096n }, durationSeconds: 300 },
    });
    expect(parsed[1]?.criteria?.value).toEqual({ count: 10n });
    expect(parsed[8]?.criteria).toMatchObject({ consecutiveDatapointsToAlarm: 2, consecutiveDatapointsToClear: 3 });
    expect(parsed[10]?.criteria).toBeUndefined();
  });

  it('takes custom metrics with the operators and values of their type', () => {
    const parsed = parseBehaviors([
      { name: 'cpu', metric: 'cpu_usage', criteria: { comparisonOperator: 'less-than', value: { number: 90.5 } } },
      { name: 'load', metric: 'load', criteria: { comparisonOperator: 'in-set', value: { numbers: [1, 2] } } },
      { name: 'ifs', metric: 'ifs', criteria: { comparisonOperator: 'not-in-set', value: { strings: ['wlan0'] } } },
      { name: 'ips', metric: 'ips', criteria: { comparisonOperator: 'in-cidr-set', value: { cidrs: ['192.168.0.0/16'] } } },
    ]);
    expect(parsed.map((b) => metricKindOf(b))).toEqual(
      [
        { kind: 'custom', name: 'cpu', type: 'number' },
        { kind: 'custom', name: 'load', type: 'number-list' },
        { kind: 'custom', name: 'ifs', type: 'string-list' },
        { kind: 'custom', name: 'ips', type: 'ip-address-list' },
      ].map((k, i) => ({ ...k, name: parsed[i]?.metric })),
    );
  });

  it("reads metrics named like Object.prototype's members as custom metrics, never as device-side ones", () => {
    for (const metric of ['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__']) {
      const parsed = parseBehaviors([behavior(metric, { comparisonOperator: 'less-than', value: { number: 5 } })]);
      expect(metricKindOf(parsed[0]!)).toEqual({ kind: 'custom', name: metric, type: 'number' });
      // A device-side count is refused for a custom metric, as for any other.
      expect(problem([behavior(metric, { comparisonOperator: 'less-than', value: { count: 5 } })])).toMatch(/exactly one of number/);
    }
  });

  it('reads a custom metric number given as text only as a decimal number', () => {
    const number = (value: unknown) =>
      parseBehaviors([behavior('temp', { comparisonOperator: 'less-than', value: { number: value } })])[0]!.criteria!.value;
    expect(number('300')).toEqual({ number: 300 });
    expect(number('-2.5e1')).toEqual({ number: -25 });
    for (const text of ['0x12c', '0b1', '0o7', 'Infinity', ' 300', '300 ', '']) {
      expect(problem([behavior('temp', { comparisonOperator: 'less-than', value: { number: text } })])).toMatch(
        /criteria\.value\.number must be a number/,
      );
    }
  });

  describe('count, an UnsignedLong (0 to 2^63-1) in the IoT model', () => {
    const count = (value: unknown) =>
      parseBehaviors([behavior('aws:all-bytes-out', { comparisonOperator: 'greater-than', value: { count: value } })])[0]!.criteria!.value
        .count;
    const countProblem = (value: unknown) =>
      problem([behavior('aws:all-bytes-out', { comparisonOperator: 'greater-than', value: { count: value } })]);

    it('reads every count up to 2^63-1 exactly from a string of digits', () => {
      expect(count('9223372036854775807')).toBe(9_223_372_036_854_775_807n);
      expect(count('9007199254740993')).toBe(9_007_199_254_740_993n);
      expect(count('18446744073.0')).toBe(18_446_744_073n);
      expect(count('0')).toBe(0n);
    });

    it('reads a count beyond 2^53 exactly from a behaviors value given as JSON text', () => {
      const text =
        '[{"name":"b1","metric":"aws:all-bytes-out","criteria":{"comparisonOperator":"greater-than","value":{"count":9223372036854775807}}}]';
      expect(parseBehaviors(text)[0]?.criteria?.value.count).toBe(9_223_372_036_854_775_807n);
      const odd = text.replace('9223372036854775807', '9007199254740993');
      expect(parseBehaviors(odd)[0]?.criteria?.value.count).toBe(9_007_199_254_740_993n);
    });

    it('takes a JSON number up to 2^53-1 as it is', () => {
      expect(count(Number.MAX_SAFE_INTEGER)).toBe(9_007_199_254_740_991n);
      expect(count(5)).toBe(5n);
    });

    it('refuses a JSON number beyond 2^53-1, naming what the agent received exactly and how to write it exactly', () => {
      // 9223372036854775807 as a JSON number arrives as the double 2^63.
      const message = countProblem(JSON.parse('9223372036854775807'));
      expect(message).toContain('got 9223372036854775808)');
      expect(message).toContain('write it as a string of digits, such as "9223372036854775807"');
      expect(message).not.toContain('9223372036854776000');
      expect(countProblem(2 ** 53)).toContain('got 9007199254740992)');
    });

    it('refuses what is beyond 2^63-1 or not a whole number, with the exact digits given', () => {
      expect(countProblem('9223372036854775808')).toMatch(/from 0 to 9223372036854775807 \(got "9223372036854775808"\)$/);
      const text = JSON.stringify([behavior('aws:all-bytes-out', { comparisonOperator: 'greater-than', value: { count: 1 } })]);
      expect(() => parseBehaviors(text.replace('"count":1', '"count":18446744073709551616'))).toThrow(
        /count must be a whole number from 0 to 9223372036854775807 \(got 18446744073709551616\)/,
      );
      for (const bad of ['-1', '0x12c', '1e3', '1.5', ' ', '', 1.5, -1, true, 2 ** 64]) expect(countProblem(bad)).toMatch(/count /);
    });
  });

  it('accepts an empty list, an empty object and a JSON string', () => {
    expect(parseBehaviors([])).toEqual([]);
    expect(parseBehaviors({})).toEqual([]);
    expect(
      parseBehaviors(JSON.stringify([behavior('aws:all-bytes-out', { comparisonOperator: 'less-than', value: { count: 1 } })])),
    ).toHaveLength(1);
  });

  it('refuses statistical thresholds and ML detection, saying they need the fleet in the cloud', () => {
    expect(
      problem([behavior('aws:all-bytes-out', { comparisonOperator: 'less-than', statisticalThreshold: { statistic: 'p90' } })]),
    ).toMatch(/statisticalThreshold .*fleet.*cloud/);
    expect(problem([behavior('aws:all-bytes-out', { mlDetectionConfig: { confidenceLevel: 'HIGH' } })])).toMatch(
      /mlDetectionConfig .*cloud.*fleet/,
    );
  });

  it('refuses operators a metric does not take', () => {
    expect(problem([behavior('aws:all-bytes-out', { comparisonOperator: 'in-port-set', value: { ports: [1] } })])).toMatch(
      /aws:all-bytes-out takes less-than, less-than-equals, greater-than, greater-than-equals/,
    );
    expect(problem([behavior('aws:listening-tcp-ports', { comparisonOperator: 'less-than', value: { count: 1 } })])).toMatch(
      /in-port-set, not-in-port-set/,
    );
    expect(problem([behavior('aws:destination-ip-addresses', { comparisonOperator: 'in-port-set', value: { ports: [1] } })])).toMatch(
      /in-cidr-set, not-in-cidr-set/,
    );
    expect(problem([behavior('custom', { comparisonOperator: 'in-port-set', value: { ports: [1] } })])).toMatch(/custom takes/);
  });

  it('refuses a value member other than the one the operator calls for', () => {
    expect(problem([behavior('aws:all-bytes-out', { comparisonOperator: 'less-than', value: { number: 1 } })])).toMatch(
      /exactly one of count/,
    );
    expect(problem([behavior('cpu', { comparisonOperator: 'less-than', value: { count: 1 } })])).toMatch(/exactly one of number/);
    expect(problem([behavior('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [1], count: 2 } })])).toMatch(
      /exactly one/,
    );
    expect(problem([behavior('aws:all-bytes-out', { comparisonOperator: 'less-than', value: { count: -1 } })])).toMatch(
      /whole number from 0 to 9223372036854775807 \(got -1\)/,
    );
    expect(problem([behavior('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [70000] } })])).toMatch(
      /0 to 65535/,
    );
    expect(
      problem([behavior('aws:destination-ip-addresses', { comparisonOperator: 'in-cidr-set', value: { cidrs: ['10.0.0.0/33'] } })]),
    ).toMatch(/invalid CIDR/);
  });

  it('refuses durationSeconds on list metrics and durations Device Defender does not offer', () => {
    expect(
      problem([behavior('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [1] }, durationSeconds: 300 })]),
    ).toMatch(/list-based/);
    expect(
      problem([behavior('aws:all-bytes-out', { comparisonOperator: 'less-than', value: { count: 1 }, durationSeconds: 301 })]),
    ).toMatch(/300, 600, 900, 1800, 3600/);
  });

  it('refuses cloud-side metrics, dimensions, bad names, duplicates, unknown fields and more than 100 behaviors', () => {
    expect(problem([behavior('aws:num-messages-sent', { comparisonOperator: 'less-than', value: { count: 1 } })])).toMatch(
      /not a device-side metric; Device Defender evaluates it in the cloud/,
    );
    expect(
      problem([
        behavior(
          'aws:all-bytes-out',
          { comparisonOperator: 'less-than', value: { count: 1 } },
          { metricDimension: { dimensionName: 'd' } },
        ),
      ]),
    ).toMatch(/metricDimension/);
    expect(problem([{ name: 'bad name', metric: 'aws:all-bytes-out' }])).toMatch(/name must be/);
    expect(
      problem([
        { name: 'a', metric: 'aws:all-bytes-out' },
        { name: 'a', metric: 'aws:all-bytes-in' },
      ]),
    ).toMatch(/used twice/);
    expect(
      problem([behavior('aws:all-bytes-out', { comparisonOperator: 'less-than', value: { count: 1 }, consecutiveDatapointsToAlarm: 11 })]),
    ).toMatch(/consecutiveDatapointsToAlarm must be a whole number from 1 to 10/);
    expect(problem([behavior('aws:all-bytes-out', { comparisonOperater: 'less-than' })])).toMatch(/unknown field "comparisonOperater"/);
    expect(problem(Array.from({ length: 101 }, (_, i) => ({ name: `b${i}`, metric: 'aws:all-bytes-out' })))).toMatch(/at most 100/);
    expect(problem('not json')).toMatch(/not valid JSON/);
  });
});
