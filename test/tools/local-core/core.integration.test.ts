/**
 * The local core against the REAL aws-iot-device-sdk-v2 greengrasscoreipc client over a Unix socket.
 */
import { decode } from 'cbor-x';
import { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  accessControlFor,
  metricsTopics,
  MQTT_PROXY_SERVICE,
  PUBLISH_OPERATION,
  SUBSCRIBE_OPERATION,
} from '../../../src/component/definition';
import { LocalCore, type DefenderReportEvent, type LocalCoreEvents } from '../../../tools/local-core/core';
import { stringHeader } from '../../../src/ipc/eventstream';
import { encodeReport } from '../../../src/report/encode';
import {
  call,
  ClientPool,
  EventQueue,
  headerValue,
  nextEvent,
  RawClient,
  rejectionOf,
  tempSocket,
  withDeadline,
  type TempSocket,
} from './harness';

type Client = greengrasscoreipc.Client;
type IoTCoreMessage = greengrasscoreipc.model.IoTCoreMessage;
const { QOS, ReportedLifecycleState, ConfigurationValidityStatus } = greengrasscoreipc.model;

const AGENT = 'com.example.Agent';
const OTHER = 'com.example.Other';
const THING = 'T1';
const NOT_AUTHORIZED = {
  message: 'Not Authorized',
  _service: 'aws.greengrass#GreengrassCoreIPC',
  _message: 'Not Authorized',
  _errorCode: 'UnauthorizedError',
};
const validReport = { header: { report_id: 1700000000, version: '1.0' }, metrics: {} };

function agentConfiguration(): Record<string, unknown> {
  const accessControl = accessControlFor(AGENT, THING);
  const policies = accessControl[MQTT_PROXY_SERVICE]!;
  policies['test:telemetry'] = { policyDescription: 'test', operations: [PUBLISH_OPERATION], resources: ['telemetry/#'] };
  policies['test:commands'] = { policyDescription: 'test', operations: [SUBSCRIBE_OPERATION], resources: ['cmd/+/in'] };
  return { intervalSeconds: '300', Nested: { Level: 'x', list: [1, 2] }, accessControl };
}

const everythingAllowed = { [MQTT_PROXY_SERVICE]: { all: { operations: ['*'], resources: ['*'] } } };

let socket: TempSocket;
let core: LocalCore;
let now: number;
let agentToken: string;
let otherToken: string;
const clients = new ClientPool();

function newCore(options: Partial<ConstructorParameters<typeof LocalCore>[0]> = {}): LocalCore {
  return new LocalCore({ socketPath: socket.socketPath, thingName: THING, now: () => now, ...options });
}

beforeEach(async () => {
  socket = tempSocket();
  now = 1_000_000;
  core = newCore();
  agentToken = core.registerComponent({ name: AGENT, version: '1.0.0', configuration: agentConfiguration() }).svcuid;
  otherToken = core.registerComponent({
    name: OTHER,
    version: '2.0.0',
    configuration: { accessControl: everythingAllowed, color: 'blue' },
  }).svcuid;
  await core.start();
});

afterEach(async () => {
  await clients.closeAll();
  await core.stop();
  socket.cleanup();
});

function eventOf<K extends keyof LocalCoreEvents>(event: K): Promise<LocalCoreEvents[K][0]> {
  return nextEvent(core, event);
}

