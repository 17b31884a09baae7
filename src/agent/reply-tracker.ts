/**
 * Device Defender's answers to the reports: subscriptions to the accepted/rejected topics and the
 * reports awaiting an answer. A report is registered before its publish starts (a loaded nucleus
 * delivers the reply before the publish call resolves) and dropped if the publish fails; a reply that comes before
 * the publish resolved is held and logged once the agent has logged the report as published, so the log reads in the
 * order things happened to the report. After a
 * format switch the old topics stay subscribed until their reports are answered or expire. A report
 * is only awaited while both its reply topics are subscribed: a denied subscription is explained
 * once, and does not turn every later report into a "no reply" warning.
 */
import { metricsTopics } from '../component/definition';
import type { ReportFormat } from '../component/definition';
import { type IpcConnection, IpcError, type Subscription } from '../ipc/ipc';
import type { Logger } from '../log/logger';
import { describeError } from '../util/describe-error';
import type { Clock } from './clock';
import type { NucleusRuntime } from './nucleus-runtime';
import { deniedCallMessage } from './remedies';
import { parseDefenderReply } from './replies';

interface Channel {
  publish: string;
  replyTopics: [string, string];
  subscriptions: Map<string, Subscription>;
}

interface Awaited {
  registeredAt: number;
  channel: string;
  /** The publish call timed out: whether the report went out at all is unknown. */
  outcomeUnknown?: boolean;
  /** The publish call has resolved (or failed): a reply is logged as it comes. */
  settled?: boolean;
  /** A reply that came while the publish call was pending, with the time it came. */
  early?: { payload: Buffer; topic: string; at: number };
}

export interface ReplyTrackerDeps {
  componentName: string;
  clock: Clock;
  logger: Logger;
  /** The runtime the remedies are written for. */
  runtime?: () => NucleusRuntime;
}

