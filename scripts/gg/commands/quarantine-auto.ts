/**
 * `quarantine auto enable|disable|status`: isolation without a human. A Lambda function (cloud/isolation) moves a
 * thing into the quarantine group and marks its `defender-quarantine` shadow on in-alarm of the chosen behaviors,
 * triggered by an AWS IoT rule on the agent's alarm topic (every account) and, with --sns-topic-arn, by Device
 * Defender's SNS alerts (accounts with Detect).
 */
import { CreateLogGroupCommand, DeleteLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, DeleteRoleCommand, DeleteRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DeleteTopicRuleCommand, GetTopicRuleCommand } from '@aws-sdk/client-iot';
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { ListSubscriptionsCommand, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { parseConfig } from '../../../src/config/parse';
import { DEFAULT_ALARM_TOPIC } from '../../../src/config/detection';
import { behaviorsValue, ENV } from '../../../cloud/isolation/settings';
import { DEFAULT_QUARANTINE_SHADOW } from '../../../cloud/isolation/shadow';
import { buildIsolationFunction, ISOLATION_HANDLER, ISOLATION_RUNTIME } from '../../build/isolation-function';
import { COMMON_HELP, COMMON_OPTIONS, nameFlag, parseFlags, snsTopicArnFlag } from '../args';
import { AccessDeniedError, type Arns, errorName, isNotFound } from '../aws';
import { createdByTags } from '../created-by';
import type { CliDeps } from '../deps';
import { CliError, UsageError } from '../errors';
import {
  EVENT_INVOKE_LIMITS,
  functionArn,
  type IsolationNames,
  isolationNames,
  isolationRolePolicy,
  isolationRulePayload,
  lambdaTrustPolicy,
  LOG_RETENTION_DAYS,
  ruleArn,
  SNS_FILTER_POLICY,
} from '../isolation-plan';
import { allPages } from '../paginate';
import { openSession, outcome, type Session } from '../session';
import { neutralized, quotedInput } from '../terminal-text';
import { upsertRule } from './setup-edge';
import { describeError } from '../../../src/util/describe-error';

const DEFAULT_GROUP = 'defender-quarantine';
/** A role IAM has just created takes seconds before Lambda may assume it; CreateFunction says so until then. */
const ROLE_PROPAGATION_RETRIES = 6;
const RETRY_DELAY_MS = 5_000;
const FUNCTION_TIMEOUT_SECONDS = 30;
const FUNCTION_MEMORY_MB = 128;

export const QUARANTINE_AUTO_HELP = `Usage: npm run gg -- quarantine auto enable|disable|status [flags]

Isolation without a human (detect -> alert -> isolate). enable creates:
  - the function <group>-isolate on AWS Lambda (${ISOLATION_RUNTIME}, arm64; cloud/isolation bundled by esbuild,
    its size printed): on in-alarm of a chosen behavior it adds the thing to the quarantine group
    (overrideDynamicGroups, as the mitigation action does) and writes the named shadow (default
    ${DEFAULT_QUARANTINE_SHADOW}) with the behavior, violation id and time. Duplicates, retries and events out of
    order change nothing more; alarm-cleared, unknown things and unreadable messages are logged, never retried.
  - its role <group>-isolate-<region>, allowed only iot:DescribeThing, iot:AddThingToThingGroup on the group,
    iot:GetThingShadow/UpdateThingShadow on that named shadow, and writing its own log group (kept ${LOG_RETENTION_DAYS} days)
  - the AWS IoT rule <group>_isolate on the agent's alarm topic (in-alarm only), allowed to invoke the function
  - with --sns-topic-arn: the function's subscription to Device Defender's alert topic (in-alarm only)
  Lambda retries a failed invocation at most ${EVENT_INVOKE_LIMITS.MaximumRetryAttempts} times within ${EVENT_INVOKE_LIMITS.MaximumEventAgeInSeconds / 3600} h.
disable removes all of that (the group and its members stay: quarantine release --thing T).
status shows the function, the rule and the subscription.
Flags:
  --group-name G        quarantine thing group (default ${DEFAULT_GROUP}; quarantine setup creates it, or --create-group)
  --create-group        enable: also create the group and its deny-all policy, as quarantine setup does
  --behaviors A,B       enable: behaviors that isolate (default: all)
  --sns-topic-arn A     enable: Device Defender's alert topic (setup-defender --create-sns); without it, edge alarms only
  --alarm-topic T       enable: the agent's alarmTopic (default ${DEFAULT_ALARM_TOPIC})
  --shadow-name N       named shadow to write (default ${DEFAULT_QUARANTINE_SHADOW})
  --keep-logs           disable: keep the function's log group (the record of what it isolated)
${COMMON_HELP}`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  'group-name': { type: 'string' },
  'create-group': { type: 'boolean' },
  behaviors: { type: 'string' },
  'sns-topic-arn': { type: 'string' },
  'alarm-topic': { type: 'string' },
  'shadow-name': { type: 'string' },
  'keep-logs': { type: 'boolean' },
} as const;

