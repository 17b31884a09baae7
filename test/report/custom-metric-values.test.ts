import type { CustomMetricValue } from '../../src/metrics/types';
import {
  checkCustomMetric,
  customNumberProblem,
  ipListEntryProblem,
  roundToSignificantDigits,
  stringListEntryProblem,
  wireCustomMetric,
} from '../../src/report/custom-metric-values';

describe('roundToSignificantDigits', () => {
  it('rounds to 15 significant digits and leaves shorter numbers alone', () => {
    expect(roundToSignificantDigits(33.333333333333336)).toBe(33.3333333333333);
    expect(roundToSignificantDigits(0.1 + 0.2)).toBe(0.3);
    expect(roundToSignificantDigits(-12.5)).toBe(-12.5);
    expect(roundToSignificantDigits(Number('123456789012345678'))).toBe(123456789012346000);
    expect(Object.is(roundToSignificantDigits(-0), 0)).toBe(true);
  });
});

describe('customNumberProblem', () => {
  it('takes a bigint (a decoder gives one above 2^53) of up to 15 significant digits, either sign, trailing zeros not counted', () => {
    for (const value of [0n, 123456789012345n, -123456789012345n, 10n ** 20n, -(10n ** 20n), 123456789012345n * 10n ** 5n]) {
      expect([value, customNumberProblem(value)]).toEqual([value, undefined]);
    }
  });

  it('refuses a bigint of 16 significant digits or more, zeros between digits counted', () => {
    for (const value of [1234567890123456n, -1234567890123456n, 10n ** 19n + 1n, -(10n ** 19n + 1n)]) {
      expect(customNumberProblem(value)).toBe(`${value} has more than 15 significant digits`);
    }
  });

  it('refuses what is not a finite number, a numeric string included, and a float beyond 15 digits', () => {
    expect(customNumberProblem('5')).toBe('"5" is not a finite number');
    expect(customNumberProblem(null)).toBe('null is not a finite number');
    expect(customNumberProblem(Number.NaN)).toBe('NaN is not a finite number');
    expect(customNumberProblem(0.1 + 0.2)).toBe('0.30000000000000004 has more than 15 significant digits');
    expect(customNumberProblem(-12.5)).toBeUndefined();
  });
});

describe('list entry checks', () => {
  it('refuse entries that are not strings even when their text would pass (a number, a nested list)', () => {
    for (const entry of [123, ['eth0'], true]) expect([entry, stringListEntryProblem(entry)]).toEqual([entry, expect.any(String)]);
    for (const entry of [['10.0.0.1'], 167772161]) expect([entry, ipListEntryProblem(entry)]).toEqual([entry, expect.any(String)]);
    expect(stringListEntryProblem('eth0')).toBeUndefined();
    expect(ipListEntryProblem('10.0.0.1')).toBeUndefined();
  });
});

