/**
 * A safe attack drill, as AWS's Device Defender workshops simulate a compromised device: an unexpected listener, a
 * burst of connections, or a flood of bytes out. Off unless configured; every drill ends at its expiry (at most
 * 15 minutes after it starts), opens loopback sockets only, is bounded in connections and bytes, logs its start and end
 * at WARN, and stops with the agent (SIGTERM). A drill that ended is not run again after a restart; one still running
 * when the agent restarted resumes until its original end, but never for longer than its duration from then (a wall
 * clock that went back must not stretch it).
 */
import { formatUtcTimestamp } from '../log/logger';
import net from 'node:net';
import type { Behavior } from '../config/behaviors';
import { DRILL_LIMITS, type DrillConfig, resolveTopic } from '../config/detection';
import { deniedFeatureCallMessage } from '../detect/permissions';
import { maxPayloadBytes } from '../ipc/frame-size';
import { IpcError, type IpcConnection } from '../ipc/ipc';
import type { Logger } from '../log/logger';
import { describeError } from '../util/describe-error';

export interface DrillRecord {
  fingerprint: string;
  endsAtMs: number;
}

export interface DrillDeps {
  logger: Logger;
  connection: () => IpcConnection | undefined;
  now: () => number;
  setTimer: (delayMs: number, callback: () => void) => () => void;
  componentName: string;
  /** The drill that ran last (from the detection state) and where to record a new one. */
  lastRecord: () => DrillRecord | undefined;
  record: (record: DrillRecord) => Promise<void>;
  /** The nucleus's IPC frame limit; the padding pieces are cut to fit it. */
  frameLimit?: () => number | undefined;
}

/** bytes-out sends its padding in pieces of this size (well under AWS IoT Core's 128 KB message limit). */
const PADDING_CHUNK_BYTES = 32 * 1024;
/** bytes-out never publishes more often than this. */
const MIN_PUBLISH_GAP_MS = 200;
/** How many ports to try when the one wanted is taken. */
const PORT_ATTEMPTS = 20;
const LOOPBACK = '127.0.0.1';

interface Running {
  fingerprint: string;
  kind: DrillConfig['kind'];
  sockets: Array<net.Socket | net.Server>;
  cancelTimers: Array<() => void>;
  ended: boolean;
}

