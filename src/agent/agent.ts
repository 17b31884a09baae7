/**
 * The agent: wires its parts (connection supervision, configuration, report schedule, reply
 * tracking) and runs one report cycle at a time through the report pipeline. Nothing throws out of
 * a cycle: every failure is logged with its remedy and the next interval comes anyway.
 *
 * Traffic is never lost: the network baseline moves forward only once a report carrying it was
 * handed to the nucleus, so a skipped, denied, timed-out or interrupted cycle leaves its traffic to
 * the next report. A crash at any moment leaves nothing wrong behind: the report id and publish
 * time are saved before the publish, so a restart neither reuses the id nor reports early.
 */
import { sameBoot } from '../collect/boot';
import type { CollectOptions, Collector } from '../collect/collector';
import { metricsTopics } from '../component/definition';
import type { AgentConfig } from '../config/definition';
import { thingNameProblem } from '../config/names';
import { resolveTopic } from '../config/detection';
import type { EdgeFeatures } from './edge-features';
import { quoteValue } from '../config/quote';
import type { IpcConnection, IpcConnector } from '../ipc/ipc';
import { frameLimited } from '../ipc/frame-limit';
import { IpcError } from '../ipc/ipc';
import type { Logger } from '../log/logger';
import type { AgentState, MonotonicMark, StateStore } from '../state/state-store';
import { describeError } from '../util/describe-error';
import type { Clock } from './clock';
import { Configuration } from './configuration';
import { ConnectionSupervisor } from './connection-supervisor';
import { describeRuntime, type NucleusRuntime, runtimeFromValidation } from './nucleus-runtime';
import { deniedCallMessage } from './remedies';
import { frameLimitOf, reportBudget, reportCapacity } from './report-budget';
import { ReplyTracker } from './reply-tracker';
import { type PreparedReport, prepareReport } from './report-pipeline';
import { ReportSchedule } from './report-schedule';

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
  /** The core's platform, for the configuration's checks that depend on it. */
  platform?: NodeJS.Platform;
  stateStore: StateStore;
  clock: Clock;
  logger: Logger;
  /** The current boot's id: a restart within one boot measures the time since the last report on the monotonic clock. */
  bootId?: () => Promise<string | undefined>;
  random?: () => number;
  /** Detection at the edge, the drill and the metrics sink (src/agent/edge-features.ts); absent: reports only. */
  createEdgeFeatures?: (connection: () => IpcConnection | undefined, frameLimit: () => number | undefined) => EdgeFeatures;
}

/** Device Defender answers within seconds; a report still unanswered after this is counted as lost. */
const REPLY_TIMEOUT_MS = 60_000;

export class Agent {
  /** Replaced as a whole, never edited field by field: what a failed publish restores is a value, not a list of fields. */
  private state: Readonly<AgentState> = { version: 1, lastReportId: 0 };
  private collector: Collector;
  private bootId: string | undefined;
  private announced = false;
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private readonly configuration: Configuration;
  private readonly replies: ReplyTracker;
  private readonly supervisor: ConnectionSupervisor;
  private readonly schedule: ReportSchedule;
  private readonly edge: EdgeFeatures | undefined;

  constructor(private readonly deps: AgentDeps) {
    const { clock, logger, identity } = deps;
    this.configuration = new Configuration({
      componentName: identity.componentName,
      clock,
      logger,
      onChange: (next, previous) => this.configurationChanged(next, previous),
      reportCapacity: (config) => this.reportCapacityFor(config),
      ...(deps.platform ? { platform: deps.platform } : {}),
    });
    this.collector = deps.createCollector(this.configuration.current.procfsRoot);
    this.replies = new ReplyTracker({ componentName: identity.componentName, clock, logger, runtime: () => this.runtime });
    this.supervisor = new ConnectionSupervisor({
      connector: frameLimited(deps.ipc, () => frameLimitOf(this.runtime)),
      clock,
      logger,
      ...(deps.random ? { random: deps.random } : {}),
      setup: (connection) => this.setUp(connection),
      onLost: () => {
        this.configuration.detach();
        this.replies.connectionLost();
      },
    });
    this.schedule = new ReportSchedule({
      clock,
      intervalMs: () => this.configuration.current.intervalSeconds * 1000,
      runCycle: () => this.runCycle(),
    });
    this.edge = deps.createEdgeFeatures?.(
      () => this.supervisor.connection,
      () => frameLimitOf(this.runtime),
    );
  }

  /** As the nucleus of the current (or last) connection showed it; classic until a connection says otherwise. */
  get runtime(): NucleusRuntime {
    return runtimeFromValidation(this.configuration.validationServed ?? true);
  }

  get currentConfig(): AgentConfig {
    return this.configuration.current;
  }

  get unansweredReports(): number {
    return this.replies.unansweredCount;
  }

