/**
 * IpcConnection over the aws-iot-device-sdk-v2 greengrasscoreipc client.
 *
 * The SDK has no operation timeout: an operation whose answer never comes (silent nucleus, or a
 * nucleus that restarts mid-call) never settles. Every call here therefore has a deadline that
 * cancels it through the SDK's cancel controller.
 */
// The SDK through one module, which the build makes a file of its own (sdk-modules.ts).
import { cancel, eventstream_rpc, greengrasscoreipc } from './sdk-modules';
import { MessageFlags } from './eventstream';
import { type IpcConnection, type IpcConnector, IpcError, type Subscription, serviceErrorText, type ValidationRequest } from './ipc';

type Client = greengrasscoreipc.Client;
type StreamingOperation = eventstream_rpc.StreamingOperation<unknown, unknown, unknown, unknown>;

export interface GreengrassIpcOptions {
  /** Deadline of every operation, connect included. */
  operationTimeoutMs: number;
  /** Socket path and token; by default the SDK reads the nucleus's environment variables. */
  socketPath?: string;
  authToken?: string;
}

export function createGreengrassIpcConnector(options: GreengrassIpcOptions): IpcConnector {
  return {
    async connect() {
      const client = createSdkClient(options);
      const connection = new GreengrassIpcConnection(client, options.operationTimeoutMs);
      await connection.open();
      return connection;
    },
  };
}

function createSdkClient(options: GreengrassIpcOptions): Client {
  try {
    if (!options.socketPath) return greengrasscoreipc.createClient();
    const authToken = options.authToken ?? process.env.SVCUID;
    return greengrasscoreipc.createClient({
      ...greengrasscoreipc.createDefaultClientConfig(),
      hostName: options.socketPath,
      // Without a token the message must stay as it is: an explicit `payload: undefined` crashes aws-crt's native layer.
      connectTransform: async (args) => (authToken ? { ...args.message, payload: JSON.stringify({ authToken }) } : args.message),
    });
  } catch (error) {
    throw new IpcError(
      'disconnected',
      'connect',
      `cannot create the IPC client: ${describe(error)}. Run the agent as a Greengrass component ` +
        '(AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT and SVCUID are set by the nucleus)',
    );
  }
}

class GreengrassIpcConnection implements IpcConnection {
  private disconnected = false;
  private readonly disconnectListeners: Array<(reason: string) => void> = [];
  private readonly inFlight = new Set<cancel.CancelController>();

  constructor(
    private readonly client: Client,
    private readonly timeoutMs: number,
  ) {
    client.on('disconnection', (event) => this.markDisconnected(describeDisconnection(event)));
  }

  async open(): Promise<void> {
    try {
      await withDeadline(this.client.connect(), this.timeoutMs, () => void this.client.close().catch(() => undefined));
    } catch (error) {
      this.disconnected = true;
      void this.client.close().catch(() => undefined);
      throw toIpcError(error, 'connect');
    }
  }

  publishToIoTCore(topic: string, payload: Buffer, qos: '0' | '1'): Promise<void> {
    return this.call('PublishToIoTCore', topic, (options) =>
      this.client.publishToIoTCore({ topicName: topic, payload, qos: qos as greengrasscoreipc.model.QOS }, options),
    ).then(() => undefined);
  }

  publishToTopic(topic: string, payload: Buffer): Promise<void> {
    return this.call('PublishToTopic', topic, (options) =>
      this.client.publishToTopic({ topic, publishMessage: { binaryMessage: { message: payload } } }, options),
    ).then(() => undefined);
  }

  subscribeToIoTCore(
    topic: string,
    onMessage: (payload: Buffer, topic: string) => void,
    onEnded?: (reason: string) => void,
  ): Promise<Subscription> {
    const operation = this.client.subscribeToIoTCore({ topicName: topic, qos: greengrasscoreipc.model.QOS.AT_LEAST_ONCE });
    operation.on('message', (event) => {
      const message = event.message;
      if (message?.payload !== undefined) onMessage(toBuffer(message.payload), message.topicName);
    });
    return this.activate('SubscribeToIoTCore', topic, operation as unknown as StreamingOperation, onEnded);
  }

  getConfiguration(keyPath: string[]): Promise<unknown> {
    return this.call('GetConfiguration', keyPath.join('.'), (options) => this.client.getConfiguration({ keyPath }, options)).then(
      (response) => response.value,
    );
  }

  subscribeToConfigurationUpdate(onUpdate: (keyPath: string[]) => void): Promise<Subscription> {
    const operation = this.client.subscribeToConfigurationUpdate({ keyPath: [] });
    operation.on('message', (event) => onUpdate(event.configurationUpdateEvent?.keyPath ?? []));
    return this.activate('SubscribeToConfigurationUpdate', undefined, operation as unknown as StreamingOperation);
  }

  subscribeToValidateConfigurationUpdates(onValidate: (request: ValidationRequest) => void): Promise<Subscription> {
    const operation = this.client.subscribeToValidateConfigurationUpdates({});
    operation.on('message', (event) => {
      const update = event.validateConfigurationUpdateEvent;
      if (update) onValidate({ deploymentId: update.deploymentId, configuration: (update.configuration ?? {}) as Record<string, unknown> });
    });
    return this.activate('SubscribeToValidateConfigurationUpdates', undefined, operation as unknown as StreamingOperation);
  }

  sendConfigurationValidityReport(deploymentId: string, accepted: boolean, message?: string): Promise<void> {
    const status = accepted
      ? greengrasscoreipc.model.ConfigurationValidityStatus.ACCEPTED
      : greengrasscoreipc.model.ConfigurationValidityStatus.REJECTED;
    return this.call('SendConfigurationValidityReport', deploymentId, (options) =>
      this.client.sendConfigurationValidityReport(
        { configurationValidityReport: { status, deploymentId, ...(message ? { message } : {}) } },
        options,
      ),
    ).then(() => undefined);
  }

