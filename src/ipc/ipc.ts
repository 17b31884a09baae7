/** The IPC operations the agent uses, behind an interface we own (the SDK client is one implementation). */

export type IpcErrorKind =
  /** The component's accessControl does not allow the call. */
  | 'unauthorized'
  /** The call got no answer before its deadline. */
  | 'timeout'
  /** The connection to the nucleus is gone. */
  | 'disconnected'
  /** Any other answer from the nucleus (ServiceError, ResourceNotFoundError, InvalidArgumentsError, ...). */
  | 'service';

/**
 * The errors the Greengrass IPC service model lists for each operation the agent calls (the model
 * aws-iot-device-sdk-v2's greengrasscoreipc client is generated from). The SDK client reads only these: any other error
 * reaches it as "Unexpected response shape" with its body dropped. Both clients word an error with `serviceErrorText`,
 * so they report the same text: an unlisted one by its code alone.
 */
export const MODELED_ERRORS: Readonly<Record<string, readonly string[]>> = {
  PublishToIoTCore: ['ServiceError', 'UnauthorizedError'],
  SubscribeToIoTCore: ['ServiceError', 'UnauthorizedError'],
  PublishToTopic: ['ServiceError', 'UnauthorizedError'],
  GetConfiguration: ['ServiceError', 'ResourceNotFoundError'],
  SubscribeToConfigurationUpdate: ['ServiceError', 'ResourceNotFoundError'],
  SubscribeToValidateConfigurationUpdates: ['ServiceError'],
  SendConfigurationValidityReport: ['InvalidArgumentsError', 'ServiceError'],
};

/** The text of a modeled error answer (not UnauthorizedError, which is worded as a denial). */
export function serviceErrorText(operation: string, code: string, message: string): string {
  if (!(MODELED_ERRORS[operation] ?? []).includes(code))
    return `${operation} failed: ${code} (an error ${operation}'s service model does not list; the SDK client cannot read its message)`;
  return `${operation} failed: ${code}: ${message}`.trim();
}

export class IpcError extends Error {
  constructor(
    readonly kind: IpcErrorKind,
    readonly operation: string,
    message: string,
    readonly resource?: string,
  ) {
    super(message);
    this.name = 'IpcError';
  }
}

export interface Subscription {
  close(): Promise<void>;
}

export interface ValidationRequest {
  deploymentId: string;
  configuration: Record<string, unknown>;
}

export interface IpcConnection {
  publishToIoTCore(topic: string, payload: Buffer, qos: '0' | '1'): Promise<void>;
  /**
   * `onEnded` runs once if the nucleus ends the subscription while the connection stays up (never after the
   * subscription's own close(), nor when the connection is lost: onDisconnect says that).
   */
  subscribeToIoTCore(
    topic: string,
    onMessage: (payload: Buffer, topic: string) => void,
    onEnded?: (reason: string) => void,
  ): Promise<Subscription>;
  /**
   * Greengrass local publish/subscribe (service aws.greengrass.ipc.pubsub): reaches components on the core, also offline.
   * Optional so that an IPC client without it still serves the reports; the caller says when it is missing.
   */
  publishToTopic?(topic: string, payload: Buffer): Promise<void>;
  /** The component's own configuration at `keyPath` ([] = all of it). */
  getConfiguration(keyPath: string[]): Promise<unknown>;
  subscribeToConfigurationUpdate(onUpdate: (keyPath: string[]) => void): Promise<Subscription>;
  subscribeToValidateConfigurationUpdates(onValidate: (request: ValidationRequest) => void): Promise<Subscription>;
  sendConfigurationValidityReport(deploymentId: string, accepted: boolean, message?: string): Promise<void>;
  /** Called once when the connection to the nucleus drops. */
  onDisconnect(listener: (reason: string) => void): void;
  close(): Promise<void>;
}

export interface IpcConnector {
  connect(): Promise<IpcConnection>;
}