  async start(): Promise<void> {
    const loaded = await this.deps.stateStore.load(this.deps.clock.now());
    if (loaded.problem) this.deps.logger.warn(`state file: ${loaded.problem}`);
    if (loaded.state) {
      const { publishingReportId, ...settled } = loaded.state;
      this.state = settled;
      if (publishingReportId !== undefined) {
        this.deps.logger.warn(
          `the previous run stopped while handing report ${publishingReportId} to the nucleus: whether it went out is unknown. ` +
            'Its id is not reused, the next report waits a whole interval from it, and its network_stats count from the last confirmed report',
        );
      }
    }
    try {
      this.bootId = await this.deps.bootId?.();
    } catch {
      this.bootId = undefined;
    }
    await this.edge?.start();
    await this.supervisor.start();
  }

  /** SIGTERM: no new cycle, the running one finished or cancelled before its publish, then IPC closed and state saved. */
  stop(): Promise<void> {
    this.stopped ??= this.shutDown();
    return this.stopped;
  }

  private async shutDown(): Promise<void> {
    this.stopping = true;
    await this.schedule.stop();
    await this.edge?.stop();
    this.configuration.stop();
    await this.replies.close();
    await this.supervisor.stop();
    await this.saveState();
    const waiting = this.replies.awaitedCount;
    this.deps.logger.info(
      `stopped: state saved (last report id ${this.state.lastReportId}); ${this.replies.unansweredCount} report(s) got no reply in this run` +
        (waiting > 0 ? `, ${waiting} still awaiting one` : ''),
    );
  }

  private async setUp(connection: IpcConnection): Promise<void> {
    await this.configuration.attach(connection);
    this.edge?.connected(connection);
    const thing = this.thingName();
    if (thing) await this.replies.follow(connection, thing, this.configuration.current.format);
    this.announce();
    if (!this.schedule.isStarted) this.schedule.start(this.restoredAnchor());
  }

  private configurationChanged(next: AgentConfig, previous: AgentConfig): void {
    this.edge?.configure(next, next.thingName || this.validCoreThingName());
    if (next.procfsRoot !== previous.procfsRoot) this.collector = this.deps.createCollector(next.procfsRoot);
    if (!this.announced) return;
    const connection = this.supervisor.connection;
    const thing = this.thingName();
    if (connection && thing) {
      this.replies.follow(connection, thing, next.format).catch((error: unknown) => {
        this.deps.logger.warn(`subscribing to the replies after the configuration change failed: ${describeError(error)}`);
      });
    }
    this.schedule.reschedule();
  }

  /**
   * Where the interval counts from after a restart. Within one boot the monotonic clock says how
   * long ago the last report went out, whatever the wall clock did; after a reboot only the wall
   * clock can, and a publish time ahead of it means it stepped back: then a whole interval is waited.
   */
  private restoredAnchor(): number | undefined {
    const { clock } = this.deps;
    const mark = this.state.lastPublishedMonotonic;
    if (mark && this.bootId !== undefined && sameBoot(mark.bootId, this.bootId) && mark.ms <= clock.monotonic()) return mark.ms;
    if (this.state.lastPublishedAtMs === undefined) return undefined;
    return clock.monotonic() - Math.max(0, clock.now() - this.state.lastPublishedAtMs);
  }

  /** What the IPC message holds for the topics a report of `config` goes to (Device Defender's or `topic`, and the sink). */
  private reportCapacityFor(config: AgentConfig, topic?: string): number | undefined {
    const thing = config.thingName || this.validCoreThingName() || '';
    const topics = [topic ?? this.edge?.destination(config, thing).topic ?? metricsTopics(thing, config.format).publish];
    if (config.metricsSinkTopic) topics.push(resolveTopic(config.metricsSinkTopic, thing));
    return reportCapacity(this.runtime, topics);
  }

  private thingName(): string | undefined {
    return this.configuration.current.thingName || this.validCoreThingName() || undefined;
  }

  private validCoreThingName(): string | undefined {
    const name = this.deps.identity.coreThingName;
    return name !== undefined && thingNameProblem(name) === undefined ? name : undefined;
  }

  /** Where the sample comes from: procfs on Linux; Windows has none, whatever procfsRoot says. */
  private metricsSource(procfsRoot: string): string {
    if (this.deps.platform === 'win32') return 'sockets and traffic from the IP Helper API';
    return `procfs ${/^[\w./-]+$/.test(procfsRoot) ? procfsRoot : quoteValue(procfsRoot)}`;
  }

