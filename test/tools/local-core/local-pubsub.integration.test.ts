/**
 * Greengrass local publish/subscribe on the local core, through the REAL aws-iot-device-sdk-v2 client over a Unix
 * socket: SubscribeToTopic is served as the nucleus serves it (a component that reacts to the agent's local alarms
 * subscribes this way), authorized against aws.greengrass.ipc.pubsub.
 */
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { PUBLISH_TO_TOPIC_OPERATION, PUBSUB_SERVICE } from '../../../src/detect/permissions';
import { LocalCore } from '../../../tools/local-core/core';
import { SUBSCRIBE_TO_TOPIC_OPERATION } from '../../../tools/local-core/local-pubsub';
import { call, ClientPool, EventQueue, rejectionOf, type TempSocket, tempSocket, withDeadline } from './harness';

type Client = greengrasscoreipc.Client;
type SubscriptionResponseMessage = greengrasscoreipc.model.SubscriptionResponseMessage;
const { ReceiveMode } = greengrasscoreipc.model;

const LISTENER = 'com.example.Listener';
const PUBLISHER = 'com.example.Publisher';

function pubsub(operations: string[], resources: string[]): Record<string, unknown> {
  return { accessControl: { [PUBSUB_SERVICE]: { 'test:local': { operations, resources } } } };
}

let socket: TempSocket;
let core: LocalCore;
let listenerToken: string;
let publisherToken: string;
const clients = new ClientPool();

beforeEach(async () => {
  socket = tempSocket();
  core = new LocalCore({ socketPath: socket.socketPath, thingName: 'T1' });
  listenerToken = core.registerComponent({
    name: LISTENER,
    version: '1.0.0',
    configuration: pubsub([SUBSCRIBE_TO_TOPIC_OPERATION], ['local/+/state']),
  }).svcuid;
  publisherToken = core.registerComponent({
    name: PUBLISHER,
    version: '1.0.0',
    configuration: pubsub([PUBLISH_TO_TOPIC_OPERATION, SUBSCRIBE_TO_TOPIC_OPERATION], ['local/a/state', 'local/a/other']),
  }).svcuid;
  await core.start();
});

afterEach(async () => {
  await clients.closeAll();
  await core.stop();
  socket.cleanup();
});

async function subscribeToTopic(client: Client, topic: string, receiveMode?: greengrasscoreipc.model.ReceiveMode) {
  const messages = new EventQueue<SubscriptionResponseMessage>();
  const operation = client.subscribeToTopic({ topic, ...(receiveMode ? { receiveMode } : {}) });
  operation.on('message', messages.push);
  const response = await withDeadline(operation.activate(), `subscribe ${topic}`);
  return { messages, response };
}

function publish(client: Client, topic: string, message: greengrasscoreipc.model.PublishMessage) {
  return call((options) => client.publishToTopic({ topic, publishMessage: message }, options));
}

describe('SubscribeToTopic', () => {
  it('answers with the topic and delivers matching binary and JSON messages with their topic, as published', async () => {
    const listener = await clients.connect(socket.socketPath, listenerToken);
    const publisher = await clients.connect(socket.socketPath, publisherToken);
    const { messages, response } = await subscribeToTopic(listener, 'local/+/state');
    expect(response).toEqual({ topicName: 'local/+/state' });
    await publish(publisher, 'local/a/other', { binaryMessage: { message: Buffer.from('not for the listener') } });
    await publish(publisher, 'local/a/state', { binaryMessage: { message: Buffer.from([1, 2, 3]) } });
    await publish(publisher, 'local/a/state', { jsonMessage: { message: { alarm: 'in-alarm' } } });
    const binary = await messages.next('the binary message');
    expect(Buffer.from(binary.binaryMessage!.message as ArrayBuffer)).toEqual(Buffer.from([1, 2, 3]));
    expect(binary.binaryMessage!.context).toEqual({ topic: 'local/a/state' });
    expect(binary.jsonMessage).toBeUndefined();
    const json = await messages.next('the JSON message');
    expect(json.jsonMessage).toEqual({ message: { alarm: 'in-alarm' }, context: { topic: 'local/a/state' } });
  });

  it('keeps a component its own messages with RECEIVE_MESSAGES_FROM_OTHERS, and gives them with the default', async () => {
    const publisher = await clients.connect(socket.socketPath, publisherToken);
    const others = await subscribeToTopic(publisher, 'local/a/state', ReceiveMode.RECEIVE_MESSAGES_FROM_OTHERS);
    const all = await subscribeToTopic(publisher, 'local/a/state');
    await publish(publisher, 'local/a/state', { binaryMessage: { message: Buffer.from('own') } });
    const received = await all.messages.next('its own message');
    expect(Buffer.from(received.binaryMessage!.message as ArrayBuffer).toString()).toBe('own');
    expect(others.messages.buffered).toBe(0);
  });

  it('denies a subscription outside the pubsub policy with UnauthorizedError', async () => {
    const listener = await clients.connect(socket.socketPath, listenerToken);
    const error = await rejectionOf(subscribeToTopic(listener, 'local/#'));
    expect(error.serviceError).toMatchObject({ _errorCode: 'UnauthorizedError', message: 'Not Authorized' });
  });
});