type Flags = ReturnType<typeof parseFlags<typeof OPTIONS>>;

/** Creates the quarantine group and its deny-all policy; quarantine.ts provides it so both commands create the same. */
export type CreateGroup = (session: Session, arns: Arns, group: string) => Promise<void>;

function behaviorsFlag(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((name) => name.trim());
  for (const name of names) nameFlag('behaviors', name);
  return names;
}

function alarmTopicFlag(value: string): string {
  const { config, errors } = parseConfig({ alarmTopic: value });
  if (errors.length > 0) throw new UsageError(`--alarm-topic: ${errors.map((e) => e.message).join('; ')}`);
  if (config.alarmTopic === '') throw new UsageError('--alarm-topic must not be empty');
  return config.alarmTopic;
}

async function retrying<T>(session: Session, what: string, isTransient: (error: unknown) => boolean, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (attempt >= ROLE_PROPAGATION_RETRIES)
        throw new CliError(`${what} kept failing: ${describeError(error)}`, 'wait a minute and run enable again');
      session.out.info(`${what}: ${describeError(error)}; retrying in ${RETRY_DELAY_MS / 1000} s`);
      await session.sleep(RETRY_DELAY_MS);
    }
  }
}

const roleNotAssumable = (error: unknown): boolean =>
  errorName(error) === 'InvalidParameterValueException' && /role|assume/i.test(describeError(error));
const updateInProgress = (error: unknown): boolean => errorName(error) === 'ResourceConflictException';

async function ensureRole(session: Session, arns: Arns, names: IsolationNames): Promise<string> {
  const { aws, out } = session;
  const policy = isolationRolePolicy(arns, names);
  try {
    await aws.iam(
      new CreateRoleCommand({
        RoleName: names.roleName,
        AssumeRolePolicyDocument: JSON.stringify(lambdaTrustPolicy(arns)),
        Description: `Lets the quarantine function ${names.functionName} isolate things into ${names.group}`,
        Tags: createdByTags(session.identity.name),
      }),
    );
    out.info(`${aws.dryRun ? '[dry-run] would create' : 'created'} IAM role ${names.roleName}`);
  } catch (error) {
    if (!['EntityAlreadyExistsException', 'EntityAlreadyExists'].includes(errorName(error))) throw error;
    out.info(`IAM role ${names.roleName} exists; updating its policy`);
  }
  await aws.iam(
    new PutRolePolicyCommand({ RoleName: names.roleName, PolicyName: 'isolate-things', PolicyDocument: JSON.stringify(policy) }),
  );
  out.info(`the function's role may do exactly this:\n${JSON.stringify(policy, null, 2)}`);
  return arns.role(names.roleName);
}

async function ensureLogGroup(session: Session, logGroup: string): Promise<void> {
  try {
    await session.aws.logs(new CreateLogGroupCommand({ logGroupName: logGroup }));
  } catch (error) {
    if (errorName(error) !== 'ResourceAlreadyExistsException') throw error;
  }
  await session.aws.logs(new PutRetentionPolicyCommand({ logGroupName: logGroup, retentionInDays: LOG_RETENTION_DAYS }));
}

