/**
 * Stream-id rules of the nucleus's IPC server (aws-c-event-stream `source/event_stream_rpc_server.c`): a new stream
 * takes the next id and names an operation; otherwise a ProtocolError on stream 0 and the connection closes.
 */
import { stringHeader } from '../../../src/ipc/eventstream';
import { LocalCore } from '../../../tools/local-core/core';
import { headerValue, RawClient, tempSocket, withDeadline, type TempSocket } from './wire-harness';

const AGENT = 'com.example.Agent';
const UPDATE_STATE = stringHeader('operation', 'aws.greengrass#UpdateState');
const RUNNING = JSON.stringify({ state: 'RUNNING' });
const APPLICATION_MESSAGE = 0;
const PROTOCOL_ERROR = 6;
const TERMINATE_STREAM = 2;

let socket: TempSocket;
let core: LocalCore;
let raw: RawClient;

beforeEach(async () => {
  socket = tempSocket();
  core = new LocalCore({ socketPath: socket.socketPath, thingName: 'T1' });
  const { svcuid } = core.registerComponent({ name: AGENT, version: '1.0.0', configuration: {} });
  await core.start();
  raw = await RawClient.open(socket.socketPath);
  raw.connect(svcuid);
  expect(headerValue(await raw.next('ConnectAck'), ':message-flags')).toBe(1);
});

afterEach(async () => {
  raw.destroy();
  await core.stop();
  socket.cleanup();
});

async function expectProtocolErrorAndClose(message: RegExp): Promise<void> {
  const reply = await raw.next('ProtocolError');
  expect(headerValue(reply, ':message-type')).toBe(PROTOCOL_ERROR);
  expect(headerValue(reply, ':stream-id')).toBe(0);
  expect(reply.payload.toString()).toMatch(message);
  await withDeadline(raw.closed, 'server hang-up');
}

async function updateState(streamId: number): Promise<void> {
  raw.send(APPLICATION_MESSAGE, 0, streamId, [UPDATE_STATE], RUNNING);
  const reply = await raw.next(`UpdateState response on ${streamId}`);
  expect(headerValue(reply, ':stream-id')).toBe(streamId);
  expect(headerValue(reply, 'service-model-type')).toBe('aws.greengrass#UpdateStateResponse');
}

describe('stream ids', () => {
  it('serves streams 1, 2, 3 in order', async () => {
    await updateState(1);
    await updateState(2);
    await updateState(3);
  });

  it('refuses a reused stream id and closes the connection', async () => {
    await updateState(1);
    raw.send(APPLICATION_MESSAGE, 0, 1, [UPDATE_STATE], RUNNING);
    await expectProtocolErrorAndClose(/lower than the last seen stream-id/);
  });

  it('refuses a stream id lower than the last one', async () => {
    await updateState(1);
    await updateState(2);
    raw.send(APPLICATION_MESSAGE, 0, 1, [UPDATE_STATE], RUNNING);
    await expectProtocolErrorAndClose(/lower than the last seen stream-id/);
  });

  it('refuses a new stream that skips an id', async () => {
    raw.send(APPLICATION_MESSAGE, 0, 2, [UPDATE_STATE], RUNNING);
    await expectProtocolErrorAndClose(/incremented by more than 1/);
  });

  it('refuses a new stream without an operation header', async () => {
    raw.send(APPLICATION_MESSAGE, 0, 1, [], RUNNING);
    await expectProtocolErrorAndClose(/must contain an operation header/);
  });

  it('refuses a new stream with an empty operation name', async () => {
    raw.send(APPLICATION_MESSAGE, 0, 1, [stringHeader('operation', '')], RUNNING);
    await expectProtocolErrorAndClose(/must contain an operation header/);
  });

  it('refuses a negative stream id, which the C runtime reads as above INT32_MAX', async () => {
    raw.send(APPLICATION_MESSAGE, 0, -1, [UPDATE_STATE], RUNNING);
    await expectProtocolErrorAndClose(/stream id max value is INT32_MAX/);
  });

  it('drops a TerminateStream for a stream the server already closed, and keeps serving', async () => {
    await updateState(1);
    raw.send(APPLICATION_MESSAGE, TERMINATE_STREAM, 1, []);
    await updateState(2);
  });
});
