/**
 * The portable client against a socket-level fake nucleus: a Unix socket server that records every frame the client
 * sends and answers with frames the test scripts, to pin the wire rules (headers, stream ids, flags, error shapes, ping).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  decodeMessage,
  type EventstreamMessage,
  encodeMessage,
  FrameSplitter,
  findHeader,
  type Header,
  int32Header,
  stringHeader,
} from '../../../src/ipc/eventstream';
import { type IpcConnection, IpcError } from '../../../src/ipc/ipc';
import { createPortableIpcConnector } from '../../../src/ipc/portable/portable-ipc';
import { waitFor } from '../../support/wait-for';

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  headers: Record<string, unknown>;
  payload: string;
}

function describeFrame(message: EventstreamMessage): Frame {
  const headers: Record<string, unknown> = {};
  for (const header of message.headers) headers[header.name] = header.value.value;
  const int = (name: string): number => {
    const value = findHeader(message, name);
    if (value?.type !== 'int32') throw new Error(`${name} is not an int32 header`);
    return value.value;
  };
  return {
    type: int(':message-type'),
    flags: int(':message-flags'),
    streamId: int(':stream-id'),
    headers,
    payload: message.payload.toString(),
  };
}

/** A scriptable nucleus: `onFrame` answers each client frame through `send`. */
class FakeSocketNucleus {
  readonly frames: Frame[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  onFrame: (frame: Frame, send: (frame: Omit<Frame, 'headers'> & { headers?: Header[] }) => void, socket: net.Socket) => void = () =>
    undefined;

  constructor(readonly socketPath: string) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const splitter = new FrameSplitter();
      const send = (frame: Omit<Frame, 'headers'> & { headers?: Header[] }): void => {
        const headers = [
          int32Header(':message-type', frame.type),
          int32Header(':message-flags', frame.flags),
          int32Header(':stream-id', frame.streamId),
          ...(frame.headers ?? []),
        ];
        socket.write(encodeMessage({ headers, payload: Buffer.from(frame.payload) }));
      };
      socket.on('data', (chunk: Buffer) => {
        for (const raw of splitter.push(chunk)) {
          const frame = describeFrame(decodeMessage(raw));
          this.frames.push(frame);
          this.onFrame(frame, send, socket);
        }
      });
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const json = (shape: string): Header[] => [stringHeader(':content-type', 'application/json'), stringHeader('service-model-type', shape)];

/** Accepts the connect and answers each operation with its modeled response (streaming ones stay open). */
function nucleusAnswering(
  answer: (frame: Frame) => { shape: string; body: unknown; type?: number; flags?: number; contentType?: string } | undefined,
) {
  return (frame: Frame, send: (f: Omit<Frame, 'headers'> & { headers?: Header[] }) => void): void => {
    if (frame.type === 4) {
      send({ type: 5, flags: 1, streamId: 0, payload: '' });
      return;
    }
    if (typeof frame.headers.operation !== 'string') return;
    const reply = answer(frame);
    if (!reply) return;
    const headers = reply.contentType ? [stringHeader(':content-type', reply.contentType)] : json(reply.shape);
    send({ type: reply.type ?? 0, flags: reply.flags ?? 2, streamId: frame.streamId, headers, payload: JSON.stringify(reply.body) });
  };
}

describe('portable IPC client on the wire', () => {
  let dir: string;
  let nucleus: FakeSocketNucleus;
  const connections: IpcConnection[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipc-'));
    nucleus = new FakeSocketNucleus(path.join(dir, 's'));
    await nucleus.listen();
  });

  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()));
    await nucleus.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function connect(operationTimeoutMs = 2_000): Promise<IpcConnection> {
    const connection = await createPortableIpcConnector({
      socketPath: nucleus.socketPath,
      authToken: 'TOKEN123',
      operationTimeoutMs,
    }).connect();
    connections.push(connection);
    return connection;
  }

