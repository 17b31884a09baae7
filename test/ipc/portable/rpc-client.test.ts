/**
 * The portable client's frame reading against a socket-level server: a Ping's payload is dropped as it streams in, so
 * a server cannot make the client hold what it sends.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { encodeMessage, FrameSplitter, type Header, int32Header, stringHeader } from '../../../src/ipc/eventstream';
import { RpcClient } from '../../../src/ipc/portable/rpc-client';
import { waitFor } from '../../support/wait-for';

const frame = (type: number, streamId: number, payload: Buffer, flags = 0, headers: Header[] = []): Buffer =>
  encodeMessage({
    headers: [int32Header(':message-type', type), int32Header(':message-flags', flags), int32Header(':stream-id', streamId), ...headers],
    payload,
  });

/** Writes `data` and resolves once the socket handed it to the kernel: then the reader has taken all but its buffer. */
const written = (socket: net.Socket, data: Buffer): Promise<void> =>
  new Promise((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : resolve())));

describe('RpcClient reading Pings', () => {
  let dir: string;
  let server: net.Server;
  let peer: net.Socket | undefined;
  let client: RpcClient | undefined;
  const requests: Buffer[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpc-ping-'));
    requests.length = 0;
    server = net.createServer((socket) => {
      peer = socket;
      const splitter = new FrameSplitter();
      socket.on('data', (chunk: Buffer) => {
        for (const raw of splitter.push(chunk)) {
          requests.push(raw);
          // The first frame is the Connect: accept it.
          if (requests.length === 1) socket.write(frame(5, 0, Buffer.alloc(0), 1));
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 's'), resolve));
    client = await RpcClient.connect({ socketPath: path.join(dir, 's'), authToken: 'token' });
  });

  afterEach(async () => {
    client?.destroy();
    peer?.destroy();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('drops a large Ping as it streams in, holding none of its payload, and reads the frames after it', async () => {
    const replies: string[] = [];
    const stream = client!.openStream('aws.greengrass#GetConfiguration', Buffer.from('{}'), {
      onMessage: (message) => replies.push(message.payload.toString()),
      onEnd: () => undefined,
    });
    const ping = frame(2, 0, Buffer.alloc(16 * 1024 * 1024, 0x70), 0, [stringHeader('x-probe', 'p')]);
    // All of the Ping but its last byte: the client has read nearly 16 MiB of an incomplete frame.
    await written(peer!, ping.subarray(0, ping.length - 1));
    expect(client!.bufferedBytes).toBeLessThan(64 * 1024);
    await written(peer!, Buffer.concat([ping.subarray(ping.length - 1), frame(0, stream.id, Buffer.from('{"value":1}'), 2)]));
    await waitFor(() => replies.length === 1);
    expect(replies).toEqual(['{"value":1}']);
    expect(client!.isClosed).toBe(false);
    // Nothing was written back for the Ping: the Connect and the request only.
    expect(requests).toHaveLength(2);
  });

  it('still refuses a Ping whose message CRC is wrong, as a protocol error', async () => {
    const ping = frame(2, 0, Buffer.alloc(4 * 1024 * 1024, 0x70));
    ping.writeUInt8(ping.readUInt8(ping.length - 10) ^ 1, ping.length - 10);
    const closed = new Promise<string>((resolve) => client!.onClose(resolve));
    await written(peer!, ping);
    expect(await closed).toBe('protocol error: unreadable frame: message CRC mismatch');
  });
});