async function ensureFunction(session: Session, names: IsolationNames, roleArn: string, behaviors: string[] | undefined): Promise<void> {
  const { aws, out } = session;
  const built = await buildIsolationFunction();
  out.info(
    `isolation function bundle: ${(built.bundle.byteLength / 1024).toFixed(1)} KiB index.js, ${(built.zip.byteLength / 1024).toFixed(1)} KiB zipped`,
  );
  const configuration = {
    FunctionName: names.functionName,
    Role: roleArn,
    Runtime: ISOLATION_RUNTIME,
    Handler: ISOLATION_HANDLER,
    Description: `Isolates things into ${names.group} on Device Defender alarms`,
    Timeout: FUNCTION_TIMEOUT_SECONDS,
    MemorySize: FUNCTION_MEMORY_MB,
    Environment: {
      Variables: { [ENV.group]: names.group, [ENV.shadow]: names.shadowName, [ENV.behaviors]: behaviorsValue(behaviors) },
    },
    LoggingConfig: { LogFormat: 'Text' as const, LogGroup: names.logGroup },
  };
  try {
    await retrying(session, 'Lambda cannot assume the new role yet', roleNotAssumable, () =>
      aws.lambda(new CreateFunctionCommand({ ...configuration, Code: { ZipFile: built.zip }, Architectures: ['arm64'], Publish: false })),
    );
    out.info(`${aws.dryRun ? '[dry-run] would create' : 'created'} function ${names.functionName}`);
  } catch (error) {
    if (errorName(error) !== 'ResourceConflictException') throw error;
    await aws.lambda(new UpdateFunctionCodeCommand({ FunctionName: names.functionName, ZipFile: built.zip, Architectures: ['arm64'] }));
    // Lambda refuses a configuration change while the code update is still being applied.
    await retrying(session, 'the code update is still in progress', updateInProgress, () =>
      aws.lambda(new UpdateFunctionConfigurationCommand(configuration)),
    );
    out.info(outcome(session, `updated function ${names.functionName}`, `update function ${names.functionName}`));
  }
  await retrying(session, 'the function is still being updated', updateInProgress, () =>
    aws.lambda(new PutFunctionEventInvokeConfigCommand({ FunctionName: names.functionName, ...EVENT_INVOKE_LIMITS })),
  );
}

async function allowInvoke(
  session: Session,
  functionName: string,
  statementId: string,
  principal: string,
  sourceArn: string,
): Promise<void> {
  const arns = await session.arns();
  try {
    await session.aws.lambda(
      new AddPermissionCommand({
        FunctionName: functionName,
        StatementId: statementId,
        Action: 'lambda:InvokeFunction',
        Principal: principal,
        SourceArn: sourceArn,
        SourceAccount: arns.account,
      }),
    );
  } catch (error) {
    // The statement is there from an earlier enable.
    if (errorName(error) !== 'ResourceConflictException') throw error;
  }
}

