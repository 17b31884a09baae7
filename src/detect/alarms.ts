/**
 * Alarms out: one message per state change, shaped like Device Defender's violation events (API ViolationEvent, and
 * the SNS alerts the workshops' quarantine function reads), sent to AWS IoT Core and to Greengrass local
 * publish/subscribe. `violationEventTime` is epoch milliseconds, as in Device Defender's SNS alerts.
 *
 * Delivery: events wait in an outbox (saved with the detection state) until each destination took them, so an alarm
 * raised while the nucleus is unreachable goes out after the reconnect, in order. A destination that denies the call
 * is a configuration error: logged with the exact permission to merge, and not retried for that event.
 *
 * Counts are bigints (a traffic sum or a behavior's count may pass 2^53): messages and log lines write them as exact
 * JSON integers.
 */
import { maxPayloadBytes, type PublishOperation } from '../ipc/frame-size';
import { IpcError, type IpcConnection } from '../ipc/ipc';
import type { Logger } from '../log/logger';
import { describeError } from '../util/describe-error';
import { stringifyExactJson } from '../util/exact-json';
import type { Behavior } from '../config/behaviors';
import type { Measurement } from './measure';
import { deniedFeatureCallMessage } from './permissions';

export interface ViolationEvent {
  violationId: string;
  thingName: string;
  securityProfileName: string;
  behavior: Behavior;
  metricValue: Measurement;
  violationEventType: 'in-alarm' | 'alarm-cleared' | 'alarm-invalidated';
  violationEventTime: number;
}

export interface OutboxEntry {
  event: ViolationEvent;
  /** Topics still to be sent to. */
  cloudTopic?: string;
  localTopic?: string;
}

/** Most events kept while no destination takes them: 100 behaviors changing state 10 times over. */
export const MAX_OUTBOX = 1_000;

/** A value in a log line: its start, enough to recognize it (a set of 1,000 values would make one line of megabytes). */
function shortJson(value: unknown): string {
  const json = stringifyExactJson(value);
  return json.length > 300 ? `${json.slice(0, 300)}...` : json;
}

function describeEvent(event: ViolationEvent): string {
  return (
    `${event.violationEventType}: behavior ${event.behavior.name} (${event.behavior.metric} ${event.behavior.criteria?.comparisonOperator ?? ''} ` +
    `${shortJson(event.behavior.criteria?.value ?? {})}) on thing ${event.thingName}` +
    `${event.violationEventType === 'alarm-invalidated' ? '' : `, measured ${shortJson(event.metricValue)}`}, violation ${event.violationId}`
  );
}

/** WARN when an alarm is raised or invalidated (its metric is no longer collected: worth a look), INFO when it clears. */
export function logEvent(logger: Logger, event: ViolationEvent, suppressed: boolean, silentSinceMs?: number): void {
  const why =
    event.violationEventType === 'alarm-invalidated'
      ? `: no datapoint for its metric since ${new Date(silentSinceMs ?? event.violationEventTime).toISOString()}, more than 2 days; ` +
        'the alarm is ended as Device Defender ends the alarm of a device that stops reporting, and a new violation raises a new alarm'
      : '';
  const line = `ALARM ${describeEvent(event)}${why}${suppressed ? ' (suppressAlerts: not published)' : ''}`;
  if (event.violationEventType !== 'alarm-cleared') logger.warn(line);
  else logger.info(line);
}

export interface AlarmPublisherDeps {
  connection: () => IpcConnection | undefined;
  componentName: string;
  logger: Logger;
  /** The nucleus's IPC frame limit (nucleus lite); undefined: none. */
  frameLimit?: () => number | undefined;
}

/** Every list an event carries: the measured value's and the behavior's criteria value's. */
function eventLists(event: ViolationEvent): unknown[][] {
  const lists: unknown[][] = [];
  for (const holder of [event.metricValue, event.behavior.criteria?.value] as Array<Record<string, unknown> | undefined>) {
    for (const value of Object.values(holder ?? {})) if (Array.isArray(value)) lists.push(value);
  }
  return lists;
}

/**
 * The event as one message of at most `maxBytes`: its lists cut (first elements kept: the offending ones come first)
 * and marked `listsTrimmed`, when the whole event does not fit. undefined when not even empty lists fit.
 */
