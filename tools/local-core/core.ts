/**
 * A development stand-in for the Greengrass nucleus's IPC server: the unmodified aws-iot-device-sdk-v2
 * greengrasscoreipc client connects to it over a Unix socket, and a fake Device Defender answers the reports it
 * publishes. Behaviour follows the nucleus source as recorded in docs/greengrass-ipc.md and
 * docs/nucleus-authorization.md. This file wires the parts: the connection (rpc-connection.ts), the components and
 * their policies (components.ts), mqttproxy (mqtt-proxy.ts), local publish/subscribe (local-pubsub.ts), configuration (configuration-service.ts) and UpdateState
 * (component-state.ts).
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { ComponentRegistry, type ComponentRegistration } from './components';
import { updateStateHandler } from './component-state';
import { ConfigurationService, type ConfigurationUpdate, type DeploymentResult } from './configuration-service';
import { isConfigObject } from './config-store';
import type { EmitEvent, LocalCoreEvents, OperationHandler, Request } from './core-events';
import { DefenderFake } from './defender-fake';
import { LocalPubSub } from './local-pubsub';
import { MqttProxy } from './mqtt-proxy';
import { RpcConnection, type RpcStream } from './rpc-connection';
import {
  MODELED_OPERATIONS,
  ModeledError,
  qualified,
  responseShape,
  unsupportedModeledOperation,
  unsupportedOperationBody,
} from './service-model';
import { removeStaleSocket } from './socket-file';
import { FileThrottle } from './throttle-memory';

export type { ComponentRegistration } from './components';
export type { ConfigurationUpdate, DeploymentResult } from './configuration-service';
export type { DefenderReportEvent, LocalCoreEvents } from './core-events';

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
  /**
   * `lite`: behave as nucleus lite's ggipcd where it differs (docs/nucleus-lite.md): configuration validation is not
   * served (ServiceError with an empty message), a frame above 10,000 bytes after its prelude closes the connection,
   * and `{iot:thingName}` is substituted in accessControl only. Default `classic`.
   */
  runtime?: 'classic' | 'lite';
}

/** ggipcd's GGL_IPC_MAX_MSG_LEN: the bytes of a frame after its prelude. */
const LITE_IPC_BUFFER_BYTES = 10_000;
/** Operations nucleus lite does not serve. */
const NOT_SERVED_ON_LITE = [qualified('SubscribeToValidateConfigurationUpdates'), qualified('SendConfigurationValidityReport')];

const DEFAULT_DEFENDER_MIN_INTERVAL_SECONDS = 300;
/**
 * The nucleus waits for validation reports for the deployment's configurationValidationPolicy
 * timeout (30 s by default in the GreengrassV2 API) and fails the deployment when it expires.
 */
const DEFAULT_VALIDATION_TIMEOUT_MS = 30_000;

export class LocalCore extends EventEmitter<LocalCoreEvents> {
  readonly socketPath: string;
  private readonly components: ComponentRegistry;
  private readonly mqtt: MqttProxy;
  private readonly configuration: ConfigurationService;
  private readonly connections = new Set<RpcConnection>();
  private readonly handlers: Map<string, OperationHandler>;
  private server: net.Server | undefined;
  private stopping: Promise<void> | undefined;
  private readonly lite: boolean;

  constructor(options: LocalCoreOptions) {
    super();
    this.socketPath = options.socketPath;
    this.lite = options.runtime === 'lite';
    const emit: EmitEvent = (event, ...args) => {
      (this.emit as (name: string, ...payload: unknown[]) => boolean)(event, ...args);
    };
    this.components = new ComponentRegistry({
      thingName: options.thingName,
      interpolate: options.interpolateComponentConfiguration ?? false,
      interpolateAccessControl: this.lite,
      emit,
    });
    const defender = new DefenderFake({
      minIntervalMs: (options.defenderMinIntervalSeconds ?? DEFAULT_DEFENDER_MIN_INTERVAL_SECONDS) * 1000,
      now: options.now ?? Date.now,
      ...(options.stateDir === undefined ? {} : { throttle: new FileThrottle(options.stateDir) }),
    });
    this.mqtt = new MqttProxy({ components: this.components, defender, emit, isRunning: () => this.server !== undefined });
    this.configuration = new ConfigurationService(this.components, emit);
    this.handlers = new Map<string, OperationHandler>([
      ...this.mqtt.handlers(),
      ...new LocalPubSub(this.components, emit).handlers(),
      ...this.configuration.handlers(),
      updateStateHandler(emit),
    ]);
    if (this.lite) for (const operation of NOT_SERVED_ON_LITE) this.handlers.delete(operation);
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
    this.configuration.abandonValidations('the local core stopped');
    for (const connection of this.connections) connection.destroy();
    this.stopping = new Promise<void>((resolve) => server.close(() => resolve())).then(() => fs.rmSync(this.socketPath, { force: true }));
    return this.stopping;
  }

  /**
   * Registering the same name again keeps its svcuid (unless another is given) and replaces version
   * and configuration. A fixed svcuid lets a restarted core accept the tokens of running components.
   */
  registerComponent(registration: ComponentRegistration, options: { svcuid?: string } = {}): { svcuid: string } {
    return this.components.register(registration, options.svcuid);
  }

  getConfiguration(componentName: string): Record<string, unknown> {
    return structuredClone(this.components.require(componentName).configuration);
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
    return this.configuration.deploy(componentName, update, options.validationTimeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS);
  }

  connectedComponents(): string[] {
    const names = new Set<string>();
    for (const connection of this.connections) if (connection.componentName !== undefined) names.add(connection.componentName);
    return [...names].sort();
  }

  /** Simulates AWS IoT Core delivering a message: every subscriber whose filter matches gets it. Returns how many did. */
  deliverCloudMessage(topic: string, payload: Buffer | string): number {
    return this.mqtt.deliver(topic, typeof payload === 'string' ? Buffer.from(payload) : payload);
  }

  /** The server ends every subscription to exactly `filter` on a live connection (a fault to drive). Returns how many. */
  endIoTCoreSubscriptions(filter: string): number {
    return this.mqtt.endSubscriptions(filter);
  }

  private accept(socket: net.Socket): void {
    const connection = new RpcConnection(socket, {
      authenticate: (token) => this.components.componentForToken(token),
      onConnected: (component) => this.emit('connect', { component }),
      onStream: (stream, operation, payload) => this.dispatch(stream, operation, payload),
      onClosed: (component) => {
        this.connections.delete(connection);
        if (component !== undefined) this.emit('disconnect', { component });
      },
      ...(this.lite
        ? {
            maxFrameDataBytes: LITE_IPC_BUFFER_BYTES,
            onFrameTooLarge: (component: string | undefined, bytes: number) => this.emit('frame-too-large', { component, bytes }),
          }
        : {}),
    });
    this.connections.add(connection);
  }

  private dispatch(stream: RpcStream, operation: string, payload: Buffer): void {
    const handler = this.handlers.get(operation);
    if (!handler && this.lite) {
      // ggipcd answers every operation it does not serve with this, and logs "Unhandled operation requested".
      stream.sendModeledError(qualified('ServiceError'), { _message: '', _errorCode: 'ServiceError' });
      return;
    }
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
}
