/**
 * Device Defender behaviors, in exactly the shape of CreateSecurityProfile's `behaviors` (IoT service model
 * 2015-05-28: Behavior, BehaviorCriteria, MetricValue), checked for what the device can evaluate: the ten device-side
 * metrics and custom metrics, with the operators and value kinds Device Defender documents per metric
 * (https://docs.aws.amazon.com/iot-device-defender/latest/devguide/detect-device-side-metrics.html,
 * https://docs.aws.amazon.com/iot/latest/apireference/API_BehaviorCriteria.html).
 * One document serves the cloud profile and the edge: what only the cloud can do is refused with the reason.
 */
import { isIotName, metricNameProblem } from './names';
import { quoteValue } from './quote';
import { InvalidValue, integer, lowerCaseFields } from './values';
import { parseCidr } from '../metrics/networks';
import { describeError } from '../util/describe-error';
import { parseExactJson } from '../util/exact-json';

type ComparisonOperator =
  | 'less-than'
  | 'less-than-equals'
  | 'greater-than'
  | 'greater-than-equals'
  | 'in-cidr-set'
  | 'not-in-cidr-set'
  | 'in-port-set'
  | 'not-in-port-set'
  | 'in-set'
  | 'not-in-set';

/** MetricValue: exactly one member is set, the one the operator and metric call for. */
export interface MetricValue {
  /** UnsignedLong in the API (0 to 2^63-1): a bigint, exact where a double is not. */
  count?: bigint;
  cidrs?: string[];
  ports?: number[];
  number?: number;
  numbers?: number[];
  strings?: string[];
}

export interface BehaviorCriteria {
  comparisonOperator: ComparisonOperator;
  value: MetricValue;
  durationSeconds?: number;
  consecutiveDatapointsToAlarm?: number;
  consecutiveDatapointsToClear?: number;
}

export interface Behavior {
  name: string;
  metric: string;
  /** Absent: the behavior only retains the metric (Device Defender allows that); nothing is evaluated. */
  criteria?: BehaviorCriteria;
  suppressAlerts?: boolean;
  exportMetric?: boolean;
}

/** What a metric's datapoint is, which decides the operators and value member it takes. */
export type MetricKind =
  /** network_stats delta, accumulated over durationSeconds. */
  | { kind: 'traffic'; counter: 'bytesOut' | 'bytesIn' | 'packetsOut' | 'packetsIn' }
  /** A count of the sample's true (untrimmed) list. */
  | { kind: 'count'; list: 'listeningTcpPorts' | 'listeningUdpPorts' | 'establishedConnections' }
  | { kind: 'ports'; list: 'listeningTcpPorts' | 'listeningUdpPorts' }
  | { kind: 'destination-ips' }
  /** A custom metric; its type follows from the operator (number, number-list, string-list, ip-address-list). */
  | { kind: 'custom'; name: string; type: 'number' | 'number-list' | 'string-list' | 'ip-address-list' };

/** A Map, not an object: a metric named `toString` or `__proto__` must not find Object.prototype's members. */
const DEVICE_METRICS: ReadonlyMap<string, MetricKind> = new Map<string, MetricKind>([
  ['aws:all-bytes-out', { kind: 'traffic', counter: 'bytesOut' }],
  ['aws:all-bytes-in', { kind: 'traffic', counter: 'bytesIn' }],
  ['aws:all-packets-out', { kind: 'traffic', counter: 'packetsOut' }],
  ['aws:all-packets-in', { kind: 'traffic', counter: 'packetsIn' }],
  ['aws:num-listening-tcp-ports', { kind: 'count', list: 'listeningTcpPorts' }],
  ['aws:num-listening-udp-ports', { kind: 'count', list: 'listeningUdpPorts' }],
  ['aws:num-established-tcp-connections', { kind: 'count', list: 'establishedConnections' }],
  ['aws:listening-tcp-ports', { kind: 'ports', list: 'listeningTcpPorts' }],
  ['aws:listening-udp-ports', { kind: 'ports', list: 'listeningUdpPorts' }],
  ['aws:destination-ip-addresses', { kind: 'destination-ips' }],
]);

const DEVICE_METRIC_NAMES = [...DEVICE_METRICS.keys()];

/** A metric the device collects itself (the ten device-side aws: metrics); any other aws: metric is cloud-side. */
export function isDeviceMetric(metric: string): boolean {
  return DEVICE_METRICS.has(metric);
}

