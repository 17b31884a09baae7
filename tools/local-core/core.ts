/**
 * A development stand-in for the Greengrass nucleus's IPC server: the unmodified
 * aws-iot-device-sdk-v2 greengrasscoreipc client connects to it over a Unix socket, and a fake
 * Device Defender answers the reports it publishes. Behaviour follows the nucleus source as
 * recorded in shared/docs/greengrass-ipc.md.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { MQTT_PROXY_SERVICE, PUBLISH_OPERATION, SUBSCRIBE_OPERATION } from '../../src/component/definition';
import { interpolateThingName, parseServicePolicies, PolicyTable } from './authorization';
import {
  changedPaths,
  configurationValue,
  findKey,
  isConfigObject,
  isWithin,
  lookup,
  mergeConfiguration,
  resetConfiguration,
  type ConfigObject,
} from './config-store';
import { DefenderFake, type DefenderOutcome } from './defender-fake';
import { FileThrottle } from './throttle-memory';
import { RpcConnection, type RpcStream } from './rpc-connection';
import {
  KEY_NOT_FOUND,
  MODELED_OPERATIONS,
  ModeledError,
  NOT_AUTHORIZED,
  qualified,
  responseShape,
  Shapes,
  unsupportedModeledOperation,
  unsupportedOperationBody,
} from './service-model';
import { iotCoreTopicProblem, topicMatchesFilter } from './topics';

export interface LocalCoreOptions {
  /** Unix socket to listen on (keep it under 108 bytes). */
  socketPath: string;
  thingName: string;
  /** Substitute `{iot:thingName}` into component configuration, accessControl included. Default false, like the nucleus. */
  interpolateComponentConfiguration?: boolean;
  /** Device Defender accepts one report per thing per this many seconds. Default 300. */
  defenderMinIntervalSeconds?: number;
  /** Millisecond clock, for tests. */
  now?: () => number;
  /**
   * The core's own state directory. When set, the fake Device Defender keeps its throttle memory in it, so a report
   * sent too soon after a core restart is still caught, as the service would. Default: memory only.
   */
  stateDir?: string;
}

/** `configuration` is the recipe's DefaultConfiguration, accessControl included. */
export interface ComponentRegistration {
  name: string;
  version: string;
  configuration: Record<string, unknown>;
}

/** `reset` holds JSON pointers applied before `merge`, like a deployment's configurationUpdate. */
export interface ConfigurationUpdate {
  merge?: Record<string, unknown>;
  reset?: string[];
}

export interface DeploymentResult {
  status: 'APPLIED' | 'REJECTED';
  message?: string;
}

export type DefenderReportEvent = Omit<DefenderOutcome, 'reply'> & { component: string };

export type LocalCoreEvents = {
  connect: [{ component: string }];
  disconnect: [{ component: string }];
  publish: [{ component: string; topic: string; qos: string; payload: Buffer }];
  subscribe: [{ component: string; topic: string }];
  denied: [{ component: string; operation: string; resource: string }];
  'defender-report': [DefenderReportEvent];
  state: [{ component: string; state: string }];
  'config-validation': [{ component: string; deploymentId: string; status: string; message?: string }];
  /** The component's accessControl did not parse, so the nucleus would deny all its calls. */
  'access-control-error': [{ component: string; problem: string }];
};

const DEFAULT_DEFENDER_MIN_INTERVAL_SECONDS = 300;
/**
 * The nucleus waits for validation reports for the deployment's configurationValidationPolicy
 * timeout (30 s by default in the GreengrassV2 API) and fails the deployment when it expires.
 */
const DEFAULT_VALIDATION_TIMEOUT_MS = 30_000;
const SVCUID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SVCUID_LENGTH = 16;
const QOS_VALUES = new Set(['0', '1']);
const LIFECYCLE_STATES = new Set(['RUNNING', 'ERRORED']);

interface ComponentRecord {
  name: string;
  version: string;
  svcuid: string;
  defaults: ConfigObject;
  configuration: ConfigObject;
  policies: PolicyTable;
}

interface IotSubscription {
  component: string;
  filter: string;
  stream: RpcStream;
}

interface ConfigSubscription {
  target: string;
  keyPath: string[];
  stream: RpcStream;
}