async function subscribe(client: Client, topicName: string): Promise<{ messages: EventQueue<IoTCoreMessage>; close: () => Promise<void> }> {
  const messages = new EventQueue<IoTCoreMessage>();
  const operation = client.subscribeToIoTCore({ topicName, qos: QOS.AT_LEAST_ONCE });
  operation.on('message', messages.push);
  await withDeadline(operation.activate(), `subscribe ${topicName}`);
  return { messages, close: () => withDeadline(operation.close(), 'close stream') };
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  await withDeadline(
    (async () => {
      while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    what,
  );
}

describe('connect', () => {
  it('accepts a registered token and tracks the connection', async () => {
    const connected = eventOf('connect');
    const client = await clients.connect(socket.socketPath, agentToken);
    expect(await connected).toEqual({ component: AGENT });
    expect(core.connectedComponents()).toEqual([AGENT]);
    const disconnected = eventOf('disconnect');
    await client.close();
    expect(await disconnected).toEqual({ component: AGENT });
    expect(core.connectedComponents()).toEqual([]);
  });

  it.each([
    ['an unknown token', 'NOT-A-TOKEN'],
    ['no token (empty Connect payload)', undefined],
  ])('refuses %s the way the nucleus does', async (_, token) => {
    const error = await rejectionOf(clients.connect(socket.socketPath, token));
    // HandshakeError (2) or NetworkError (5), depending on whether the close beats the ConnectAck.
    expect([2, 5]).toContain(error.type);
    expect(core.connectedComponents()).toEqual([]);
  });

  it('answers a wrong :version with ConnectAck flags 0, then hangs up', async () => {
    const raw = await RawClient.open(socket.socketPath);
    raw.connect(agentToken, '0.2.0');
    const ack = await raw.next('ConnectAck');
    expect(headerValue(ack, ':message-type')).toBe(5);
    expect(headerValue(ack, ':message-flags')).toBe(0);
    await withDeadline(raw.closed, 'server hang-up');
  });

  it('echoes a Ping with its non-":" headers', async () => {
    const raw = await RawClient.open(socket.socketPath);
    raw.connect(agentToken);
    expect(headerValue(await raw.next('ConnectAck'), ':message-flags')).toBe(1);
    raw.send(2, 0, 0, [stringHeader('x-probe', 'p1')], 'ping!');
    const pong = await raw.next('PingResponse');
    expect(headerValue(pong, ':message-type')).toBe(3);
    expect(headerValue(pong, 'x-probe')).toBe('p1');
    expect(pong.payload.toString()).toBe('ping!');
    raw.destroy();
  });
});

describe('PublishToIoTCore', () => {
  it('publishes on an allowed topic, payload decoded', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const published = eventOf('publish');
    await call((options) => client.publishToIoTCore({ topicName: 'telemetry/a/b', qos: QOS.AT_LEAST_ONCE, payload: 'hello' }, options));
    const event = await published;
    expect(event).toMatchObject({ component: AGENT, topic: 'telemetry/a/b', qos: '1' });
    expect(event.payload.toString()).toBe('hello');
  });

  it('denies an unauthorized topic with the nucleus UnauthorizedError payload', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const denied = eventOf('denied');
    const error = await rejectionOf(
      call((options) => client.publishToIoTCore({ topicName: 'other/topic', qos: QOS.AT_MOST_ONCE, payload: 'x' }, options)),
    );
    expect(error.type).toBe(8);
    expect(error.serviceError).toEqual(NOT_AUTHORIZED);
    expect(await denied).toEqual({ component: AGENT, operation: PUBLISH_OPERATION, resource: 'other/topic' });
  });

  it('answers an invalid QoS with InvalidArgumentsError (not in the op model, so the SDK reports InternalError)', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const error = await rejectionOf(
      call((options) =>
        client.publishToIoTCore({ topicName: 'telemetry/x', qos: '2' as greengrasscoreipc.model.QOS, payload: 'x' }, options),
      ),
    );
    expect(error.type).toBe(3);
    expect(String(error.description)).toContain("'aws.greengrass#InvalidArgumentsError'");
  });

  it('frames a success like the nucleus: TerminateStream, service-model-type, JSON content type, "{}"', async () => {
    const raw = await RawClient.open(socket.socketPath);
    raw.connect(agentToken);
    await raw.next('ConnectAck');
    raw.send(
      0,
      0,
      1,
      [stringHeader('operation', PUBLISH_OPERATION)],
      JSON.stringify({ topicName: 'telemetry/x', qos: '0', payload: 'eA==' }),
    );
    const reply = await raw.next('response');
    expect(headerValue(reply, ':message-type')).toBe(0);
    expect(headerValue(reply, ':message-flags')).toBe(2);
    expect(headerValue(reply, ':stream-id')).toBe(1);
    expect(headerValue(reply, 'service-model-type')).toBe('aws.greengrass#PublishToIoTCoreResponse');
    expect(headerValue(reply, ':content-type')).toBe('application/json');
    expect(reply.payload.toString()).toBe('{}');
    raw.destroy();
  });

  it('sends InvalidArgumentsError with message and _errorCode on the wire', async () => {
    const raw = await RawClient.open(socket.socketPath);
    raw.connect(agentToken);
    await raw.next('ConnectAck');
    raw.send(
      0,
      0,
      1,
      [stringHeader('operation', PUBLISH_OPERATION)],
      JSON.stringify({ topicName: 'telemetry/x', qos: '2', payload: 'eA==' }),
    );
    const reply = await raw.next('error reply');
    expect(headerValue(reply, ':message-type')).toBe(1);
    expect(headerValue(reply, ':message-flags')).toBe(2);
    expect(headerValue(reply, 'service-model-type')).toBe('aws.greengrass#InvalidArgumentsError');
    expect(JSON.parse(reply.payload.toString())).toMatchObject({ message: 'Invalid QoS value: 2', _errorCode: 'InvalidArgumentsError' });
    raw.send(0, 0, 2, [stringHeader('operation', PUBLISH_OPERATION)], JSON.stringify({ qos: '0', payload: 'eA==' }));
    expect(JSON.parse((await raw.next('no topic')).payload.toString())).toMatchObject({ message: 'Topic is required' });
    raw.send(0, 0, 3, [stringHeader('operation', PUBLISH_OPERATION)], JSON.stringify({ topicName: 'telemetry/x', qos: '0' }));
    expect(JSON.parse((await raw.next('no payload')).payload.toString())).toMatchObject({ message: 'Payload is required' });
    raw.destroy();
  });

  it('applies the IoT Core topic limits as ServiceError', async () => {
    const client = await clients.connect(socket.socketPath, otherToken);
    const wildcard = await rejectionOf(
      call((options) => client.publishToIoTCore({ topicName: 'a/+', qos: QOS.AT_MOST_ONCE, payload: 'x' }, options)),
    );
    expect(wildcard.serviceError).toMatchObject({
      _errorCode: 'ServiceError',
      message: expect.stringContaining('must not contain wildcard'),
    });
    const deep = await rejectionOf(
      call((options) => client.publishToIoTCore({ topicName: '1/2/3/4/5/6/7/8/9', qos: QOS.AT_MOST_ONCE, payload: 'x' }, options)),
    );
    expect(deep.serviceError).toMatchObject({
      _errorCode: 'ServiceError',
      message: expect.stringContaining('no more than 7 forward slashes'),
    });
  });
});

