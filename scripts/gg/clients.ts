/**
 * The real AWS SDK clients of `npm run gg`. Retrying is the SDK's one layer (adaptive mode: it also slows its own
 * request rate when AWS throttles); the gateway does not retry on top, so a throttled call costs at most
 * SDK_MAX_ATTEMPTS HTTP requests.
 */
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
import type { AwsClients } from './deps';

export const SDK_MAX_ATTEMPTS = 5;
const SDK_RETRY_MODE = 'adaptive';
/** The first Node major the AWS SDK for JavaScript v3 requires in its releases after January 2027. */
const SDK_FUTURE_NODE_MAJOR = 22;

export function createAwsClients(region: string | undefined): AwsClients {
  // The SDK would print its own eight-line notice; the tool says it in one line, once (sdkNodeNote).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  return clientsWith({ maxAttempts: SDK_MAX_ATTEMPTS, retryMode: SDK_RETRY_MODE, ...(region ? { region } : {}) });
}

/** The options every client of the tool shares (a subset of each SDK client's own configuration type). */
export interface SharedClientConfig {
  region?: string;
  maxAttempts?: number;
  retryMode?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** One client per service the tool calls, all with the same configuration. */
export function clientsWith(config: SharedClientConfig): AwsClients {
  return {
    greengrass: new GreengrassV2Client(config),
    iot: new IoTClient(config),
    s3: new S3Client(config),
    sts: new STSClient(config),
    sns: new SNSClient(config),
    iam: new IAMClient(config),
    logs: new CloudWatchLogsClient(config),
    lambda: new LambdaClient(config),
    iotData: new IoTDataPlaneClient(config),
    cloudwatch: new CloudWatchClient(config),
  };
}

/** One line for a workstation whose Node the SDK's future releases will not support; undefined when there is nothing to say. */
export function sdkNodeNote(nodeVersion: string): string | undefined {
  const major = Number(/^v(\d+)\./.exec(nodeVersion)?.[1]);
  if (!Number.isInteger(major) || major >= SDK_FUTURE_NODE_MAJOR) return undefined;
  return `note: Node ${nodeVersion} runs the AWS SDK versions pinned here; its releases after January 2027 need Node >= ${SDK_FUTURE_NODE_MAJOR} (https://a.co/c895JFp)`;
}
