import net from 'node:net';
import { parseBehaviors } from '../../src/config/behaviors';
import { drill } from '../../src/config/detection';
import { DrillRunner, type DrillRecord } from '../../src/drill/drill';
import { LITE_IPC_FRAME_LIMIT_BYTES, maxPayloadBytes } from '../../src/ipc/frame-size';
import type { IpcConnection } from '../../src/ipc/ipc';
import { createLogger } from '../../src/log/logger';
import { FakeClock } from '../support/fake-clock';
import { FakeNucleus } from '../support/fake-ipc';
import { waitFor } from '../support/wait-for';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const tcpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

describe('DrillRunner', () => {
  let clock: FakeClock;
  let lines: string[];
  let record: DrillRecord | undefined;
  let nucleus: FakeNucleus;
  let connection: IpcConnection | undefined;
  let runner: DrillRunner;

  beforeEach(async () => {
    clock = new FakeClock();
    lines = [];
    record = undefined;
    nucleus = new FakeNucleus();
    connection = await nucleus.connect();
    runner = new DrillRunner({
      logger: createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }),
      connection: () => connection,
      now: () => clock.now(),
      setTimer: (ms, callback) => clock.setTimer(ms, callback),
      componentName: 'com.example.Agent',
      lastRecord: () => record,
      record: async (r) => {
        record = r;
      },
    });
  });
  afterEach(() => runner.stop());

  it('listening-port: listens on a forbidden port until its time is up, logging start and end at WARN', async () => {
    const port = await freePort();
    const behaviors = parseBehaviors([
      {
        name: 'no-drill-port',
        metric: 'aws:listening-tcp-ports',
        criteria: { comparisonOperator: 'not-in-port-set', value: { ports: [port] } },
      },
    ]);
    await runner.apply(drill({ kind: 'listening-port', durationSeconds: 60 }), behaviors, 'Core1');
    expect(await accepts(port)).toBe(true);
    expect(lines.find((l) => l.includes('DRILL listening-port started'))).toMatch(new RegExp(` WARN  .*127\\.0\\.0\\.1:${port}`));
    expect(record?.endsAtMs).toBe(clock.now() + 60_000);
    await clock.advance(59_000);
    expect(await accepts(port)).toBe(true);
    await clock.advance(1_000);
    await waitFor(() => lines.some((l) => l.includes('DRILL listening-port ended: its time is up')), 2_000, 'drill end');
    expect(await accepts(port)).toBe(false);
    expect(lines.find((l) => l.includes('ended'))).toMatch(/ WARN {2}/);
  });

  it('listening-port with an in-port-set: a port outside the allowed set', async () => {
    const behaviors = parseBehaviors([
      { name: 'allowed', metric: 'aws:listening-tcp-ports', criteria: { comparisonOperator: 'in-port-set', value: { ports: [22, 443] } } },
    ]);
    await runner.apply(drill({ kind: 'listening-port' }), behaviors, 'Core1');
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(lines.join('\n'))?.[1]);
    expect(port).toBeGreaterThan(1024);
    expect([22, 443]).not.toContain(port);
    expect(await accepts(port)).toBe(true);
  });

  it('does not run a drill that already ran, nor one past its expiry; resumes one that was running until its original end', async () => {
    const config = drill({ kind: 'listening-port', durationSeconds: 30 });
    record = { fingerprint: JSON.stringify(config), endsAtMs: clock.now() - 1 };
    await runner.apply(config, [], 'Core1');
    expect(lines.join('\n')).toMatch(/already ran/);
    expect(lines.some((l) => l.includes('started'))).toBe(false);

    await runner.apply(drill({ kind: 'listening-port', expiresAt: (clock.now() - 1000) / 1000 }), [], 'Core1');
    expect(lines.join('\n')).toMatch(/not started: it expired/);

    record = { fingerprint: JSON.stringify(config), endsAtMs: clock.now() + 10_000 };
    await runner.apply(config, [], 'Core1');
    expect(lines.some((l) => l.includes('started'))).toBe(true);
    await clock.advance(10_000);
    expect(lines.some((l) => l.includes('ended: its time is up'))).toBe(true);
  });

  it('resumes a drill whose saved end lies further than its duration (the clock went back) for its duration at most', async () => {
    const config = drill({ kind: 'listening-port', durationSeconds: 120 });
    record = { fingerprint: JSON.stringify(config), endsAtMs: clock.now() + 24 * 3_600_000 };
    await runner.apply(config, [], 'Core1');
    expect(lines.join('\n')).toMatch(/WARN .*drill listening-port: its saved end .* is more than its 120 s away \(the clock went back/);
    expect(record.endsAtMs).toBe(clock.now() + 120_000);
    await clock.advance(119_000);
    expect(lines.some((l) => l.includes('ended'))).toBe(false);
    await clock.advance(1_000);
    expect(lines.some((l) => l.includes('DRILL listening-port ended: its time is up'))).toBe(true);
  });

  it('connections: opens the configured number of loopback connections and closes them on stop', async () => {
    const before = tcpSockets();
    await runner.apply(drill({ kind: 'connections', connections: 20 }), [], 'Core1');
    await waitFor(() => tcpSockets() >= before + 40, 2_000, '20 connections, both ends');
    await runner.stop();
    await waitFor(() => tcpSockets() <= before, 2_000, 'connections closed');
    expect(lines.find((l) => l.includes('ended'))).toMatch(/WARN {2}DRILL connections ended: the agent is stopping/);
  });

  it('bytes-out: publishes exactly the configured bytes of padding to the drill topic, then ends', async () => {
    await runner.apply(drill({ kind: 'bytes-out', bytes: 100_000, durationSeconds: 10 }), [], 'Core1');
    await clock.advance(10_000);
    const sent = nucleus.published.filter((m) => m.topic === 'defender-agent/Core1/drill');
    expect(sent.reduce((sum, m) => sum + m.payload.length, 0)).toBe(100_000);
    expect(Math.max(...sent.map((m) => m.payload.length))).toBeLessThanOrEqual(32 * 1024);
    expect(lines.some((l) => l.includes('DRILL bytes-out ended: all 100000 bytes sent'))).toBe(true);
  });

  it('bytes-out on nucleus lite: every piece fits its 10,000-byte IPC message, and all bytes go out on one connection', async () => {
    await runner.stop();
    nucleus.frameLimit = LITE_IPC_FRAME_LIMIT_BYTES;
    runner = new DrillRunner({
      logger: createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }),
      connection: () => connection,
      now: () => clock.now(),
      setTimer: (ms, callback) => clock.setTimer(ms, callback),
      componentName: 'com.example.Agent',
      lastRecord: () => record,
      record: async (r) => {
        record = r;
      },
      frameLimit: () => LITE_IPC_FRAME_LIMIT_BYTES,
    });
    await runner.apply(drill({ kind: 'bytes-out', bytes: 100_000, durationSeconds: 10 }), [], 'Core1');
    await clock.advance(10_000);
    const topic = 'defender-agent/Core1/drill';
    const sent = nucleus.published.filter((m) => m.topic === topic);
    expect(nucleus.oversizedFrames).toBe(0);
    expect(sent.reduce((sum, m) => sum + m.payload.length, 0)).toBe(100_000);
    expect(Math.max(...sent.map((m) => m.payload.length))).toBe(maxPayloadBytes('PublishToIoTCore', topic, LITE_IPC_FRAME_LIMIT_BYTES));
    expect(lines.some((l) => l.includes('DRILL bytes-out ended: all 100000 bytes sent'))).toBe(true);
  });

  it('bytes-out: a denied publish names the permission and ends the drill', async () => {
    nucleus.deniedTopics.add('defender-agent/Core1/drill');
    await runner.apply(drill({ kind: 'bytes-out' }), [], 'Core1');
    await clock.advance(1_000);
    expect(lines.join('\n')).toContain('com.example.Agent:mqttproxy:publish-drill');
    expect(lines.some((l) => l.includes('ended: publishing was denied after 0 bytes'))).toBe(true);
  });

  it('removing the drill from the configuration stops it', async () => {
    const port = await freePort();
    await runner.apply(drill({ kind: 'listening-port', port }), [], 'Core1');
    expect(await accepts(port)).toBe(true);
    await runner.apply(undefined, [], 'Core1');
    expect(lines.some((l) => l.includes('ended: the drill was removed from the configuration'))).toBe(true);
    expect(await accepts(port)).toBe(false);
  });
});