  private announce(): void {
    if (this.announced) return;
    this.announced = true;
    const config = this.configuration.current;
    const thing = this.thingName();
    const { identity } = this.deps;
    const custom = Object.keys(config.customMetrics);
    this.deps.logger.info(
      `${identity.componentName} ${identity.componentVersion} started on ${identity.platform} under ${describeRuntime(this.runtime)}: thing ${thing ?? '(none)'}, topic ` +
        `${thing ? metricsTopics(thing, config.format).publish : '(none)'}, every ${config.intervalSeconds} s, ` +
        `${config.format.toUpperCase()} with ${config.shortNames ? 'short' : 'long'} names, custom metrics: ${custom.length > 0 ? custom.join(', ') : 'none'}, ${this.metricsSource(config.procfsRoot)}`,
    );
    if (!thing) {
      const core = identity.coreThingName;
      this.deps.logger.error(
        core
          ? `no thing name: AWS_IOT_THING_NAME ${quoteValue(core)} is not a valid thing name and the configuration has no thingName. Set thingName in the configuration`
          : 'no thing name: AWS_IOT_THING_NAME is not set and the configuration has no thingName. Set thingName in the configuration',
      );
    }
  }

  private async runCycle(): Promise<void> {
    const { logger } = this.deps;
    const config = this.configuration.current;
    try {
      this.replies.expire(Math.min(REPLY_TIMEOUT_MS, (config.intervalSeconds * 1000) / 2));
      const thing = this.thingName();
      if (!thing) {
        logger.error('report not sent: no thing name (set thingName in the configuration)');
        await this.observeWithoutReport(config);
        return;
      }
      const destination = this.edge?.destination(config, thing) ?? {
        topic: metricsTopics(thing, config.format).publish,
        expectsReply: true,
      };
      const topic = destination.topic;
      const before = this.supervisor.connection;
      if (!before) {
        logger.warn(
          'report skipped: not connected to the Greengrass nucleus (reconnecting); the next report carries the network traffic of this interval too',
        );
        await this.observeWithoutReport(config);
        return;
      }
      // A denied or failed reply subscription is retried at every report, so a permission granted since is picked up.
      if (destination.expectsReply && !this.replies.isListening(topic))
        await this.replies.follow(before, thing, config.format).catch(() => undefined);
      const prepared = await prepareReport({
        collector: this.collector,
        collect: collectOptions(config),
        baseline: this.state.network,
        lastReportId: this.state.lastReportId || undefined,
        build: {
          shortNames: config.shortNames,
          format: config.format,
          maxListedPorts: config.maxListedPorts,
          maxListedConnections: config.maxListedConnections,
          maxReportBytes: reportBudget(config.maxReportBytes, this.reportCapacityFor(config, topic)),
        },
        wallNow: () => this.deps.clock.now(),
        monotonic: () => this.deps.clock.monotonic(),
      });
      this.logPreparation(prepared);
      this.edge?.observe({
        ...prepared.sample,
        ...(prepared.destinations ? { destinations: prepared.destinations } : {}),
        ...(prepared.networkReading ? { network: prepared.networkReading } : {}),
      });
      if (this.stopping) {
        logger.info(`report ${prepared.reportId} not sent: stopping; the next run's first report carries its network traffic`);
        return;
      }
      const connection = this.supervisor.connection;
      if (!connection) {
        logger.warn(
          `report ${prepared.reportId} skipped: the connection to the nucleus closed during the collection; the next report carries its network traffic`,
        );
        return;
      }
      await this.handOver(connection, topic, prepared, config, destination.expectsReply);
    } catch (error) {
      logger.error(`report cycle failed: ${describeError(error)}; the next one comes in ${config.intervalSeconds} s`);
    }
  }

  private logPreparation(prepared: PreparedReport): void {
    const { logger } = this.deps;
    for (const problem of prepared.problems) logger.warn(`report ${prepared.reportId}: ${problem.subject} left out: ${problem.message}`);
    for (const note of prepared.networkNotes) logger.info(`network_stats: ${note}`);
    if (prepared.networkOmitted) logger.info(`network_stats left out of this report: ${prepared.networkOmitted}`);
  }

