/**
 * The one door to AWS: every request goes through AwsGateway, which prints instead of sending in
 * --dry-run, turns AccessDenied into the IAM action the operator has to grant, and a call still throttled
 * after the SDK's own retries (the only retry layer, scripts/gg/clients.ts) into what to do about it.
 */
import { CliError } from './errors';
import type { AwsClients, OutputSink } from './deps';
import { stringifyExactJson } from '../../src/util/exact-json';

export type ServiceName = keyof AwsClients;

/** Structural view of an SDK v3 command: enough to send it and to infer its output type. */
export interface SdkCommand {
  readonly input: object;
  resolveMiddleware(...args: never[]): unknown;
}
export type OutputOf<C> = C extends { resolveMiddleware(...args: never[]): (...args: never[]) => Promise<{ output: infer O }> } ? O : never;

interface SendingClient {
  send(command: unknown): Promise<unknown>;
}

const DRY_RUN_ACCOUNT = '<account-id>';

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ThrottledException',
]);
const ACCESS_DENIED_NAMES = new Set(['AccessDeniedException', 'AccessDenied', 'UnauthorizedException', 'AuthorizationErrorException']);
const NOT_FOUND_NAMES = new Set(['ResourceNotFoundException', 'NotFound', 'NoSuchBucket', 'NoSuchKey']);

/** IAM actions whose names differ from the API operation. */
const IAM_ACTION_OVERRIDES: Record<string, string> = { 's3:HeadBucket': 's3:ListBucket', 's3:HeadObject': 's3:GetObject' };

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

function shape(error: unknown): ErrorShape {
  return typeof error === 'object' && error !== null ? (error as ErrorShape) : {};
}

export function errorName(error: unknown): string {
  const name = shape(error).name;
  return typeof name === 'string' ? name : '';
}

export function isNotFound(error: unknown): boolean {
  return NOT_FOUND_NAMES.has(errorName(error)) || shape(error).$metadata?.httpStatusCode === 404;
}

export function isConflict(error: unknown): boolean {
  return errorName(error) === 'ConflictException' || errorName(error) === 'ResourceAlreadyExistsException';
}

function isThrottling(error: unknown): boolean {
  return THROTTLING_NAMES.has(errorName(error)) || shape(error).$retryable?.throttling === true;
}

function isAccessDenied(error: unknown): boolean {
  return ACCESS_DENIED_NAMES.has(errorName(error));
}

function commandName(command: SdkCommand): string {
  return command.constructor.name.replace(/Command$/, '');
}

/** IAM's prefix of each service's actions (device shadows are iot:GetThingShadow, not iotData:...). */
const IAM_PREFIX: Partial<Record<ServiceName, string>> = { iotData: 'iot' };

export function iamAction(service: ServiceName, operation: string): string {
  const prefix = IAM_PREFIX[service] ?? service;
  const action = `${prefix}:${operation}`;
  return IAM_ACTION_OVERRIDES[action] ?? action;
}

export class AccessDeniedError extends CliError {
  constructor(
    readonly action: string,
    detail: string,
  ) {
    super(
      `AWS denied ${action}${detail ? `: ${detail}` : ''}`,
      `grant the IAM action ${action} to the identity these credentials belong to (scripts/gg/README.md lists what each subcommand needs)`,
    );
    this.name = 'AccessDeniedError';
  }
}

/** Buffers are shown by size; the inline recipe is printed as text after the JSON. */
function printable(value: unknown): unknown {
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(printable);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, printable(v)]),
    );
  }
  return value;
}

/** The AWS CLI's name of each service and operation (CreateSecurityProfile -> create-security-profile). */
const CLI_SERVICE: Record<ServiceName, string> = {
  greengrass: 'greengrassv2',
  iot: 'iot',
  s3: 's3api',
  sts: 'sts',
  sns: 'sns',
  iam: 'iam',
  logs: 'logs',
  lambda: 'lambda',
  iotData: 'iot-data',
  cloudwatch: 'cloudwatch',
};