export class ReplyTracker {
  private readonly channels = new Map<string, Channel>();
  private readonly awaited = new Map<number, Awaited>();
  private readonly explained = new Set<string>();
  private readonly deniedTopics = new Set<string>();
  /** Reply topics whose subscription the nucleus ended, until subscribed again. */
  private readonly renewing = new Set<string>();
  /** Reply topics renewed at once since the last report cycle. */
  private readonly renewedThisCycle = new Set<string>();
  private currentChannel: string | undefined;
  private unanswered = 0;
  private following: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ReplyTrackerDeps) {}

  get unansweredCount(): number {
    return this.unanswered;
  }

  get awaitedCount(): number {
    return this.awaited.size;
  }

  /**
   * Subscribes to the replies of `thing`/`format` where not yet done, and closes channels nothing
   * awaits any more. A lost connection during the calls rejects; any other failure is logged.
   */
  follow(connection: IpcConnection, thing: string, format: ReportFormat): Promise<void> {
    // One at a time: a configuration change and a cycle may both ask, and a topic must not be subscribed twice.
    const run = this.following.then(() => this.subscribe(connection, thing, format));
    this.following = run.catch(() => undefined);
    return run;
  }

  private async subscribe(connection: IpcConnection, thing: string, format: ReportFormat): Promise<void> {
    const topics = metricsTopics(thing, format);
    this.currentChannel = topics.publish;
    let channel = this.channels.get(topics.publish);
    if (!channel) {
      channel = { publish: topics.publish, replyTopics: [topics.accepted, topics.rejected], subscriptions: new Map() };
      this.channels.set(topics.publish, channel);
    }
    for (const topic of channel.replyTopics) {
      if (channel.subscriptions.has(topic)) continue;
      await this.subscribeReplies(connection, channel, topic);
    }
    await this.closeIdleChannels();
  }

  private async subscribeReplies(connection: IpcConnection, channel: Channel, topic: string): Promise<void> {
    let subscription: Subscription | undefined;
    let endedEarly: string | undefined;
    const onEnded = (reason: string): void => {
      if (subscription === undefined) endedEarly ??= reason;
      else this.subscriptionEnded(connection, channel, topic, subscription, reason);
    };
    try {
      subscription = await connection.subscribeToIoTCore(topic, (payload, from) => this.onReply(payload, from), onEnded);
      channel.subscriptions.set(topic, subscription);
      if (this.deniedTopics.delete(topic)) this.deps.logger.info(`subscribed to ${topic} now: report outcomes are logged again`);
      else if (this.renewing.delete(topic)) this.deps.logger.info(`subscribed to ${topic} again: report outcomes are logged again`);
      if (endedEarly !== undefined) this.subscriptionEnded(connection, channel, topic, subscription, endedEarly);
    } catch (error) {
      if (error instanceof IpcError && error.kind === 'disconnected') throw error;
      this.explainOnce(topic, error);
    }
  }

  /**
   * The nucleus ended a reply subscription on a live connection: without it every later reply would be lost and
   * reported as "no reply". It is renewed at once, once per report cycle; one that the nucleus keeps ending is renewed
   * at the next report (before its publish), so a hostile nucleus cannot make the agent subscribe in a loop.
   */
  private subscriptionEnded(connection: IpcConnection, channel: Channel, topic: string, subscription: Subscription, reason: string): void {
    if (channel.subscriptions.get(topic) !== subscription || this.channels.get(channel.publish) !== channel) return;
    channel.subscriptions.delete(topic);
    this.renewing.add(topic);
    const now = !this.renewedThisCycle.has(topic);
    this.deps.logger.warn(
      `the nucleus ended the subscription to ${topic} (${reason}): Device Defender's answers are not heard until it is renewed; ` +
        (now ? 'subscribing again now' : 'it ended again since the last report, so it is renewed at the next report'),
    );
    if (!now) return;
    this.renewedThisCycle.add(topic);
    const run = this.following.then(async () => {
      if (this.channels.get(channel.publish) === channel && !channel.subscriptions.has(topic))
        await this.subscribeReplies(connection, channel, topic);
    });
    this.following = run.catch(() => undefined);
  }

  /** Whether a report published on `publishTopic` now would have its reply seen. */
  isListening(publishTopic: string): boolean {
    const channel = this.channels.get(publishTopic);
    return channel?.replyTopics.every((topic) => channel.subscriptions.has(topic)) ?? false;
  }

  /** Call before publishing; returns whether the reply will be awaited. */
  expect(reportId: number, publishTopic: string): boolean {
    if (!this.isListening(publishTopic)) return false;
    this.awaited.set(reportId, { registeredAt: this.deps.clock.monotonic(), channel: publishTopic });
    return true;
  }

  /** The publish resolved and was logged: a reply that came meanwhile is logged now. */
  published(reportId: number): void {
    this.settle(reportId);
  }

  /** The publish timed out: a reply would tell that it went out; none most likely means it did not. */
  publishTimedOut(reportId: number): void {
    const entry = this.awaited.get(reportId);
    if (entry) entry.outcomeUnknown = true;
    this.settle(reportId);
  }

  /** The publish failed: no reply can come (one that came anyway is logged, as it tells the report went out). */
  drop(reportId: number): void {
    this.settle(reportId);
    this.awaited.delete(reportId);
    void this.closeIdleChannels();
  }

  private settle(reportId: number): void {
    const entry = this.awaited.get(reportId);
    if (!entry) return;
    entry.settled = true;
    const early = entry.early;
    if (!early) return;
    delete entry.early;
    this.onReply(early.payload, early.topic, early.at);
  }

  /** Reports unanswered for `timeoutMs` are counted as lost. */
  expire(timeoutMs: number): void {
    this.renewedThisCycle.clear();
    const now = this.deps.clock.monotonic();
    for (const [reportId, entry] of this.awaited) {
      if (now - entry.registeredAt < timeoutMs) continue;
      this.awaited.delete(reportId);
      if (entry.outcomeUnknown) {
        this.deps.logger.warn(
          `report ${reportId} got no reply within ${Math.round(timeoutMs / 1000)} s after its publish timed out: most likely it never went out (its traffic is in the next report)`,
        );
        continue;
      }
      this.unanswered += 1;
      this.deps.logger.warn(
        `report ${reportId} got no reply from Device Defender within ${Math.round(timeoutMs / 1000)} s (${this.unanswered} without reply so far). ` +
          "Check that the core's AWS IoT policy allows iot:Subscribe and iot:Receive on the metrics accepted/rejected topics, and that the thing is covered by a security profile",
      );
    }
    void this.closeIdleChannels();
  }

  /** The connection is gone, and with it every subscription; awaited reports stay (a reply may come after resubscribing). */
  connectionLost(): void {
    for (const channel of this.channels.values()) channel.subscriptions.clear();
  }

  async close(): Promise<void> {
    const subscriptions = [...this.channels.values()].flatMap((channel) => [...channel.subscriptions.values()]);
    this.channels.clear();
    await Promise.all(subscriptions.map((subscription) => subscription.close().catch(() => undefined)));
  }

  private onReply(payload: Buffer, topic: string, at = this.deps.clock.monotonic()): void {
    const reply = parseDefenderReply(payload, topic);
    if ('unreadable' in reply) {
      this.deps.logger.warn(reply.unreadable);
      return;
    }
    const id = reply.reportId ?? '(no report id)';
    const entry = reply.reportId === undefined ? undefined : this.awaited.get(reply.reportId);
    if (entry !== undefined && !entry.settled && entry.early === undefined) {
      entry.early = { payload, topic, at };
      return;
    }
    let timing = '';
    if (entry !== undefined && reply.reportId !== undefined) {
      this.awaited.delete(reply.reportId);
      timing = ` after ${at - entry.registeredAt} ms`;
      void this.closeIdleChannels();
    } else {
      timing = ', a report this agent is not awaiting (answered already, expired, or sent by another agent for this thing)';
    }
    if (reply.status === 'ACCEPTED') {
      this.deps.logger.info(`report ${id} ACCEPTED by Device Defender${timing}`);
    } else {
      this.deps.logger.warn(
        `report ${id} REJECTED by Device Defender${timing}: ${reply.errorCode ?? 'no ErrorCode'}: ${reply.errorMessage ?? 'no ErrorMessage'}` +
          rejectionRemedy(reply.errorCode),
      );
    }
  }

  private explainOnce(topic: string, error: unknown): void {
    const denied = error instanceof IpcError && error.kind === 'unauthorized';
    const key = `${topic}|${denied ? 'denied' : describeError(error)}`;
    if (denied) this.deniedTopics.add(topic);
    if (this.explained.has(key)) return;
    this.explained.add(key);
    this.deps.logger.error(
      denied
        ? `${deniedCallMessage(this.deps.componentName, 'SubscribeToIoTCore', topic, this.deps.runtime?.())} Reports are still sent, but their outcome is not logged until this is allowed (retried at every report, without repeating this message).`
        : `cannot subscribe to ${topic}: ${describeError(error)}; reports are still sent, but their outcome is not logged (retried at every report)`,
    );
  }

  /** Channels of an earlier thing or format are kept until no report awaits a reply on them. */
  private async closeIdleChannels(): Promise<void> {
    const inUse = new Set([...this.awaited.values()].map((entry) => entry.channel));
    for (const [publish, channel] of this.channels) {
      if (publish === this.currentChannel || inUse.has(publish)) continue;
      this.channels.delete(publish);
      await Promise.all([...channel.subscriptions.values()].map((subscription) => subscription.close().catch(() => undefined)));
    }
  }
}

function rejectionRemedy(errorCode: string | undefined): string {
  switch (errorCode) {
    case 'InvalidPayload':
    case 'Malformed':
    case 'MissingHeader':
      return '. The report did not match the schema Device Defender expects; please report this with the log line above';
    case 'Throttled':
      return '. Reports for this thing arrive more often than once per 300 s: check that only one agent reports for it and that intervalSeconds >= 300';
    default:
      return '';
  }
}
