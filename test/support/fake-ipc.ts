import { publishFrameBytes, type PublishOperation } from '../../src/ipc/frame-size';
import { type IpcConnection, type IpcConnector, IpcError, type Subscription, type ValidationRequest } from '../../src/ipc/ipc';

export interface PublishedMessage {
  topic: string;
  payload: Buffer;
  qos: string;
}

/** An in-memory nucleus for the agent's unit tests (the real protocol is tested against the local core). */
export class FakeNucleus implements IpcConnector {
  configuration: Record<string, unknown> = {};
  published: PublishedMessage[] = [];
  /** Messages sent on local publish/subscribe (PublishToTopic); qos is '' there. */
  localPublished: PublishedMessage[] = [];
  subscriptions = new Map<string, (payload: Buffer, topic: string) => void>();
  validityReports: Array<{ deploymentId: string; accepted: boolean; message?: string }> = [];
  deniedTopics = new Set<string>();
  failConnects = 0;
  /** The next N configuration reads fail (a nucleus still starting, a ServiceError). */
  failConfigurationReads = 0;
  /** false: a nucleus without configuration validation (nucleus lite answers the subscription with an empty ServiceError). */
  servesValidation = true;
  /** Like nucleus lite: a publish whose IPC frame is larger closes the connection (counted in oversizedFrames). */
  frameLimit: number | undefined;
  oversizedFrames = 0;
  connects = 0;
  /**
   * The nucleus keeps the connection open and answers nothing: every call ends at its deadline (a timeout IpcError,
   * at once here: the deadlines are the IPC clients' part, tested on them).
   */
  silent = false;
  /** How many calls got no answer because the nucleus was silent. */
  unanswered = 0;
  /** Subscriptions' onEnded, by topic: `endSubscription` ends one as the nucleus would. */
  private readonly subscriptionEnds = new Map<string, (reason: string) => void>();
  /**
   * Runs after a publish reached the nucleus and before its call resolves: a test can answer the
   * report first (a loaded core), hold the call, or make it fail (a rejection becomes the call's).
   */
  onPublish: ((message: PublishedMessage) => Promise<void> | void) | undefined;
  private configListeners: Array<(keyPath: string[]) => void> = [];
  private validators: Array<(request: ValidationRequest) => void> = [];
  private current: FakeConnection | undefined;

  async connect(): Promise<IpcConnection> {
    this.connects += 1;
    if (this.failConnects > 0) {
      this.failConnects -= 1;
      throw new IpcError('disconnected', 'connect', 'connection refused');
    }
    this.configListeners = [];
    this.validators = [];
    this.subscriptions.clear();
    this.current = new FakeConnection(this);
    return this.current;
  }

  get connected(): boolean {
    return this.current !== undefined && !this.current.closed;
  }

  /** Simulates the nucleus going away (restart during a deployment). */
  dropConnection(): void {
    this.current?.drop('socket closed');
    this.current = undefined;
  }

  changeConfiguration(patch: Record<string, unknown>): void {
    this.configuration = { ...this.configuration, ...patch };
    for (const key of Object.keys(patch)) for (const listener of this.configListeners) listener([key]);
  }

  proposeConfiguration(deploymentId: string, configuration: Record<string, unknown>): void {
    for (const validator of this.validators) validator({ deploymentId, configuration });
  }

  /** The nucleus ends the subscription to `topic` on a live connection. */
  endSubscription(topic: string): void {
    const ended = this.subscriptionEnds.get(topic);
    this.subscriptions.delete(topic);
    this.subscriptionEnds.delete(topic);
    ended?.('terminated by the server');
  }

  /** @internal */
  addSubscription(topic: string, onMessage: (payload: Buffer, topic: string) => void, onEnded?: (reason: string) => void): void {
    this.subscriptions.set(topic, onMessage);
    if (onEnded) this.subscriptionEnds.set(topic, onEnded);
    else this.subscriptionEnds.delete(topic);
  }

  /** @internal */
  removeSubscription(topic: string): void {
    this.subscriptions.delete(topic);
    this.subscriptionEnds.delete(topic);
  }

  reply(topic: string, body: unknown): void {
    const listener = this.subscriptions.get(topic);
    if (listener) listener(Buffer.from(JSON.stringify(body)), topic);
  }

