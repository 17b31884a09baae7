/**
 * Conformance: the SDK adapter and the portable client go through the same scenario against the local core, through a
 * recording proxy on the Unix socket. What the core saw (its events, and every frame each client sent, decoded) and
 * what each client returned must be the same.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { accessControlFor, metricsTopics } from '../../src/component/definition';
import { decodeMessage, FrameSplitter } from '../../src/ipc/eventstream';
import { createGreengrassIpcConnector } from '../../src/ipc/greengrass-ipc';
import type { IpcConnector } from '../../src/ipc/ipc';
import { createPortableIpcConnector } from '../../src/ipc/portable/portable-ipc';
import { LocalCore } from '../../tools/local-core/core';
import { waitFor } from '../support/wait-for';

const COMPONENT = 'com.example.Agent';
const THING = 'ConformanceThing';
const topics = metricsTopics(THING, 'json');
const DENIED_TOPIC = '$aws/things/Someone/defender/metrics/json';

type Connect = (socketPath: string, authToken: string) => IpcConnector;

const clients: Array<[string, Connect]> = [
  ['sdk', (socketPath, authToken) => createGreengrassIpcConnector({ socketPath, authToken, operationTimeoutMs: 5_000 })],
  ['portable', (socketPath, authToken) => createPortableIpcConnector({ socketPath, authToken, operationTimeoutMs: 5_000 })],
];

/** Deployment ids are random per deployment; the rest of a validity report must match. */
function withoutDeploymentIds(payload: unknown): unknown {
  const report = (payload as { configurationValidityReport?: Record<string, unknown> } | null)?.configurationValidityReport;
  return report ? { configurationValidityReport: { ...report, deploymentId: typeof report.deploymentId } } : payload;
}

/** A Unix socket proxy in front of the core that decodes every frame the client sends. */
async function recordingProxy(listenPath: string, targetPath: string) {
  const sent: Array<Record<string, unknown>> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.createConnection({ path: targetPath });
    sockets.add(client).add(upstream);
    const splitter = new FrameSplitter();
    client.on('data', (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) {
        const message = decodeMessage(frame);
        const headers = Object.fromEntries(message.headers.map((h) => [h.name, `${h.value.type}:${String(h.value.value)}`]));
        const text = message.payload.toString('utf8');
        let payload: unknown = text;
        try {
          payload = text ? JSON.parse(text) : '';
        } catch {
          // not JSON: keep the text
        }
        sent.push({ headers, payload: withoutDeploymentIds(payload) });
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(listenPath, resolve));
  return {
    sent,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Observed {
  results: unknown[];
  coreEvents: unknown[];
  frames: Array<Record<string, unknown>>;
}

async function runScenario(connect: Connect): Promise<Observed> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conf-'));
  const core = new LocalCore({ socketPath: path.join(dir, 'core'), thingName: THING, defenderMinIntervalSeconds: 0 });
  await core.start();
  const { svcuid } = core.registerComponent(
    {
      name: COMPONENT,
      version: '1.0.0',
      configuration: { intervalSeconds: '300', format: 'json', accessControl: accessControlFor(COMPONENT, THING) },
    },
    { svcuid: 'CONFORMANCE00001' },
  );
  const coreEvents: unknown[] = [];
  core.on('connect', (e) => coreEvents.push(['connect', e]));
  core.on('disconnect', (e) => coreEvents.push(['disconnect', e]));
  core.on('subscribe', (e) => coreEvents.push(['subscribe', e]));
  core.on('publish', (e) => coreEvents.push(['publish', { ...e, payload: e.payload.toString('utf8') }]));
  core.on('denied', (e) => coreEvents.push(['denied', e]));
  core.on('local-publish', (e) => coreEvents.push(['local-publish', { ...e, payload: e.payload.toString('utf8') }]));
  core.on('config-validation', (e) => coreEvents.push(['config-validation', { ...e, deploymentId: typeof e.deploymentId }]));
  const proxy = await recordingProxy(path.join(dir, 'proxy'), core.socketPath);
  const results: unknown[] = [];
  try {
    const connection = await connect(path.join(dir, 'proxy'), svcuid).connect();
    const messages: string[] = [];
    const subscription = await connection.subscribeToIoTCore(topics.accepted, (payload, topic) => messages.push(`${topic} ${payload}`));
    await connection.publishToIoTCore(topics.publish, Buffer.from('{"hed":{"rid":1}}'), '1');
    core.deliverCloudMessage(topics.accepted, '{"status":"ACCEPTED"}');
    await waitFor(() => messages.length === 1);
    results.push(messages);
    results.push(await connection.getConfiguration([]));
    results.push(await connection.getConfiguration(['format']));
    results.push(await connection.getConfiguration(['missing']).catch((e: { kind: string; operation: string }) => [e.kind, e.operation]));
    results.push(
      await connection
        .publishToIoTCore(DENIED_TOPIC, Buffer.from('{}'), '0')
        .catch((e: { kind: string; operation: string; resource: string }) => [e.kind, e.operation, e.resource]),
    );
    results.push(
      await connection.publishToTopic?.('defender-agent/alarms', Buffer.from('{"alarm":1}')).then(
        () => 'published',
        (e: { kind: string; operation: string }) => [e.kind, e.operation],
      ),
    );
    const changes: string[][] = [];
    await connection.subscribeToConfigurationUpdate((keyPath) => changes.push(keyPath));
    await connection.subscribeToValidateConfigurationUpdates((request) => {
      const ok = request.configuration.format !== 'xml';
      void connection.sendConfigurationValidityReport(request.deploymentId, ok, ok ? undefined : 'format: must be json or cbor');
    });
    results.push(await core.deployConfiguration(COMPONENT, { merge: { format: 'xml' } }));
    results.push(await core.deployConfiguration(COMPONENT, { merge: { format: 'cbor' } }));
    await waitFor(() => changes.length > 0);
    results.push(changes);
    await subscription.close();
    await waitFor(
      () => proxy.sent.filter((f) => f.headers && (f.headers as Record<string, string>)[':message-flags'] === 'int32:2').length > 0,
    );
    await connection.close();
    await waitFor(() => coreEvents.some((e) => (e as unknown[])[0] === 'disconnect'));
  } finally {
    await proxy.stop();
    await core.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { results, coreEvents, frames: proxy.sent };
}

describe('conformance of the portable client to the SDK client', () => {
  let observed: Record<string, Observed>;

  beforeAll(async () => {
    observed = {};
    for (const [name, connect] of clients) observed[name] = await runScenario(connect);
  });

  it('runs the scenario to the end with each client (a vacuous comparison would pass on nothing)', () => {
    for (const [name] of clients) {
      expect(observed[name]!.results).toHaveLength(9);
      expect(observed[name]!.coreEvents.length).toBeGreaterThan(5);
    }
    expect(observed.sdk!.results[0]).toEqual([`${topics.accepted} {"status":"ACCEPTED"}`]);
  });

  it('returns the same values and error kinds from both clients', () => {
    expect(observed.portable!.results).toEqual(observed.sdk!.results);
  });

  it('makes the core see the same events in the same order', () => {
    expect(observed.portable!.coreEvents).toEqual(observed.sdk!.coreEvents);
  });

  it('sends the same frames: headers (names, types, values) and payloads', () => {
    expect(observed.portable!.frames).toEqual(observed.sdk!.frames);
  });
});