async function enable(session: Session, flags: Flags, names: IsolationNames, createGroup: CreateGroup): Promise<void> {
  const { out } = session;
  const arns = await session.arns();
  const behaviors = behaviorsFlag(flags.behaviors);
  const alarmTopic = alarmTopicFlag(flags['alarm-topic'] ?? DEFAULT_ALARM_TOPIC);
  const snsTopicArn = snsTopicArnFlag('sns-topic-arn', flags['sns-topic-arn']);
  if (flags['create-group']) await createGroup(session, arns, names.group);
  const roleArn = await ensureRole(session, arns, names);
  await ensureLogGroup(session, names.logGroup);
  await ensureFunction(session, names, roleArn, behaviors);
  const fnArn = functionArn(arns, names.functionName);
  await allowInvoke(
    session,
    names.functionName,
    `iot-rule-${names.ruleName}`.slice(0, 100),
    'iot.amazonaws.com',
    ruleArn(arns, names.ruleName),
  );
  await upsertRule(session, names.ruleName, isolationRulePayload(alarmTopic, fnArn));
  if (snsTopicArn) {
    await allowInvoke(session, names.functionName, 'device-defender-alerts', 'sns.amazonaws.com', snsTopicArn);
    const subscribed = await session.aws.sns(
      new SubscribeCommand({
        TopicArn: snsTopicArn,
        Protocol: 'lambda',
        Endpoint: fnArn,
        Attributes: { FilterPolicyScope: 'MessageBody', FilterPolicy: JSON.stringify(SNS_FILTER_POLICY) },
        ReturnSubscriptionArn: true,
      }),
    );
    out.info(
      outcome(
        session,
        `subscribed ${names.functionName} to ${snsTopicArn}${subscribed.SubscriptionArn ? ` (${subscribed.SubscriptionArn})` : ''}`,
        `subscribe ${names.functionName} to ${snsTopicArn}`,
      ),
    );
  } else {
    // Detect's alerts go to the topic the operator chose as the security profile's alert target; nothing here can
    // guess it, so say that those alerts do not isolate yet rather than leave it to be assumed.
    out.info(
      "Device Defender's SNS alerts are not subscribed: only the agent's edge alarms isolate. To isolate on Detect's " +
        "alerts too, run enable again with --sns-topic-arn <the security profile's alert topic>",
    );
  }
  out.info(
    `isolating on in-alarm of ${behaviors ? behaviors.join(', ') : 'every behavior'}: edge alarms on ${alarmTopic}${snsTopicArn ? ' and Device Defender alerts' : ''} -> ${names.group}, shadow ${names.shadowName}`,
  );
  out.info(`its log: aws logs tail ${names.logGroup} --follow; turn it off: npm run gg -- quarantine auto disable`);
}

async function subscriptionsOf(session: Session, fnArn: string): Promise<{ SubscriptionArn?: string; TopicArn?: string }[]> {
  const subscriptions = await allPages(
    (nextToken) =>
      session.aws.sns(new ListSubscriptionsCommand({ NextToken: nextToken })).then((page) => ({ ...page, nextToken: page.NextToken })),
    (page) => page.Subscriptions,
  );
  return subscriptions.filter((s) => s.Protocol === 'lambda' && s.Endpoint === fnArn);
}

async function ignoringMissing(session: Session, what: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
    session.out.info(`${session.aws.dryRun ? '[dry-run] would delete' : 'deleted'} ${what}`);
  } catch (error) {
    if (!isNotFound(error) && errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw error;
    session.out.info(`${what}: not there`);
  }
}

async function disable(session: Session, flags: Flags, names: IsolationNames): Promise<void> {
  const { aws, out } = session;
  const arns = await session.arns();
  const fnArn = functionArn(arns, names.functionName);
  for (const subscription of await subscriptionsOf(session, fnArn)) {
    if (!subscription.SubscriptionArn) continue;
    await aws.sns(new UnsubscribeCommand({ SubscriptionArn: subscription.SubscriptionArn }));
    out.info(
      outcome(
        session,
        `unsubscribed ${names.functionName} from ${subscription.TopicArn}`,
        `unsubscribe ${names.functionName} from ${subscription.TopicArn}`,
      ),
    );
  }
  await ignoringMissing(session, `topic rule ${names.ruleName}`, () => aws.iot(new DeleteTopicRuleCommand({ ruleName: names.ruleName })));
  // Its resource policy (the invoke permissions) and its event invoke configuration go with the function.
  await ignoringMissing(session, `function ${names.functionName}`, () =>
    aws.lambda(new DeleteFunctionCommand({ FunctionName: names.functionName })),
  );
  if (!flags['keep-logs']) {
    await ignoringMissing(session, `log group ${names.logGroup}`, () =>
      aws.logs(new DeleteLogGroupCommand({ logGroupName: names.logGroup })),
    );
  }
  await ignoringMissing(session, `role policy ${names.roleName}/isolate-things`, () =>
    aws.iam(new DeleteRolePolicyCommand({ RoleName: names.roleName, PolicyName: 'isolate-things' })),
  );
  await ignoringMissing(session, `IAM role ${names.roleName}`, () => aws.iam(new DeleteRoleCommand({ RoleName: names.roleName })));
  out.info(
    `${session.aws.dryRun ? '[dry-run] automatic isolation would be off' : 'automatic isolation is off'}; thing group ${names.group} and its members stay (npm run gg -- quarantine release --thing T)`,
  );
}

