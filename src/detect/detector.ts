/**
 * Evaluates behaviors on every sample and turns datapoints into alarm state changes, as Device Defender documents it
 * (detect-behaviors): an alarm after consecutiveDatapointsToAlarm violating datapoints in a row, cleared after
 * consecutiveDatapointsToClear conforming ones (both default 1). The four traffic metrics are summed over
 * durationSeconds: deltas are added until they cover that much time, and the sum is one datapoint; without
 * durationSeconds every sample's delta is a datapoint. A sample without a metric is no datapoint and leaves the
 * streaks as they are; a gap in the traffic deltas (first sample, reboot, unreadable counters) restarts the sum.
 *
 * A raised alarm whose metric is no longer collected would otherwise stay raised for ever, saying nothing true. Device
 * Defender invalidates the violation of a device that sends no metrics for more than two days (troubleshooting guide:
 * `alarm-invalidated`); the detector does the same per behavior: after more than two days of samples without a
 * datapoint for it, the alarm ends with an `alarm-invalidated` change, and a later violation is a new alarm.
 *
 * The detector is pure state: it takes a sample and the time, returns the state changes, and its state can be saved
 * and restored, so an alarm raised before a restart is not raised again and is cleared exactly once.
 */
import type { NetworkTotals } from '../metrics/types';
import type { Behavior, BehaviorCriteria } from '../config/behaviors';
import { MAX_CONSECUTIVE_DATAPOINTS, metricKindOf } from '../config/behaviors';
import {
  type CompiledCriteria,
  compileCriteria,
  type Datapoint,
  type DetectionSample,
  type EvaluatedBehavior,
  type Measurement,
  measureSample,
  countDatapoint,
  SampleView,
} from './measure';
import { stringifyExactJson } from '../util/exact-json';

/** Traffic since the previous sample, and how much time it covers. */
export interface TrafficDelta {
  delta: NetworkTotals;
  coveredMs: number;
}

export interface BehaviorState {
  /** What the state was computed for (metric and criteria): a changed behavior restarts its streaks and sums. */
  fingerprint: string;
  inAlarm: boolean;
  violationId?: string;
  violating: number;
  conforming: number;
  /**
   * While an alarm is raised: when the samples stopped carrying a datapoint for it (epoch ms). Set once at the start
   * of the silence and removed by the next datapoint, so a steady device does not change the state at every sample.
   */
  silentSinceMs?: number;
  /** Traffic summed so far in the current durationSeconds period (a decimal string: bigint does not go into JSON). */
  trafficSum?: string;
  trafficCoveredMs?: number;
}

export type DetectorState = Record<string, BehaviorState>;

export interface StateChange {
  behavior: Behavior;
  type: 'in-alarm' | 'alarm-cleared' | 'alarm-invalidated';
  violationId: string;
  /** For `alarm-invalidated`: nothing was measured, the value is empty. */
  metricValue: Measurement;
  /** For `alarm-invalidated`: since when no datapoint came (epoch ms). */
  silentSinceMs?: number;
}

/** Device Defender invalidates a violation after "more than two days" without metrics (troubleshooting guide). */
const ALARM_INVALIDATED_AFTER_MS = 2 * 24 * 3600 * 1000;

/** A duration is complete up to this much early too: timers fire a few ms either side of the interval. */
const DURATION_SLACK_MS = 1_000;

export class Detector {
  private behaviors: EvaluatedBehavior[] = [];
  private configured: readonly Behavior[] | undefined;
  /** Buffers and parsed IPv6 destinations, kept from sample to sample. */
  private state: DetectorState = Object.create(null);

  constructor(private readonly newViolationId: () => string) {}

  /** Takes saved state (before or after configure: it is reconciled with the behaviors either way). */
  restore(saved: DetectorState): void {
    this.state = Object.create(null);
    for (const [name, state] of Object.entries(saved)) this.state[name] = { ...state };
    if (this.configured) this.configure(this.configured);
  }

