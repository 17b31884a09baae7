/**
 * aws.greengrass.ipc.pubsub, Greengrass local publish/subscribe between the components of one core: PublishToTopic
 * and SubscribeToTopic, authorized against the component's pubsub policies. As the nucleus serves them (its
 * PubSubIPCEventStreamAgent): a subscription may use MQTT wildcards (`+`, `#`), its response names the topic, each
 * message goes out as a SubscriptionResponseMessage with the message in the form it was published (binaryMessage or
 * jsonMessage) and its topic in `context`, and with receiveMode RECEIVE_MESSAGES_FROM_OTHERS a component does not
 * receive its own messages.
 */
import { PUBLISH_TO_TOPIC_OPERATION } from '../../src/detect/permissions';
import type { ComponentRegistry } from './components';
import { isConfigObject } from './config-store';
import { type EmitEvent, type OperationHandler, type Request, stringField } from './core-events';
import type { RpcStream } from './rpc-connection';
import { ModeledError, qualified } from './service-model';
import { topicMatchesFilter } from './topics';

export const SUBSCRIBE_TO_TOPIC_OPERATION = 'aws.greengrass#SubscribeToTopic';
const SUBSCRIPTION_RESPONSE_MESSAGE = qualified('SubscriptionResponseMessage');
const RECEIVE_MODES = new Set(['RECEIVE_ALL_MESSAGES', 'RECEIVE_MESSAGES_FROM_OTHERS']);

interface LocalSubscription {
  component: string;
  filter: string;
  fromOthersOnly: boolean;
  stream: RpcStream;
}

/** A published message as the nucleus keeps it: binary, or a JSON value. */
type LocalMessage = { binary: Buffer } | { json: unknown };

export class LocalPubSub {
  private readonly subscriptions = new Set<LocalSubscription>();

  constructor(
    private readonly components: ComponentRegistry,
    private readonly emit: EmitEvent,
  ) {}

  handlers(): Array<[string, OperationHandler]> {
    return [
      [PUBLISH_TO_TOPIC_OPERATION, (stream, request) => this.publishToTopic(stream, request)],
      [SUBSCRIBE_TO_TOPIC_OPERATION, (stream, request) => this.subscribeToTopic(stream, request)],
    ];
  }

  private publishToTopic(stream: RpcStream, request: Request): unknown {
    const topic = stringField(request, 'topic');
    if (topic === undefined) throw new ModeledError('InvalidArgumentsError', 'Topic is required');
    this.components.authorize(stream.component, PUBLISH_TO_TOPIC_OPERATION, topic);
    const message = isConfigObject(request.publishMessage) ? request.publishMessage : {};
    const binary = isConfigObject(message.binaryMessage) ? stringField(message.binaryMessage, 'message') : undefined;
    const hasJson = isConfigObject(message.jsonMessage) && 'message' in message.jsonMessage;
    if (binary === undefined && !hasJson) throw new ModeledError('InvalidArgumentsError', 'Publish message is required');
    const published: LocalMessage =
      binary !== undefined ? { binary: Buffer.from(binary, 'base64') } : { json: (message.jsonMessage as Request).message };
    const payload = 'binary' in published ? published.binary : Buffer.from(JSON.stringify(published.json));
    this.emit('local-publish', { component: stream.component, topic, payload });
    // After the response has gone out, as the nucleus hands messages to its subscribers on another thread.
    setImmediate(() => this.deliver(stream.component, topic, published));
    return {};
  }

  private subscribeToTopic(stream: RpcStream, request: Request): unknown {
    const topic = stringField(request, 'topic');
    if (topic === undefined || topic === '') throw new ModeledError('InvalidArgumentsError', 'Subscribe topic must not be empty');
    const receiveMode = request.receiveMode ?? 'RECEIVE_ALL_MESSAGES';
    if (typeof receiveMode !== 'string' || !RECEIVE_MODES.has(receiveMode))
      throw new ModeledError('InvalidArgumentsError', `Invalid receive mode: ${String(receiveMode)}`);
    this.components.authorize(stream.component, SUBSCRIBE_TO_TOPIC_OPERATION, topic);
    const subscription: LocalSubscription = {
      component: stream.component,
      filter: topic,
      fromOthersOnly: receiveMode === 'RECEIVE_MESSAGES_FROM_OTHERS',
      stream,
    };
    this.subscriptions.add(subscription);
    stream.onClose(() => this.subscriptions.delete(subscription));
    return { topicName: topic };
  }

  private deliver(publisher: string, topic: string, message: LocalMessage): void {
    const context = { topic };
    const event =
      'binary' in message
        ? { binaryMessage: { message: message.binary.toString('base64'), context } }
        : { jsonMessage: { message: message.json, context } };
    for (const subscription of this.subscriptions) {
      if (!subscription.stream.isOpen || !topicMatchesFilter(subscription.filter, topic)) continue;
      if (subscription.fromOthersOnly && subscription.component === publisher) continue;
      subscription.stream.sendEvent(SUBSCRIPTION_RESPONSE_MESSAGE, event);
    }
  }
}
