/**
 * The decision: isolate on `in-alarm` of a chosen behavior, and nothing else. Every step is safe to repeat, so
 * duplicates, Lambda's retries and events out of order end in the same state:
 * - adding a thing to the group it is in changes nothing;
 * - the shadow keeps the earliest violation since the last release (a later or repeated event leaves it), written
 *   with the version read, so two concurrent invocations cannot both write;
 * - an event older than the last `gg quarantine release` (kept in a thing attribute the device cannot write) is a
 *   late delivery of an alarm already dealt with, and is ignored.
 */
import type { AlarmEvent, ReadEvent } from './events';
import type { QuarantineRecord, ShadowState } from './shadow';

/** Thing attribute `gg quarantine release` sets: epoch milliseconds of the release. */
export const RELEASED_AT_ATTRIBUTE = 'defenderQuarantineReleasedAt';

export interface IsolationSettings {
  groupName: string;
  shadowName: string;
  /** Behaviors that isolate; undefined: all. */
  behaviors: ReadonlySet<string> | undefined;
}

/** What the function needs from AWS (one adapter implements it with the SDK, tests with a fake). */
export interface IsolationAws {
  /** The thing's attributes, or undefined when no such thing exists. */
  describeThing(thingName: string): Promise<{ attributes: Record<string, string> } | undefined>;
  /** AddThingToThingGroup with overrideDynamicGroups. */
  addToGroup(thingName: string, groupName: string): Promise<void>;
  readShadow(thingName: string, shadowName: string): Promise<ShadowState>;
  /** False when the shadow's version moved since it was read. */
  writeShadow(thingName: string, shadowName: string, record: QuarantineRecord, version: number | undefined): Promise<boolean>;
}

type Outcome = 'isolated' | 'already-isolated' | 'ignored' | 'refused';

export interface Decision {
  outcome: Outcome;
  line: string;
}

const SHADOW_WRITE_ATTEMPTS = 3;

function describe(alarm: AlarmEvent): string {
  return `${alarm.violationEventType} of behavior ${alarm.behaviorName} on thing ${alarm.thingName} (violation ${alarm.violationId}, ${new Date(alarm.violationEventTime).toISOString()}, from ${alarm.source})`;
}

/** Whether `candidate` should replace `current` as the recorded cause: the earliest event wins, ties by id. */
function isEarlier(candidate: AlarmEvent, current: QuarantineRecord): boolean {
  if (candidate.violationEventTime !== current.violationEventTime) return candidate.violationEventTime < current.violationEventTime;
  return candidate.violationId < current.violationId;
}

export async function isolate(read: ReadEvent, settings: IsolationSettings, aws: IsolationAws, now: () => number): Promise<Decision> {
  if (!read.ok) return { outcome: 'refused', line: `REFUSED message from ${read.source}: ${read.reason}` };
  const alarm = read.alarm;
  if (alarm.violationEventType !== 'in-alarm') return { outcome: 'ignored', line: `IGNORED ${describe(alarm)}: only in-alarm isolates` };
  if (settings.behaviors && !settings.behaviors.has(alarm.behaviorName)) {
    return { outcome: 'ignored', line: `IGNORED ${describe(alarm)}: behavior not chosen for isolation` };
  }
  const thing = await aws.describeThing(alarm.thingName);
  if (!thing) return { outcome: 'refused', line: `REFUSED ${describe(alarm)}: no such thing in this account and region` };
  const releasedAt = Number(thing.attributes[RELEASED_AT_ATTRIBUTE]);
  if (Number.isFinite(releasedAt) && alarm.violationEventTime <= releasedAt) {
    return {
      outcome: 'ignored',
      line: `IGNORED ${describe(alarm)}: older than the thing's release at ${new Date(releasedAt).toISOString()}`,
    };
  }
  await aws.addToGroup(alarm.thingName, settings.groupName);
  for (let attempt = 1; ; attempt += 1) {
    const shadow = await aws.readShadow(alarm.thingName, settings.shadowName);
    const current = shadow.record;
    if (current && !isEarlier(alarm, current)) {
      return {
        outcome: 'already-isolated',
        line: `ALREADY ISOLATED ${describe(alarm)}: in ${settings.groupName}, recorded cause ${current.behavior} (violation ${current.violationId})`,
      };
    }
    const record: QuarantineRecord = {
      quarantined: true,
      quarantineGroup: settings.groupName,
      behavior: alarm.behaviorName,
      violationId: alarm.violationId,
      securityProfileName: alarm.securityProfileName,
      violationEventTime: alarm.violationEventTime,
      source: alarm.source,
      isolatedAt: current?.isolatedAt ?? now(),
    };
    if (await aws.writeShadow(alarm.thingName, settings.shadowName, record, shadow.version)) {
      return {
        outcome: current ? 'already-isolated' : 'isolated',
        line: `${current ? 'ALREADY ISOLATED' : 'ISOLATED'} ${describe(alarm)}: added to ${settings.groupName}, shadow ${settings.shadowName} ${current ? 'now names this earlier violation' : 'written'}`,
      };
    }
    if (attempt >= SHADOW_WRITE_ATTEMPTS) {
      throw new Error(`shadow ${settings.shadowName} of ${alarm.thingName} kept changing during ${SHADOW_WRITE_ATTEMPTS} writes`);
    }
  }
}