const NUMERIC_OPERATORS: readonly ComparisonOperator[] = ['less-than', 'less-than-equals', 'greater-than', 'greater-than-equals'];
const PORT_OPERATORS: readonly ComparisonOperator[] = ['in-port-set', 'not-in-port-set'];
const CIDR_OPERATORS: readonly ComparisonOperator[] = ['in-cidr-set', 'not-in-cidr-set'];
const SET_OPERATORS: readonly ComparisonOperator[] = ['in-set', 'not-in-set'];
const ALL_OPERATORS = [...NUMERIC_OPERATORS, ...CIDR_OPERATORS, ...PORT_OPERATORS, ...SET_OPERATORS];

/** The durations Device Defender offers for device-side metrics (detect-device-side-metrics). */
const DURATIONS = [300, 600, 900, 1800, 3600];

/** BehaviorCriteria: consecutiveDatapointsToAlarm and ToClear are 1..10. */
export const MAX_CONSECUTIVE_DATAPOINTS = 10;

/** CreateSecurityProfile: at most 100 behaviors per profile (service model `Behaviors`). */
export const MAX_BEHAVIORS = 100;
/** Most elements in one value set: bounds the work of one evaluation. Device Defender's own limit is not published. */
const MAX_SET_ELEMENTS = 1_000;
const DECIMAL_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
/** MetricValue.count: UnsignedLong in the IoT model 2015-05-28 (`long`, min 0), so at most 2^63-1. */
export const MAX_COUNT = 2n ** 63n - 1n;
/** Decimal digits of a whole number; a trailing `.0` as the nucleus writes a stored double. 25 digits bound the work. */
const DECIMAL_WHOLE = /^\+?(\d{1,25})(\.0*)?$/;
const CIDR_TEXT = /^[a-fA-F0-9:./]{2,43}$/;

/** The metric kind of a parsed behavior (its operator tells a custom metric's type). */
export function metricKindOf(behavior: Behavior): MetricKind {
  const device = DEVICE_METRICS.get(behavior.metric);
  if (device) return device;
  const { criteria } = behavior;
  const type =
    criteria === undefined || NUMERIC_OPERATORS.includes(criteria.comparisonOperator)
      ? 'number'
      : CIDR_OPERATORS.includes(criteria.comparisonOperator)
        ? 'ip-address-list'
        : criteria.value.strings !== undefined
          ? 'string-list'
          : 'number-list';
  return { kind: 'custom', name: behavior.metric, type };
}

/**
 * Parses the `behaviors` configuration value (a list, or a JSON string holding one). Throws InvalidValue naming the
 * behavior and the problem. Field names are matched without regard to case, as Greengrass configuration keys are.
 */
export function parseBehaviors(value: unknown): Behavior[] {
  let list = value;
  if (typeof value === 'string') {
    if (value.trim() === '') return [];
    try {
      // Parsed here from its text, so a count beyond 2^53 written as a JSON number is read exactly.
      list = parseExactJson(value);
    } catch {
      throw new InvalidValue('is a string that is not valid JSON');
    }
  }
  // The nucleus may store an empty list as an empty object.
  if (list !== null && typeof list === 'object' && !Array.isArray(list) && Object.keys(list).length === 0) return [];
  if (!Array.isArray(list)) throw new InvalidValue('must be a list of behaviors, as in CreateSecurityProfile');
  if (list.length > MAX_BEHAVIORS) throw new InvalidValue(`has ${list.length} behaviors; a security profile has at most ${MAX_BEHAVIORS}`);
  const names = new Set<string>();
  return list.map((item, index) => {
    const behavior = parseBehavior(item, index);
    if (names.has(behavior.name)) throw new InvalidValue(`behavior name ${quoteValue(behavior.name)} is used twice; names must be unique`);
    names.add(behavior.name);
    return behavior;
  });
}

function fieldsOf(value: unknown, where: string, allowed: readonly string[]): Map<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidValue(`${where} must be an object`);
  const fields = lowerCaseFields(value);
  const known = new Set(allowed.map((a) => a.toLowerCase()));
  for (const key of Object.keys(value)) {
    if (!known.has(key.toLowerCase()))
      throw new InvalidValue(`${where} has unknown field ${quoteValue(key)} (fields: ${allowed.join(', ')})`);
  }
  return fields;
}