describe('SubscribeToIoTCore', () => {
  it('delivers matching messages as IoTCoreMessage and unsubscribes when the client closes the stream', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const subscribed = eventOf('subscribe');
    const subscription = await subscribe(client, 'cmd/+/in');
    expect(await subscribed).toEqual({ component: AGENT, topic: 'cmd/+/in' });
    expect(core.deliverCloudMessage('cmd/x/out', 'ignored')).toBe(0);
    expect(core.deliverCloudMessage('cmd/x/in', 'hi')).toBe(1);
    const { message } = await subscription.messages.next();
    expect(message?.topicName).toBe('cmd/x/in');
    expect(Buffer.isBuffer(message?.payload)).toBe(true);
    expect(message?.payload?.toString()).toBe('hi');
    await subscription.close();
    await waitUntil(() => core.deliverCloudMessage('cmd/x/in', 'late') === 0, 'unsubscribe');
  });

  it('denies a subscription outside the policy', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const error = await rejectionOf(subscribe(client, 'cmd/#'));
    expect(error.serviceError).toEqual(NOT_AUTHORIZED);
  });

  it('routes one component publish to another component subscribed to it', async () => {
    const listener = await clients.connect(socket.socketPath, otherToken);
    const publisher = await clients.connect(socket.socketPath, agentToken);
    const subscription = await subscribe(listener, 'telemetry/#');
    await call((options) =>
      publisher.publishToIoTCore({ topicName: 'telemetry/t', qos: QOS.AT_MOST_ONCE, payload: Buffer.from([1, 2]) }, options),
    );
    const { message } = await subscription.messages.next();
    expect(message?.payload).toEqual(Buffer.from([1, 2]));
  });
});