describe('checkCustomMetric', () => {
  const check = (value: CustomMetricValue, name = 'metric') => checkCustomMetric(name, value);

  it('passes valid values of every type through, rounding numbers to 15 significant digits', () => {
    expect(check({ type: 'number', value: 33.333333333333336 })).toEqual({
      value: { type: 'number', value: 33.3333333333333 },
      problems: [],
    });
    expect(check({ type: 'number-list', value: [0.25, 1 / 3, -2] })).toEqual({
      value: { type: 'number-list', value: [0.25, 0.333333333333333, -2] },
      problems: [],
    });
    expect(check({ type: 'string-list', value: ['eth0', 'wlan0', 'br-lan', 'a/b.c:d_e'] })).toEqual({
      value: { type: 'string-list', value: ['eth0', 'wlan0', 'br-lan', 'a/b.c:d_e'] },
      problems: [],
    });
    expect(check({ type: 'ip-address-list', value: ['192.168.1.2', '2001:db8::1', '::ffff:10.0.0.1'] }).problems).toEqual([]);
    expect(check({ type: 'string-list', value: [] })).toEqual({ value: { type: 'string-list', value: [] }, problems: [] });
  });

  it('leaves out a number that is not finite, naming the metric', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(check({ type: 'number', value }, 'cpu')).toEqual({
        problems: [{ subject: 'custom_metrics.cpu', message: `${value} is not a finite number; metric left out` }],
      });
    }
    expect(check({ type: 'number', value: '5' as unknown as number }).value).toBeUndefined();
  });

  it('leaves out a whole number list with one bad entry: positions carry meaning', () => {
    expect(check({ type: 'number-list', value: [1, Number.NaN, 3] }, 'load')).toEqual({
      problems: [{ subject: 'custom_metrics.load', message: 'entry [1] NaN is not a finite number; metric left out' }],
    });
    expect(check({ type: 'number-list', value: 5 as unknown as number[] }).problems[0]?.message).toBe(
      'the value is not a list; metric left out',
    );
    expect(check({ type: 'number-list', value: [Number.NaN, 2, 3] }, 'load').problems).toEqual([
      { subject: 'custom_metrics.load', message: 'entry [0] NaN is not a finite number; metric left out' },
    ]);
  });

  it('leaves out a string or IP list that is not a list', () => {
    for (const type of ['string-list', 'ip-address-list'] as const) {
      expect(check({ type, value: 'eth0' as unknown as string[] }, 'x')).toEqual({
        problems: [{ subject: 'custom_metrics.x', message: 'the value is not a list; metric left out' }],
      });
    }
  });

  it('names the first five bad entries and counts the others', () => {
    const reason = (entry: string) => `${JSON.stringify(entry)} is not an IPv4 or IPv6 address`;
    const five = ['a', 'b', 'c', 'd', 'e'];
    expect(check({ type: 'ip-address-list', value: five }, 'ips').problems[0]?.message).toBe(
      `no valid entry: ${five.map(reason).join('; ')}; metric left out`,
    );
    const seven = [...five, 'f', 'g'];
    expect(check({ type: 'ip-address-list', value: ['10.0.0.1', ...seven] }, 'ips').problems[0]?.message).toBe(
      `7 of 8 entries left out: ${five.map(reason).join('; ')}; and 2 more`,
    );
  });

  it('leaves out only the bad entries of a string list, and says which', () => {
    expect(check({ type: 'string-list', value: ['eth0', 'bad name', 'wlan0', 'ü'] }, 'ifaces')).toEqual({
      value: { type: 'string-list', value: ['eth0', 'wlan0'] },
      problems: [
        {
          subject: 'custom_metrics.ifaces',
          message:
            '2 of 4 entries left out: "bad name" is not a non-empty string of letters, digits, ":", "_", "-", "/" or "."; ' +
            '"ü" is not a non-empty string of letters, digits, ":", "_", "-", "/" or "."',
        },
      ],
    });
  });

  it('leaves out bad IP entries, zone ids included, and the metric when none is valid', () => {
    const mixed = check({ type: 'ip-address-list', value: ['10.0.0.1', 'fe80::1%eth0', '10.0.0.300'] }, 'ips');
    expect(mixed.value).toEqual({ type: 'ip-address-list', value: ['10.0.0.1'] });
    expect(mixed.problems[0]?.message).toMatch(/^2 of 3 entries left out: "fe80::1%eth0" is not an IPv4 or IPv6 address; "10.0.0.300"/);
    const none = check({ type: 'ip-address-list', value: ['x', 'y', 'z', 'u', 'v', 'w', 'q'] }, 'ips');
    expect(none.value).toBeUndefined();
    expect(none.problems[0]?.message).toMatch(/^no valid entry: .*; and 2 more; metric left out$/);
  });

  it('leaves out metrics with a bad name or an unknown type', () => {
    expect(check({ type: 'number', value: 1 }, 'aws:cpu')).toEqual({
      problems: [
        { subject: 'custom_metrics.aws:cpu', message: 'names starting with "aws:" are reserved for AWS metrics; metric left out' },
      ],
    });
    expect(check({ type: 'percent', value: 1 } as unknown as CustomMetricValue).problems[0]?.message).toBe(
      'unknown metric type "percent"; metric left out',
    );
  });
});

describe('wireCustomMetric', () => {
  it('wraps every value in a one-element list keyed by the report value type', () => {
    expect(wireCustomMetric({ type: 'number', value: 0 })).toEqual([{ number: 0 }]);
    expect(wireCustomMetric({ type: 'number-list', value: [1, 2] })).toEqual([{ number_list: [1, 2] }]);
    expect(wireCustomMetric({ type: 'string-list', value: ['a'] })).toEqual([{ string_list: ['a'] }]);
    expect(wireCustomMetric({ type: 'ip-address-list', value: ['::1'] })).toEqual([{ ip_list: ['::1'] }]);
  });
});
