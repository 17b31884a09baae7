/**
 * The agent: keeps a connection to the nucleus, collects a sample every interval, publishes one
 * report, and tells the operator what became of it. Nothing here throws out of a cycle: every
 * failure is logged with its remedy and the next interval comes anyway.
 */
import { toMetricsSample, type Collector } from '../collect/collector';
import { metricsTopics } from '../component/definition';
import type { AgentConfig } from '../config/definition';
import { defaultConfig, describeConfigErrors, parseConfig } from '../config/parse';
import type { IpcConnection, IpcConnector, Subscription, ValidationRequest } from '../ipc/ipc';
import { IpcError } from '../ipc/ipc';
import type { Logger } from '../log/logger';
import type { MetricsSample } from '../metrics/types';
import { describeError } from '../util/describe-error';
import { buildReport } from '../report/build';
import { validateReport } from '../report/validate';
import { computeNetworkDelta, type NetworkBaseline } from '../state/network-delta';
import { nextReportId } from '../state/report-id';
import type { AgentState, StateStore } from '../state/state-store';
import { backoffDelayMs, type Clock } from './clock';
import { parseDefenderReply, PendingReplies } from './replies';
import { deniedCallMessage } from './remedies';

interface AgentIdentity {
  componentName: string;
  componentVersion: string;
  /** The core device's thing (AWS_IOT_THING_NAME), used when the configuration names none. */
  coreThingName: string | undefined;
  platform: string;
}

export interface AgentDeps {
  identity: AgentIdentity;
  ipc: IpcConnector;
  createCollector: (procfsRoot: string) => Collector;
  stateStore: StateStore;
  clock: Clock;
  logger: Logger;
  random?: () => number;
}

const RECONNECT_BASE_MS = 1_000;
const RECONNECT_MAX_MS = 60_000;
/** Device Defender answers within seconds; a report still unanswered after this is counted as lost. */
const REPLY_TIMEOUT_MS = 60_000;
/** The nucleus sends one update event per changed key; read the configuration once per burst. */
const CONFIG_SETTLE_MS = 250;

export class Agent {
  private config: AgentConfig = defaultConfig();
  private state: AgentState = { version: 1, lastReportId: 0 };
  private collector: Collector;
  private connection: IpcConnection | undefined;
  private connecting = false;
  private connectAttempt = 0;
  private replySubscriptions: Subscription[] = [];
  private subscribedTopicsKey = '';
  private readonly pending = new PendingReplies();
  private cancelCycleTimer: (() => void) | undefined;
  private cancelReconnectTimer: (() => void) | undefined;
  private cancelConfigTimer: (() => void) | undefined;
  private cycleRunning: Promise<void> | undefined;
  private announced = false;
  private stopped = false;
  private nextDueMs: number | undefined;
  private lastCycleStartMs: number | undefined;
  private repliesAttemptedAtMs = 0;

  constructor(private readonly deps: AgentDeps) {
    this.collector = deps.createCollector(this.config.procfsRoot);
  }

  get currentConfig(): AgentConfig {
    return this.config;
  }

  get unansweredReports(): number {
    return this.pending.unansweredCount;
  }

  async start(): Promise<void> {
    const loaded = await this.deps.stateStore.load();
    if (loaded.problem) this.deps.logger.warn(`state file: ${loaded.problem}; starting without a network baseline`);
    if (loaded.state) this.state = loaded.state;
    await this.connect();
  }