function parseBehavior(item: unknown, index: number): Behavior {
  const fields = fieldsOf(item, `behavior #${index + 1}`, [
    'name',
    'metric',
    'metricDimension',
    'criteria',
    'suppressAlerts',
    'exportMetric',
  ]);
  const name = fields.get('name');
  if (typeof name !== 'string' || !isIotName(name)) {
    throw new InvalidValue(`behavior #${index + 1}: name must be 1-128 letters, digits, ":", "_" or "-" (got ${quoteValue(name)})`);
  }
  const where = `behavior ${quoteValue(name)}`;
  const metric = fields.get('metric');
  if (typeof metric !== 'string')
    throw new InvalidValue(`${where}: metric is required (a device-side aws: metric or a custom metric name)`);
  if (!DEVICE_METRICS.has(metric)) {
    if (metric.toLowerCase().startsWith('aws:')) {
      throw new InvalidValue(
        `${where}: ${quoteValue(metric)} is not a device-side metric; Device Defender evaluates it in the cloud. ` +
          `On the device: ${DEVICE_METRIC_NAMES.join(', ')} and custom metrics`,
      );
    }
    const problem = metricNameProblem(metric);
    if (problem) throw new InvalidValue(`${where}: metric ${quoteValue(metric)} is not valid: ${problem}`);
  }
  if (fields.get('metricdimension') !== undefined) {
    throw new InvalidValue(`${where}: metricDimension applies to cloud-side metrics only; device-side and custom metrics take none`);
  }
  const behavior: Behavior = { name, metric };
  for (const flag of ['suppressAlerts', 'exportMetric'] as const) {
    const given = fields.get(flag.toLowerCase());
    if (given === undefined) continue;
    if (given !== true && given !== false && given !== 'true' && given !== 'false') {
      throw new InvalidValue(`${where}: ${flag} must be true or false (got ${quoteValue(given)})`);
    }
    behavior[flag] = given === true || given === 'true';
  }
  const criteria = fields.get('criteria');
  if (criteria !== undefined) behavior.criteria = parseCriteria(criteria, where, metric);
  return behavior;
}

function parseCriteria(value: unknown, where: string, metric: string): BehaviorCriteria {
  const fields = fieldsOf(value, `${where}: criteria`, [
    'comparisonOperator',
    'value',
    'durationSeconds',
    'consecutiveDatapointsToAlarm',
    'consecutiveDatapointsToClear',
    'statisticalThreshold',
    'mlDetectionConfig',
  ]);
  if (fields.get('statisticalthreshold') !== undefined) {
    throw new InvalidValue(
      `${where}: statisticalThreshold compares the device with percentiles of the whole fleet, which only Device Defender in the cloud has; ` +
        'on the device use a static value',
    );
  }
  if (fields.get('mldetectionconfig') !== undefined) {
    throw new InvalidValue(
      `${where}: mlDetectionConfig needs models Device Defender trains in the cloud on the fleet's data; on the device use a static value`,
    );
  }
  const operator = fields.get('comparisonoperator');
  if (!ALL_OPERATORS.includes(operator as ComparisonOperator)) {
    throw new InvalidValue(`${where}: comparisonOperator must be one of ${ALL_OPERATORS.join(', ')} (got ${quoteValue(operator)})`);
  }
  const comparisonOperator = operator as ComparisonOperator;
  const device = DEVICE_METRICS.get(metric);
  const allowed: readonly ComparisonOperator[] =
    device === undefined
      ? ALL_OPERATORS.filter((o) => !PORT_OPERATORS.includes(o))
      : device.kind === 'ports'
        ? PORT_OPERATORS
        : device.kind === 'destination-ips'
          ? CIDR_OPERATORS
          : NUMERIC_OPERATORS;
  if (!allowed.includes(comparisonOperator)) {
    throw new InvalidValue(`${where}: ${metric} takes ${allowed.join(', ')}, not ${comparisonOperator}`);
  }
  const criteria: BehaviorCriteria = { comparisonOperator, value: parseValue(fields.get('value'), where, metric, comparisonOperator) };
  const duration = fields.get('durationseconds');
  if (duration !== undefined) {
    const isList = !NUMERIC_OPERATORS.includes(comparisonOperator);
    if (isList) throw new InvalidValue(`${where}: durationSeconds cannot be used with list-based metrics`);
    // Decimal text ("600", or "600.0" as the nucleus writes a stored double) is read as its number; Number() alone
    // would also read "0x258" as 600.
    const seconds = typeof duration === 'string' && DECIMAL_WHOLE.test(duration.trim()) ? Number(duration) : duration;
    if (!DURATIONS.includes(seconds as number)) {
      throw new InvalidValue(`${where}: durationSeconds must be one of ${DURATIONS.join(', ')} (got ${quoteValue(duration)})`);
    }
    criteria.durationSeconds = seconds as number;
  }
  for (const key of ['consecutiveDatapointsToAlarm', 'consecutiveDatapointsToClear'] as const) {
    const given = fields.get(key.toLowerCase());
    if (given === undefined) continue;
    try {
      criteria[key] = integer(1, MAX_CONSECUTIVE_DATAPOINTS)(given);
    } catch (error) {
      throw new InvalidValue(`${where}: ${key} ${describeError(error)}`);
    }
  }
  return criteria;
}