  it('connects with the version header and the SVCUID, then opens streams 1, 2, 3 naming the operation', async () => {
    nucleus.onFrame = nucleusAnswering((frame) => ({ shape: `${frame.headers.operation}Response`, body: { value: { a: 1 } } }));
    const connection = await connect();
    await connection.publishToIoTCore('t/1', Buffer.from('hello'), '1');
    expect(await connection.getConfiguration(['a'])).toEqual({ a: 1 });
    await connection.sendConfigurationValidityReport('dep-1', false, 'bad');
    await connection.publishToTopic?.('local/alarms', Buffer.from('{"a":1}'));

    expect(nucleus.frames[0]).toEqual({
      type: 4,
      flags: 0,
      streamId: 0,
      headers: { ':message-type': 4, ':message-flags': 0, ':stream-id': 0, ':version': '0.1.0' },
      payload: '{"authToken":"TOKEN123"}',
    });
    const requests = nucleus.frames.slice(1);
    expect(requests.map((f) => [f.type, f.flags, f.streamId, f.headers.operation])).toEqual([
      [0, 0, 1, 'aws.greengrass#PublishToIoTCore'],
      [0, 0, 2, 'aws.greengrass#GetConfiguration'],
      [0, 0, 3, 'aws.greengrass#SendConfigurationValidityReport'],
      [0, 0, 4, 'aws.greengrass#PublishToTopic'],
    ]);
    expect(JSON.parse(requests[0]!.payload)).toEqual({ topicName: 't/1', qos: '1', payload: Buffer.from('hello').toString('base64') });
    expect(JSON.parse(requests[1]!.payload)).toEqual({ keyPath: ['a'] });
    expect(JSON.parse(requests[2]!.payload)).toEqual({
      configurationValidityReport: { status: 'REJECTED', deploymentId: 'dep-1', message: 'bad' },
    });
    expect(JSON.parse(requests[3]!.payload)).toEqual({
      topic: 'local/alarms',
      publishMessage: { binaryMessage: { message: Buffer.from('{"a":1}').toString('base64') } },
    });
  });

  it('refuses to go on when the ConnectAck lacks the accepted flag', async () => {
    nucleus.onFrame = (_frame, send, socket) => {
      send({ type: 5, flags: 0, streamId: 0, payload: '' });
      socket.end();
    };
    await expect(connect()).rejects.toMatchObject({
      kind: 'disconnected',
      operation: 'connect',
      message: expect.stringContaining('refused'),
    });
  });

  it('tells an unauthorized call from a service error by _errorCode, and reads a text/plain internal error', async () => {
    nucleus.onFrame = nucleusAnswering((frame) => {
      const topic = JSON.parse(frame.payload).topicName;
      if (topic === 'denied') {
        return {
          type: 1,
          shape: 'aws.greengrass#UnauthorizedError',
          body: { message: 'Not Authorized', _errorCode: 'UnauthorizedError', _message: 'Not Authorized' },
        };
      }
      if (topic === 'broken') return { type: 1, shape: '', contentType: 'text/plain', body: 'InternalServerError' };
      return { type: 1, shape: 'aws.greengrass#ServiceError', body: { message: 'queue full', _errorCode: 'ServiceError' } };
    });
    const connection = await connect();
    await expect(connection.publishToIoTCore('denied', Buffer.alloc(0), '1')).rejects.toMatchObject({
      kind: 'unauthorized',
      operation: 'PublishToIoTCore',
      resource: 'denied',
    });
    await expect(connection.publishToIoTCore('busy', Buffer.alloc(0), '1')).rejects.toMatchObject({
      kind: 'service',
      message: 'PublishToIoTCore failed: ServiceError: queue full',
    });
    await expect(connection.publishToIoTCore('broken', Buffer.alloc(0), '1')).rejects.toMatchObject({ kind: 'service' });
  });

  it('keeps a subscription open, decodes base64 events, and terminates the stream on close', async () => {
    let streamId = 0;
    let push: (payload: string) => void = () => undefined;
    nucleus.onFrame = (frame, send) => {
      if (frame.type === 4) send({ type: 5, flags: 1, streamId: 0, payload: '' });
      if (frame.headers.operation === 'aws.greengrass#SubscribeToIoTCore') {
        streamId = frame.streamId;
        send({ type: 0, flags: 0, streamId, headers: json('aws.greengrass#SubscribeToIoTCoreResponse'), payload: '{}' });
        push = (text) =>
          send({
            type: 0,
            flags: 0,
            streamId,
            headers: json('aws.greengrass#IoTCoreMessage'),
            payload: JSON.stringify({ message: { topicName: 'a/accepted', payload: Buffer.from(text).toString('base64') } }),
          });
      }
    };
    const connection = await connect();
    const received: string[] = [];
    const subscription = await connection.subscribeToIoTCore('a/accepted', (payload, topic) => received.push(`${topic} ${payload}`));
    push('one');
    push('two');
    await waitFor(() => received.length === 2);
    expect(received).toEqual(['a/accepted one', 'a/accepted two']);
    await subscription.close();
    await waitFor(() => nucleus.frames.some((f) => f.streamId === streamId && f.flags === 2));
    expect(nucleus.frames.find((f) => f.streamId === streamId && f.flags === 2)).toMatchObject({ type: 0, payload: '' });
  });