  /** SIGTERM: no new cycle, nothing left in flight, state on disk, IPC closed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelCycleTimer?.();
    this.cancelReconnectTimer?.();
    this.cancelConfigTimer?.();
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
    await this.cycleRunning;
    await this.saveState();
    this.deps.logger.info(
      `stopped: state saved (last report id ${this.state.lastReportId}); ${this.pending.unansweredCount} report(s) got no reply in this run`,
    );
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting || this.connection) return;
    this.connecting = true;
    try {
      const connection = await this.deps.ipc.connect();
      if (this.stopped) {
        await connection.close();
        return;
      }
      this.connection = connection;
      connection.onDisconnect((reason) => this.handleDisconnect(connection, reason));
      if (this.connectAttempt > 0)
        this.deps.logger.info(`reconnected to the Greengrass nucleus after ${this.connectAttempt} failed attempt(s)`);
      this.connectAttempt = 0;
      await this.readConfiguration(connection, true);
      await this.subscribeToConfiguration(connection);
      await this.subscribeToReplies(connection, true);
      this.announce();
      this.scheduleNextCycle();
    } catch (error) {
      const connection = this.connection;
      this.connection = undefined;
      await connection?.close();
      this.scheduleReconnect(error);
    } finally {
      this.connecting = false;
    }
  }

  private handleDisconnect(connection: IpcConnection, reason: string): void {
    if (this.connection !== connection || this.stopped) return;
    this.connection = undefined;
    this.replySubscriptions = [];
    this.subscribedTopicsKey = '';
    this.deps.logger.warn(
      `lost the connection to the Greengrass nucleus (${reason}); reconnecting (the nucleus restarts during deployments)`,
    );
    this.scheduleReconnect(undefined);
  }

  private scheduleReconnect(error: unknown): void {
    if (this.stopped) return;
    const delay = backoffDelayMs(this.connectAttempt, RECONNECT_BASE_MS, RECONNECT_MAX_MS, this.deps.random);
    this.connectAttempt += 1;
    if (error !== undefined) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.logger.warn(
        `cannot reach the Greengrass nucleus over IPC (attempt ${this.connectAttempt}): ${message}; retrying in ${(delay / 1000).toFixed(1)} s`,
      );
    }
    this.cancelReconnectTimer?.();
    this.cancelReconnectTimer = this.deps.clock.setTimer(delay, () => {
      this.cancelReconnectTimer = undefined;
      void this.connect();
    });
  }

  private async readConfiguration(connection: IpcConnection, atStart: boolean): Promise<void> {
    let raw: unknown;
    try {
      raw = await connection.getConfiguration([]);
    } catch (error) {
      if (error instanceof IpcError && error.kind === 'disconnected') throw error;
      this.deps.logger.error(
        `cannot read the component configuration (${describeError(error)}); keeping the ${atStart ? 'defaults' : 'current configuration'}`,
      );
      return;
    }
    const previous = this.config;
    const parsed = parseConfig(raw ?? {}, previous);
    if (parsed.errors.length > 0) {
      if (atStart && !this.announced) {
        this.deps.logger.error(
          `configuration has errors: ${describeConfigErrors(parsed.errors)}. Using the defaults for those keys; fix them with a deployment configuration merge`,
        );
        this.applyConfig(parsed.config, previous);
      } else {
        this.deps.logger.error(`configuration update rejected: ${describeConfigErrors(parsed.errors)}. Keeping the previous configuration`);
      }
      return;
    }
    this.applyConfig(parsed.config, previous);
  }

  private applyConfig(next: AgentConfig, previous: AgentConfig): void {
    this.config = next;
    this.deps.logger.setLevel(next.logLevel);
    if (next.procfsRoot !== previous.procfsRoot) this.collector = this.deps.createCollector(next.procfsRoot);
    const changes = describeChanges(previous, next);
    if (this.announced && changes.length > 0) this.deps.logger.info(`configuration updated: ${changes.join(', ')}`);
    if (next.allowFastIntervalForDevelopment && (!this.announced || !previous.allowFastIntervalForDevelopment)) {
      this.deps.logger.warn(
        `allowFastIntervalForDevelopment is on: reports every ${next.intervalSeconds} s. For a local development core only; ` +
          'Device Defender throttles a thing to one report every 300 s',
      );
    }
  }

  private async subscribeToConfiguration(connection: IpcConnection): Promise<void> {
    await connection.subscribeToConfigurationUpdate(() => {
      this.cancelConfigTimer?.();
      this.cancelConfigTimer = this.deps.clock.setTimer(CONFIG_SETTLE_MS, () => {
        this.cancelConfigTimer = undefined;
        void this.onConfigurationChanged();
      });
    });
    await connection.subscribeToValidateConfigurationUpdates((request) => void this.validateProposedConfiguration(connection, request));
  }

  private async onConfigurationChanged(): Promise<void> {
    const connection = this.connection;
    if (!connection || this.stopped) return;
    const before = this.config;
    try {
      await this.readConfiguration(connection, false);
      if (this.config !== before) {
        await this.subscribeToReplies(connection, false);
        this.scheduleNextCycle();
      }
    } catch (error) {
      this.deps.logger.warn(`applying the configuration update failed: ${describeError(error)}`);
    }
  }

  private async validateProposedConfiguration(connection: IpcConnection, request: ValidationRequest): Promise<void> {
    const { errors } = parseConfig(request.configuration, this.config);
    const accepted = errors.length === 0;
    const message = accepted ? undefined : `invalid configuration for ${this.deps.identity.componentName}: ${describeConfigErrors(errors)}`;
    if (accepted) this.deps.logger.info(`deployment ${request.deploymentId}: proposed configuration is valid`);
    else
      this.deps.logger.error(`deployment ${request.deploymentId}: rejecting the proposed configuration: ${describeConfigErrors(errors)}`);
    try {
      await connection.sendConfigurationValidityReport(request.deploymentId, accepted, message);
    } catch (error) {
      this.deps.logger.warn(
        `could not send the configuration validity report for deployment ${request.deploymentId}: ${describeError(error)}`,
      );
    }
  }

  private thingName(): string | undefined {
    return this.config.thingName || this.deps.identity.coreThingName || undefined;
  }

  /** Replies for the current thing and format; re-done when either changes. */
  private async subscribeToReplies(connection: IpcConnection, force: boolean): Promise<void> {
    const thing = this.thingName();
    if (!thing) return;
    const topics = metricsTopics(thing, this.config.format);
    const key = `${topics.accepted}|${topics.rejected}`;
    if (!force && key === this.subscribedTopicsKey) return;
    const old = this.replySubscriptions;
    this.replySubscriptions = [];
    await Promise.all(old.map((s) => s.close()));
    this.subscribedTopicsKey = key;
    this.repliesAttemptedAtMs = this.deps.clock.now();
    for (const topic of [topics.accepted, topics.rejected]) {
      try {
        this.replySubscriptions.push(await connection.subscribeToIoTCore(topic, (payload, from) => this.onReply(payload, from)));
      } catch (error) {
        if (error instanceof IpcError && error.kind === 'disconnected') throw error;
        if (error instanceof IpcError && error.kind === 'unauthorized') {
          this.deps.logger.error(
            `${deniedCallMessage(this.deps.identity.componentName, 'SubscribeToIoTCore', topic)} Reports are still sent, but their outcome will not be logged.`,
          );
        } else {
          this.deps.logger.error(
            `cannot subscribe to ${topic}: ${describeError(error)}; reports are still sent, but their outcome will not be logged`,
          );
        }
        this.subscribedTopicsKey = '';
      }
    }
  }