describe('configuration', () => {
  it('GetConfiguration: leaf quirk, objects, case-insensitive keys, other components, missing keys', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const get = (request: greengrasscoreipc.model.GetConfigurationRequest) => call((options) => client.getConfiguration(request, options));
    expect(await get({ keyPath: ['intervalSeconds'] })).toEqual({ componentName: AGENT, value: { intervalSeconds: '300' } });
    expect(await get({ keyPath: ['NESTED', 'level'] })).toEqual({ componentName: AGENT, value: { Level: 'x' } });
    expect((await get({ keyPath: ['nested'] })).value).toEqual({ Level: 'x', list: [1, 2] });
    expect((await get({ keyPath: [] })).value).toEqual(agentConfiguration());
    expect(await get({ componentName: OTHER, keyPath: ['color'] })).toEqual({ componentName: OTHER, value: { color: 'blue' } });
    for (const request of [{ keyPath: ['missing'] }, { componentName: 'com.example.Unknown', keyPath: [] }]) {
      const error = await rejectionOf(get(request));
      expect(error.type).toBe(8);
      expect(error.serviceError).toMatchObject({ _errorCode: 'ResourceNotFoundError', message: 'Key not found' });
    }
  });

  it('SubscribeToConfigurationUpdate: one event per changed node under the subscribed path', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const all = new EventQueue<greengrasscoreipc.model.ConfigurationUpdateEvents>();
    const nested = new EventQueue<greengrasscoreipc.model.ConfigurationUpdateEvents>();
    const allOperation = client.subscribeToConfigurationUpdate({ keyPath: [] });
    allOperation.on('message', all.push);
    await withDeadline(allOperation.activate(), 'subscribe all');
    const nestedOperation = client.subscribeToConfigurationUpdate({ keyPath: ['nested'] });
    nestedOperation.on('message', nested.push);
    await withDeadline(nestedOperation.activate(), 'subscribe nested');

    const result = await core.deployConfiguration(AGENT, { merge: { intervalSeconds: '600', nested: { level: 'y' } } });
    expect(result).toEqual({ status: 'APPLIED' });
    expect(await all.next()).toEqual({ configurationUpdateEvent: { componentName: AGENT, keyPath: ['intervalSeconds'] } });
    expect(await all.next()).toEqual({ configurationUpdateEvent: { componentName: AGENT, keyPath: ['Nested', 'Level'] } });
    expect(await nested.next()).toEqual({ configurationUpdateEvent: { componentName: AGENT, keyPath: ['Nested', 'Level'] } });
    expect(await call((options) => client.getConfiguration({ keyPath: ['intervalSeconds'] }, options))).toMatchObject({
      value: { intervalSeconds: '600' },
    });

    await core.deployConfiguration(AGENT, { reset: ['/intervalSeconds'] });
    expect(await all.next()).toEqual({ configurationUpdateEvent: { componentName: AGENT, keyPath: ['intervalSeconds'] } });
    expect(core.getConfiguration(AGENT).intervalSeconds).toBe('300');
    expect(nested.buffered).toBe(0);
    await withDeadline(allOperation.close(), 'close');
    await withDeadline(nestedOperation.close(), 'close');
  });

  it('refuses to subscribe to a missing key', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const operation = client.subscribeToConfigurationUpdate({ keyPath: ['nope'] });
    const error = await rejectionOf(withDeadline(operation.activate(), 'activate'));
    expect(error.serviceError).toMatchObject({ _errorCode: 'ResourceNotFoundError' });
  });
});