async function status(session: Session, names: IsolationNames): Promise<number> {
  const { aws, out } = session;
  const arns = await session.arns();
  let enabled = true;
  try {
    const fn = await aws.lambda(new GetFunctionCommand({ FunctionName: names.functionName }));
    const config = fn.Configuration;
    const env = config?.Environment?.Variables ?? {};
    out.info(
      neutralized(
        `function ${names.functionName}: ${config?.State ?? '?'} (last update ${config?.LastUpdateStatus ?? '?'}), ${config?.Runtime ?? '?'}, ` +
          `group ${env[ENV.group] ?? '?'}, shadow ${env[ENV.shadow] ?? '?'}, behaviors ${env[ENV.behaviors] ?? '?'}`,
      ),
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
    out.info(`function ${names.functionName}: not there`);
    enabled = false;
  }
  try {
    const rule = await aws.iot(new GetTopicRuleCommand({ ruleName: names.ruleName }));
    out.info(`topic rule ${names.ruleName}: ${rule.rule?.ruleDisabled ? 'DISABLED' : 'enabled'}, ${neutralized(rule.rule?.sql ?? '?')}`);
  } catch (error) {
    // AWS IoT answers GetTopicRule for a rule that does not exist with UnauthorizedException, as for a denied one.
    if (!isNotFound(error) && !(error instanceof AccessDeniedError)) throw error;
    out.info(
      `topic rule ${names.ruleName}: ${error instanceof AccessDeniedError ? 'not there, or iot:GetTopicRule is denied' : 'not there'}`,
    );
    enabled = false;
  }
  const subscriptions = await subscriptionsOf(session, functionArn(arns, names.functionName));
  out.info(
    subscriptions.length
      ? `subscribed to: ${subscriptions.map((s) => neutralized(s.TopicArn ?? '?')).join(', ')}`
      : 'subscribed to no SNS topic (edge alarms only)',
  );
  out.info(enabled ? 'automatic isolation: on' : 'automatic isolation: off (npm run gg -- quarantine auto enable)');
  return 0;
}

export async function quarantineAutoCommand(argv: string[], deps: CliDeps, createGroup: CreateGroup): Promise<number> {
  const [action, ...rest] = argv;
  if (action !== 'enable' && action !== 'disable' && action !== 'status') {
    throw new UsageError(`quarantine auto needs enable, disable or status (got ${action === undefined ? 'nothing' : quotedInput(action)})`);
  }
  const flags = parseFlags(`quarantine auto ${action}`, rest, OPTIONS);
  const enableOnly = ['create-group', 'behaviors', 'sns-topic-arn', 'alarm-topic'] as const;
  const misplaced = enableOnly.filter((name) => action !== 'enable' && flags[name] !== undefined);
  if (misplaced.length) throw new UsageError(`--${misplaced[0]} applies to quarantine auto enable only`);
  if (action !== 'disable' && flags['keep-logs']) throw new UsageError('--keep-logs applies to quarantine auto disable only');
  const group = nameFlag('group-name', flags['group-name']) ?? DEFAULT_GROUP;
  const shadowName = flags['shadow-name'] ?? DEFAULT_QUARANTINE_SHADOW;
  if (!/^[a-zA-Z0-9:_-]{1,64}$/.test(shadowName))
    throw new UsageError(`--shadow-name ${quotedInput(shadowName)} is not a shadow name (1-64 of a-z A-Z 0-9 : _ -)`);
  const session = await openSession(deps, flags);
  const names = isolationNames(group, session.aws.region, shadowName);
  if (action === 'enable') {
    await enable(session, flags, names, createGroup);
    return 0;
  }
  if (action === 'disable') {
    await disable(session, flags, names);
    return 0;
  }
  return status(session, names);
}
