/**
 * aws.greengrass.ipc.mqttproxy (PublishToIoTCore, SubscribeToIoTCore) with a loopback "cloud": what a component
 * publishes reaches every matching subscriber, and reports on the Device Defender topics get the fake's reply.
 */
import { PUBLISH_OPERATION, SUBSCRIBE_OPERATION } from '../../src/component/definition';
import type { ComponentRegistry } from './components';
import { stringField, type EmitEvent, type OperationHandler, type Request } from './core-events';
import type { DefenderFake } from './defender-fake';
import type { RpcStream } from './rpc-connection';
import { ModeledError, Shapes } from './service-model';
import { iotCoreTopicProblem, topicMatchesFilter } from './topics';

const QOS_VALUES = new Set(['0', '1']);

interface IotSubscription {
  component: string;
  filter: string;
  stream: RpcStream;
}

export interface MqttProxyOptions {
  components: ComponentRegistry;
  defender: DefenderFake;
  emit: EmitEvent;
  /** False once the core stops: messages still in flight are dropped. */
  isRunning: () => boolean;
}

export class MqttProxy {
  private readonly subscriptions = new Set<IotSubscription>();

  constructor(private readonly options: MqttProxyOptions) {}

  handlers(): Array<[string, OperationHandler]> {
    return [
      [PUBLISH_OPERATION, (stream, request) => this.publishToIoTCore(stream, request)],
      [SUBSCRIBE_OPERATION, (stream, request) => this.subscribeToIoTCore(stream, request)],
    ];
  }

  /** Every open subscription whose filter matches gets the message; returns how many did. */
  deliver(topic: string, payload: Buffer): number {
    let delivered = 0;
    for (const subscription of this.subscriptions) {
      if (subscription.stream.isOpen && topicMatchesFilter(subscription.filter, topic)) {
        subscription.stream.sendEvent(Shapes.ioTCoreMessage, { message: { topicName: topic, payload: payload.toString('base64') } });
        delivered += 1;
      }
    }
    return delivered;
  }

  /**
   * Ends every open subscription to exactly `filter` from the server's side (a TerminateStream on its stream), as a
   * nucleus does when its own MQTT subscription goes away; the connection stays up. Returns how many ended.
   */
  endSubscriptions(filter: string): number {
    let ended = 0;
    for (const subscription of [...this.subscriptions]) {
      if (subscription.filter !== filter || !subscription.stream.isOpen) continue;
      subscription.stream.close();
      ended += 1;
    }
    return ended;
  }

  private publishToIoTCore(stream: RpcStream, request: Request): unknown {
    const topic = stringField(request, 'topicName');
    if (topic === undefined) throw new ModeledError('InvalidArgumentsError', 'Topic is required');
    this.options.components.authorize(stream.component, PUBLISH_OPERATION, topic);
    const encoded = stringField(request, 'payload');
    if (encoded === undefined) throw new ModeledError('InvalidArgumentsError', 'Payload is required');
    const qos = request.qos;
    if (typeof qos !== 'string' || !QOS_VALUES.has(qos))
      throw new ModeledError('InvalidArgumentsError', `Invalid QoS value: ${String(qos)}`);
    const problem = iotCoreTopicProblem(topic, 'publish');
    if (problem !== undefined) throw new ModeledError('ServiceError', `Publish to topic ${topic} failed: ${problem}`);
    const payload = Buffer.from(encoded, 'base64');
    this.options.emit('publish', { component: stream.component, topic, qos, payload });
    // After the response has gone out, like a broker round trip.
    setImmediate(() => this.route(stream.component, topic, payload));
    return {};
  }

  private route(component: string, topic: string, payload: Buffer): void {
    if (!this.options.isRunning()) return;
    this.deliver(topic, payload);
    const outcome = this.options.defender.handle(topic, payload);
    if (!outcome) return;
    const { reply, ...report } = outcome;
    this.options.emit('defender-report', { component, ...report });
    this.deliver(reply.topic, reply.payload);
  }

  private subscribeToIoTCore(stream: RpcStream, request: Request): unknown {
    const topic = stringField(request, 'topicName');
    if (topic === undefined) throw new ModeledError('InvalidArgumentsError', 'Topic is required');
    this.options.components.authorize(stream.component, SUBSCRIBE_OPERATION, topic);
    const problem = iotCoreTopicProblem(topic, 'subscribe');
    if (problem !== undefined) throw new ModeledError('ServiceError', `Subscribe to topic ${topic} failed with error ${problem}`);
    const subscription: IotSubscription = { component: stream.component, filter: topic, stream };
    this.subscriptions.add(subscription);
    stream.onClose(() => this.subscriptions.delete(subscription));
    this.options.emit('subscribe', { component: stream.component, topic });
    return {};
  }
}
