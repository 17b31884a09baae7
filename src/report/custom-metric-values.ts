/**
 * Custom metric names and values checked before they are sent. Device Defender keeps a report
 * whose custom values break its rules but silently drops those values (docs/device-defender-report.md, section 3), so
 * an operator would only see a metric that never shows up. Checking here turns that into a
 * logged Problem naming the metric and the reason.
 */
import { isIP } from 'node:net';
import type { CustomMetricType, CustomMetricValue, Problem } from '../metrics/types';
import { metricNameProblem } from '../config/names';
import type { CustomValueKey } from './names';

/**
 * The documented string-list charset is letters plus `: _ - / .`; digits are not listed, but the
 * spec marks that omission UNCONFIRMED and the values we send (interface names such as `eth0`,
 * `wlan0`) need them, so digits are allowed.
 */
const STRING_LIST_ENTRY = /^[A-Za-z0-9:_\-/.]+$/;

/** "Supports precision up to 15 digits" (number and number-list). */
const SIGNIFICANT_DIGITS = 15;

const WIRE_VALUE_KEY: Readonly<Record<CustomMetricType, CustomValueKey>> = {
  number: 'number',
  'number-list': 'number_list',
  'string-list': 'string_list',
  'ip-address-list': 'ip_list',
};

/** Why a value cannot be sent as a custom `number`, or undefined when it can (as it stands). */
export function customNumberProblem(value: unknown): string | undefined {
  if (typeof value === 'bigint') {
    return significantDecimalDigits(value) > SIGNIFICANT_DIGITS
      ? `${value} has more than ${SIGNIFICANT_DIGITS} significant digits`
      : undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value))
    return `${typeof value === 'string' ? JSON.stringify(value) : String(value)} is not a finite number`;
  if (roundToSignificantDigits(value) !== value) return `${value} has more than ${SIGNIFICANT_DIGITS} significant digits`;
  return undefined;
}

export function stringListEntryProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || !STRING_LIST_ENTRY.test(value)) {
    return `${JSON.stringify(value) ?? String(value)} is not a non-empty string of letters, digits, ":", "_", "-", "/" or "."`;
  }
  return undefined;
}

/** IPv6 zone ids (`fe80::1%eth0`) are refused: Net.isIP accepts them but they are not plain addresses. */
export function ipListEntryProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || isIP(value) === 0 || value.includes('%')) {
    return `${JSON.stringify(value) ?? String(value)} is not an IPv4 or IPv6 address`;
  }
  return undefined;
}

/**
 * A float such as 33.333333333333336 (17 digits) is a measurement whose last digits are noise, so
 * it is rounded to 15 significant digits rather than dropped.
 */
export function roundToSignificantDigits(value: number): number {
  return value === 0 ? 0 : Number(value.toPrecision(SIGNIFICANT_DIGITS));
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function significantDecimalDigits(value: bigint): number {
  return (value < 0n ? -value : value).toString().replace(/0+$/, '').length;
}

export interface CheckedCustomMetric {
  /** Absent when the metric is left out entirely. */
  value?: CustomMetricValue;
  problems: Problem[];
}

/**
 * The value as it can be sent, or the reasons it cannot. Number lists are all or nothing (each
 * position means something, e.g. the 1/5/15 minute load averages); string and IP lists are sets,
 * so a bad entry is left out and the rest is sent, unless nothing valid remains.
 */
export function checkCustomMetric(name: string, metric: CustomMetricValue): CheckedCustomMetric {
  const subject = `custom_metrics.${name}`;
  const leftOut = (message: string): CheckedCustomMetric => ({ problems: [{ subject, message: `${message}; metric left out` }] });
  const nameProblem = metricNameProblem(name);
  if (nameProblem) return leftOut(nameProblem);
  switch (metric.type) {
    case 'number': {
      if (!isFiniteNumber(metric.value)) return leftOut(`${String(metric.value)} is not a finite number`);
      return { value: { type: 'number', value: roundToSignificantDigits(metric.value) }, problems: [] };
    }
    case 'number-list': {
      if (!Array.isArray(metric.value)) return leftOut('the value is not a list');
      const bad = metric.value.findIndex((entry) => !isFiniteNumber(entry));
      if (bad >= 0) return leftOut(`entry [${bad}] ${String(metric.value[bad])} is not a finite number`);
      return { value: { type: 'number-list', value: metric.value.map(roundToSignificantDigits) }, problems: [] };
    }
    case 'string-list':
    case 'ip-address-list': {
      if (!Array.isArray(metric.value)) return leftOut('the value is not a list');
      const entryProblem = metric.type === 'string-list' ? stringListEntryProblem : ipListEntryProblem;
      const valid = metric.value.filter((entry) => entryProblem(entry) === undefined);
      const invalid = metric.value.filter((entry) => entryProblem(entry) !== undefined);
      if (invalid.length === 0) return { value: metric, problems: [] };
      const reasons =
        invalid
          .slice(0, 5)
          .map((entry) => entryProblem(entry))
          .join('; ') + (invalid.length > 5 ? `; and ${invalid.length - 5} more` : '');
      if (valid.length === 0) return leftOut(`no valid entry: ${reasons}`);
      return {
        value: { type: metric.type, value: valid },
        problems: [{ subject, message: `${invalid.length} of ${metric.value.length} entries left out: ${reasons}` }],
      };
    }
    default:
      return leftOut(`unknown metric type ${JSON.stringify((metric as { type: unknown }).type)}`);
  }
}

/** The one-element array Device Defender expects; a bare `{"number":0}` is rejected as malformed. */
export function wireCustomMetric(metric: CustomMetricValue): [Record<string, unknown>] {
  return [{ [WIRE_VALUE_KEY[metric.type]]: metric.value }];
}