interface ValidityReport {
  status: string;
  deploymentId: string;
  message?: string;
}

type Request = Record<string, unknown>;
type OperationHandler = (stream: RpcStream, request: Request) => unknown;

function newSvcuid(): string {
  return Array.from({ length: SVCUID_LENGTH }, () => SVCUID_ALPHABET[randomInt(SVCUID_ALPHABET.length)]).join('');
}

function stringField(request: Request, name: string): string | undefined {
  const value = request[name];
  return typeof value === 'string' ? value : undefined;
}

function keyPathField(request: Request): string[] {
  const value = request.keyPath;
  return Array.isArray(value) ? value.map(String) : [];
}

export class LocalCore extends EventEmitter<LocalCoreEvents> {
  readonly socketPath: string;
  private readonly thingName: string;
  private readonly interpolate: boolean;
  private readonly defender: DefenderFake;
  private readonly components = new Map<string, ComponentRecord>();
  private readonly componentsByToken = new Map<string, string>();
  private readonly connections = new Set<RpcConnection>();
  private readonly iotSubscriptions = new Set<IotSubscription>();
  private readonly configSubscriptions = new Set<ConfigSubscription>();
  /** The nucleus keeps one validation subscriber per component: the first one. */
  private readonly validators = new Map<string, RpcStream>();
  private readonly pendingValidations = new Map<string, (report: ValidityReport | string) => void>();
  private readonly handlers: ReadonlyMap<string, OperationHandler>;
  private server: net.Server | undefined;
  private stopping: Promise<void> | undefined;
  private deployments: Promise<unknown> = Promise.resolve();

  constructor(options: LocalCoreOptions) {
    super();
    this.socketPath = options.socketPath;
    this.thingName = options.thingName;
    this.interpolate = options.interpolateComponentConfiguration ?? false;
    const now = options.now ?? Date.now;
    this.defender = new DefenderFake({
      minIntervalMs: (options.defenderMinIntervalSeconds ?? DEFAULT_DEFENDER_MIN_INTERVAL_SECONDS) * 1000,
      now,
      ...(options.stateDir === undefined ? {} : { throttle: new FileThrottle(options.stateDir) }),
    });
    this.handlers = new Map<string, OperationHandler>([
      [PUBLISH_OPERATION, (stream, request) => this.publishToIoTCore(stream, request)],
      [SUBSCRIBE_OPERATION, (stream, request) => this.subscribeToIoTCore(stream, request)],
      [qualified('GetConfiguration'), (stream, request) => this.getConfigurationOperation(stream, request)],
      [qualified('SubscribeToConfigurationUpdate'), (stream, request) => this.subscribeToConfigurationUpdate(stream, request)],
      [qualified('SubscribeToValidateConfigurationUpdates'), (stream) => this.subscribeToValidateConfigurationUpdates(stream)],
      [qualified('SendConfigurationValidityReport'), (stream, request) => this.sendConfigurationValidityReport(stream, request)],
      [qualified('UpdateState'), (stream, request) => this.updateState(stream, request)],
    ]);
  }

  async start(): Promise<void> {
    if (this.server) throw new Error(`local core already listening on ${this.socketPath}`);
    await removeStaleSocket(this.socketPath);
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.stopping = undefined;
  }

  /** Closes the server, destroys every connection (clients see a disconnection) and removes the socket file. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = undefined;
    for (const settle of [...this.pendingValidations.values()]) settle('the local core stopped');
    for (const connection of this.connections) connection.destroy();
    this.stopping = new Promise<void>((resolve) => server.close(() => resolve())).then(() => fs.rmSync(this.socketPath, { force: true }));
    return this.stopping;
  }

  /**
   * Registering the same name again keeps its svcuid (unless another is given) and replaces version
   * and configuration. A fixed svcuid lets a restarted core accept the tokens of running components.
   */
  registerComponent(registration: ComponentRegistration, options: { svcuid?: string } = {}): { svcuid: string } {
    const existing = this.components.get(registration.name);
    const svcuid = options.svcuid ?? existing?.svcuid ?? newSvcuid();
    const owner = this.componentsByToken.get(svcuid);
    if (owner !== undefined && owner !== registration.name) throw new Error(`svcuid is already used by component ${owner}`);
    if (existing) this.componentsByToken.delete(existing.svcuid);
    const configuration = this.interpolated(structuredClone(registration.configuration));
    const record: ComponentRecord = {
      name: registration.name,
      version: registration.version,
      svcuid,
      defaults: configuration,
      configuration: structuredClone(configuration),
      policies: new PolicyTable(),
    };
    this.components.set(record.name, record);
    this.componentsByToken.set(svcuid, record.name);
    this.reloadPolicies(record);
    return { svcuid };
  }