  /**
   * Replaces the behaviors. State of behaviors that stay is kept (an alarm raised stays raised); a behavior whose
   * metric or criteria changed starts its streaks and sums again; a removed one is forgotten, as Device Defender stops
   * alerting on a deleted behavior. Returns the names of removed behaviors that were in alarm.
   */
  configure(behaviors: readonly Behavior[]): string[] {
    this.configured = behaviors;
    this.behaviors = behaviors
      .filter((b): b is Behavior & { criteria: NonNullable<Behavior['criteria']> } => b.criteria !== undefined)
      .map((behavior) => ({ behavior, kind: metricKindOf(behavior), compiled: compileCriteria(behavior.criteria) }));
    const names = new Set(this.behaviors.map((b) => b.behavior.name));
    const forgotten: string[] = [];
    for (const [name, state] of Object.entries(this.state)) {
      if (names.has(name)) continue;
      if (state.inAlarm) forgotten.push(name);
      delete this.state[name];
    }
    for (const { behavior } of this.behaviors) {
      const fingerprint = fingerprintOf(behavior);
      const existing = this.state[behavior.name];
      if (existing && existing.fingerprint === fingerprint) continue;
      this.state[behavior.name] = {
        fingerprint,
        inAlarm: existing?.inAlarm ?? false,
        ...(existing?.violationId ? { violationId: existing.violationId } : {}),
        ...(existing?.silentSinceMs !== undefined ? { silentSinceMs: existing.silentSinceMs } : {}),
        violating: 0,
        conforming: 0,
      };
    }
    return forgotten;
  }

  get evaluatedBehaviors(): readonly EvaluatedBehavior[] {
    return this.behaviors;
  }

  /** The state to save: a copy. */
  snapshot(): DetectorState {
    const copy: DetectorState = Object.create(null);
    for (const [name, state] of Object.entries(this.state)) copy[name] = { ...state };
    return copy;
  }

  /**
   * Evaluates every behavior on one sample; `traffic` is undefined when there is no honest delta for it. `atMs` (the
   * sample's epoch ms) times the silence of a raised alarm; without it, silence is not timed.
   */
  evaluate(sample: DetectionSample, traffic: TrafficDelta | undefined, atMs?: number): StateChange[] {
    const view = new SampleView(sample);
    const changes: StateChange[] = [];
    for (const { behavior, kind, compiled } of this.behaviors) {
      const state = this.state[behavior.name];
      if (!state) continue;
      const datapoint =
        kind.kind === 'traffic' ? trafficDatapoint(kind.counter, compiled, state, traffic) : measureSample(kind, compiled, view);
      if (datapoint === 'pending') continue;
      const invalidated = atMs === undefined ? undefined : timeSilence(behavior, state, datapoint !== undefined, atMs, this.newViolationId);
      if (invalidated) changes.push(invalidated);
      if (!datapoint) continue;
      const change = advance(compiled.criteria, state, datapoint.violating, this.newViolationId);
      if (change) changes.push({ behavior, type: change.type, violationId: change.violationId, metricValue: datapoint.value });
    }
    return changes;
  }
}

function trafficDatapoint(
  counter: keyof NetworkTotals,
  compiled: CompiledCriteria,
  state: BehaviorState,
  traffic: TrafficDelta | undefined,
): Datapoint | 'pending' | undefined {
  if (!traffic || traffic.coveredMs <= 0) {
    delete state.trafficSum;
    delete state.trafficCoveredMs;
    return undefined;
  }
  const durationMs = (compiled.criteria.durationSeconds ?? 0) * 1000;
  const sum = BigInt(state.trafficSum ?? '0') + traffic.delta[counter];
  const covered = (state.trafficCoveredMs ?? 0) + traffic.coveredMs;
  if (covered + DURATION_SLACK_MS < durationMs) {
    state.trafficSum = sum.toString();
    state.trafficCoveredMs = covered;
    // Counters are being read: the period is not over, which is no silence.
    return 'pending';
  }
  delete state.trafficSum;
  delete state.trafficCoveredMs;
  return countDatapoint(compiled, sum);
}