function kebab(operation: string): string {
  return operation
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Bytes as the AWS CLI v2 reads blobs in --cli-input-json (base64); streaming bodies go in a file. */
function cliValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(cliValue);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, cliValue(v)]),
    );
  }
  return value;
}

/** The local file a request's body was read from, so that a printed AWS CLI command can name it. */
const BODY_FILES = new WeakMap<object, string>();

/** Marks a request input whose body is the content of `path` (publish's artifacts). */
export function bodyReadFrom<T extends object>(input: T, path: string): T {
  BODY_FILES.set(input, path);
  return input;
}

/**
 * Blobs the AWS CLI takes from a file instead of the JSON: the request without them, and the file arguments,
 * always shell-quoted: a body read from a file names that file; bytes made in memory (the isolation zip) name a
 * placeholder to replace.
 */
function fileArguments(operation: string, input: object): { rest: object; files: string } {
  const bytes = (value: unknown): number | undefined => (value instanceof Uint8Array ? value.byteLength : undefined);
  if (operation === 'PutObject') {
    const { Body, ...rest } = input as { Body?: unknown };
    const size = bytes(Body);
    if (size === undefined) return { rest, files: '' };
    const path = BODY_FILES.get(input);
    return { rest, files: ` --body ${shellQuote(path ?? `<file of ${size} bytes>`)}` };
  }
  if (operation === 'UpdateFunctionCode') {
    const { ZipFile, ...rest } = input as { ZipFile?: unknown };
    const size = bytes(ZipFile);
    return { rest, files: size === undefined ? '' : ` --zip-file ${shellQuote(`fileb://<zip of ${size} bytes>`)}` };
  }
  if (operation === 'CreateFunction') {
    const { Code, ...rest } = input as { Code?: { ZipFile?: unknown } };
    const size = bytes(Code?.ZipFile);
    if (size !== undefined) return { rest, files: ` --zip-file ${shellQuote(`fileb://<zip of ${size} bytes>`)}` };
  }
  return { rest: input, files: '' };
}

/** One request as an AWS CLI command line an operator can paste. */
function cliCommand(service: ServiceName, operation: string, input: object, region: string): string {
  const { rest, files } = fileArguments(operation, input);
  // Exact: a behavior's count beyond 2^53 is a bigint in the request.
  const json = stringifyExactJson(cliValue(rest));
  return `aws ${CLI_SERVICE[service]} ${kebab(operation)} --region ${region} --cli-input-json ${shellQuote(json)}${files}`;
}

export function describeRequest(service: ServiceName, operation: string, input: object): string[] {
  const lines = [`[dry-run] ${iamAction(service, operation).replace(/:.*/, '')} ${operation} ${stringifyExactJson(printable(input), 2)}`];
  const recipe = (input as { inlineRecipe?: unknown }).inlineRecipe;
  if (recipe instanceof Uint8Array) lines.push('[dry-run] inlineRecipe as text:', Buffer.from(recipe).toString('utf8'));
  return lines;
}

function dryRunNotFound(operation: string): Error {
  return Object.assign(new Error(`${operation}: not looked up in --dry-run (assumed missing)`), {
    name: 'ResourceNotFoundException',
    $metadata: { httpStatusCode: 404 },
  });
}

/**
 * What a dry run pretends AWS answered: an empty account. Lookups find nothing, lists are empty,
 * so the printed plan is the one for a first run.
 */
function dryRunResponse(operation: string, account: string): unknown {
  if (operation === 'GetCallerIdentity') return { Account: account };
  if (/^(Get|Describe|Head)/.test(operation)) throw dryRunNotFound(operation);
  if (operation === 'CreateDeployment') return { deploymentId: '<new-deployment-id>' };
  return {};
}

export interface GatewayOptions {
  dryRun: boolean;
  out: OutputSink;
  /** --dry-run --account: requests print as AWS CLI commands naming this account. */
  dryRunAccount?: string;
}

export class AwsGateway {
  readonly dryRun: boolean;

  constructor(
    private readonly clients: AwsClients,
    readonly region: string,
    private readonly options: GatewayOptions,
  ) {
    this.dryRun = options.dryRun;
  }

  greengrass<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('greengrass', command);
  }

  iot<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('iot', command);
  }

  s3<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('s3', command);
  }

  sts<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('sts', command);
  }

  sns<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('sns', command);
  }

  iam<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('iam', command);
  }

  logs<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('logs', command);
  }

  lambda<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('lambda', command);
  }

  iotData<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('iotData', command);
  }

  cloudwatch<C extends SdkCommand>(command: C): Promise<OutputOf<C>> {
    return this.call('cloudwatch', command);
  }

  private async call<C extends SdkCommand>(service: ServiceName, command: C): Promise<OutputOf<C>> {
    const operation = commandName(command);
    if (this.dryRun) {
      const account = this.options.dryRunAccount;
      if (account) this.options.out.info(cliCommand(service, operation, command.input, this.region));
      else for (const line of describeRequest(service, operation, command.input)) this.options.out.info(line);
      return dryRunResponse(operation, account ?? DRY_RUN_ACCOUNT) as OutputOf<C>;
    }
    const client = this.clients[service] as unknown as SendingClient;
    try {
      return (await client.send(command)) as OutputOf<C>;
    } catch (error) {
      if (isAccessDenied(error)) {
        const message = shape(error).message;
        throw new AccessDeniedError(iamAction(service, operation), typeof message === 'string' ? message : '');
      }
      // The SDK has already retried it (its adaptive mode also slowed down): retrying again here would multiply attempts.
      if (isThrottling(error)) {
        throw new CliError(
          `${operation} is still throttled by AWS after the SDK's retries`,
          'wait a minute and run the command again; if it keeps happening, ask for a higher request quota for the API',
        );
      }
      throw error;
    }
  }
}