describe('configuration validation', () => {
  async function validator(
    client: Client,
    decide: (event: greengrasscoreipc.model.ValidateConfigurationUpdateEvent) => greengrasscoreipc.model.ConfigurationValidityReport,
  ) {
    const seen: greengrasscoreipc.model.ValidateConfigurationUpdateEvent[] = [];
    const operation = client.subscribeToValidateConfigurationUpdates({});
    operation.on('message', (events) => {
      const event = events.validateConfigurationUpdateEvent!;
      seen.push(event);
      void client.sendConfigurationValidityReport({ configurationValidityReport: decide(event) });
    });
    await withDeadline(operation.activate(), 'subscribe validation');
    return seen;
  }

  it('asks the validator with the proposed configuration and applies on ACCEPTED', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const seen = await validator(client, (event) => ({ status: ConfigurationValidityStatus.ACCEPTED, deploymentId: event.deploymentId }));
    const reported = eventOf('config-validation');
    expect(await core.deployConfiguration(AGENT, { merge: { intervalSeconds: '900' } })).toEqual({ status: 'APPLIED' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.configuration).toMatchObject({ intervalSeconds: '900', Nested: { Level: 'x' } });
    expect(await reported).toEqual({ component: AGENT, deploymentId: seen[0]!.deploymentId, status: 'ACCEPTED' });
    expect(core.getConfiguration(AGENT).intervalSeconds).toBe('900');
  });

  it('keeps the configuration when the validator rejects, passing its message on', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    await validator(client, (event) => ({
      status: ConfigurationValidityStatus.REJECTED,
      deploymentId: event.deploymentId,
      message: 'intervalSeconds too small',
    }));
    const result = await core.deployConfiguration(AGENT, { merge: { intervalSeconds: '1' } });
    expect(result.status).toBe('REJECTED');
    expect(result.message).toContain(`name = ${AGENT}, message = intervalSeconds too small`);
    expect(core.getConfiguration(AGENT).intervalSeconds).toBe('300');
  });

  it('fails the deployment when no report comes in time, like the nucleus', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const operation = client.subscribeToValidateConfigurationUpdates({});
    await withDeadline(operation.activate(), 'subscribe validation');
    const result = await core.deployConfiguration(AGENT, { merge: { intervalSeconds: '1' } }, { validationTimeoutMs: 50 });
    expect(result).toMatchObject({ status: 'REJECTED', message: expect.stringContaining('validation report') });
    expect(core.getConfiguration(AGENT).intervalSeconds).toBe('300');
  });

  it('answers a report nobody asked for with InvalidArgumentsError', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const error = await rejectionOf(
      call((options) =>
        client.sendConfigurationValidityReport(
          { configurationValidityReport: { status: ConfigurationValidityStatus.ACCEPTED, deploymentId: 'd' } },
          options,
        ),
      ),
    );
    expect(error.serviceError).toMatchObject({
      _errorCode: 'InvalidArgumentsError',
      message: 'Validation request either timed out or was never made',
    });
  });
});

describe('authorization follows configuration', () => {
  it('re-reads accessControl after a deployment removes a permission', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const publish = () =>
      call((options) => client.publishToIoTCore({ topicName: 'telemetry/x', qos: QOS.AT_MOST_ONCE, payload: 'x' }, options));
    await publish();
    await core.deployConfiguration(AGENT, {
      merge: { accessControl: { [MQTT_PROXY_SERVICE]: { 'test:telemetry': { resources: ['elsewhere'] } } } },
    });
    expect((await rejectionOf(publish())).serviceError).toEqual(NOT_AUTHORIZED);
  });

  it('treats {iot:thingName} literally unless interpolateComponentConfiguration is on', async () => {
    const configuration = {
      accessControl: JSON.stringify({
        [MQTT_PROXY_SERVICE]: { p: { operations: [PUBLISH_OPERATION], resources: ['things/{iot:thingName}/x'] } },
      }),
    };
    for (const interpolate of [false, true]) {
      await core.stop();
      core = newCore({ interpolateComponentConfiguration: interpolate });
      const token = core.registerComponent({ name: 'com.example.Vars', version: '1.0.0', configuration }).svcuid;
      await core.start();
      const client = await clients.connect(socket.socketPath, token);
      const publish = (topicName: string) =>
        call((options) => client.publishToIoTCore({ topicName, qos: QOS.AT_MOST_ONCE, payload: 'x' }, options));
      if (interpolate) {
        await publish('things/T1/x');
        expect(core.getConfiguration('com.example.Vars').accessControl).toContain('things/T1/x');
      } else {
        await publish('things/{iot:thingName}/x');
        expect((await rejectionOf(publish('things/T1/x'))).serviceError).toEqual(NOT_AUTHORIZED);
      }
    }
  });

  it('denies everything when accessControl is malformed', async () => {
    await core.stop();
    core = newCore();
    const problem = eventOf('access-control-error');
    const token = core.registerComponent({
      name: 'com.example.Broken',
      version: '1.0.0',
      configuration: {
        accessControl: {
          [MQTT_PROXY_SERVICE]: { ok: { operations: ['*'], resources: ['*'] }, bad: { operations: '*', resources: ['*'] } },
        },
      },
    }).svcuid;
    expect((await problem).component).toBe('com.example.Broken');
    await core.start();
    const client = await clients.connect(socket.socketPath, token);
    const error = await rejectionOf(
      call((options) => client.publishToIoTCore({ topicName: 'any', qos: QOS.AT_MOST_ONCE, payload: 'x' }, options)),
    );
    expect(error.serviceError).toEqual(NOT_AUTHORIZED);
  });
});

