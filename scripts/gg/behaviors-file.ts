/**
 * `--behaviors-file profile.json`: one file of Device Defender behaviors, in CreateSecurityProfile's shape, for the
 * cloud security profile (`setup-defender`) and for the device (`deploy`, configuration key `behaviors`).
 * The device evaluates static criteria of device-side and custom metrics only; behaviors with `statisticalThreshold` or
 * `mlDetectionConfig` compare against the fleet, and cloud-side metrics (authorization failures, messages sent) are
 * measured by AWS IoT, so `deploy` leaves them out (and says so) and the cloud profile keeps them.
 *
 * A count is an UnsignedLong (up to 2^63-1). The file is read with its large integers exact; the cloud behaviors carry a
 * count beyond 2^53-1 as a bigint, which the AWS SDK for JavaScript v3 writes into the request as its exact digits, and
 * the device's copy carries it as a string of digits, the form that reaches the agent exactly through either nucleus.
 */
import { readFileSync } from 'node:fs';
import type { Behavior } from '@aws-sdk/client-iot';
import { InvalidValue } from '../../src/config/values';
import { isDeviceMetric, MAX_COUNT, parseBehaviors } from '../../src/config/behaviors';
import { UsageError } from './errors';
import { describeError } from '../../src/util/describe-error';
import { parseExactJson, stringifyExactJson } from '../../src/util/exact-json';

export interface BehaviorsFile {
  /** Every behavior as written, for CreateSecurityProfile / UpdateSecurityProfile. */
  cloud: Behavior[];
  /** The behaviors the device can evaluate, as written, checked by the agent's own parser. */
  edge: unknown[];
  /** Names of the behaviors only the cloud evaluates, with the criterion that makes them so. */
  cloudOnly: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why only the cloud evaluates a behavior: it compares against the fleet, or its metric is measured by AWS IoT. */
function cloudOnlyReason(behavior: Record<string, unknown>): string | undefined {
  const criteria = behavior.criteria;
  if (isRecord(criteria) && criteria.statisticalThreshold !== undefined) return 'statisticalThreshold';
  if (isRecord(criteria) && criteria.mlDetectionConfig !== undefined) return 'mlDetectionConfig';
  const metric = behavior.metric;
  if (typeof metric === 'string' && metric.startsWith('aws:') && !isDeviceMetric(metric)) return 'cloud-side metric';
  return undefined;
}

type FieldType =
  | 'string'
  | 'integer'
  | 'count'
  | 'number'
  | 'boolean'
  | 'strings'
  | 'integers'
  | 'numbers'
  | { [field: string]: FieldType };

/** CreateSecurityProfile's Behavior (AWS IoT model 2015-05-28): each field's exact name and the type it takes. */
const BEHAVIOR_SHAPE: { [field: string]: FieldType } = {
  name: 'string',
  metric: 'string',
  metricDimension: { dimensionName: 'string', operator: 'string' },
  criteria: {
    comparisonOperator: 'string',
    value: { count: 'count', cidrs: 'strings', ports: 'integers', number: 'number', numbers: 'numbers', strings: 'strings' },
    durationSeconds: 'integer',
    consecutiveDatapointsToAlarm: 'integer',
    consecutiveDatapointsToClear: 'integer',
    statisticalThreshold: { statistic: 'string' },
    mlDetectionConfig: { confidenceLevel: 'string' },
  },
  suppressAlerts: 'boolean',
  exportMetric: 'boolean',
};

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A number, or decimal text of one (not "0x1f" or "Infinity", which Number() would also read). */
function numeric(value: unknown): number | undefined {
  const n = typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/**
 * The behavior as AWS takes it: field names in the model's case (the device reads them in any case, as Greengrass
 * keys; the AWS SDK would drop "Criteria" and the cloud behavior would never alarm) and values of the model's type
 * ("5" -> 5, "false" -> false). Anything that cannot be made so is refused.
 */
function canonical(value: unknown, type: FieldType, where: string): unknown {
  const refuse = (what: string): never => {
    throw new UsageError(`${where} must be ${what} (got ${stringifyExactJson(value)?.slice(0, 40)})`);
  };
  if (typeof type === 'object') {
    if (!isRecord(value)) return refuse('an object');
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const field = Object.keys(type).find((name) => name.toLowerCase() === key.toLowerCase());
      if (field === undefined)
        throw new UsageError(`${where} has unknown field ${JSON.stringify(key)} (fields: ${Object.keys(type).join(', ')})`);
      if (field in result) throw new UsageError(`${where} has ${field} twice, in different case`);
      result[field] = canonical(item, type[field]!, `${where}.${field}`);
    }
    return result;
  }
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : refuse('text');
    case 'boolean':
      if (value === true || value === 'true') return true;
      if (value === false || value === 'false') return false;
      return refuse('true or false');
    case 'integer': {
      const n = numeric(value);
      return n !== undefined && Number.isSafeInteger(n) ? n : refuse('a whole number');
    }
    case 'count': {
      const digits = typeof value === 'string' ? /^\d{1,25}$/.exec(value.trim())?.[0] : undefined;
      const count =
        typeof value === 'bigint'
          ? value
          : typeof value === 'number' && Number.isSafeInteger(value)
            ? BigInt(value)
            : digits && BigInt(digits);
      if (typeof count !== 'bigint' || count < 0n || count > MAX_COUNT) {
        return refuse(`a whole number from 0 to ${MAX_COUNT}, written as digits (a number in exponent form is not exact beyond 2^53)`);
      }
      return count <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(count) : count;
    }
    case 'number':
      return numeric(value) ?? refuse('a number');
    default: {
      if (!Array.isArray(value)) return refuse('a list');
      const item = type === 'strings' ? 'string' : type === 'integers' ? 'integer' : 'number';
      return value.map((element, index) => canonical(element, item, `${where}[${index}]`));
    }
  }
}

