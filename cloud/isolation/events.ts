/**
 * What reaches the isolation function, read defensively: Device Defender's alerts as SNS delivers them to Lambda
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html: `Records[].Sns.Message` holds the alert as a JSON
 * string) and the agent's edge alarms as the AWS IoT rule's Lambda action delivers them
 * (https://docs.aws.amazon.com/iot/latest/developerguide/lambda-rule-action.html: the rule's SELECT result is the
 * event). Both carry the fields of a violation event (https://docs.aws.amazon.com/iot/latest/apireference/API_ViolationEvent.html).
 * Anything else is refused with the reason, never guessed at.
 */
import { isIotName } from '../../src/config/names';

type AlarmSource = 'device-defender-sns' | 'edge-alarm-rule';

export interface AlarmEvent {
  source: AlarmSource;
  violationId: string;
  thingName: string;
  securityProfileName: string;
  behaviorName: string;
  violationEventType: 'in-alarm' | 'alarm-cleared' | 'alarm-invalidated';
  /** Epoch milliseconds. */
  violationEventTime: number;
}

export type ReadEvent = { ok: true; alarm: AlarmEvent } | { ok: false; source: AlarmSource | 'unknown'; reason: string };

/** The field the IoT rule adds: the thing named by the topic the alarm was published on (the core can publish only on its own). */
export const SOURCE_THING_FIELD = 'sourceThing';

const VIOLATION_ID = /^[a-zA-Z0-9-]{1,128}$/;
const EVENT_TYPES = new Set(['in-alarm', 'alarm-cleared', 'alarm-invalidated']);
/** Epoch seconds below this are seconds (the API's form), above it milliseconds (the SNS alerts' form). */
const SECONDS_LIMIT = 1e11;
const MAX_SHOWN = 200;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value for a log line: JSON-escaped (no control characters reach the log) and cut short. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text;
}

function eventTime(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  return Math.round(value < SECONDS_LIMIT ? value * 1000 : value);
}

/** One violation event, or why it is not one. */
function readViolation(value: unknown, source: AlarmSource): ReadEvent {
  const refuse = (reason: string): ReadEvent => ({ ok: false, source, reason });
  if (!isRecord(value)) return refuse(`not a JSON object: ${shown(value)}`);
  const { violationId, thingName, securityProfileName, behavior, violationEventType, violationEventTime } = value;
  if (typeof violationId !== 'string' || !VIOLATION_ID.test(violationId)) return refuse(`no valid violationId: ${shown(violationId)}`);
  if (typeof thingName !== 'string' || !isIotName(thingName)) return refuse(`no valid thingName: ${shown(thingName)}`);
  if (typeof violationEventType !== 'string' || !EVENT_TYPES.has(violationEventType)) {
    return refuse(`no valid violationEventType: ${shown(violationEventType)}`);
  }
  const behaviorName = isRecord(behavior) ? behavior.name : undefined;
  if (typeof behaviorName !== 'string' || !isIotName(behaviorName)) return refuse(`no valid behavior.name: ${shown(behaviorName)}`);
  const time = eventTime(violationEventTime);
  if (time === undefined) return refuse(`no valid violationEventTime: ${shown(violationEventTime)}`);
  const profile = typeof securityProfileName === 'string' && isIotName(securityProfileName) ? securityProfileName : '';
  if (source === 'edge-alarm-rule' && SOURCE_THING_FIELD in value) {
    const sourceThing = value[SOURCE_THING_FIELD];
    // A core may publish alarms only on its own topic; one naming another thing is forged or misrouted.
    if (sourceThing !== thingName) return refuse(`thingName ${shown(thingName)} differs from the topic's thing ${shown(sourceThing)}`);
  }
  return {
    ok: true,
    alarm: {
      source,
      violationId,
      thingName,
      securityProfileName: profile,
      behaviorName,
      violationEventType: violationEventType as AlarmEvent['violationEventType'],
      violationEventTime: time,
    },
  };
}

function readSnsRecord(record: unknown): ReadEvent {
  const source: AlarmSource = 'device-defender-sns';
  const sns = isRecord(record) ? record.Sns : undefined;
  const message = isRecord(sns) ? sns.Message : undefined;
  if (typeof message !== 'string') return { ok: false, source, reason: 'SNS record without a Message' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return { ok: false, source, reason: `SNS Message is not JSON: ${shown(message)}` };
  }
  return readViolation(parsed, source);
}

/** Every violation event a Lambda invocation carries (SNS delivers one record per invocation; the rule one message). */
export function readInvocation(event: unknown): ReadEvent[] {
  if (isRecord(event) && Array.isArray(event.Records)) {
    if (event.Records.length === 0) return [{ ok: false, source: 'unknown', reason: 'an event with no Records' }];
    return event.Records.map((record) =>
      isRecord(record) && record.EventSource === 'aws:sns'
        ? readSnsRecord(record)
        : {
            ok: false,
            source: 'unknown',
            reason: `a record that is not from SNS: ${shown(isRecord(record) ? record.EventSource : record)}`,
          },
    );
  }
  return [readViolation(event, 'edge-alarm-rule')];
}