  getConfiguration(componentName: string): Record<string, unknown> {
    return structuredClone(this.requireComponent(componentName).configuration);
  }

  /**
   * Like a deployment that changes only configuration: the component's validator (if subscribed)
   * gets the proposed configuration and must report within the timeout; REJECTED or no report fails
   * the deployment without changing anything, as in the nucleus's DynamicComponentConfigurationValidator.
   * Otherwise the change is applied, subscribers hear about every changed node and accessControl is re-read.
   * Deployments run one at a time.
   */
  deployConfiguration(
    componentName: string,
    update: ConfigurationUpdate,
    options: { validationTimeoutMs?: number } = {},
  ): Promise<DeploymentResult> {
    const run = this.deployments.then(() =>
      this.deploy(componentName, update, options.validationTimeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS),
    );
    this.deployments = run.catch(() => undefined);
    return run;
  }

  connectedComponents(): string[] {
    const names = new Set<string>();
    for (const connection of this.connections) if (connection.componentName !== undefined) names.add(connection.componentName);
    return [...names].sort();
  }

  /** Simulates AWS IoT Core delivering a message: every subscriber whose filter matches gets it. Returns how many did. */
  deliverCloudMessage(topic: string, payload: Buffer | string): number {
    return this.deliver(topic, typeof payload === 'string' ? Buffer.from(payload) : payload);
  }

  private accept(socket: net.Socket): void {
    const connection = new RpcConnection(socket, {
      authenticate: (token) => this.componentsByToken.get(token),
      onConnected: (component) => this.emit('connect', { component }),
      onStream: (stream, operation, payload) => this.dispatch(stream, operation, payload),
      onClosed: (component) => {
        this.connections.delete(connection);
        if (component !== undefined) this.emit('disconnect', { component });
      },
    });
    this.connections.add(connection);
  }

  private dispatch(stream: RpcStream, operation: string, payload: Buffer): void {
    const handler = this.handlers.get(operation);
    if (!handler) {
      if (MODELED_OPERATIONS.has(operation)) this.sendError(stream, unsupportedModeledOperation(operation));
      else stream.sendRawError(unsupportedOperationBody(operation));
      return;
    }
    let request: Request;
    try {
      const parsed: unknown = payload.length === 0 ? {} : JSON.parse(payload.toString('utf8'));
      if (!isConfigObject(parsed)) throw new Error('request is not a JSON object');
      request = parsed;
    } catch {
      stream.sendInternalServerError();
      return;
    }
    let response: unknown;
    try {
      response = handler(stream, request);
    } catch (error) {
      if (error instanceof ModeledError) this.sendError(stream, error);
      else stream.sendInternalServerError();
      return;
    }
    const streaming = operation.startsWith(qualified('SubscribeTo'));
    stream.respond(responseShape(operation), response ?? {}, !streaming);
  }

  private sendError(stream: RpcStream, error: ModeledError): void {
    stream.sendModeledError(error.shape, error.toPayload());
  }

  private authorize(component: string, operation: string, topic: string): void {
    const policies = this.components.get(component)?.policies;
    if (!policies?.isAuthorized(operation, topic)) {
      this.emit('denied', { component, operation, resource: topic });
      throw new ModeledError('UnauthorizedError', NOT_AUTHORIZED);
    }
  }

