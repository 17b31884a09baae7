/**
 * IpcConnection over the pure TypeScript eventstream-RPC client: the same operations, deadlines and error kinds as
 * the SDK adapter (src/ipc/greengrass-ipc.ts), for cores where aws-crt has no native addon (32-bit ARM, musl, …).
 *
 * JSON shapes follow the Greengrass IPC service model: blobs are base64 strings, enums are strings, a response's
 * `service-model-type` is `aws.greengrass#<Operation>Response`, and a modeled error is an ApplicationError whose
 * JSON body carries `_errorCode`.
 */
import { type IpcConnection, type IpcConnector, IpcError, type Subscription, serviceErrorText, type ValidationRequest } from '../ipc';
import { MessageType } from '../eventstream';
import { RequestTooLargeError, RpcClient, type RpcClientStream, RpcConnectError, type StreamMessage } from './rpc-client';
import { describeError } from '../../util/describe-error';

const NAMESPACE = 'aws.greengrass#';
const SOCKET_PATH_VARIABLE = 'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT';

export interface PortableIpcOptions {
  /** Deadline of every operation, connect included. */
  operationTimeoutMs: number;
  /** Socket path and token; by default the nucleus's environment variables. */
  socketPath?: string;
  authToken?: string;
}

export function createPortableIpcConnector(options: PortableIpcOptions): IpcConnector {
  return {
    async connect() {
      const socketPath = options.socketPath ?? process.env[SOCKET_PATH_VARIABLE];
      if (!socketPath) {
        throw new IpcError(
          'disconnected',
          'connect',
          `cannot create the IPC client: ${SOCKET_PATH_VARIABLE} is not set. Run the agent as a Greengrass component ` +
            '(AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT and SVCUID are set by the nucleus)',
        );
      }
      const client = await connectWithin(socketPath, options.authToken ?? process.env.SVCUID, options.operationTimeoutMs);
      return new PortableIpcConnection(client, options.operationTimeoutMs);
    },
  };
}

async function connectWithin(socketPath: string, authToken: string | undefined, timeoutMs: number): Promise<RpcClient> {
  let created: RpcClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new IpcError('timeout', 'connect', `connect got no answer within ${timeoutMs} ms`));
      created?.destroy('connect deadline passed');
    }, timeoutMs);
  });
  try {
    return await Promise.race([RpcClient.connect({ socketPath, authToken }, (client) => (created = client)), deadline]);
  } catch (error) {
    if (error instanceof IpcError) throw error;
    const refused = error instanceof RpcConnectError && error.refused;
    throw new IpcError('disconnected', 'connect', refused ? `connect failed: ${error.message}` : describeError(error));
  } finally {
    clearTimeout(timer);
  }
}

class PortableIpcConnection implements IpcConnection {
  private disconnected = false;
  /** Set when the nucleus side ended the connection (not by close()). */
  private lostReason: string | undefined;
  private readonly disconnectListeners: Array<(reason: string) => void> = [];

  constructor(
    private readonly client: RpcClient,
    private readonly timeoutMs: number,
  ) {
    client.onClose((reason) => this.markDisconnected(reason));
  }

  publishToIoTCore(topic: string, payload: Buffer, qos: '0' | '1'): Promise<void> {
    return this.call('PublishToIoTCore', topic, { topicName: topic, qos, payload: payload.toString('base64') }).then(() => undefined);
  }

  subscribeToIoTCore(
    topic: string,
    onMessage: (payload: Buffer, topic: string) => void,
    onEnded?: (reason: string) => void,
  ): Promise<Subscription> {
    const onEvent = (event: Record<string, unknown>): void => {
      const message = record(event.message);
      if (typeof message.payload === 'string' && typeof message.topicName === 'string') {
        onMessage(Buffer.from(message.payload, 'base64'), message.topicName);
      }
    };
    return this.subscribe('SubscribeToIoTCore', topic, { topicName: topic, qos: '1' }, 'IoTCoreMessage', onEvent, onEnded);
  }

  publishToTopic(topic: string, payload: Buffer): Promise<void> {
    const request = { topic, publishMessage: { binaryMessage: { message: payload.toString('base64') } } };
    return this.call('PublishToTopic', topic, request).then(() => undefined);
  }

  getConfiguration(keyPath: string[]): Promise<unknown> {
    return this.call('GetConfiguration', keyPath.join('.'), { keyPath }).then((response) => response.value);
  }

  subscribeToConfigurationUpdate(onUpdate: (keyPath: string[]) => void): Promise<Subscription> {
    return this.subscribe('SubscribeToConfigurationUpdate', undefined, { keyPath: [] }, 'ConfigurationUpdateEvents', (event) => {
      const keyPath = record(event.configurationUpdateEvent).keyPath;
      onUpdate(Array.isArray(keyPath) ? keyPath.map(String) : []);
    });
  }

  subscribeToValidateConfigurationUpdates(onValidate: (request: ValidationRequest) => void): Promise<Subscription> {
    return this.subscribe('SubscribeToValidateConfigurationUpdates', undefined, {}, 'ValidateConfigurationUpdateEvents', (event) => {
      const update = record(event.validateConfigurationUpdateEvent);
      if (typeof update.deploymentId === 'string')
        onValidate({ deploymentId: update.deploymentId, configuration: record(update.configuration) });
    });
  }

  sendConfigurationValidityReport(deploymentId: string, accepted: boolean, message?: string): Promise<void> {
    const report = { status: accepted ? 'ACCEPTED' : 'REJECTED', deploymentId, ...(message ? { message } : {}) };
    return this.call('SendConfigurationValidityReport', deploymentId, { configurationValidityReport: report }).then(() => undefined);
  }

