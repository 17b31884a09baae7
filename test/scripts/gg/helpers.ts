/**
 * Test wiring for the gg CLI: a temp project, recorded output, a fake clock whose sleep advances time, and
 * mocked AWS clients whose every request is checked against the vendored AWS service model after each test.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { IAMClient } from '@aws-sdk/client-iam';
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { type AwsCommand, type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { AwsGateway } from '../../../scripts/gg/aws';
import { clientsWith } from '../../../scripts/gg/clients';
import type { AwsClients, CliDeps } from '../../../scripts/gg/deps';
import { type ModelService, operationOf, validateRequest } from '../../support/aws-model-validator';

export const COMPONENT = 'com.example.TestAgent';
export const VERSION = '1.2.3';
export const ACCOUNT = '123456789012';
/** The tag the tool puts on every resource it creates (cleanup removes only those). */
export const CREATED_BY = [{ Key: 'gg-created-by', Value: COMPONENT }];
const REGION = 'eu-west-1';

export const mocks = {
  greengrass: mockClient(GreengrassV2Client),
  iot: mockClient(IoTClient),
  s3: mockClient(S3Client),
  sts: mockClient(STSClient),
  sns: mockClient(SNSClient),
  iam: mockClient(IAMClient),
  logs: mockClient(CloudWatchLogsClient),
  lambda: mockClient(LambdaClient),
  iotData: mockClient(IoTDataPlaneClient),
  cloudwatch: mockClient(CloudWatchClient),
};

const MODEL_OF: Record<keyof typeof mocks, ModelService> = {
  greengrass: 'greengrassv2',
  iot: 'iot',
  s3: 's3',
  sts: 'sts',
  sns: 'sns',
  iam: 'iam',
  logs: 'logs',
  lambda: 'lambda',
  iotData: 'iot-data',
  cloudwatch: 'cloudwatch',
};

/**
 * --dry-run requests never reach a client, so the gateway's one door is watched too: what it would have sent in a
 * dry run is checked like what the mocks received.
 */
const dryRunRequests: { service: keyof typeof mocks; command: { input: unknown } }[] = [];
type GatewayCall = (this: AwsGateway, service: keyof typeof mocks, command: { input: unknown }) => Promise<unknown>;
const gatewayPrototype = AwsGateway.prototype as unknown as { call: GatewayCall };
const sendThroughGateway = gatewayPrototype.call;
gatewayPrototype.call = function (this: AwsGateway, service, command) {
  if (this.dryRun) dryRunRequests.push({ service, command });
  return sendThroughGateway.call(this, service, command);
};

/** A dry run names the account as a placeholder; the request is checked as it would be sent for a real one. */
function withAccount(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('<account-id>', ACCOUNT);
  if (Array.isArray(value)) return value.map(withAccount);
  if (typeof value === 'object' && value !== null && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withAccount(item)]));
  }
  return value;
}

/** Every request the mocks received (and every dry-run request), checked against its operation's input shape in the vendored AWS models. */
export function modelViolations(): string[] {
  const violations: string[] = [];
  for (const { service, command } of dryRunRequests) {
    for (const problem of validateRequest(MODEL_OF[service], operationOf(command), withAccount(command.input))) {
      violations.push(`${service} (dry run) ${problem}`);
    }
  }
  for (const name of Object.keys(mocks) as (keyof typeof mocks)[]) {
    for (const call of mocks[name].calls()) {
      const command = call.args[0] as { input: unknown };
      const operation = operationOf(command);
      for (const problem of validateRequest(MODEL_OF[name], operation, command.input)) violations.push(`${name} ${problem}`);
    }
  }
  return violations;
}

export function resetMocks(): void {
  for (const mock of Object.values(mocks)) mock.reset();
  dryRunRequests.length = 0;
  mocks.sts.onAnyCommand().resolves({ Account: ACCOUNT });
}

// Registered in every test file that imports these helpers: each test starts with fresh mocks and ends with its
// temp projects removed, and a request the AWS model rejects fails the test that sent it.
beforeEach(resetMocks);
afterEach(removeProjects);
afterEach(() => {
  const violations = modelViolations();
  if (violations.length > 0) {
    throw new Error(`requests sent in this test violate the AWS service models:\n  ${violations.join('\n  ')}`);
  }
});