export function partitionFor(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** ARNs of the resources the subcommands name, all in one region and account. */
export class Arns {
  private readonly partition: string;

  constructor(
    readonly region: string,
    readonly account: string,
  ) {
    this.partition = partitionFor(region);
  }

  private iot(resource: string): string {
    return `arn:${this.partition}:iot:${this.region}:${this.account}:${resource}`;
  }

  thing(thingName: string): string {
    return this.iot(`thing/${thingName}`);
  }

  thingGroup(groupName: string): string {
    return this.iot(`thinggroup/${groupName}`);
  }

  allRegisteredThings(): string {
    return this.iot('all/registered-things');
  }

  topic(topic: string): string {
    return this.iot(`topic/${topic}`);
  }

  iotPolicy(policyName: string): string {
    return this.iot(`policy/${policyName}`);
  }

  mitigationAction(actionName: string): string {
    return this.iot(`mitigationaction/${actionName}`);
  }

  topicFilter(topicFilter: string): string {
    return this.iot(`topicfilter/${topicFilter}`);
  }

  component(componentName: string): string {
    return `arn:${this.partition}:greengrass:${this.region}:${this.account}:components:${componentName}`;
  }

  snsTopic(topicName: string): string {
    return `arn:${this.partition}:sns:${this.region}:${this.account}:${topicName}`;
  }

  role(roleName: string): string {
    return `arn:${this.partition}:iam::${this.account}:role/${roleName}`;
  }

  /** An AWS managed policy, e.g. service-role/AWSIoTDeviceDefenderAddThingsToThingGroupMitigationAction. */
  managedPolicy(path: string): string {
    return `arn:${this.partition}:iam::aws:policy/${path}`;
  }

  /** Any resource of AWS IoT in this account and region (the condition Device Defender's roles trust on). */
  anyIot(): string {
    return this.iot('*');
  }

  componentVersion(componentName: string, version: string): string {
    return `${this.component(componentName)}:versions:${version}`;
  }
}