/** The list in the file: a JSON array of behaviors, or an object with `behaviors` (a CreateSecurityProfile input). */
function behaviorsIn(document: unknown, path: string): Record<string, unknown>[] {
  const list = isRecord(document) ? document.behaviors : document;
  if (!Array.isArray(list)) {
    throw new UsageError(
      `--behaviors-file ${path} must hold a JSON list of behaviors, or an object with "behaviors" as CreateSecurityProfile takes`,
    );
  }
  list.forEach((item, index) => {
    if (!isRecord(item) || typeof item.name !== 'string') {
      throw new UsageError(`--behaviors-file ${path}: behavior #${index + 1} must be an object with a "name"`);
    }
  });
  return list as Record<string, unknown>[];
}

export function readBehaviorsFile(path: string): BehaviorsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--behaviors-file ${path} cannot be read: ${describeError(error)}`);
  }
  let document: unknown;
  try {
    document = parseExactJson(text);
  } catch (error) {
    throw new UsageError(`--behaviors-file ${path} is not valid JSON: ${describeError(error)}`);
  }
  const behaviors = behaviorsIn(document, path).map(
    (behavior, index) => canonical(behavior, BEHAVIOR_SHAPE, `--behaviors-file ${path}: behavior #${index + 1}`) as Record<string, unknown>,
  );
  const cloudOnly: string[] = [];
  const edge: unknown[] = [];
  for (const behavior of behaviors) {
    const reason = cloudOnlyReason(behavior);
    if (reason) cloudOnly.push(`${behavior.name} (${reason})`);
    else edge.push(deviceForm(behavior));
  }
  // The behaviors' own rules here; whether their custom metrics are collected is checked on the whole configuration.
  try {
    parseBehaviors(edge);
  } catch (error) {
    if (!(error instanceof InvalidValue)) throw error;
    throw new UsageError(`--behaviors-file ${path}: the device would refuse these behaviors: behaviors: ${error.message}`);
  }
  return { cloud: behaviors as unknown as Behavior[], edge, cloudOnly };
}

/** The behavior as the device's configuration takes it: a count beyond 2^53-1 as its digits (JSON has no bigint). */
function deviceForm(behavior: Record<string, unknown>): Record<string, unknown> {
  const criteria = behavior.criteria as { value?: { count?: unknown } } | undefined;
  const count = criteria?.value?.count;
  if (typeof count !== 'bigint') return behavior;
  return { ...behavior, criteria: { ...criteria, value: { ...criteria?.value, count: count.toString() } } };
}

/** What `deploy` says about the behaviors it puts on the device. */
export function describeEdgeBehaviors(file: BehaviorsFile): string {
  const names = file.edge.map((b) => (b as { name: string }).name);
  const left = file.cloudOnly.length
    ? `; left out, evaluated in the cloud only (they compare against the fleet or watch what AWS IoT measures): ${file.cloudOnly.join(', ')}`
    : '';
  return `behaviors evaluated on the device: ${names.length ? names.join(', ') : 'none'}${left}`;
}

/** A security profile holds rule behaviors or ML Detect behaviors, not both: the file's split for `setup-defender`. */
export interface ProfileBehaviors {
  rules: Behavior[];
  ml: Behavior[];
  /** Custom metrics the behaviors watch that the command was not told how to register. */
  unregisteredCustomMetrics: string[];
}

export function profileBehaviors(file: BehaviorsFile, registeredCustomMetrics: readonly string[]): ProfileBehaviors {
  const isMl = (b: Behavior) => b.criteria?.mlDetectionConfig !== undefined;
  const custom = [...new Set(file.cloud.map((b) => b.metric).filter((m): m is string => m !== undefined && !m.startsWith('aws:')))];
  return {
    rules: file.cloud.filter((b) => !isMl(b)),
    ml: file.cloud.filter(isMl),
    unregisteredCustomMetrics: custom.filter((m) => !registeredCustomMetrics.includes(m)),
  };
}
