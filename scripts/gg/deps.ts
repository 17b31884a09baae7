/** Everything a subcommand touches outside its own logic, injected so tests need no AWS, TTY or real time. */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { IoTClient } from '@aws-sdk/client-iot';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { STSClient } from '@aws-sdk/client-sts';

export interface AwsClients {
  greengrass: GreengrassV2Client;
  iot: IoTClient;
  s3: S3Client;
  sts: STSClient;
  sns: SNSClient;
  iam: IAMClient;
  logs: CloudWatchLogsClient;
  lambda: LambdaClient;
  iotData: IoTDataPlaneClient;
  cloudwatch: CloudWatchClient;
}

export interface OutputSink {
  info(line: string): void;
  error(line: string): void;
}

export interface CliDeps {
  /** Region undefined: the SDK's own chain (AWS_REGION, profile). */
  createClients(region: string | undefined): AwsClients;
  /** Prints as given: subcommands print through the session's terminal-safe view of it. */
  out: OutputSink;
  /** False when stdout is a pipe or a file (only then may `logs --raw` print control bytes); undefined counts as a terminal. */
  stdoutIsTerminal?: boolean;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): Date;
  projectRoot: string;
  /** Calls `handler` on Ctrl-C (instead of exiting) until the returned function is called. Undefined: no such signal. */
  onInterrupt?(handler: () => void): () => void;
  /** Undefined when there is no terminal to ask on. */
  confirm: ((question: string) => Promise<boolean>) | undefined;
  /** Runs `npm run build -- --gdk` in the project root. */
  runBuild(projectRoot: string): Promise<void>;
}