  onDisconnect(listener: (reason: string) => void): void {
    if (this.lostReason !== undefined) queueMicrotask(() => listener(this.lostReason!));
    else this.disconnectListeners.push(listener);
  }

  async close(): Promise<void> {
    this.disconnected = true;
    this.client.close();
  }

  private markDisconnected(reason: string): void {
    if (this.disconnected) return;
    this.disconnected = true;
    this.lostReason = reason;
    for (const listener of this.disconnectListeners.splice(0)) listener(reason);
  }

  private async call(operation: string, resource: string | undefined, request: unknown): Promise<Record<string, unknown>> {
    return this.start(operation, resource, request, undefined, undefined).then(({ body }) => body);
  }

  private async subscribe(
    operation: string,
    resource: string | undefined,
    request: unknown,
    eventShape: string,
    onEvent: (event: Record<string, unknown>) => void,
    onEnded?: (reason: string) => void,
  ): Promise<Subscription> {
    const onStreamEnd = (reason: string): void => {
      // A stream ended by the lost connection is the disconnection's news, not the subscription's.
      if (!this.disconnected && !this.client.isClosed) onEnded?.(reason);
    };
    const { stream } = await this.start(operation, resource, request, onStreamEnd, (message) => {
      if (message.type !== MessageType.ApplicationMessage || message.shape !== NAMESPACE + eventShape) return;
      const event = parseJson(message.payload);
      // The callback belongs to the agent; its errors must not break the connection's frame loop.
      if (event) {
        try {
          onEvent(event);
        } catch {
          // The agent's handlers catch and log their own errors; nothing more to do here.
        }
      }
    });
    return {
      close: async () => stream.close(),
    };
  }

  /**
   * Opens a stream for one operation and settles on its first answer (the response, or an error) or at the deadline.
   * With `onEvent`, the stream stays open after the response, later messages go to `onEvent`, and `onLaterEnd` hears
   * when the stream ends after that.
   */
  private start(
    operation: string,
    resource: string | undefined,
    request: unknown,
    onLaterEnd: ((reason: string) => void) | undefined,
    onEvent: ((message: StreamMessage) => void) | undefined,
  ): Promise<{ body: Record<string, unknown>; stream: RpcClientStream }> {
    if (this.disconnected)
      return Promise.reject(new IpcError('disconnected', operation, 'not connected to the Greengrass nucleus', resource));
    return new Promise((resolve, reject) => {
      let pending = true;
      let stream: RpcClientStream | undefined;
      /** True for the first caller only: the call settles once. */
      const settle = (): boolean => {
        const first = pending;
        pending = false;
        clearTimeout(timer);
        return first;
      };
      const timer = setTimeout(() => {
        if (!settle()) return;
        stream?.close();
        reject(new IpcError('timeout', operation, `${operation} got no answer within ${this.timeoutMs} ms`, resource));
      }, this.timeoutMs);
      try {
        stream = this.client.openStream(NAMESPACE + operation, Buffer.from(JSON.stringify(request)), {
          onMessage: (message) => {
            if (!pending) {
              onEvent?.(message);
              return;
            }
            settle();
            const opened = stream as RpcClientStream;
            const outcome = interpretFirstAnswer(message, operation, resource);
            if (outcome instanceof IpcError) {
              if (!message.terminate) opened.close();
              reject(outcome);
              return;
            }
            if (!onEvent && !message.terminate) opened.close();
            resolve({ body: outcome, stream: opened });
          },
          onEnd: (reason) => {
            if (!settle()) {
              onLaterEnd?.(reason);
              return;
            }
            reject(new IpcError('disconnected', operation, `${operation} interrupted: the connection to the nucleus closed`, resource));
          },
        });
      } catch (error) {
        settle();
        if (error instanceof RequestTooLargeError) {
          reject(new IpcError('service', operation, `${operation} refused: ${error.message}`, resource));
          return;
        }
        reject(new IpcError('disconnected', operation, 'not connected to the Greengrass nucleus', resource));
      }
    });
  }
}

/** The operation's response body, or the IpcError its first answer means. */
function interpretFirstAnswer(message: StreamMessage, operation: string, resource: string | undefined): Record<string, unknown> | IpcError {
  if (message.type === MessageType.ApplicationMessage && message.shape === `${NAMESPACE}${operation}Response`) {
    const body = parseJson(message.payload);
    if (body) return body;
    return new IpcError('service', operation, `${operation} failed: the response is not a JSON object`, resource);
  }
  if (message.type === MessageType.ApplicationError) {
    if (message.contentType === 'text/plain') {
      return new IpcError('service', operation, `${operation} failed: ${message.payload.toString('utf8')}`, resource);
    }
    const body = parseJson(message.payload) ?? {};
    const code = typeof body._errorCode === 'string' ? body._errorCode : message.shape?.replace(NAMESPACE, '');
    const text = typeof body.message === 'string' ? body.message : '';
    if (code === 'UnauthorizedError') {
      return new IpcError('unauthorized', operation, `${operation} was denied by the nucleus: ${text || 'Not Authorized'}`, resource);
    }
    return new IpcError('service', operation, serviceErrorText(operation, code ?? 'error', text), resource);
  }
  return new IpcError(
    'service',
    operation,
    `${operation} failed: unexpected answer${message.shape ? ` of shape ${message.shape}` : ' without service-model-type'}`,
    resource,
  );
}

function parseJson(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
