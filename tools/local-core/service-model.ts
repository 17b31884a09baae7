/**
 * Names from the GreengrassCoreIPC service model (aws-iot-device-sdk-v2 1.28,
 * dist/greengrasscoreipc/model_utils.js). The SDK only accepts a reply whose `service-model-type`
 * is exactly the shape it expects, so these strings are the contract.
 */
const SERVICE_NAMESPACE = 'aws.greengrass';
const SERVICE_ID = 'aws.greengrass#GreengrassCoreIPC';

export function qualified(name: string): string {
  return `${SERVICE_NAMESPACE}#${name}`;
}

/** Every operation in the model; the nucleus registers each one with a default "not supported" handler. */
export const MODELED_OPERATIONS: ReadonlySet<string> = new Set(
  [
    'AuthorizeClientDeviceAction',
    'CancelLocalDeployment',
    'CreateDebugPassword',
    'CreateLocalDeployment',
    'DeferComponentUpdate',
    'DeleteThingShadow',
    'GetClientDeviceAuthToken',
    'GetComponentDetails',
    'GetConfiguration',
    'GetLocalDeploymentStatus',
    'GetSecretValue',
    'GetThingShadow',
    'ListComponents',
    'ListLocalDeployments',
    'ListNamedShadowsForThing',
    'PauseComponent',
    'PublishToIoTCore',
    'PublishToTopic',
    'PutComponentMetric',
    'RestartComponent',
    'ResumeComponent',
    'SendConfigurationValidityReport',
    'StopComponent',
    'SubscribeToCertificateUpdates',
    'SubscribeToComponentUpdates',
    'SubscribeToConfigurationUpdate',
    'SubscribeToIoTCore',
    'SubscribeToTopic',
    'SubscribeToValidateConfigurationUpdates',
    'UpdateConfiguration',
    'UpdateState',
    'UpdateThingShadow',
    'ValidateAuthorizationToken',
    'VerifyClientDeviceIdentity',
  ].map(qualified),
);

export const Shapes = {
  ioTCoreMessage: qualified('IoTCoreMessage'),
  configurationUpdateEvents: qualified('ConfigurationUpdateEvents'),
  validateConfigurationUpdateEvents: qualified('ValidateConfigurationUpdateEvents'),
} as const;

export function responseShape(operation: string): string {
  return `${operation}Response`;
}

export type ErrorCode = 'ServiceError' | 'UnauthorizedError' | 'InvalidArgumentsError' | 'ResourceNotFoundError';

/**
 * A modeled error as the nucleus serializes it: the shape's own fields plus `_service`, `_message`
 * and `_errorCode` from the Java EventStreamOperationError. Client code can only tell errors apart
 * by `_errorCode`, so it must be present.
 */
export class ModeledError extends Error {
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get shape(): string {
    return qualified(this.errorCode);
  }

  toPayload(): Record<string, unknown> {
    return { message: this.message, ...this.extra, _service: SERVICE_ID, _message: this.message, _errorCode: this.errorCode };
  }
}

export const NOT_AUTHORIZED = 'Not Authorized';
export const KEY_NOT_FOUND = 'Key not found';

export function unsupportedModeledOperation(operation: string): ModeledError {
  return new ModeledError('ServiceError', `Operation ${operation} is not supported by Greengrass`);
}

/** The raw body sent for an operation name outside the model (no service-model-type header). */
export function unsupportedOperationBody(operation: string): string {
  const escaped = JSON.stringify(operation).slice(1, -1);
  return `{ "error": "Unsupported Operation", "message": "${escaped} is an unsupported operation." }`;
}