  it('answers no Ping, as the SDK client does: a flood of large ones gets nothing written back and calls go on', async () => {
    const ping = { type: 2, flags: 0, streamId: 0, headers: [stringHeader('x-probe', 'p1')], payload: 'p'.repeat(1024 * 1024) };
    nucleus.onFrame = (frame, send) => {
      if (frame.type === 4) {
        send({ type: 5, flags: 1, streamId: 0, payload: '' });
        for (let i = 0; i < 8; i += 1) send(ping);
        return;
      }
      if (frame.headers.operation === 'aws.greengrass#GetConfiguration')
        send({
          type: 0,
          flags: 2,
          streamId: frame.streamId,
          headers: json('aws.greengrass#GetConfigurationResponse'),
          payload: '{"value":1}',
        });
    };
    // 8 MiB of Pings follow the ConnectAck at once: on a busy machine their encoding alone can outlast a short deadline,
    // and what this test asserts is what is written back, not how fast.
    const connection = await connect(30_000);
    await expect(connection.getConfiguration(['x'])).resolves.toBe(1);
    expect(nucleus.frames.map((f) => f.type)).toEqual([4, 0]);
  });

  it('refuses a request too large for one frame as what it is, without taking a stream id', async () => {
    nucleus.onFrame = nucleusAnswering((frame) =>
      frame.headers.operation === 'aws.greengrass#GetConfiguration'
        ? { shape: 'aws.greengrass#GetConfigurationResponse', body: { value: 'ok' } }
        : { shape: 'aws.greengrass#PublishToIoTCoreResponse', body: {} },
    );
    const connection = await connect();
    const error = await connection.publishToIoTCore('t', Buffer.alloc(19 * 1024 * 1024), '1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect(error).toMatchObject({
      kind: 'service',
      operation: 'PublishToIoTCore',
      message: expect.stringMatching(
        /^PublishToIoTCore refused: the request is \d+ bytes, more than the 25165824 bytes one eventstream frame can carry$/,
      ),
    });
    await expect(connection.getConfiguration(['x'])).resolves.toBe('ok');
    await expect(connection.publishToIoTCore('t', Buffer.from('{}'), '1')).resolves.toBeUndefined();
    expect(nucleus.frames.filter((f) => f.streamId > 0).map((f) => f.streamId)).toEqual([1, 2]);
  });

  it('ends the connection as dead when the nucleus stops reading, instead of queueing what it writes', async () => {
    nucleus.onFrame = (frame, send, socket) => {
      if (frame.type !== 4) return;
      send({ type: 5, flags: 1, streamId: 0, payload: '' });
      socket.pause();
    };
    const connection = await connect(60_000);
    const reasons: string[] = [];
    connection.onDisconnect((reason) => reasons.push(reason));
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40 && reasons.length === 0; i += 1) {
      calls.push(connection.publishToIoTCore('t', Buffer.alloc(120_000), '1').catch((e: unknown) => e));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(() => reasons.length === 1, 5_000, 'the disconnection');
    expect(reasons[0]).toMatch(/^the nucleus stopped reading: \d+ bytes written to it are still waiting$/);
    for (const outcome of await Promise.all(calls)) expect(outcome).toMatchObject({ kind: 'disconnected' });
  });

  it('gives up on an unanswered call at the deadline and tells the nucleus to drop the stream', async () => {
    nucleus.onFrame = nucleusAnswering(() => undefined);
    const connection = await connect(200);
    const error = await connection.getConfiguration([]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect(error).toMatchObject({ kind: 'timeout', operation: 'GetConfiguration' });
    await waitFor(() => nucleus.frames.some((f) => f.streamId === 1 && f.flags === 2));
  });

  it('fails calls in flight at once and reports the disconnection once when the nucleus hangs up', async () => {
    nucleus.onFrame = (frame, send, socket) => {
      if (frame.type === 4) send({ type: 5, flags: 1, streamId: 0, payload: '' });
      else socket.destroy();
    };
    const connection = await connect(10_000);
    const reasons: string[] = [];
    connection.onDisconnect((reason) => reasons.push(reason));
    await expect(connection.getConfiguration([])).rejects.toMatchObject({ kind: 'disconnected', operation: 'GetConfiguration' });
    await waitFor(() => reasons.length === 1);
    await expect(connection.publishToIoTCore('t', Buffer.alloc(0), '0')).rejects.toMatchObject({ kind: 'disconnected' });
    expect(reasons).toHaveLength(1);
  });

  it('hangs up with a ProtocolError on a frame for a stream it never opened', async () => {
    nucleus.onFrame = (frame, send) => {
      if (frame.type === 4) {
        send({ type: 5, flags: 1, streamId: 0, payload: '' });
        send({ type: 0, flags: 0, streamId: 7, headers: json('aws.greengrass#IoTCoreMessage'), payload: '{}' });
      }
    };
    const connection = await connect();
    const reasons: string[] = [];
    connection.onDisconnect((reason) => reasons.push(reason));
    await waitFor(() => reasons.length === 1);
    expect(reasons[0]).toContain('never opened');
    // The client reports the hang-up at once; its ProtocolError frame reaches the server a moment later.
    await waitFor(() => nucleus.frames.some((f) => f.type === 6), 5_000, 'the ProtocolError frame at the server');
  });
});
