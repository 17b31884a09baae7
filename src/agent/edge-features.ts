/**
 * The agent's one handle on the features beyond Device Defender reporting: detection at the edge, the drill and the
 * metrics sink. The agent calls it at a few points (start, configuration, every sample, each publish, stop) and
 * nothing here can fail a report cycle.
 */
import { metricsTopics } from '../component/definition';
import type { AgentConfig } from '../config/definition';
import { DrillRunner } from '../drill/drill';
import { IpcError, type IpcConnection } from '../ipc/ipc';
import type { Logger } from '../log/logger';
import { describeError } from '../util/describe-error';
import { resolveTopic } from '../config/detection';
import { EdgeDetection, type ObservedSample } from '../detect/edge-detection';
import { deniedFeatureCallMessage } from '../detect/permissions';
import type { DetectionStateStore } from '../detect/state-file';

export interface EdgeFeaturesDeps {
  store: DetectionStateStore;
  connection: () => IpcConnection | undefined;
  componentName: string;
  logger: Logger;
  now: () => number;
  setTimer: (delayMs: number, callback: () => void) => () => void;
  /** The nucleus's IPC frame limit (nucleus lite); undefined: none. Alarms and drill padding are sized to it. */
  frameLimit?: () => number | undefined;
}

/** Where a report goes: Device Defender's topic (and its replies), or only the metrics sink. */
export interface ReportDestination {
  topic: string;
  expectsReply: boolean;
}

export class EdgeFeatures {
  private readonly detection: EdgeDetection;
  private readonly drill: DrillRunner;
  private readonly sinkDenied = new Set<string>();

  constructor(private readonly deps: EdgeFeaturesDeps) {
    this.detection = new EdgeDetection(deps);
    this.drill = new DrillRunner({
      ...deps,
      lastRecord: () => this.detection.drillRecord,
      record: (record) => this.detection.recordDrill(record),
    });
  }

  start(): Promise<void> {
    return this.detection.start();
  }

  /** Every configuration the agent applies, the first one included. */
  configure(config: AgentConfig, thingName: string | undefined): void {
    this.detection.configure(config, thingName);
    void this.drill.apply(config.drill, config.behaviors, thingName);
  }

  /** Every sample, also one whose report cannot be sent. Returns at once; evaluation runs in order behind it. */
  observe(sample: ObservedSample): void {
    void this.detection.observe(sample);
  }

  /** After a (re)connect: alarms that waited go out through the new connection. */
  connected(connection: IpcConnection): void {
    void this.detection.flush(connection);
  }

  destination(config: AgentConfig, thingName: string): ReportDestination {
    if (config.metricsSinkTopic && config.metricsSinkMode === 'only') {
      return { topic: resolveTopic(config.metricsSinkTopic, thingName), expectsReply: false };
    }
    return { topic: metricsTopics(thingName, config.format).publish, expectsReply: true };
  }

  /** The denial message for a report topic that is the metrics sink's, or undefined for Device Defender's own. */
  deniedReportMessage(config: AgentConfig, topic: string): string | undefined {
    if (!config.metricsSinkTopic || config.metricsSinkMode !== 'only') return undefined;
    return deniedFeatureCallMessage(this.deps.componentName, 'PublishToIoTCore', topic, 'metrics sink');
  }

  /** With metricsSinkMode `also`: the report that went to Device Defender goes to the sink too, same bytes. */
  async published(connection: IpcConnection, config: AgentConfig, thingName: string, reportId: number, payload: Buffer): Promise<void> {
    if (!config.metricsSinkTopic || config.metricsSinkMode !== 'also') return;
    const topic = resolveTopic(config.metricsSinkTopic, thingName);
    try {
      await connection.publishToIoTCore(topic, payload, '1');
      this.sinkDenied.delete(topic);
      this.deps.logger.debug(`report ${reportId} also published to the metrics sink ${topic}`);
    } catch (error) {
      if (error instanceof IpcError && error.kind === 'unauthorized') {
        if (this.sinkDenied.has(topic)) return;
        this.sinkDenied.add(topic);
        this.deps.logger.error(
          `report ${reportId} not copied to the metrics sink: ${deniedFeatureCallMessage(this.deps.componentName, 'PublishToIoTCore', topic, 'metrics sink')}`,
        );
        return;
      }
      this.deps.logger.warn(`report ${reportId} not copied to the metrics sink ${topic}: ${describeError(error)}`);
    }
  }

  async stop(): Promise<void> {
    await this.drill.stop();
    await this.detection.stop();
  }
}