export function fitEvent(event: ViolationEvent, maxBytes: number | undefined): { payload: Buffer; trimmed: boolean } | undefined {
  const whole = Buffer.from(stringifyExactJson(event));
  if (maxBytes === undefined || whole.length <= maxBytes) return { payload: whole, trimmed: false };
  let keep = Math.max(0, ...eventLists(event).map((list) => list.length));
  while (keep > 0) {
    keep = Math.floor(keep / 2);
    const cut = structuredClone(event);
    for (const list of eventLists(cut)) list.splice(keep);
    const payload = Buffer.from(stringifyExactJson({ ...cut, listsTrimmed: true }));
    if (payload.length <= maxBytes) return { payload, trimmed: true };
  }
  return undefined;
}

/** Sends what the outbox holds; entries that are done leave it. Never throws. */
export class AlarmPublisher {
  private readonly deniedLogged = new Set<string>();

  constructor(private readonly deps: AlarmPublisherDeps) {}

  /** Returns whether the outbox changed. */
  async flush(outbox: OutboxEntry[], through?: IpcConnection): Promise<boolean> {
    let changed = false;
    for (const entry of [...outbox]) {
      const connection = through ?? this.deps.connection();
      if (!connection) break;
      if (entry.cloudTopic !== undefined) {
        const topic = entry.cloudTopic;
        const payload = this.payloadFor(entry.event, 'PublishToIoTCore', topic);
        const outcome = await this.send('PublishToIoTCore', topic, () => connection.publishToIoTCore(topic, payload, '1'));
        if (outcome === 'retry') break;
        delete entry.cloudTopic;
        changed = true;
      }
      if (entry.localTopic !== undefined) {
        const local = connection.publishToTopic?.bind(connection);
        const topic = entry.localTopic;
        const outcome = local
          ? await this.send('PublishToTopic', topic, () => local(topic, this.payloadFor(entry.event, 'PublishToTopic', topic)))
          : this.unsupported(topic);
        if (outcome === 'retry') break;
        delete entry.localTopic;
        changed = true;
      }
      // The entry may have left the outbox meanwhile (dropped to keep the state file within its cap).
      const index = outbox.indexOf(entry);
      if (index >= 0) outbox.splice(index, 1);
      changed = true;
    }
    return changed;
  }

  /** The event's message, cut to fit the nucleus's frame (the frame guard refuses, with its reason, one that cannot). */
  private payloadFor(event: ViolationEvent, operation: PublishOperation, topic: string): Buffer {
    const limit = this.deps.frameLimit?.();
    const fitted = fitEvent(event, limit === undefined ? undefined : maxPayloadBytes(operation, topic, limit));
    if (fitted === undefined) return Buffer.from(stringifyExactJson(event));
    if (fitted.trimmed)
      this.deps.logger.warn(
        `alarm ${event.violationId} to ${topic}: its lists were cut to fit the nucleus's ${limit}-byte IPC message (listsTrimmed: true); the log line of the alarm has the measured value`,
      );
    return fitted.payload;
  }

  private unsupported(topic: string): 'done' {
    if (!this.deniedLogged.has(`unsupported ${topic}`)) {
      this.deniedLogged.add(`unsupported ${topic}`);
      this.deps.logger.error(`alarms are not published on local topic ${topic}: this IPC client has no PublishToTopic`);
    }
    return 'done';
  }

  private async send(
    operation: 'PublishToIoTCore' | 'PublishToTopic',
    topic: string,
    call: () => Promise<void>,
  ): Promise<'done' | 'retry'> {
    try {
      await call();
      this.deniedLogged.delete(`${operation} ${topic}`);
      return 'done';
    } catch (error) {
      if (error instanceof IpcError && error.kind === 'unauthorized') {
        if (!this.deniedLogged.has(`${operation} ${topic}`)) {
          this.deniedLogged.add(`${operation} ${topic}`);
          this.deps.logger.error(`alarm not published: ${deniedFeatureCallMessage(this.deps.componentName, operation, topic, 'alarms')}`);
        }
        return 'done';
      }
      if (error instanceof IpcError && error.kind === 'service') {
        this.deps.logger.error(`alarm not published on ${topic}: ${describeError(error)}`);
        return 'done';
      }
      this.deps.logger.warn(`alarm to ${topic} waits for the nucleus: ${describeError(error)}; it goes out after the reconnect`);
      return 'retry';
    }
  }
}
