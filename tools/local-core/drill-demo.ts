/**
 * `npm start -- --drill KIND`: the configuration that makes a drill visible against the local core. A behavior the
 * drill violates, the drill itself (short enough to end before the last report, so the alarm both fires and clears),
 * and the exact extra permissions the alarms and the drill need, as `deploy` would merge them.
 */
import net from 'node:net';
import { createSystemCollector } from '../../src/collect/collector';
import { type DrillKind, DRILL_LIMITS, resolveTopic } from '../../src/config/detection';
import { featureAccessControl } from '../../src/detect/permissions';
import { parseConfig } from '../../src/config/parse';

/**
 * What a run can see of the drill here: an alarm raised and cleared, or, for bytes-out, only its padding reaching the
 * core (the local core sends nothing onto the network, so no aws:all-bytes-out alarm can happen).
 */
type DrillEvidence = { kind: 'alarm' } | { kind: 'published'; topic: string; bytes: number };

export interface DrillDemo {
  /** Merged onto the component's DefaultConfiguration. */
  configurationMerge: Record<string, unknown>;
  /** The behavior the drill should trip. */
  behaviorName: string;
  /** What to tell the user before it starts. */
  note: string;
  evidence: DrillEvidence;
}

export interface StartProgress {
  reports: number;
  rejected: number;
  alarmRaised: boolean;
  alarmCleared: boolean;
  /** Bytes published on the drill's topic. */
  drillBytes: number;
}

/**
 * `npm start -- --reports N`: the exit code once the run is complete (0 when every report was accepted and the drill
 * showed what it can show here), or undefined while it is not.
 */
export function startVerdict(wantedReports: number | undefined, demo: DrillDemo | undefined, progress: StartProgress): number | undefined {
  if (wantedReports === undefined || progress.reports < wantedReports) return undefined;
  if (demo?.evidence.kind === 'alarm' && !progress.alarmCleared) return undefined;
  if (demo?.evidence.kind === 'published' && progress.drillBytes < demo.evidence.bytes) return undefined;
  const drillShown = demo?.evidence.kind !== 'alarm' || progress.alarmRaised;
  return progress.rejected === 0 && drillShown ? 0 : 1;
}

/** Connections the connections drill opens (both ends are established sockets on this device). */
const DEMO_CONNECTIONS = 200;

/** A TCP port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * How long the drill runs: with `reports`, long enough for the second sample and over before the last one
 * (reports come one interval apart from the first); otherwise three intervals.
 */
export function drillDurationSeconds(intervalSeconds: number, reports: number | undefined): number {
  const intervals = reports === undefined || reports < 3 ? 3 : reports - 1.5;
  return Math.min(DRILL_LIMITS.maxDurationSeconds, Math.ceil(intervals * intervalSeconds));
}

export async function drillDemo(
  kind: DrillKind,
  options: { intervalSeconds: number; reports?: number; thingName: string; componentName: string },
): Promise<DrillDemo> {
  const durationSeconds = drillDurationSeconds(options.intervalSeconds, options.reports);
  let behavior: Record<string, unknown>;
  let drill: Record<string, unknown>;
  let note: string;
  switch (kind) {
    case 'listening-port': {
      const port = await freePort();
      behavior = {
        name: 'drill-no-listener',
        metric: 'aws:listening-tcp-ports',
        criteria: { comparisonOperator: 'not-in-port-set', value: { ports: [port] } },
      };
      drill = { kind, durationSeconds, port };
      note = `drill listening-port: port ${port} is forbidden by behavior drill-no-listener; the drill listens on it for ${durationSeconds} s`;
      break;
    }
    case 'connections': {
      const sample = await createSystemCollector('/proc').collect({ customMetrics: {}, networkStatsIncludeLoopback: false });
      const now = sample.establishedConnections?.length ?? 0;
      // Both ends of each loopback connection are established sockets here: the drill adds 2 x DEMO_CONNECTIONS.
      const limit = now + DEMO_CONNECTIONS;
      behavior = {
        name: 'drill-connections',
        metric: 'aws:num-established-tcp-connections',
        criteria: { comparisonOperator: 'less-than', value: { count: limit } },
      };
      drill = { kind, durationSeconds, connections: DEMO_CONNECTIONS };
      note = `drill connections: ${now} established now, behavior drill-connections allows fewer than ${limit}; the drill opens ${DEMO_CONNECTIONS} loopback connections for ${durationSeconds} s`;
      break;
    }
    default: {
      behavior = {
        name: 'drill-bytes-out',
        metric: 'aws:all-bytes-out',
        criteria: { comparisonOperator: 'less-than', value: { count: 64 * 1024 } },
      };
      drill = { kind, durationSeconds, bytes: 256 * 1024 };
      note =
        'drill bytes-out: publishes 256 KiB through IPC; the local core sends nothing onto the network, so locally no ' +
        'aws:all-bytes-out alarm is expected (on a real core the bytes leave through the nucleus); the run checks that ' +
        'the padding reached the core instead';
    }
  }
  const merge: Record<string, unknown> = { behaviors: [behavior], drill };
  const { config, errors } = parseConfig(merge);
  if (errors.length > 0) throw new Error(`drill configuration is invalid: ${errors.map((e) => `${e.key}: ${e.message}`).join('; ')}`);
  const evidence: DrillEvidence =
    kind === 'bytes-out' && config.drill
      ? { kind: 'published', topic: resolveTopic(config.drill.topic, options.thingName), bytes: config.drill.bytes }
      : { kind: 'alarm' };
  return {
    configurationMerge: { ...merge, accessControl: featureAccessControl(config, options.componentName, options.thingName) },
    behaviorName: String(behavior.name),
    note,
    evidence,
  };
}