/** The input of every call of one command a mock received, in the order sent. */
export function inputsOf<TCommand extends AwsCommand<any, any>, TInput extends TCommand extends AwsCommand<infer I, any> ? I : never>(
  mock: AwsStub<any, any, any>,
  command: new (input: TInput) => TCommand,
): TInput[] {
  return mock.commandCalls(command).map((call) => call.args[0].input as TInput);
}

export function totalCalls(): number {
  return Object.values(mocks).reduce((sum, mock) => sum + mock.calls().length, 0);
}

export const RECIPE = `RecipeFormatVersion: "2020-01-25"
ComponentName: ${COMPONENT}
ComponentVersion: "${VERSION}"
ComponentPublisher: Tests
Manifests:
  - Platform: { os: linux, architecture: aarch64 }
    Artifacts:
      - URI: s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/agent.js
      - URI: s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/crt-arm64.node
        Permission: { Read: OWNER, Execute: OWNER }
    Lifecycle:
      Run: node {artifacts:path}/agent.js
`;

export const ARTIFACTS: Record<string, string> = { 'agent.js': 'console.log("agent")', 'crt-arm64.node': 'ELF-binary' };

export interface ProjectOptions {
  region?: string;
  version?: string;
  withBuild?: boolean;
}

export function writeBuild(root: string, version = VERSION): void {
  const artifacts = join(root, 'greengrass-build', 'artifacts', COMPONENT, version);
  mkdirSync(artifacts, { recursive: true });
  mkdirSync(join(root, 'greengrass-build', 'recipes'), { recursive: true });
  writeFileSync(join(root, 'greengrass-build', 'recipes', 'recipe.yaml'), RECIPE.replace(`"${VERSION}"`, `"${version}"`));
  for (const [name, content] of Object.entries(ARTIFACTS)) writeFileSync(join(artifacts, name), content);
}

const projects: string[] = [];

export function makeProject(options: ProjectOptions = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'gg-'));
  projects.push(root);
  const version = options.version ?? VERSION;
  const gdk = {
    component: {
      [COMPONENT]: {
        author: 'Tests',
        version,
        build: { build_system: 'custom', custom_build_command: ['npm', 'run', 'build', '--', '--gdk'] },
        publish: { bucket: 'agent-artifacts', region: options.region ?? REGION },
      },
    },
    gdk_version: '1.6.2',
  };
  writeFileSync(join(root, 'gdk-config.json'), JSON.stringify(gdk));
  if (options.withBuild ?? true) writeBuild(root, version);
  return root;
}

export function removeProjects(): void {
  for (const root of projects.splice(0)) rmSync(root, { recursive: true, force: true });
}

/** Real SDK clients (their send is replaced by the mocks above) with fake credentials. */
export function createTestClients(region: string | undefined): AwsClients {
  return clientsWith({ region: region ?? REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

/** What `npm run build -- --gdk` writes, at the version gdk-config.json names (NEXT_PATCH included). */
function buildAsConfigured(root: string): void {
  const gdk = JSON.parse(readFileSync(join(root, 'gdk-config.json'), 'utf8')) as { component: Record<string, { version: string }> };
  writeBuild(root, gdk.component[COMPONENT]!.version);
}

export interface Harness {
  deps: CliDeps;
  /** Project roots the (fake) build ran in. */
  builds: string[];
  lines: string[];
  errors: string[];
  sleeps: number[];
  text(): string;
}

export function harness(projectRoot: string, overrides: Partial<CliDeps> = {}): Harness {
  const lines: string[] = [];
  const errors: string[] = [];
  const sleeps: number[] = [];
  const builds: string[] = [];
  let now = Date.parse('2025-01-01T00:00:00Z');
  const deps: CliDeps = {
    createClients: createTestClients,
    out: { info: (line) => lines.push(line), error: (line) => errors.push(line) },
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    now: () => new Date(now),
    projectRoot,
    confirm: undefined,
    runBuild: async (root) => {
      builds.push(root);
      buildAsConfigured(root);
    },
    ...overrides,
  };
  return { deps, builds, lines, errors, sleeps, text: () => [...lines, ...errors].join('\n') };
}

export function awsError(name: string, message = name, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
}

/** What AWS IoT, Greengrass and Lambda answer for a resource that does not exist. */
export function notFound(message = 'not found'): Error {
  return awsError('ResourceNotFoundException', message, 404);
}