  /** @internal */
  addConfigListener(listener: (keyPath: string[]) => void): void {
    this.configListeners.push(listener);
  }

  /** @internal */
  addValidator(listener: (request: ValidationRequest) => void): void {
    this.validators.push(listener);
  }
}

class FakeConnection implements IpcConnection {
  closed = false;
  private disconnectListeners: Array<(reason: string) => void> = [];

  constructor(private readonly nucleus: FakeNucleus) {}

  async publishToIoTCore(topic: string, payload: Buffer, qos: '0' | '1'): Promise<void> {
    this.assertOpen('PublishToIoTCore');
    this.closeIfOversized('PublishToIoTCore', topic, payload);
    if (this.nucleus.deniedTopics.has(topic)) throw new IpcError('unauthorized', 'PublishToIoTCore', 'Not Authorized', topic);
    const message = { topic, payload, qos };
    this.nucleus.published.push(message);
    await this.nucleus.onPublish?.(message);
  }

  async publishToTopic(topic: string, payload: Buffer): Promise<void> {
    this.assertOpen('PublishToTopic');
    this.closeIfOversized('PublishToTopic', topic, payload);
    if (this.nucleus.deniedTopics.has(topic)) throw new IpcError('unauthorized', 'PublishToTopic', 'Not Authorized', topic);
    this.nucleus.localPublished.push({ topic, payload, qos: '' });
  }

  async subscribeToIoTCore(
    topic: string,
    onMessage: (payload: Buffer, topic: string) => void,
    onEnded?: (reason: string) => void,
  ): Promise<Subscription> {
    this.assertOpen('SubscribeToIoTCore');
    if (this.nucleus.deniedTopics.has(topic)) throw new IpcError('unauthorized', 'SubscribeToIoTCore', 'Not Authorized', topic);
    this.nucleus.addSubscription(topic, onMessage, onEnded);
    return { close: async () => this.nucleus.removeSubscription(topic) };
  }

  async getConfiguration(): Promise<unknown> {
    this.assertOpen('GetConfiguration');
    if (this.nucleus.failConfigurationReads > 0) {
      this.nucleus.failConfigurationReads -= 1;
      throw new IpcError('service', 'GetConfiguration', 'GetConfiguration failed: ServiceError: not ready');
    }
    return structuredClone(this.nucleus.configuration);
  }

  async subscribeToConfigurationUpdate(onUpdate: (keyPath: string[]) => void): Promise<Subscription> {
    this.nucleus.addConfigListener(onUpdate);
    return { close: async () => undefined };
  }

  async subscribeToValidateConfigurationUpdates(onValidate: (request: ValidationRequest) => void): Promise<Subscription> {
    if (!this.nucleus.servesValidation)
      throw new IpcError(
        'service',
        'SubscribeToValidateConfigurationUpdates',
        'SubscribeToValidateConfigurationUpdates failed: ServiceError:',
      );
    this.nucleus.addValidator(onValidate);
    return { close: async () => undefined };
  }

  async sendConfigurationValidityReport(deploymentId: string, accepted: boolean, message?: string): Promise<void> {
    this.assertOpen('SendConfigurationValidityReport');
    this.nucleus.validityReports.push({ deploymentId, accepted, ...(message ? { message } : {}) });
  }

  onDisconnect(listener: (reason: string) => void): void {
    this.disconnectListeners.push(listener);
  }

  private closeIfOversized(operation: PublishOperation, topic: string, payload: Buffer): void {
    const limit = this.nucleus.frameLimit;
    if (limit === undefined || publishFrameBytes(operation, topic, payload.length) <= limit) return;
    this.nucleus.oversizedFrames += 1;
    this.nucleus.dropConnection();
    throw new IpcError('disconnected', operation, `${operation} interrupted: the connection to the nucleus closed`, topic);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  drop(reason: string): void {
    this.closed = true;
    for (const listener of this.disconnectListeners) listener(reason);
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new IpcError('disconnected', operation, 'not connected');
    if (this.nucleus.silent) {
      this.nucleus.unanswered += 1;
      throw new IpcError('timeout', operation, `${operation} got no answer within 10000 ms`);
    }
  }
}