  private onReply(payload: Buffer, topic: string): void {
    const reply = parseDefenderReply(payload, topic);
    if ('unreadable' in reply) {
      this.deps.logger.warn(reply.unreadable);
      return;
    }
    const waited = reply.reportId === undefined ? undefined : this.pending.settle(reply.reportId, this.deps.clock.now());
    const id = reply.reportId ?? '(no report id)';
    const timing = waited === undefined ? '' : ` after ${waited} ms`;
    if (reply.status === 'ACCEPTED') {
      this.deps.logger.info(`report ${id} ACCEPTED by Device Defender${timing}`);
    } else {
      this.deps.logger.warn(
        `report ${id} REJECTED by Device Defender${timing}: ${reply.errorCode ?? 'no ErrorCode'}: ${reply.errorMessage ?? 'no ErrorMessage'}` +
          rejectionRemedy(reply.errorCode),
      );
    }
  }

  private announce(): void {
    if (this.announced) return;
    this.announced = true;
    const thing = this.thingName();
    const { identity } = this.deps;
    const custom = Object.keys(this.config.customMetrics);
    this.deps.logger.info(
      `${identity.componentName} ${identity.componentVersion} started on ${identity.platform}: thing ${thing ?? '(none)'}, topic ` +
        `${thing ? metricsTopics(thing, this.config.format).publish : '(none)'}, every ${this.config.intervalSeconds} s, ` +
        `${this.config.format.toUpperCase()} with ${this.config.shortNames ? 'short' : 'long'} names, custom metrics: ${custom.length > 0 ? custom.join(', ') : 'none'}, procfs ${this.config.procfsRoot}`,
    );
    if (!thing) {
      this.deps.logger.error(
        'no thing name: AWS_IOT_THING_NAME is not set and the configuration has no thingName. Set thingName in the configuration',
      );
    }
  }