  private publishToIoTCore(stream: RpcStream, request: Request): unknown {
    const topic = stringField(request, 'topicName');
    if (topic === undefined) throw new ModeledError('InvalidArgumentsError', 'Topic is required');
    this.authorize(stream.component, PUBLISH_OPERATION, topic);
    const encoded = stringField(request, 'payload');
    if (encoded === undefined) throw new ModeledError('InvalidArgumentsError', 'Payload is required');
    const qos = request.qos;
    if (typeof qos !== 'string' || !QOS_VALUES.has(qos))
      throw new ModeledError('InvalidArgumentsError', `Invalid QoS value: ${String(qos)}`);
    const problem = iotCoreTopicProblem(topic, 'publish');
    if (problem !== undefined) throw new ModeledError('ServiceError', `Publish to topic ${topic} failed: ${problem}`);
    const payload = Buffer.from(encoded, 'base64');
    this.emit('publish', { component: stream.component, topic, qos, payload });
    // After the response has gone out, like a broker round trip.
    setImmediate(() => this.routePublish(stream.component, topic, payload));
    return {};
  }

  private routePublish(component: string, topic: string, payload: Buffer): void {
    if (!this.server) return;
    this.deliver(topic, payload);
    const outcome = this.defender.handle(topic, payload);
    if (!outcome) return;
    const { reply, ...report } = outcome;
    this.emit('defender-report', { component, ...report });
    this.deliver(reply.topic, reply.payload);
  }

  private deliver(topic: string, payload: Buffer): number {
    let delivered = 0;
    for (const subscription of this.iotSubscriptions) {
      if (subscription.stream.isOpen && topicMatchesFilter(subscription.filter, topic)) {
        subscription.stream.sendEvent(Shapes.ioTCoreMessage, { message: { topicName: topic, payload: payload.toString('base64') } });
        delivered += 1;
      }
    }
    return delivered;
  }

  private subscribeToIoTCore(stream: RpcStream, request: Request): unknown {
    const topic = stringField(request, 'topicName');
    if (topic === undefined) throw new ModeledError('InvalidArgumentsError', 'Topic is required');
    this.authorize(stream.component, SUBSCRIBE_OPERATION, topic);
    const problem = iotCoreTopicProblem(topic, 'subscribe');
    if (problem !== undefined) throw new ModeledError('ServiceError', `Subscribe to topic ${topic} failed with error ${problem}`);
    const subscription: IotSubscription = { component: stream.component, filter: topic, stream };
    this.iotSubscriptions.add(subscription);
    stream.onClose(() => this.iotSubscriptions.delete(subscription));
    this.emit('subscribe', { component: stream.component, topic });
    return {};
  }

  private getConfigurationOperation(stream: RpcStream, request: Request): unknown {
    const componentName = stringField(request, 'componentName') ?? stream.component;
    const configuration = this.components.get(componentName)?.configuration;
    const value = configuration === undefined ? undefined : configurationValue(configuration, keyPathField(request));
    if (value === undefined) throw new ModeledError('ResourceNotFoundError', KEY_NOT_FOUND);
    return { componentName, value };
  }

  private subscribeToConfigurationUpdate(stream: RpcStream, request: Request): unknown {
    const target = stringField(request, 'componentName') ?? stream.component;
    const configuration = this.components.get(target)?.configuration;
    const keyPath = keyPathField(request);
    if (configuration === undefined || !lookup(configuration, keyPath).found)
      throw new ModeledError('ResourceNotFoundError', KEY_NOT_FOUND);
    const subscription: ConfigSubscription = { target, keyPath, stream };
    this.configSubscriptions.add(subscription);
    stream.onClose(() => this.configSubscriptions.delete(subscription));
    return {};
  }

  private subscribeToValidateConfigurationUpdates(stream: RpcStream): unknown {
    const component = stream.component;
    if (!this.validators.get(component)?.isOpen) {
      this.validators.set(component, stream);
      stream.onClose(() => {
        if (this.validators.get(component) === stream) this.validators.delete(component);
      });
    }
    return {};
  }

  private sendConfigurationValidityReport(stream: RpcStream, request: Request): unknown {
    const report = request.configurationValidityReport;
    const settle = this.pendingValidations.get(stream.component);
    if (!settle) throw new ModeledError('InvalidArgumentsError', 'Validation request either timed out or was never made');
    const fields = isConfigObject(report) ? report : {};
    const validity: ValidityReport = {
      status: String(fields.status),
      deploymentId: String(fields.deploymentId),
      ...(typeof fields.message === 'string' ? { message: fields.message } : {}),
    };
    this.emit('config-validation', { component: stream.component, ...validity });
    settle(validity);
    return {};
  }