/**
 * Times how long a raised alarm has had no datapoint; past ALARM_INVALIDATED_AFTER_MS the alarm ends as
 * `alarm-invalidated`. A clock stepped back restarts the silence: an alarm is never invalidated early by it.
 */
function timeSilence(
  behavior: Behavior,
  state: BehaviorState,
  measured: boolean,
  atMs: number,
  newViolationId: () => string,
): StateChange | undefined {
  if (measured || !state.inAlarm) {
    delete state.silentSinceMs;
    return undefined;
  }
  if (state.silentSinceMs === undefined || atMs < state.silentSinceMs) {
    state.silentSinceMs = atMs;
    return undefined;
  }
  if (atMs - state.silentSinceMs <= ALARM_INVALIDATED_AFTER_MS) return undefined;
  const silentSinceMs = state.silentSinceMs;
  const violationId = state.violationId ?? newViolationId();
  state.inAlarm = false;
  state.violating = 0;
  state.conforming = 0;
  delete state.violationId;
  delete state.silentSinceMs;
  return { behavior, type: 'alarm-invalidated', violationId, metricValue: {}, silentSinceMs };
}

function advance(
  criteria: BehaviorCriteria,
  state: BehaviorState,
  violating: boolean,
  newViolationId: () => string,
): { type: StateChange['type']; violationId: string } | undefined {
  const toAlarm = criteria.consecutiveDatapointsToAlarm ?? 1;
  const toClear = criteria.consecutiveDatapointsToClear ?? 1;
  // Streaks stop counting where no criteria can ask for more, so a steady device leaves the state, and its file, as is.
  if (violating) {
    state.violating = Math.min(state.violating + 1, MAX_CONSECUTIVE_DATAPOINTS);
    state.conforming = 0;
    if (!state.inAlarm && state.violating >= toAlarm) {
      state.inAlarm = true;
      state.violationId = newViolationId();
      return { type: 'in-alarm', violationId: state.violationId };
    }
    return undefined;
  }
  state.conforming = Math.min(state.conforming + 1, MAX_CONSECUTIVE_DATAPOINTS);
  state.violating = 0;
  if (state.inAlarm && state.conforming >= toClear) {
    const violationId = state.violationId ?? newViolationId();
    state.inAlarm = false;
    delete state.violationId;
    return { type: 'alarm-cleared', violationId };
  }
  return undefined;
}

/** A count is written as its integer, so a count that fits a double keeps the fingerprint it had as a number. */
function fingerprintOf(behavior: Behavior): string {
  return stringifyExactJson([behavior.metric, behavior.criteria]);
}

/** Checks a restored state entry, field by field; undefined when it cannot be used. */
export function restoreBehaviorState(value: unknown): BehaviorState | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (typeof v.fingerprint !== 'string' || typeof v.inAlarm !== 'boolean' || !count(v.violating) || !count(v.conforming)) return undefined;
  if (v.violationId !== undefined && (typeof v.violationId !== 'string' || !/^[a-zA-Z0-9-]{1,128}$/.test(v.violationId))) return undefined;
  if (v.silentSinceMs !== undefined && !count(v.silentSinceMs)) return undefined;
  const traffic = v.trafficSum !== undefined || v.trafficCoveredMs !== undefined;
  if (traffic && (typeof v.trafficSum !== 'string' || !/^\d{1,20}$/.test(v.trafficSum) || !count(v.trafficCoveredMs))) return undefined;
  return {
    fingerprint: v.fingerprint,
    inAlarm: v.inAlarm,
    violating: v.violating as number,
    conforming: v.conforming as number,
    ...(typeof v.violationId === 'string' ? { violationId: v.violationId } : {}),
    ...(typeof v.silentSinceMs === 'number' ? { silentSinceMs: v.silentSinceMs } : {}),
    ...(traffic ? { trafficSum: v.trafficSum as string, trafficCoveredMs: v.trafficCoveredMs as number } : {}),
  };
}