export class DrillRunner {
  private running: Running | undefined;
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly deps: DrillDeps) {}

  /** Starts, resumes or stops the drill to match the configuration. Never rejects. */
  apply(drill: DrillConfig | undefined, behaviors: readonly Behavior[], thingName: string | undefined): Promise<void> {
    const run = this.applying.then(() => this.reconcile(drill, behaviors, thingName));
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** Ends a running drill (SIGTERM, or configuration removed it). */
  async stop(reason = 'the agent is stopping'): Promise<void> {
    await this.applying;
    this.end(reason);
  }

  private async reconcile(drill: DrillConfig | undefined, behaviors: readonly Behavior[], thingName: string | undefined): Promise<void> {
    const fingerprint = drill ? JSON.stringify(drill) : '';
    if (this.running && this.running.fingerprint === fingerprint) return;
    if (this.running) this.end(drill ? 'the drill configuration changed' : 'the drill was removed from the configuration');
    if (!drill) return;
    const now = this.deps.now();
    const last = this.deps.lastRecord();
    let endsAtMs: number;
    if (last && last.fingerprint === fingerprint) {
      if (last.endsAtMs <= now) {
        this.deps.logger.info(
          `drill ${drill.kind} already ran (ended ${formatUtcTimestamp(new Date(last.endsAtMs))}); change it to run another, or set drill to {}`,
        );
        return;
      }
      endsAtMs = last.endsAtMs;
      // A saved end further away than the drill's whole duration means the wall clock went back since it started
      // (or the file was altered): the drill still runs no longer than its duration, and at most 15 minutes.
      const longestMs = Math.min(drill.durationSeconds, DRILL_LIMITS.maxDurationSeconds) * 1000;
      if (endsAtMs - now > longestMs) {
        endsAtMs = now + longestMs;
        this.deps.logger.warn(
          `drill ${drill.kind}: its saved end ${formatUtcTimestamp(new Date(last.endsAtMs))} is more than its ${longestMs / 1000} s away ` +
            `(the clock went back since it started); it runs until ${formatUtcTimestamp(new Date(endsAtMs))} at the latest`,
        );
        await this.deps.record({ fingerprint, endsAtMs });
      }
    } else {
      endsAtMs = Math.min(now + drill.durationSeconds * 1000, drill.expiresAtMs ?? Infinity);
      if (endsAtMs <= now) {
        this.deps.logger.warn(`drill ${drill.kind} not started: it expired at ${formatUtcTimestamp(new Date(endsAtMs))}`);
        return;
      }
      await this.deps.record({ fingerprint, endsAtMs });
    }
    const running: Running = { fingerprint, kind: drill.kind, sockets: [], cancelTimers: [], ended: false };
    this.running = running;
    running.cancelTimers.push(this.deps.setTimer(endsAtMs - now, () => this.end('its time is up', running)));
    const until = formatUtcTimestamp(new Date(endsAtMs));
    try {
      switch (drill.kind) {
        case 'listening-port': {
          const port = await this.listen(running, candidatePorts(drill, behaviors));
          this.deps.logger.warn(
            `DRILL listening-port started: a TCP listener on ${LOOPBACK}:${port}, outside the allowed ports, until ${until}`,
          );
          break;
        }
        case 'connections': {
          await this.connect(running, drill.connections);
          this.deps.logger.warn(`DRILL connections started: ${drill.connections} loopback TCP connections open until ${until}`);
          break;
        }
        case 'bytes-out': {
          if (!thingName) throw new Error('no thing name for the drill topic');
          const topic = resolveTopic(drill.topic, thingName);
          this.deps.logger.warn(`DRILL bytes-out started: ${drill.bytes} bytes of padding to ${topic} through AWS IoT Core until ${until}`);
          this.sendPadding(running, topic, drill.bytes, endsAtMs);
          break;
        }
      }
    } catch (error) {
      this.end(`it could not start: ${describeError(error)}`, running);
    }
  }

  private end(reason: string, which: Running | undefined = this.running): void {
    if (!which || which.ended) return;
    which.ended = true;
    for (const cancel of which.cancelTimers) cancel();
    for (const socket of which.sockets) {
      if (socket instanceof net.Server) socket.close();
      else socket.destroy();
    }
    if (this.running === which) this.running = undefined;
    this.deps.logger.warn(`DRILL ${which.kind} ended: ${reason}`);
  }

  private async listen(running: Running, ports: number[]): Promise<number> {
    let lastError: unknown;
    for (const port of ports) {
      const server = net.createServer((socket) => socket.destroy());
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port, host: LOOPBACK, exclusive: true }, () => resolve());
        });
      } catch (error) {
        lastError = error;
        continue;
      }
      running.sockets.push(server);
      return (server.address() as net.AddressInfo).port;
    }
    throw new Error(`no free port to listen on: ${describeError(lastError)}`);
  }

  private async connect(running: Running, count: number): Promise<void> {
    const server = net.createServer((socket) => {
      running.sockets.push(socket);
      socket.on('error', () => undefined);
    });
    running.sockets.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: LOOPBACK }, () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    for (let i = 0; i < count && !running.ended; i++) {
      const socket = net.connect({ port, host: LOOPBACK });
      socket.on('error', () => undefined);
      running.sockets.push(socket);
      await new Promise<void>((resolve) => {
        socket.once('connect', () => resolve());
        socket.once('error', () => resolve());
      });
    }
  }

  /** At most PADDING_CHUNK_BYTES, and what one publish frame to `topic` holds under the nucleus's limit. */
  private chunkBytes(topic: string): number {
    const limit = this.deps.frameLimit?.();
    return limit === undefined
      ? PADDING_CHUNK_BYTES
      : Math.max(1, Math.min(PADDING_CHUNK_BYTES, maxPayloadBytes('PublishToIoTCore', topic, limit)));
  }

  private sendPadding(running: Running, topic: string, total: number, endsAtMs: number): void {
    const chunks = Math.ceil(total / this.chunkBytes(topic));
    const gap = Math.max(MIN_PUBLISH_GAP_MS, Math.floor((endsAtMs - this.deps.now()) / (chunks + 1)));
    let sent = 0;
    const next = async (): Promise<void> => {
      if (running.ended) return;
      if (sent >= total) {
        this.end(`all ${total} bytes sent`, running);
        return;
      }
      const size = Math.min(this.chunkBytes(topic), total - sent);
      const connection = this.deps.connection();
      try {
        if (!connection) throw new IpcError('disconnected', 'PublishToIoTCore', 'not connected to the nucleus', topic);
        await connection.publishToIoTCore(topic, Buffer.alloc(size, 0x2e), '0');
        sent += size;
      } catch (error) {
        if (error instanceof IpcError && error.kind === 'unauthorized') {
          this.deps.logger.error(deniedFeatureCallMessage(this.deps.componentName, 'PublishToIoTCore', topic, 'drill'));
          this.end(`publishing was denied after ${sent} bytes`, running);
          return;
        }
        this.deps.logger.warn(`drill bytes-out: ${describeError(error)}; trying again`);
      }
      running.cancelTimers.push(this.deps.setTimer(gap, () => void next()));
    };
    void next();
  }
}

/**
 * Where the listening-port drill listens: the configured port; else the forbidden ports of not-in-port-set behaviors
 * on aws:listening-tcp-ports; else an ephemeral port (0) when it is outside every in-port-set's allowed ports, which
 * `listen` checks by trying.
 */
function candidatePorts(drill: DrillConfig, behaviors: readonly Behavior[]): number[] {
  if (drill.port !== undefined) return [drill.port];
  const tcp = behaviors.filter((b) => b.metric === 'aws:listening-tcp-ports' && b.criteria?.value.ports);
  const forbidden = tcp.filter((b) => b.criteria?.comparisonOperator === 'not-in-port-set').flatMap((b) => b.criteria?.value.ports ?? []);
  const allowed = new Set(
    tcp.filter((b) => b.criteria?.comparisonOperator === 'in-port-set').flatMap((b) => b.criteria?.value.ports ?? []),
  );
  const wanted = forbidden.filter((p) => p > 0 && !allowed.has(p));
  if (wanted.length > 0) return wanted.slice(0, PORT_ATTEMPTS);
  // Ephemeral ports are above 1024 and the allowed sets in practice name service ports; pick from a high range not allowed.
  const ports: number[] = [];
  for (let port = 40_000 + Math.floor(Math.random() * 20_000); ports.length < PORT_ATTEMPTS; port = port >= 65_000 ? 40_000 : port + 1) {
    if (!allowed.has(port)) ports.push(port);
  }
  return ports;
}