  onDisconnect(listener: (reason: string) => void): void {
    this.disconnectListeners.push(listener);
  }

  async close(): Promise<void> {
    for (const controller of this.inFlight) controller.cancel();
    this.inFlight.clear();
    this.disconnected = true;
    await withDeadline(this.client.close(), this.timeoutMs, () => undefined).catch(() => undefined);
  }

  private markDisconnected(reason: string): void {
    if (this.disconnected) return;
    this.disconnected = true;
    // Operations in flight will never be answered now; settle them at once.
    for (const controller of this.inFlight) controller.cancel();
    for (const listener of this.disconnectListeners) listener(reason);
  }

  private async call<T>(
    operation: string,
    resource: string | undefined,
    start: (options: eventstream_rpc.OperationOptions) => Promise<T>,
  ): Promise<T> {
    if (this.disconnected) throw new IpcError('disconnected', operation, 'not connected to the Greengrass nucleus', resource);
    const controller = new cancel.CancelController();
    this.inFlight.add(controller);
    try {
      return await withDeadline(start({ cancelController: controller }), this.timeoutMs, () => controller.cancel());
    } catch (error) {
      throw toIpcError(error, operation, resource, this.disconnected);
    } finally {
      this.inFlight.delete(controller);
    }
  }

  private async activate(
    operation: string,
    resource: string | undefined,
    stream: StreamingOperation,
    onEnded?: (reason: string) => void,
  ): Promise<Subscription> {
    let closedByClient = false;
    let terminatedByServer = false;
    stream.on('streamError', () => undefined);
    // The SDK also ends its streams when the connection drops (its disconnection event may come only after) or close()
    // is called; only the nucleus's own end of a subscription is news here, and only a frame with the TerminateStream
    // flag on the stream tells it apart. The operation does not pass its frames' flags on, so they are read from the
    // stream under it (a test against the local core holds this to the SDK version in use).
    const rawStream = (stream as unknown as { operation?: { getStream?: () => NodeJS.EventEmitter | undefined } }).operation?.getStream?.();
    rawStream?.on('message', (event: { message?: { flags?: number } }) => {
      if (((event.message?.flags ?? 0) & MessageFlags.TerminateStream) !== 0) terminatedByServer = true;
    });
    stream.on('ended', () => {
      if (terminatedByServer && !closedByClient && !this.disconnected) onEnded?.('terminated by the server');
    });
    await this.call(operation, resource, () => stream.activate());
    return {
      close: async () => {
        closedByClient = true;
        await withDeadline(stream.close(), this.timeoutMs, () => undefined).catch(() => undefined);
      },
    };
  }
}

class DeadlineExceeded extends Error {}

function withDeadline<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new DeadlineExceeded(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function toIpcError(error: unknown, operation: string, resource?: string, disconnected = false): IpcError {
  if (error instanceof IpcError) return error;
  if (error instanceof DeadlineExceeded) return new IpcError('timeout', operation, `${operation} got ${error.message}`, resource);
  if (disconnected)
    return new IpcError('disconnected', operation, `${operation} interrupted: the connection to the nucleus closed`, resource);
  if (error instanceof eventstream_rpc.RpcError) {
    const service = error.serviceError as { _errorCode?: string; message?: string } | undefined;
    if (service?._errorCode === 'UnauthorizedError') {
      return new IpcError(
        'unauthorized',
        operation,
        `${operation} was denied by the nucleus: ${service.message ?? 'Not Authorized'}`,
        resource,
      );
    }
    if (service)
      return new IpcError(
        'service',
        operation,
        serviceErrorText(operation, service._errorCode ?? 'error', service.message ?? ''),
        resource,
      );
    // An error shape the operation's model does not list: the SDK keeps only its name.
    const unlisted = /^Unexpected response shape received: 'aws\.greengrass#(\w+)'$/.exec(error.description);
    if (unlisted) return new IpcError('service', operation, serviceErrorText(operation, unlisted[1]!, ''), resource);
    const kind =
      error.type === eventstream_rpc.RpcErrorType.NetworkError || error.type === eventstream_rpc.RpcErrorType.HandshakeError
        ? 'disconnected'
        : 'service';
    return new IpcError(kind, operation, `${operation} failed: ${describe(error)}`, resource);
  }
  return new IpcError('service', operation, `${operation} failed: ${describe(error)}`, resource);
}

function describe(error: unknown): string {
  if (error instanceof eventstream_rpc.RpcError) {
    const inner = error.internalError ? ` (${error.internalError.message})` : '';
    return `${error.description}${inner}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The SDK's disconnection event is `{ reason: CrtError }`, not an error: name the reason, never `[object Object]`. */
export function describeDisconnection(event: unknown): string {
  const reason = typeof event === 'object' && event !== null && 'reason' in event ? (event as { reason: unknown }).reason : event;
  if (reason === undefined || reason === null) return 'connection closed';
  if (typeof reason === 'object') {
    const { message, error_name: name } = reason as { message?: unknown; error_name?: unknown };
    if (typeof message === 'string' && message !== '')
      return typeof name === 'string' && !message.includes(name) ? `${name}: ${message}` : message;
    if (typeof name === 'string' && name !== '') return name;
    try {
      return JSON.stringify(reason) ?? 'connection closed';
    } catch {
      return 'connection closed (reason not readable)';
    }
  }
  return String(reason);
}

function toBuffer(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload instanceof ArrayBuffer) return Buffer.from(payload);
  if (ArrayBuffer.isView(payload)) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return Buffer.alloc(0);
}