  /** Next report at the last publish plus the interval: never sooner, also across restarts and configuration changes. */
  private scheduleNextCycle(): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    // A publish time in the future means the clock stepped back: count the interval from now.
    const last = Math.min(now, Math.max(this.state.lastPublishedAtMs ?? -Infinity, this.lastCycleStartMs ?? -Infinity));
    const due = Math.max(now, last + this.config.intervalSeconds * 1000);
    if (this.cancelCycleTimer && this.nextDueMs === due) return;
    this.cancelCycleTimer?.();
    this.nextDueMs = due;
    this.cancelCycleTimer = this.deps.clock.setTimer(due - now, () => {
      this.cancelCycleTimer = undefined;
      this.cycleRunning = this.runCycle().finally(() => {
        this.cycleRunning = undefined;
      });
    });
  }

  private async runCycle(): Promise<void> {
    const now = (): number => this.deps.clock.now();
    const startedAt = now();
    // Also when this cycle publishes nothing: the next try is a full interval away, never a tight loop.
    this.lastCycleStartMs = startedAt;
    try {
      this.expireReplies();
      const sample = await this.collector.collect({
        customMetrics: this.config.customMetrics,
        networkStatsIncludeLoopback: this.config.networkStatsIncludeLoopback,
      });
      const collectionMs = now() - startedAt;
      for (const problem of sample.problems) this.deps.logger.warn(`${problem.subject} left out of this report: ${problem.message}`);
      const networkStats = this.networkDelta(sample.network);
      const thing = this.thingName();
      const connection = this.connection;
      if (!thing) {
        this.deps.logger.error('report not sent: no thing name (set thingName in the configuration)');
      } else if (!connection) {
        this.deps.logger.warn(
          'report skipped: not connected to the Greengrass nucleus (reconnecting). Device Defender accepts only current data, so it is not queued for later',
        );
      } else {
        await this.publishReport(connection, thing, toMetricsSample(sample, networkStats), collectionMs);
      }
    } catch (error) {
      this.deps.logger.error(`report cycle failed: ${describeError(error)}; the next one comes in ${this.config.intervalSeconds} s`);
    } finally {
      await this.saveState();
      this.scheduleNextCycle();
    }
  }

  private networkDelta(current: NetworkBaseline | undefined) {
    if (!current) return undefined;
    const baseline: NetworkBaseline | undefined = this.state.network;
    const result = computeNetworkDelta(baseline, current);
    this.state.network = current;
    for (const note of result.notes) this.deps.logger.info(`network_stats: ${note}`);
    if (result.reason) this.deps.logger.info(`network_stats left out of this report: ${result.reason}`);
    return result.delta;
  }

  private async publishReport(connection: IpcConnection, thing: string, sample: MetricsSample, collectionMs: number): Promise<void> {
    const config = this.config;
    const now = this.deps.clock.now();
    const reportId = nextReportId(this.state.lastReportId || undefined, now);
    this.state.lastReportId = reportId;
    const built = buildReport(sample, {
      reportId,
      shortNames: config.shortNames,
      format: config.format,
      maxListedPorts: config.maxListedPorts,
      maxListedConnections: config.maxListedConnections,
      maxReportBytes: config.maxReportBytes,
    });
    for (const problem of built.problems) this.deps.logger.warn(`report ${reportId}: ${problem.subject}: ${problem.message}`);
    const invalid = validateReport(built.document);
    if (invalid.length > 0) {
      this.deps.logger.error(
        `report ${reportId} not sent: it does not conform to the Device Defender schema: ${invalid.slice(0, 5).join('; ')}`,
      );
      return;
    }
    const topic = metricsTopics(thing, config.format).publish;
    if (!this.subscribedTopicsKey && now - this.repliesAttemptedAtMs >= (config.intervalSeconds * 1000) / 2) {
      // The reply subscription failed earlier (e.g. denied): try again, so a permission granted since is picked up.
      await this.subscribeToReplies(connection, true);
    }
    try {
      await connection.publishToIoTCore(topic, built.payload, '1');
    } catch (error) {
      if (error instanceof IpcError && error.kind === 'unauthorized') {
        this.deps.logger.error(
          `report ${reportId} not sent: ${deniedCallMessage(this.deps.identity.componentName, 'PublishToIoTCore', topic)}`,
        );
      } else {
        this.deps.logger.warn(
          `report ${reportId} not sent: ${describeError(error)}; the next report comes in ${config.intervalSeconds} s (reports are never replayed)`,
        );
      }
      return;
    }
    const publishedAt = this.deps.clock.now();
    this.state.lastPublishedAtMs = publishedAt;
    this.pending.add(reportId, publishedAt);
    const c = built.counts;
    const list = (label: string, count: { listed: number; total: number } | undefined) =>
      count === undefined
        ? `${label} n/a`
        : count.listed === count.total
          ? `${label} ${count.total}`
          : `${label} ${count.total} (${count.listed} listed)`;
    this.deps.logger.info(
      `report ${reportId} published to ${topic}: ${built.bytes} bytes ${config.format.toUpperCase()}${config.shortNames ? ' short names' : ''}, ` +
        `${list('tcp ports', c.tcpPorts)}, ${list('udp ports', c.udpPorts)}, ${list('connections', c.connections)}, ` +
        `network stats ${sample.networkStats ? 'included' : 'omitted'}, custom metrics ${c.customMetrics}, collected in ${collectionMs} ms` +
        (built.trimmed ? `; lists trimmed to fit maxReportBytes ${config.maxReportBytes}` : ''),
    );
  }

  private expireReplies(): void {
    const timeout = Math.min(REPLY_TIMEOUT_MS, (this.config.intervalSeconds * 1000) / 2);
    for (const reportId of this.pending.expire(this.deps.clock.now(), timeout)) {
      this.deps.logger.warn(
        `report ${reportId} got no reply from Device Defender within ${Math.round(timeout / 1000)} s (${this.pending.unansweredCount} without reply so far). ` +
          "Check that the core's AWS IoT policy allows iot:Subscribe and iot:Receive on the metrics accepted/rejected topics, and that the thing is covered by a security profile",
      );
    }
  }

  private async saveState(): Promise<void> {
    try {
      await this.deps.stateStore.save(this.state);
    } catch (error) {
      this.deps.logger.warn(
        `cannot save the state file (${describeError(error)}): after a restart the first report will omit network_stats`,
      );
    }
  }
}

function describeChanges(previous: AgentConfig, next: AgentConfig): string[] {
  const changes: string[] = [];
  for (const key of Object.keys(next) as Array<keyof AgentConfig>) {
    const before = JSON.stringify(previous[key]);
    const after = JSON.stringify(next[key]);
    if (before !== after) changes.push(`${key} ${before} -> ${after}`);
  }
  return changes;
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
