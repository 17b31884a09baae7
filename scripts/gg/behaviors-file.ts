/**
 * `--behaviors-file profile.json`: one file of Device Defender behaviors, in CreateSecurityProfile's shape, for the
 * cloud security profile (`setup-defender`) and for the device (`deploy`, configuration key `behaviors`).
 * The device evaluates static criteria only; behaviors with `statisticalThreshold` or `mlDetectionConfig` compare
 * against the fleet, which only the cloud has, so `deploy` leaves them out (and says so) and the cloud keeps them.
 */
import { readFileSync } from 'node:fs';
import type { Behavior } from '@aws-sdk/client-iot';
import { InvalidValue } from '../../src/config/values';
import { parseBehaviors } from '../../src/config/behaviors';
import { UsageError } from './errors';
import { describeError } from '../../src/util/describe-error';

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

function cloudOnlyCriterion(behavior: Record<string, unknown>): string | undefined {
  const criteria = behavior.criteria;
  if (!isRecord(criteria)) return undefined;
  if (criteria.statisticalThreshold !== undefined) return 'statisticalThreshold';
  if (criteria.mlDetectionConfig !== undefined) return 'mlDetectionConfig';
  return undefined;
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
    document = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--behaviors-file ${path} is not valid JSON: ${describeError(error)}`);
  }
  const behaviors = behaviorsIn(document, path);
  const cloudOnly: string[] = [];
  const edge: unknown[] = [];
  for (const behavior of behaviors) {
    const criterion = cloudOnlyCriterion(behavior);
    if (criterion) cloudOnly.push(`${behavior.name} (${criterion})`);
    else edge.push(behavior);
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

/** What `deploy` says about the behaviors it puts on the device. */
export function describeEdgeBehaviors(file: BehaviorsFile): string {
  const names = file.edge.map((b) => (b as { name: string }).name);
  const left = file.cloudOnly.length
    ? `; left out, evaluated in the cloud only (they compare against the fleet): ${file.cloudOnly.join(', ')}`
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
