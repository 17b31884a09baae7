import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { accessControlFor, metricsTopics } from '../../src/component/definition';
import { createGreengrassIpcConnector } from '../../src/ipc/greengrass-ipc';
import { createPortableIpcConnector } from '../../src/ipc/portable/portable-ipc';
import { type IpcConnection, IpcError } from '../../src/ipc/ipc';
import { LocalCore } from '../../tools/local-core/core';
import { waitFor } from '../support/wait-for';

const COMPONENT = 'com.example.Agent';
const THING = 'IpcThing';
const topics = metricsTopics(THING, 'json');

/** Both IPC clients behind the one interface, in the same scenarios against the local core over a Unix socket. */
describe.each([
  ['the SDK adapter (aws-iot-device-sdk-v2)', createGreengrassIpcConnector],
  ['the portable client', createPortableIpcConnector],
])('%s', (_name, createConnector) => {
  let dir: string;
  let core: LocalCore;
  let svcuid: string;
  const connections: IpcConnection[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipc-'));
    core = new LocalCore({ socketPath: path.join(dir, 's'), thingName: THING, defenderMinIntervalSeconds: 0 });
    await core.start();
    svcuid = core.registerComponent({
      name: COMPONENT,
      version: '1.0.0',
      configuration: { intervalSeconds: '300', format: 'json', accessControl: accessControlFor(COMPONENT, THING) },
    }).svcuid;
  });

  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()));
    await core.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function connect(authToken = svcuid, operationTimeoutMs = 5_000): Promise<IpcConnection> {
    const connection = await createConnector({ socketPath: core.socketPath, authToken, operationTimeoutMs }).connect();
    connections.push(connection);
    return connection;
  }

  it('publishes on an allowed topic and receives replies on a subscription', async () => {
    const connection = await connect();
    const received: Array<{ topic: string; text: string }> = [];
    await connection.subscribeToIoTCore(topics.accepted, (payload, topic) => received.push({ topic, text: payload.toString() }));
    const published = new Promise<{ topic: string; payload: Buffer; qos: string }>((resolve) => core.once('publish', resolve));
    await connection.publishToIoTCore(topics.publish, Buffer.from('{"x":1}'), '1');
    const event = await published;
    expect(event).toMatchObject({ topic: topics.publish, qos: '1' });
    expect(event.payload.toString()).toBe('{"x":1}');

    expect(core.deliverCloudMessage(topics.accepted, '{"status":"ACCEPTED"}')).toBe(1);
    await waitFor(() => received.length === 1);
    expect(received).toEqual([{ topic: topics.accepted, text: '{"status":"ACCEPTED"}' }]);
  });

  it('turns a denied call into an unauthorized IpcError naming the operation and topic', async () => {
    const connection = await connect();
    const other = '$aws/things/Someone/defender/metrics/json';
    const error = await connection.publishToIoTCore(other, Buffer.from('{}'), '1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect(error).toMatchObject({ kind: 'unauthorized', operation: 'PublishToIoTCore', resource: other });
    await expect(connection.subscribeToIoTCore(`${other}/accepted`, () => undefined)).rejects.toMatchObject({ kind: 'unauthorized' });
  });

  it('says when the nucleus ends a subscription on a live connection, and only then', async () => {
    const connection = await connect();
    const ended: string[] = [];
    const received: string[] = [];
    await connection.subscribeToIoTCore(
      topics.accepted,
      (payload) => received.push(payload.toString()),
      (reason) => ended.push(`accepted: ${reason}`),
    );
    const rejected = await connection.subscribeToIoTCore(
      topics.rejected,
      () => undefined,
      (reason) => ended.push(`rejected: ${reason}`),
    );
    await rejected.close();
    expect(core.endIoTCoreSubscriptions(topics.accepted)).toBe(1);
    await waitFor(() => ended.length > 0, 5_000, 'the end of the subscription');
    expect(core.deliverCloudMessage(topics.accepted, '{"status":"ACCEPTED"}')).toBe(0);
    await connection.subscribeToIoTCore(
      topics.accepted,
      (payload) => received.push(payload.toString()),
      (reason) => ended.push(`renewed: ${reason}`),
    );
    expect(core.deliverCloudMessage(topics.accepted, '{"status":"ACCEPTED"}')).toBe(1);
    await waitFor(() => received.length === 1, 5_000, 'the reply on the renewed subscription');
    const disconnected = new Promise((resolve) => connection.onDisconnect(resolve));
    await core.stop();
    await disconnected;
    // A lost connection ends the streams too: that is the disconnection's news, not the subscriptions'.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ended).toEqual(['accepted: terminated by the server']);
  });

  it("words an InvalidArgumentsError as the other client does, listed in the operation's model or not", async () => {
    const connection = await connect();
    // PublishToIoTCore's model lists ServiceError and UnauthorizedError only: the SDK client cannot read the body.
    const unlisted = await connection.publishToIoTCore(topics.publish, Buffer.from('{}'), '2' as '1').catch((e: unknown) => e);
    expect(unlisted).toBeInstanceOf(IpcError);
    expect(unlisted).toMatchObject({
      kind: 'service',
      operation: 'PublishToIoTCore',
      message:
        "PublishToIoTCore failed: InvalidArgumentsError (an error PublishToIoTCore's service model does not list; the SDK client cannot read its message)",
    });
    const listed = await connection.sendConfigurationValidityReport('no-such-deployment', true).catch((e: unknown) => e);
    expect(listed).toMatchObject({
      kind: 'service',
      operation: 'SendConfigurationValidityReport',
      message: 'SendConfigurationValidityReport failed: InvalidArgumentsError: Validation request either timed out or was never made',
    });
  });

  it('reads the configuration and hears about changes', async () => {
    const connection = await connect();
    expect(await connection.getConfiguration([])).toMatchObject({ intervalSeconds: '300', format: 'json' });
    const changed: string[][] = [];
    await connection.subscribeToConfigurationUpdate((keyPath) => changed.push(keyPath));
    await core.deployConfiguration(COMPONENT, { merge: { format: 'cbor' } });
    await waitFor(() => changed.length > 0);
    expect(changed).toContainEqual(['format']);
    expect(await connection.getConfiguration([])).toMatchObject({ format: 'cbor' });
  });

  it('takes part in deployment validation', async () => {
    const connection = await connect();
    const sent: Array<Promise<void>> = [];
    await connection.subscribeToValidateConfigurationUpdates((request) => {
      const ok = request.configuration.format !== 'xml';
      sent.push(connection.sendConfigurationValidityReport(request.deploymentId, ok, ok ? undefined : 'format: must be json or cbor'));
    });
    await expect(core.deployConfiguration(COMPONENT, { merge: { format: 'xml' } })).resolves.toEqual({
      status: 'REJECTED',
      message: expect.stringContaining('format: must be json or cbor'),
    });
    await expect(core.deployConfiguration(COMPONENT, { merge: { format: 'cbor' } })).resolves.toMatchObject({ status: 'APPLIED' });
    await Promise.all(sent);
    expect(sent).toHaveLength(2);
  });

  it('refuses to connect with an unknown token', async () => {
    await expect(connect('NOT-A-TOKEN')).rejects.toMatchObject({ kind: 'disconnected', operation: 'connect' });
  });

  it('reports the disconnection and fails calls at once when the nucleus goes away', async () => {
    const connection = await connect();
    const reasons: string[] = [];
    connection.onDisconnect((reason) => reasons.push(reason));
    await core.stop();
    await waitFor(() => reasons.length === 1);
    await expect(connection.publishToIoTCore(topics.publish, Buffer.from('{}'), '1')).rejects.toMatchObject({ kind: 'disconnected' });
  });

  it('gives up on a silent nucleus at the deadline instead of hanging', async () => {
    const silentPath = path.join(dir, 'q');
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(silentPath, resolve));
    try {
      const connector = createConnector({ socketPath: silentPath, authToken: svcuid, operationTimeoutMs: 300 });
      await expect(connector.connect()).rejects.toMatchObject({ kind: 'timeout', operation: 'connect' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