describe('UpdateState and unsupported operations', () => {
  it('reports lifecycle state and refuses unknown states with ServiceError', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const state = eventOf('state');
    expect(await call((options) => client.updateState({ state: ReportedLifecycleState.RUNNING }, options))).toEqual({});
    expect(await state).toEqual({ component: AGENT, state: 'RUNNING' });
    const error = await rejectionOf(
      call((options) => client.updateState({ state: 'BROKEN' as greengrasscoreipc.model.ReportedLifecycleState }, options)),
    );
    expect(error.serviceError).toMatchObject({ _errorCode: 'ServiceError' });
  });

  it('answers a modeled operation it does not implement with ServiceError', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const error = await rejectionOf(call((options) => client.getSecretValue({ secretId: 's' }, options)));
    expect(error.type).toBe(8);
    expect(error.serviceError).toMatchObject({
      _errorCode: 'ServiceError',
      message: 'Operation aws.greengrass#GetSecretValue is not supported by Greengrass',
    });
  });

  it('answers an operation outside the model with the raw Unsupported Operation error', async () => {
    const raw = await RawClient.open(socket.socketPath);
    raw.connect(agentToken);
    await raw.next('ConnectAck');
    raw.send(0, 0, 1, [stringHeader('operation', 'aws.greengrass#Teleport')], '{}');
    const reply = await raw.next('unsupported');
    expect(headerValue(reply, ':message-type')).toBe(1);
    expect(headerValue(reply, ':message-flags')).toBe(2);
    expect(headerValue(reply, 'service-model-type')).toBeUndefined();
    expect(JSON.parse(reply.payload.toString())).toEqual({
      error: 'Unsupported Operation',
      message: 'aws.greengrass#Teleport is an unsupported operation.',
    });
    raw.destroy();
  });
});

describe('Device Defender fake', () => {
  const json = metricsTopics(THING, 'json');
  const cbor = metricsTopics(THING, 'cbor');

  async function publishReport(client: Client, topicName: string, payload: Buffer): Promise<DefenderReportEvent> {
    const report = eventOf('defender-report');
    await call((options) => client.publishToIoTCore({ topicName, qos: QOS.AT_LEAST_ONCE, payload }, options));
    return report;
  }

  it('accepts, rejects and throttles JSON reports, replying only on subscribed topics', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const accepted = await subscribe(client, json.accepted);
    const rejected = await subscribe(client, json.rejected);

    const ok = await publishReport(client, json.publish, encodeReport(validReport, 'json'));
    expect(ok).toMatchObject({
      component: AGENT,
      thingName: THING,
      format: 'json',
      status: 'ACCEPTED',
      reportId: 1700000000,
      errors: [],
      tooSoon: false,
    });
    const acceptedReply = await accepted.messages.next();
    expect(acceptedReply.message?.topicName).toBe(json.accepted);
    expect(JSON.parse(acceptedReply.message!.payload!.toString())).toEqual({
      thingName: THING,
      reportId: 1700000000,
      status: 'ACCEPTED',
      timestamp: now,
    });

    now += 300_000;
    const bad = await publishReport(
      client,
      json.publish,
      Buffer.from(JSON.stringify({ header: { report_id: 5, version: 'one' }, metrics: {} })),
    );
    expect(bad.status).toBe('REJECTED');
    const rejectedReply = JSON.parse((await rejected.messages.next()).message!.payload!.toString());
    expect(rejectedReply).toMatchObject({
      thingName: THING,
      reportId: 5,
      status: 'REJECTED',
      statusDetails: { ErrorCode: 'InvalidPayload' },
    });
    expect(rejectedReply.statusDetails.ErrorMessage).toMatch(/^Malformed metrics report: header\.version/);

    const throttled = await publishReport(client, json.publish, encodeReport(validReport, 'json'));
    expect(throttled).toMatchObject({ status: 'ACCEPTED', tooSoon: false });
    await accepted.messages.next();
    now += 1_000;
    const tooSoon = await publishReport(client, json.publish, encodeReport(validReport, 'json'));
    expect(tooSoon).toMatchObject({ status: 'REJECTED', tooSoon: true, errors: [] });
    expect(JSON.parse((await rejected.messages.next()).message!.payload!.toString()).statusDetails.ErrorCode).toBe('Throttled');
    expect(accepted.messages.buffered + rejected.messages.buffered).toBe(0);
  });

  it('replies in CBOR on the CBOR topic, and not at all to a topic nobody subscribed', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const rejected = await subscribe(client, cbor.rejected);
    // Accepted: no /accepted subscriber, so the next message on /rejected must be the rejection below.
    expect((await publishReport(client, cbor.publish, encodeReport(validReport, 'cbor'))).status).toBe('ACCEPTED');
    now += 300_000;
    expect((await publishReport(client, cbor.publish, Buffer.from([0xff, 0x00]))).status).toBe('REJECTED');
    const { message } = await rejected.messages.next();
    expect(message?.topicName).toBe(cbor.rejected);
    expect(decode(message!.payload as Buffer)).toMatchObject({
      thingName: THING,
      status: 'REJECTED',
      statusDetails: { ErrorCode: 'InvalidPayload' },
    });
  });
});