function parseValue(value: unknown, where: string, metric: string, operator: ComparisonOperator): MetricValue {
  const fields = fieldsOf(value, `${where}: criteria.value`, ['count', 'cidrs', 'ports', 'number', 'numbers', 'strings']);
  const device = DEVICE_METRICS.get(metric);
  const wanted: Array<keyof MetricValue> = NUMERIC_OPERATORS.includes(operator)
    ? [device === undefined ? 'number' : 'count']
    : PORT_OPERATORS.includes(operator)
      ? ['ports']
      : CIDR_OPERATORS.includes(operator)
        ? ['cidrs']
        : ['numbers', 'strings'];
  const given = [...fields.keys()];
  const member = wanted.find((w) => fields.has(w.toLowerCase()));
  if (given.length !== 1 || member === undefined) {
    throw new InvalidValue(`${where}: criteria.value must hold exactly one of ${wanted.join(' or ')} for ${operator} on ${metric}`);
  }
  const raw = fields.get(member.toLowerCase());
  const fail = (what: string): never => {
    throw new InvalidValue(`${where}: criteria.value.${member} ${what} (got ${quoteValue(raw)})`);
  };
  switch (member) {
    case 'count': {
      const count = unsignedLong(raw);
      if (typeof count === 'bigint') return { count };
      // A double's own digits: JSON.stringify would show 9223372036854776000 for 2^63.
      if (Number.isInteger(raw)) throw new InvalidValue(`${where}: criteria.value.count ${count} (got ${BigInt(raw as number)})`);
      return fail(count);
    }
    case 'number': {
      // Decimal text only: Number() would also read "0x12c" as 300, "0b1" and "Infinity".
      // A bigint comes from a large integer in JSON text: Number, a double, is the API's type.
      const n = (typeof raw === 'string' && DECIMAL_NUMBER.test(raw)) || typeof raw === 'bigint' ? Number(raw) : raw;
      if (!Number.isFinite(n)) return fail('must be a number');
      return { number: n as number };
    }
    case 'ports': {
      const ports = listOf(raw, fail);
      if (!ports.every((p) => Number.isInteger(p) && (p as number) >= 0 && (p as number) <= 65_535)) fail('must be ports from 0 to 65535');
      return { ports: ports as number[] };
    }
    case 'cidrs': {
      const cidrs = listOf(raw, fail);
      for (const cidr of cidrs) {
        if (typeof cidr !== 'string' || !CIDR_TEXT.test(cidr) || parseCidr(cidr) === undefined)
          fail(`has an invalid CIDR ${quoteValue(cidr)}`);
      }
      return { cidrs: cidrs as string[] };
    }
    case 'numbers': {
      const numbers = listOf(raw, fail).map((n) => (typeof n === 'bigint' ? Number(n) : n));
      if (!numbers.every((n) => Number.isFinite(n))) fail('must be numbers');
      return { numbers: numbers as number[] };
    }
    default: {
      const strings = listOf(raw, fail);
      if (!strings.every((s) => typeof s === 'string')) fail('must be strings');
      return { strings: strings as string[] };
    }
  }
}

/**
 * A count as exactly what was written, or why not. Exact sources: a decimal string (whatever carries the configuration,
 * a string arrives as written), and a bigint, which parseBehaviors makes of a large integer in a `behaviors` value
 * given as JSON text. A JSON number in a configuration object was parsed by the IPC client (and may have been stored as
 * a double by the nucleus) before the agent sees it: beyond 2^53-1 it can be off, so it is refused with the way to
 * write it exactly rather than compared against a number nobody wrote.
 */
function unsignedLong(raw: unknown): bigint | string {
  const range = `must be a whole number from 0 to ${MAX_COUNT}`;
  if (typeof raw === 'number') {
    if (Number.isSafeInteger(raw) && raw >= 0) return BigInt(raw);
    if (!Number.isInteger(raw) || raw < 0 || raw > Number(MAX_COUNT)) return range;
    return (
      `is above ${Number.MAX_SAFE_INTEGER} as a JSON number, which reaches the agent as a double, possibly rounded; ` +
      `write it as a string of digits, such as "${MAX_COUNT}", to have it exact`
    );
  }
  const whole = typeof raw === 'string' ? DECIMAL_WHOLE.exec(raw.trim())?.[1] : undefined;
  const count = typeof raw === 'bigint' ? raw : whole !== undefined ? BigInt(whole) : undefined;
  return count !== undefined && count >= 0n && count <= MAX_COUNT ? count : range;
}

function listOf(raw: unknown, fail: (what: string) => never): unknown[] {
  if (!Array.isArray(raw)) return fail('must be a list');
  if (raw.length > MAX_SET_ELEMENTS) return fail(`has more than ${MAX_SET_ELEMENTS} elements`);
  return raw;
}
