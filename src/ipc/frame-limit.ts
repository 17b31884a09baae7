/**
 * The last line before the socket: a publish whose frame is above the nucleus's limit is refused here, with the
 * reason, instead of being sent (nucleus lite closes the connection on such a frame, taking every other call and
 * subscription with it). The callers size their messages to fit first; this only keeps a mistake from costing the
 * connection.
 */
import { publishFrameBytes, type PublishOperation } from './frame-size';
import { IpcError, type IpcConnection, type IpcConnector, type Subscription, type ValidationRequest } from './ipc';

function tooLarge(operation: PublishOperation, topic: string, payloadBytes: number, limit: number): IpcError | undefined {
  const bytes = publishFrameBytes(operation, topic, payloadBytes);
  if (bytes <= limit) return undefined;
  return new IpcError(
    'service',
    operation,
    `${operation} not sent: its IPC frame would be ${bytes} bytes (a ${payloadBytes}-byte payload), above the nucleus's ${limit}-byte ` +
      'message limit, and the nucleus would close the connection',
    topic,
  );
}

class FrameLimitedConnection implements IpcConnection {
  readonly publishToTopic?: (topic: string, payload: Buffer) => Promise<void>;

  constructor(
    private readonly inner: IpcConnection,
    private readonly limit: () => number | undefined,
  ) {
    const publishToTopic = inner.publishToTopic?.bind(inner);
    if (publishToTopic) {
      this.publishToTopic = (topic, payload) => {
        const refused = this.check('PublishToTopic', topic, payload);
        return refused ? Promise.reject(refused) : publishToTopic(topic, payload);
      };
    }
  }

  private check(operation: PublishOperation, topic: string, payload: Buffer): IpcError | undefined {
    const limit = this.limit();
    return limit === undefined ? undefined : tooLarge(operation, topic, payload.length, limit);
  }

  publishToIoTCore(topic: string, payload: Buffer, qos: '0' | '1'): Promise<void> {
    const refused = this.check('PublishToIoTCore', topic, payload);
    return refused ? Promise.reject(refused) : this.inner.publishToIoTCore(topic, payload, qos);
  }

  subscribeToIoTCore(
    topic: string,
    onMessage: (payload: Buffer, topic: string) => void,
    onEnded?: (reason: string) => void,
  ): Promise<Subscription> {
    return this.inner.subscribeToIoTCore(topic, onMessage, onEnded);
  }

  getConfiguration(keyPath: string[]): Promise<unknown> {
    return this.inner.getConfiguration(keyPath);
  }

  subscribeToConfigurationUpdate(onUpdate: (keyPath: string[]) => void): Promise<Subscription> {
    return this.inner.subscribeToConfigurationUpdate(onUpdate);
  }

  subscribeToValidateConfigurationUpdates(onValidate: (request: ValidationRequest) => void): Promise<Subscription> {
    return this.inner.subscribeToValidateConfigurationUpdates(onValidate);
  }

  sendConfigurationValidityReport(deploymentId: string, accepted: boolean, message?: string): Promise<void> {
    return this.inner.sendConfigurationValidityReport(deploymentId, accepted, message);
  }

  onDisconnect(listener: (reason: string) => void): void {
    this.inner.onDisconnect(listener);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Connections whose publishes are held to `limit()` bytes per frame (undefined: no limit). */
export function frameLimited(connector: IpcConnector, limit: () => number | undefined): IpcConnector {
  return { connect: async () => new FrameLimitedConnection(await connector.connect(), limit) };
}
