import type { CustomMetricValue } from '../../src/metrics/types';
import { checkCustomMetric, roundToSignificantDigits, wireCustomMetric } from '../../src/report/custom-metric-values';

describe('roundToSignificantDigits', () => {
  it('rounds to 15 significant digits and leaves shorter numbers alone', () => {
    expect(roundToSignificantDigits(33.333333333333336)).toBe(33.3333333333333);
    expect(roundToSignificantDigits(0.1 + 0.2)).toBe(0.3);
    expect(roundToSignificantDigits(-12.5)).toBe(-12.5);
    expect(roundToSignificantDigits(Number('123456789012345678'))).toBe(123456789012346000);
    expect(Object.is(roundToSignificantDigits(-0), 0)).toBe(true);
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