describe('stop and restart', () => {
  it('removes the socket file and disconnects clients; a new core with the same svcuid takes them back', async () => {
    const client = await clients.connect(socket.socketPath, agentToken);
    const disconnection = new Promise<void>((resolve) => client.on('disconnection', () => resolve()));
    await core.stop();
    await core.stop();
    expect(fs.existsSync(socket.socketPath)).toBe(false);
    await withDeadline(disconnection, 'client disconnection');

    core = newCore();
    core.registerComponent({ name: AGENT, version: '1.0.0', configuration: agentConfiguration() }, { svcuid: agentToken });
    await core.start();
    const again = await clients.connect(socket.socketPath, agentToken);
    expect(core.connectedComponents()).toEqual([AGENT]);
    await call((options) => again.publishToIoTCore({ topicName: 'telemetry/x', qos: QOS.AT_MOST_ONCE, payload: 'x' }, options));
  });

  it("keeps the fake Defender's throttle memory in stateDir, so a too-soon report after a restart is rejected", async () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lc-state-'));
    try {
      await core.stop();
      core = newCore({ stateDir });
      core.registerComponent({ name: AGENT, version: '1.0.0', configuration: agentConfiguration() }, { svcuid: agentToken });
      await core.start();
      const topic = metricsTopics(THING, 'json').publish;
      const publish = async (client: Client): Promise<DefenderReportEvent> => {
        const report = eventOf('defender-report');
        await call((options) =>
          client.publishToIoTCore({ topicName: topic, qos: QOS.AT_LEAST_ONCE, payload: encodeReport(validReport, 'json') }, options),
        );
        return report;
      };
      expect((await publish(await clients.connect(socket.socketPath, agentToken))).status).toBe('ACCEPTED');
      await clients.closeAll();
      await core.stop();

      now += 60_000;
      core = newCore({ stateDir });
      core.registerComponent({ name: AGENT, version: '1.0.0', configuration: agentConfiguration() }, { svcuid: agentToken });
      await core.start();
      expect(await publish(await clients.connect(socket.socketPath, agentToken))).toMatchObject({ status: 'REJECTED', tooSoon: true });
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('keeps the svcuid when a component is registered again', () => {
    expect(core.registerComponent({ name: AGENT, version: '1.1.0', configuration: { a: 1 } })).toEqual({ svcuid: agentToken });
    expect(core.getConfiguration(AGENT)).toEqual({ a: 1 });
  });

  it('replaces a stale socket file but refuses a path a live server answers on', async () => {
    await core.stop();
    const stalePath = `${socket.socketPath}2`;
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(socket.socketPath, resolve));
    fs.linkSync(socket.socketPath, stalePath);
    const stale = new LocalCore({ socketPath: stalePath, thingName: THING });
    const blocked = new LocalCore({ socketPath: socket.socketPath, thingName: THING });
    try {
      await expect(blocked.start()).rejects.toThrow(/another server is listening/);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      expect(fs.existsSync(stalePath)).toBe(true);
      await stale.start();
    } finally {
      await stale.stop();
      server.close();
    }
    expect(fs.existsSync(stalePath)).toBe(false);
  });
});