  private updateState(stream: RpcStream, request: Request): unknown {
    const state = request.state;
    // The nucleus fails on the unknown enum value with an exception it reports as a ServiceError.
    if (typeof state !== 'string' || !LIFECYCLE_STATES.has(state))
      throw new ModeledError('ServiceError', `Invalid state: ${String(state)}`);
    this.emit('state', { component: stream.component, state });
    return {};
  }

  private async deploy(componentName: string, update: ConfigurationUpdate, validationTimeoutMs: number): Promise<DeploymentResult> {
    const record = this.requireComponent(componentName);
    let proposed = record.configuration;
    for (const pointer of update.reset ?? []) proposed = resetConfiguration(proposed, record.defaults, pointer);
    if (update.merge) proposed = mergeConfiguration(proposed, this.interpolated(update.merge));
    const changes = changedPaths(record.configuration, proposed);
    if (changes.length === 0) return { status: 'APPLIED' };

    const validator = this.validators.get(componentName);
    if (validator?.isOpen) {
      const report = await this.requestValidation(componentName, validator, proposed, validationTimeoutMs);
      if (typeof report === 'string') {
        return { status: 'REJECTED', message: `Error while waiting for validation report for one or more components: ${report}` };
      }
      if (report.status === 'REJECTED') {
        return {
          status: 'REJECTED',
          message: `Components reported that their to-be-deployed configuration is invalid { name = ${componentName}, message = ${report.message ?? 'null'} }`,
        };
      }
    }
    const current = this.requireComponent(componentName);
    const applied = changedPaths(current.configuration, proposed);
    current.configuration = proposed;
    this.reloadPolicies(current);
    this.notifyConfigurationChanges(componentName, applied);
    return { status: 'APPLIED' };
  }

  private requestValidation(
    componentName: string,
    validator: RpcStream,
    configuration: ConfigObject,
    timeoutMs: number,
  ): Promise<ValidityReport | string> {
    const deploymentId = randomUUID();
    return new Promise((resolve) => {
      const settle = (report: ValidityReport | string): void => {
        clearTimeout(timer);
        if (this.pendingValidations.get(componentName) === settle) this.pendingValidations.delete(componentName);
        resolve(report);
      };
      const timer = setTimeout(() => settle(`no report within ${timeoutMs} ms`), timeoutMs);
      this.pendingValidations.set(componentName, settle);
      // SDK model ValidateConfigurationUpdateEvent: {configuration, deploymentId}; there is no componentName field.
      validator.sendEvent(Shapes.validateConfigurationUpdateEvents, { validateConfigurationUpdateEvent: { configuration, deploymentId } });
    });
  }

  private notifyConfigurationChanges(componentName: string, changes: string[][]): void {
    for (const subscription of this.configSubscriptions) {
      if (subscription.target.toLowerCase() !== componentName.toLowerCase() || !subscription.stream.isOpen) continue;
      for (const keyPath of changes) {
        if (isWithin(keyPath, subscription.keyPath)) {
          subscription.stream.sendEvent(Shapes.configurationUpdateEvents, { configurationUpdateEvent: { componentName, keyPath } });
        }
      }
    }
  }

  private reloadPolicies(record: ComponentRecord): void {
    const key = findKey(record.configuration, 'accessControl');
    const parsed = parseServicePolicies(key === undefined ? undefined : record.configuration[key], MQTT_PROXY_SERVICE);
    record.policies = parsed.policies;
    if (parsed.problem !== undefined) this.emit('access-control-error', { component: record.name, problem: parsed.problem });
  }

  private interpolated<T>(value: T): T {
    return this.interpolate ? interpolateThingName(value, this.thingName) : value;
  }

  private requireComponent(name: string): ComponentRecord {
    const record = this.components.get(name);
    if (!record) throw new Error(`component ${name} is not registered with the local core`);
    return record;
  }
}

/** A socket file left by a crashed core blocks listen(); remove it, but never one a live server answers on. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stats.isSocket()) throw new Error(`${socketPath} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new Error(`another server is listening on ${socketPath}`);
  fs.rmSync(socketPath, { force: true });
}