  /** Write ahead, register for the reply, publish; only a publish that resolved moves the baseline. */
  private async handOver(
    connection: IpcConnection,
    topic: string,
    prepared: PreparedReport,
    config: AgentConfig,
    expectsReply = true,
  ): Promise<void> {
    const { logger, clock } = this.deps;
    const { reportId } = prepared;
    const before = this.state;
    const monotonic = this.bootId === undefined ? undefined : { bootId: this.bootId, ms: clock.monotonic() };
    const handedOver = publishedState(before, reportId, clock.now(), monotonic);
    this.state = { ...handedOver, publishingReportId: reportId };
    this.schedule.markPublishing();
    await this.saveState();
    if (expectsReply) this.replies.expect(reportId, topic);
    try {
      await connection.publishToIoTCore(topic, prepared.built.payload, '1');
    } catch (error) {
      if (error instanceof IpcError && error.kind === 'timeout') {
        // It may have gone out: the interval counts from it, its traffic stays for the next report.
        this.state = handedOver;
        this.replies.publishTimedOut(reportId);
        logger.warn(
          `report ${reportId}: outcome unknown: the nucleus did not answer the publish in time (${describeError(error)}); it may have gone out. ` +
            `The next report comes in ${config.intervalSeconds} s and its network_stats count from the last confirmed report`,
        );
      } else {
        // Not sent: everything is as before it, except that its id is used up.
        this.state = { ...before, lastReportId: reportId };
        this.replies.drop(reportId);
        const why =
          error instanceof IpcError && error.kind === 'unauthorized'
            ? (this.edge?.deniedReportMessage(config, topic) ??
              deniedCallMessage(this.deps.identity.componentName, 'PublishToIoTCore', topic, this.runtime))
            : `${describeError(error)}.`;
        const log = error instanceof IpcError && error.kind === 'unauthorized' ? logger.error : logger.warn;
        log(
          `report ${reportId} not sent: ${why} The next report comes in ${config.intervalSeconds} s and carries this one's network traffic`,
        );
      }
      // A report without network_stats carried no traffic: its reading is the baseline whatever became of it, as it
      // would be had it gone out (otherwise a first report that times out leaves the next one without a baseline too,
      // and the traffic between them in no report).
      if (!prepared.sample.networkStats && prepared.networkReading) this.state = { ...this.state, network: prepared.networkReading };
      await this.saveState();
      return;
    }
    this.state = prepared.networkReading ? { ...handedOver, network: prepared.networkReading } : handedOver;
    this.logPublished(topic, prepared, config);
    this.replies.published(reportId);
    await this.saveState();
    const thing = this.thingName();
    if (thing) await this.edge?.published(connection, config, thing, reportId, prepared.built.payload);
  }

  /** Detection does not depend on the cloud: a sample whose report cannot be sent is still evaluated. */
  private async observeWithoutReport(config: AgentConfig): Promise<void> {
    if (!this.edge || config.behaviors.length === 0) return;
    const collected = await this.collector.collect(collectOptions(config));
    this.edge.observe(collected);
  }

  private logPublished(topic: string, prepared: PreparedReport, config: AgentConfig): void {
    const { built } = prepared;
    const c = built.counts;
    const list = (label: string, count: { listed: number; total: number } | undefined) =>
      count === undefined
        ? `${label} n/a`
        : count.listed === count.total
          ? `${label} ${count.total}`
          : `${label} ${count.total} (${count.listed} listed)`;
    const dropped = Object.entries(prepared.droppedRows);
    this.deps.logger.info(
      `report ${prepared.reportId} published to ${topic}: ${built.bytes} bytes ${config.format.toUpperCase()}${config.shortNames ? ' short names' : ''}, ` +
        `${list('tcp ports', c.tcpPorts)}, ${list('udp ports', c.udpPorts)}, ${list('connections', c.connections)}, ` +
        `network stats ${prepared.sample.networkStats ? 'included' : 'omitted'}, custom metrics ${c.customMetrics}, collected in ${prepared.collectionMs} ms` +
        (dropped.length > 0 ? `, rows dropped: ${dropped.map(([table, count]) => `${table} ${count}`).join(', ')}` : '') +
        (built.trimmed ? `; lists trimmed to fit ${budgetText(config.maxReportBytes, built.budget)}` : ''),
    );
  }

  private async saveState(): Promise<void> {
    try {
      await this.deps.stateStore.save(this.state);
    } catch (error) {
      this.deps.logger.warn(
        `cannot save the state file (${describeError(error)}): after a restart the first report will omit network_stats and may come early`,
      );
    }
  }
}

/**
 * What a cycle collects. The collector builds connection entries only for the connections a report can list, which is
 * most of a large sample's cost; aws:destination-ip-addresses is evaluated on the sample's destination table, which
 * holds every peer however many are listed.
 */
function collectOptions(config: AgentConfig): CollectOptions {
  return {
    customMetrics: config.customMetrics,
    networkStatsIncludeLoopback: config.networkStatsIncludeLoopback,
    maxListedConnections: config.maxListedConnections,
  };
}

function budgetText(setting: number | 'auto', budget: number): string {
  return setting === budget ? `maxReportBytes ${budget}` : `the report budget of ${budget} bytes (maxReportBytes ${setting})`;
}

/** The state once report `reportId` was handed to the nucleus at `atMs` (and `monotonic`, when the boot is known). */
function publishedState(state: Readonly<AgentState>, reportId: number, atMs: number, monotonic: MonotonicMark | undefined): AgentState {
  const { lastPublishedMonotonic: _previousMark, ...rest } = state;
  return { ...rest, lastReportId: reportId, lastPublishedAtMs: atMs, ...(monotonic ? { lastPublishedMonotonic: monotonic } : {}) };
}
