import { InvalidValue } from '../../src/config/values';
import { isDeviceMetric, metricKindOf, parseBehaviors } from '../../src/config/behaviors';

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

describe('parseBehaviors refusals name the behavior, the field and what was wrong', () => {
  const bytesOut = (criteria: Record<string, unknown>) => [behavior('aws:all-bytes-out', { comparisonOperator: 'less-than', ...criteria })];
  const cases: Array<[string, unknown, string]> = [
    ['an object that is not a list', { a: 1 }, 'must be a list of behaviors, as in CreateSecurityProfile'],
    ['a number', 5, 'must be a list of behaviors, as in CreateSecurityProfile'],
    ['null', null, 'must be a list of behaviors, as in CreateSecurityProfile'],
    ['a null behavior', [null], 'behavior #1 must be an object'],
    ['a behavior that is a list', [{ name: 'a', metric: 'm' }, [1]], 'behavior #2 must be an object'],
    ['a behavior that is a number', [5], 'behavior #1 must be an object'],
    ['a name that is not a string', [{ name: 5, metric: 'm' }], 'behavior #1: name must be 1-128 letters, digits, ":", "_" or "-" (got 5)'],
    ['no metric', [{ name: 'ok' }], 'behavior "ok": metric is required (a device-side aws: metric or a custom metric name)'],
    [
      'a metric that is not a string',
      [{ name: 'ok', metric: 7 }],
      'behavior "ok": metric is required (a device-side aws: metric or a custom metric name)',
    ],
    [
      'an invalid custom metric name',
      [{ name: 'b1', metric: 'bad name' }],
      'behavior "b1": metric "bad name" is not valid: a metric name is 1-128 characters of letters, digits, ":", "_" or "-"',
    ],
    [
      'suppressAlerts neither true nor false',
      [{ name: 'b1', metric: 'm', suppressAlerts: 'yes' }],
      'behavior "b1": suppressAlerts must be true or false (got "yes")',
    ],
    [
      'exportMetric given as 1',
      [{ name: 'b1', metric: 'm', exportMetric: 1 }],
      'behavior "b1": exportMetric must be true or false (got 1)',
    ],
    [
      'an operator that is not a string',
      [behavior('m', { comparisonOperator: 5 })],
      'behavior "b1": comparisonOperator must be one of less-than, less-than-equals, greater-than, greater-than-equals, in-cidr-set, ' +
        'not-in-cidr-set, in-port-set, not-in-port-set, in-set, not-in-set (got 5)',
    ],
    [
      'a port set on a custom metric',
      [behavior('m', { comparisonOperator: 'not-in-port-set', value: { ports: [1] } })],
      'behavior "b1": m takes less-than, less-than-equals, greater-than, greater-than-equals, in-cidr-set, not-in-cidr-set, in-set, ' +
        'not-in-set, not not-in-port-set',
    ],
    [
      'consecutiveDatapointsToClear 0',
      bytesOut({ value: { count: 1 }, consecutiveDatapointsToClear: 0 }),
      'behavior "b1": consecutiveDatapointsToClear must be a whole number from 1 to 10 (got 0)',
    ],
    [
      'no value member',
      bytesOut({ value: {} }),
      'behavior "b1": criteria.value must hold exactly one of count for less-than on aws:all-bytes-out',
    ],
    ['a value that is not an object', bytesOut({ value: 5 }), 'behavior "b1": criteria.value must be an object'],
    [
      'a count of 1.5',
      bytesOut({ value: { count: 1.5 } }),
      'behavior "b1": criteria.value.count must be a whole number from 0 to 9223372036854775807 (got 1.5)',
    ],
    [
      'a number that is not decimal text',
      [behavior('m', { comparisonOperator: 'less-than', value: { number: 'x' } })],
      'behavior "b1": criteria.value.number must be a number (got "x")',
    ],
    [
      'a number given as a list',
      [behavior('m', { comparisonOperator: 'less-than', value: { number: [5] } })],
      'behavior "b1": criteria.value.number must be a number (got [5])',
    ],
    [
      'a number that is not finite',
      [behavior('m', { comparisonOperator: 'less-than', value: { number: Number.POSITIVE_INFINITY } })],
      'behavior "b1": criteria.value.number must be a number (got null)',
    ],
    [
      'ports that are not a list',
      [behavior('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: 5 } })],
      'behavior "b1": criteria.value.ports must be a list (got 5)',
    ],
    [
      'a port that is not whole',
      [behavior('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: [22, 1.5] } })],
      'behavior "b1": criteria.value.ports must be ports from 0 to 65535 (got [22,1.5])',
    ],
    [
      'a port below 0',
      [behavior('aws:listening-udp-ports', { comparisonOperator: 'in-port-set', value: { ports: [-1] } })],
      'behavior "b1": criteria.value.ports must be ports from 0 to 65535 (got [-1])',
    ],
    [
      'a port above 65535',
      [behavior('aws:listening-udp-ports', { comparisonOperator: 'in-port-set', value: { ports: [65_536] } })],
      'behavior "b1": criteria.value.ports must be ports from 0 to 65535 (got [65536])',
    ],
    [
      'a CIDR that is not a string',
      [behavior('aws:destination-ip-addresses', { comparisonOperator: 'in-cidr-set', value: { cidrs: [5] } })],
      'behavior "b1": criteria.value.cidrs has an invalid CIDR 5 (got [5])',
    ],
    [
      'a CIDR with a trailing space',
      [behavior('aws:destination-ip-addresses', { comparisonOperator: 'in-cidr-set', value: { cidrs: ['10.0.0.0/8 '] } })],
      'behavior "b1": criteria.value.cidrs has an invalid CIDR "10.0.0.0/8 " (got ["10.0.0.0/8 "])',
    ],
    [
      'numbers given as text',
      [behavior('m', { comparisonOperator: 'in-set', value: { numbers: [1, '2'] } })],
      'behavior "b1": criteria.value.numbers must be numbers (got [1,"2"])',
    ],
    [
      'a number list holding Infinity',
      [behavior('m', { comparisonOperator: 'not-in-set', value: { numbers: [1, Number.POSITIVE_INFINITY] } })],
      'behavior "b1": criteria.value.numbers must be numbers (got [1,null])',
    ],
    [
      'strings given as numbers',
      [behavior('m', { comparisonOperator: 'in-set', value: { strings: ['a', 1] } })],
      'behavior "b1": criteria.value.strings must be strings (got ["a",1])',
    ],
    [
      'both numbers and strings',
      [behavior('m', { comparisonOperator: 'in-set', value: { numbers: [1], strings: ['a'] } })],
      'behavior "b1": criteria.value must hold exactly one of numbers or strings for in-set on m',
    ],
  ];
  it.each(cases)('%s', (_what, value, message) => {
    expect(problem(value)).toBe(message);
  });

  it('a metric starting with aws: in any case that is not device-side is refused as cloud-side, listing the device-side ones', () => {
    const message = problem([{ name: 'b1', metric: 'AWS:Num-Messages-Sent' }]);
    expect(message).toBe(
      'behavior "b1": "AWS:Num-Messages-Sent" is not a device-side metric; Device Defender evaluates it in the cloud. On the device: ' +
        'aws:all-bytes-out, aws:all-bytes-in, aws:all-packets-out, aws:all-packets-in, aws:num-listening-tcp-ports, ' +
        'aws:num-listening-udp-ports, aws:num-established-tcp-connections, aws:listening-tcp-ports, aws:listening-udp-ports, ' +
        'aws:destination-ip-addresses and custom metrics',
    );
  });

  it('a value set of 1,000 elements is taken, 1,001 refused', () => {
    const ports = (n: number) => Array.from({ length: n }, (_, i) => i);
    const tcp = (n: number) => [behavior('aws:listening-tcp-ports', { comparisonOperator: 'in-port-set', value: { ports: ports(n) } })];
    expect(parseBehaviors(tcp(1_000))[0]?.criteria?.value.ports).toHaveLength(1_000);
    expect(problem(tcp(1_001))).toMatch(/^behavior "b1": criteria\.value\.ports has more than 1000 elements \(got \[0,1,2,/);
  });

  it('100 behaviors are taken, 101 refused', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `b${i}`, metric: 'aws:all-bytes-out' }));
    expect(parseBehaviors(many(100))).toHaveLength(100);
    expect(problem(many(101))).toBe('has 101 behaviors; a security profile has at most 100');
  });

  it('a duplicate name is named', () => {
    expect(
      problem([
        { name: 'a', metric: 'm' },
        { name: 'a', metric: 'n' },
      ]),
    ).toBe('behavior name "a" is used twice; names must be unique');
  });

  it('an unknown field is named with the fields there are, for a behavior, its criteria and its value', () => {
    expect(problem([{ name: 'b1', metric: 'm', Critera: {} }])).toBe(
      'behavior #1 has unknown field "Critera" (fields: name, metric, metricDimension, criteria, suppressAlerts, exportMetric)',
    );
    expect(problem(bytesOut({ value: { count: 1 }, duration: 300 }))).toBe(
      'behavior "b1": criteria has unknown field "duration" (fields: comparisonOperator, value, durationSeconds, ' +
        'consecutiveDatapointsToAlarm, consecutiveDatapointsToClear, statisticalThreshold, mlDetectionConfig)',
    );
    expect(problem(bytesOut({ value: { count: 1, counts: 2 } }))).toBe(
      'behavior "b1": criteria.value has unknown field "counts" (fields: count, cidrs, ports, number, numbers, strings)',
    );
  });

  it('durationSeconds that is not a whole number is refused naming the behavior and the durations offered', () => {
    for (const duration of ['x', 0, 300.5, 301, '0x258', '6e2', '', true, null]) {
      expect(problem(bytesOut({ value: { count: 1 }, durationSeconds: duration }))).toBe(
        `behavior "b1": durationSeconds must be one of 300, 600, 900, 1800, 3600 (got ${JSON.stringify(duration)})`,
      );
    }
  });

  it('durationSeconds on a custom list metric is refused as on a device-side one', () => {
    expect(problem([behavior('m', { comparisonOperator: 'in-set', value: { strings: ['a'] }, durationSeconds: 300 })])).toBe(
      'behavior "b1": durationSeconds cannot be used with list-based metrics',
    );
    expect(problem([behavior('m', { comparisonOperator: 'in-cidr-set', value: { cidrs: ['10.0.0.0/8'] }, durationSeconds: 300 })])).toBe(
      'behavior "b1": durationSeconds cannot be used with list-based metrics',
    );
  });
});

describe('parseBehaviors accepts', () => {
  it('an empty or blank string as no behaviors', () => {
    expect(parseBehaviors('')).toEqual([]);
    expect(parseBehaviors(' \n ')).toEqual([]);
  });

  it('field names in any case, as Greengrass configuration keys are', () => {
    expect(
      parseBehaviors([
        {
          NAME: 'b1',
          Metric: 'aws:all-bytes-out',
          SuppressAlerts: 'true',
          CRITERIA: { ComparisonOperator: 'less-than', VALUE: { COUNT: 5 }, DurationSeconds: '600', ConsecutiveDatapointsToAlarm: 2 },
        },
      ]),
    ).toEqual([
      {
        name: 'b1',
        metric: 'aws:all-bytes-out',
        suppressAlerts: true,
        criteria: { comparisonOperator: 'less-than', value: { count: 5n }, durationSeconds: 600, consecutiveDatapointsToAlarm: 2 },
      },
    ]);
  });

  it('suppressAlerts and exportMetric as JSON booleans or their text', () => {
    const flags = (suppressAlerts: unknown, exportMetric: unknown) =>
      parseBehaviors([{ name: 'b1', metric: 'm', suppressAlerts, exportMetric }])[0];
    expect(flags(true, false)).toEqual({ name: 'b1', metric: 'm', suppressAlerts: true, exportMetric: false });
    expect(flags('false', 'true')).toEqual({ name: 'b1', metric: 'm', suppressAlerts: false, exportMetric: true });
    expect(parseBehaviors([{ name: 'b1', metric: 'm' }])[0]).toEqual({ name: 'b1', metric: 'm' });
  });

  it('every duration Device Defender offers, as a number or as decimal text', () => {
    for (const durationSeconds of [300, 600, 900, 1800, 3600, '600', ' +600.0 ', '1800.']) {
      const [parsed] = parseBehaviors([
        behavior('aws:all-packets-in', { comparisonOperator: 'greater-than', value: { count: 1 }, durationSeconds }),
      ]);
      expect(parsed?.criteria?.durationSeconds).toBe(Number(durationSeconds));
    }
  });

  it('ports 0 and 65535', () => {
    const [parsed] = parseBehaviors([
      behavior('aws:listening-udp-ports', { comparisonOperator: 'not-in-port-set', value: { ports: [0, 65_535] } }),
    ]);
    expect(parsed?.criteria?.value).toEqual({ ports: [0, 65_535] });
  });

  it('custom numbers as doubles, from JSON numbers, decimal text or large integers in JSON text', () => {
    const number = (value: unknown) =>
      parseBehaviors([behavior('m', { comparisonOperator: 'greater-than', value: { number: value } })])[0]?.criteria?.value;
    expect(number(-0.25)).toEqual({ number: -0.25 });
    expect(number('.5')).toEqual({ number: 0.5 });
    expect(number('+7.')).toEqual({ number: 7 });
    const text = JSON.stringify([behavior('m', { comparisonOperator: 'greater-than', value: { number: 1 } })]).replace(
      '"number":1',
      '"number":18446744073709551616',
    );
    expect(parseBehaviors(text)[0]?.criteria?.value).toEqual({ number: 2 ** 64 });
    const list = JSON.stringify([behavior('m', { comparisonOperator: 'in-set', value: { numbers: [1] } })]).replace(
      '"numbers":[1]',
      '"numbers":[1,9007199254740993]',
    );
    expect(parseBehaviors(list)[0]?.criteria?.value).toEqual({ numbers: [1, 2 ** 53] });
  });

  it('a count as text with surrounding blanks, a leading + and the trailing .0 of a stored double', () => {
    const count = (value: unknown) =>
      parseBehaviors([behavior('aws:all-bytes-in', { comparisonOperator: 'less-than', value: { count: value } })])[0]?.criteria?.value;
    expect(count(' +42.00 ')).toEqual({ count: 42n });
    expect(count('7.')).toEqual({ count: 7n });
    expect(problem([behavior('aws:all-bytes-in', { comparisonOperator: 'less-than', value: { count: '4 2' } })])).toMatch(/count must be/);
  });

  it('IPv6 CIDRs in either case', () => {
    const [parsed] = parseBehaviors([
      behavior('aws:destination-ip-addresses', { comparisonOperator: 'not-in-cidr-set', value: { cidrs: ['2001:DB8::/32', 'fe80::/10'] } }),
    ]);
    expect(parsed?.criteria?.value).toEqual({ cidrs: ['2001:DB8::/32', 'fe80::/10'] });
  });
});

describe('more refusals, exactly', () => {
  const countProblem = (value: unknown) =>
    problem([behavior('aws:all-bytes-out', { comparisonOperator: 'greater-than', value: { count: value } })]);

  it('a JSON number count beyond 2^63-1 is out of range, one between 2^53 and 2^63 is to be written as text', () => {
    expect(countProblem(2 ** 64)).toBe(
      'behavior "b1": criteria.value.count must be a whole number from 0 to 9223372036854775807 (got 18446744073709551616)',
    );
    expect(countProblem(2 ** 53)).toBe(
      'behavior "b1": criteria.value.count is above 9007199254740991 as a JSON number, which reaches the agent as a double, ' +
        'possibly rounded; write it as a string of digits, such as "9223372036854775807", to have it exact (got 9007199254740992)',
    );
  });

  it('a negative count beyond 2^64 in JSON text is refused', () => {
    const text = JSON.stringify([behavior('aws:all-bytes-out', { comparisonOperator: 'greater-than', value: { count: 1 } })]);
    expect(() => parseBehaviors(text.replace('"count":1', '"count":-18446744073709551616'))).toThrow(
      'behavior "b1": criteria.value.count must be a whole number from 0 to 9223372036854775807 (got -18446744073709551616)',
    );
  });

  it('a CIDR given as a list, and one longer than 43 characters, are refused', () => {
    const cidrs = (list: unknown[]) =>
      problem([behavior('aws:destination-ip-addresses', { comparisonOperator: 'in-cidr-set', value: { cidrs: list } })]);
    expect(cidrs([['10.0.0.0/8']])).toBe('behavior "b1": criteria.value.cidrs has an invalid CIDR ["10.0.0.0/8"] (got [["10.0.0.0/8"]])');
    // The longest text of a CIDR in hexadecimal groups is 43 characters; longer text is refused unread.
    const long = '0000:0000:0000:0000:0000:ffff:255.255.255.255/128';
    expect(cidrs([long])).toBe(`behavior "b1": criteria.value.cidrs has an invalid CIDR "${long}" (got ["${long}"])`);
    const longest = '0000:0000:0000:0000:0000:0000:0000:0000/128';
    expect(
      parseBehaviors([behavior('ips', { comparisonOperator: 'in-cidr-set', value: { cidrs: [longest] } })])[0]?.criteria?.value,
    ).toEqual({
      cidrs: [longest],
    });
  });

  it('statistical thresholds are refused with what to use instead', () => {
    expect(problem([behavior('aws:all-bytes-out', { comparisonOperator: 'less-than', statisticalThreshold: { statistic: 'p90' } })])).toBe(
      'behavior "b1": statisticalThreshold compares the device with percentiles of the whole fleet, which only Device Defender in the ' +
        'cloud has; on the device use a static value',
    );
  });
});

describe('isDeviceMetric', () => {
  it('is true for the ten device-side metrics only', () => {
    expect(isDeviceMetric('aws:all-bytes-out')).toBe(true);
    expect(isDeviceMetric('aws:destination-ip-addresses')).toBe(true);
    expect(isDeviceMetric('aws:num-messages-sent')).toBe(false);
    expect(isDeviceMetric('toString')).toBe(false);
  });
});

describe('metricKindOf', () => {
  it('a custom metric retained without criteria is a number', () => {
    expect(metricKindOf({ name: 'b1', metric: 'm' })).toEqual({ kind: 'custom', name: 'm', type: 'number' });
  });

  it('a device-side metric is its kind whatever the criteria', () => {
    expect(metricKindOf({ name: 'b1', metric: 'aws:all-packets-out' })).toEqual({ kind: 'traffic', counter: 'packetsOut' });
    expect(metricKindOf({ name: 'b1', metric: 'aws:num-established-tcp-connections' })).toEqual({
      kind: 'count',
      list: 'establishedConnections',
    });
  });
});
