/**
 * Detection at the edge, as one part with start/stop: fed every sample the agent collects (also those whose report
 * cannot be sent, so detection does not depend on the cloud), it evaluates the configured behaviors, logs each alarm
 * state change, saves the alarm state, and sends the alarms through IPC.
 */
import type { AgentConfig } from '../config/definition';
import type { IpcConnection } from '../ipc/ipc';
import type { Logger } from '../log/logger';
import { computeNetworkDelta, type NetworkBaseline } from '../state/network-delta';
import { describeError } from '../util/describe-error';
import { randomUuid } from '../util/ids';
import { AlarmPublisher, logEvent, MAX_OUTBOX, type ViolationEvent } from './alarms';
import { resolveTopic } from '../config/detection';
import { Detector, type TrafficDelta } from './detector';
import type { DetectionSample } from './measure';
import { type DetectionState, type DetectionStateStore, MAX_DETECTION_STATE_BYTES } from './state-file';

export type DetectionSettings = Pick<AgentConfig, 'behaviors' | 'securityProfileName' | 'alarmTopic' | 'localAlarmTopic' | 'customMetrics'>;

export interface EdgeDetectionDeps {
  store: DetectionStateStore;
  connection: () => IpcConnection | undefined;
  componentName: string;
  logger: Logger;
  now: () => number;
  newViolationId?: () => string;
  frameLimit?: () => number | undefined;
}

/** A collected sample as the detector reads it: the true lists and the per-interface network counters. */
export type ObservedSample = DetectionSample & { network?: NetworkBaseline };

export class EdgeDetection {
  private readonly detector: Detector;
  private readonly publisher: AlarmPublisher;
  private state: DetectionState = { behaviors: Object.create(null), outbox: [] };
  private settings: DetectionSettings | undefined;
  private thingName: string | undefined;
  /** One sample at a time, in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: EdgeDetectionDeps) {
    this.detector = new Detector(deps.newViolationId ?? (() => randomUuid()));
    this.publisher = new AlarmPublisher({
      connection: deps.connection,
      componentName: deps.componentName,
      logger: deps.logger,
      ...(deps.frameLimit ? { frameLimit: deps.frameLimit } : {}),
    });
  }

  /** Loads the saved state; a bad file is reported and detection starts fresh. */
  async start(): Promise<void> {
    const loaded = await this.deps.store.load();
    if (loaded.problem) this.deps.logger.warn(`detection state: ${loaded.problem}`);
    if (loaded.state) {
      this.state = loaded.state;
      this.detector.restore(loaded.state.behaviors);
    }
  }

  /** Applies the configuration (live changes included). */
  configure(settings: DetectionSettings, thingName: string | undefined): void {
    const changed = this.settings?.behaviors !== settings.behaviors;
    this.settings = settings;
    this.thingName = thingName;
    if (!changed) return;
    for (const name of this.detector.configure(settings.behaviors)) {
      this.deps.logger.info(
        `behavior ${name} was removed while in alarm: no further alarms for it (as Device Defender does for a deleted behavior)`,
      );
    }
    const unevaluated = settings.behaviors.filter((b) => b.criteria === undefined).map((b) => b.name);
    if (unevaluated.length > 0)
      this.deps.logger.info(`behaviors without criteria are not evaluated on the device: ${unevaluated.join(', ')}`);
  }

  /** Evaluates one sample. Never rejects. */
  observe(sample: ObservedSample): Promise<void> {
    const run = this.queue.then(() => this.evaluate(sample));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Sends alarms still waiting, through `connection` (one that just opened) or the current one. Never rejects. */
  flush(connection?: IpcConnection): Promise<void> {
    const run = this.queue.then(() => this.deliver(connection));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    await this.queue;
    await this.save();
  }

  get drillRecord(): DetectionState['drill'] {
    return this.state.drill;
  }

  async recordDrill(record: NonNullable<DetectionState['drill']>): Promise<void> {
    this.state.drill = record;
    await this.save();
  }

  private async evaluate(sample: ObservedSample): Promise<void> {
    try {
      const atMs = this.deps.now();
      const traffic = this.trafficDelta(sample.network, atMs);
      // The counters change at every sample: kept (and saved) only while a behavior sums traffic.
      const sumsTraffic = this.detector.evaluatedBehaviors.some((evaluated) => evaluated.kind.kind === 'traffic');
      if (sample.network && sumsTraffic) this.state.network = { baseline: sample.network, atMs };
      else delete this.state.network;
      const changes = this.detector.evaluate(sample, traffic, atMs);
      this.state.behaviors = this.detector.snapshot();
      const settings = this.settings;
      for (const change of changes) {
        const event: ViolationEvent = {
          violationId: change.violationId,
          thingName: this.thingName ?? '',
          securityProfileName: settings?.securityProfileName ?? '',
          behavior: change.behavior,
          metricValue: change.metricValue,
          violationEventType: change.type,
          violationEventTime: atMs,
        };
        const suppressed = change.behavior.suppressAlerts === true;
        logEvent(this.deps.logger, event, suppressed, change.silentSinceMs);
        if (suppressed || !settings) continue;
        const cloud = settings.alarmTopic && this.thingName ? resolveTopic(settings.alarmTopic, this.thingName) : undefined;
        const local = settings.localAlarmTopic || undefined;
        if (cloud === undefined && local === undefined) continue;
        this.state.outbox.push({ event, ...(cloud ? { cloudTopic: cloud } : {}), ...(local ? { localTopic: local } : {}) });
      }
      const excess = this.state.outbox.length - MAX_OUTBOX;
      if (excess > 0) {
        this.state.outbox.splice(0, excess);
        this.deps.logger.error(`${excess} undelivered alarm(s) dropped: more than ${MAX_OUTBOX} waited for the nucleus`);
      }
      // Saved before sending: a restart in between sends them again rather than losing them.
      await this.save();
    } catch (error) {
      this.deps.logger.error(`behavior evaluation failed: ${describeError(error)}`);
    }
    await this.deliver();
  }

  private trafficDelta(current: NetworkBaseline | undefined, atMs: number): TrafficDelta | undefined {
    const previous = this.state.network;
    if (!current || !previous) return undefined;
    const result = computeNetworkDelta(previous.baseline, current);
    return result.delta ? { delta: result.delta, coveredMs: atMs - previous.atMs } : undefined;
  }

  private async deliver(through?: IpcConnection): Promise<void> {
    if (this.state.outbox.length === 0) return;
    try {
      if (await this.publisher.flush(this.state.outbox, through)) await this.save();
    } catch (error) {
      this.deps.logger.error(`sending alarms failed: ${describeError(error)}`);
    }
  }

  private async save(): Promise<void> {
    try {
      const outbox = [...this.state.outbox];
      const leftOut = await this.deps.store.save(this.state);
      // The oldest, left out of the file, leave memory too (as when the outbox overflows), found by identity: a
      // delivery during the write may have sent some of them already.
      let dropped = 0;
      for (const entry of outbox.slice(0, leftOut)) {
        const index = this.state.outbox.indexOf(entry);
        if (index < 0) continue;
        this.state.outbox.splice(index, 1);
        dropped += 1;
      }
      if (dropped > 0) {
        this.deps.logger.error(
          `${dropped} undelivered alarm(s) dropped, the oldest: with them the detection state file would pass the ` +
            `${MAX_DETECTION_STATE_BYTES} bytes the agent reads back (their behaviors' value sets are large)`,
        );
      }
    } catch (error) {
      this.deps.logger.warn(
        `cannot save the detection state (${describeError(error)}): after a restart, alarms still raised may be raised again`,
      );
    }
  }
}
