/** `setup-edge`: the cloud side of detection at the edge: alarms to SNS, and optionally the metrics sink to CloudWatch. */
import { CreateTopicRuleCommand, ReplaceTopicRuleCommand, type TopicRulePayload } from '@aws-sdk/client-iot';
import { parseConfig } from '../../../src/config/parse';
import { DEFAULT_ALARM_TOPIC } from '../../../src/config/detection';
import { COMMON_HELP, COMMON_OPTIONS, parseFlags } from '../args';
import { type Arns, errorName, isConflict } from '../aws';
import type { CliDeps } from '../deps';
import { CliError, UsageError } from '../errors';
import {
  alarmRulePayload,
  metricsRulePayload,
  REPORT_METRIC_NAMES,
  ruleNameFor,
  ruleRoleNameFor,
  ruleRolePolicy,
  topicFilterOf,
} from '../edge-rules';
import { createdByRuleTags } from '../created-by';
import { ensureIotServiceRole } from '../iot-service-role';
import { ensureSnsTopic, SNS_NAME } from '../sns-alerts';
import { openSession, outcome, type Session } from '../session';
import {
  ALARM_LOG_RETENTION_DAYS,
  alarmLogAction,
  alarmLogStatement,
  DEFAULT_ALARM_LOG_GROUP,
  ensureAlarmLogGroup,
  logGroupProblem,
} from '../edge-history';
import { DASHBOARD_NAME, putFleetDashboard } from '../fleet-dashboard';
import { quotedInput } from '../terminal-text';
import { describeError } from '../../../src/util/describe-error';

const DEFAULT_NAMESPACE = 'DeviceDefenderAgent';
/** A role IAM has just created can take a few seconds before AWS IoT may pass it: CreateTopicRule says so until then. */
const ROLE_PROPAGATION_RETRIES = 6;
const ROLE_PROPAGATION_DELAY_MS = 5_000;

export const SETUP_EDGE_HELP = `Usage: npm run gg -- setup-edge (--sns-topic-arn A | --create-sns NAME) [flags]

Creates or replaces the AWS IoT topic rule that routes the agent's alarms (violation events raised on the core,
configuration key alarmTopic) to an SNS topic, unchanged, so a consumer of Device Defender's SNS alerts reads
the same fields (thingName, behavior, violationEventType). Optionally a second rule puts the reports of the
metrics sink (metricsSinkTopic) into CloudWatch metrics. One IAM role, trusted by AWS IoT, carries exactly
what the rules do (sns:Publish on the topic, cloudwatch:PutMetricData in the namespace).
  --sns-topic-arn A          existing SNS topic for the alarms
  --create-sns NAME          or create SNS topic NAME (CreateTopic returns an existing one unchanged)
  --alarm-topic T            the agent's alarmTopic (default ${DEFAULT_ALARM_TOPIC}; {iot:thingName} matches every thing)
  --rule-name N              default <component>_alarms (letters, digits, _)
  --role-name N              default <component>-edge-rules
Metrics sink to CloudWatch metrics (reports in JSON; a metric <thing>.<Name> per report field):
  --metrics-sink-topic T     the agent's metricsSinkTopic, e.g. defender-agent/{iot:thingName}/metrics
  --metric-namespace NS      default ${DEFAULT_NAMESPACE}
  --short-names              the agent sends short key names (shortNames: true)
Alarm history and the fleet at a glance:
  --alarm-log-group G        every alarm is also kept in this CloudWatch Logs group, ${ALARM_LOG_RETENTION_DAYS} days
                             (default ${DEFAULT_ALARM_LOG_GROUP}); read it with violations --edge --since 7d
  --dashboard NAME           a CloudWatch dashboard of the fleet's reported metrics (with --metrics-sink-topic)
                             and its alarm counts per behavior (PutDashboard)
${COMMON_HELP}`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  'sns-topic-arn': { type: 'string' },
  'create-sns': { type: 'string' },
  'alarm-topic': { type: 'string' },
  'rule-name': { type: 'string' },
  'role-name': { type: 'string' },
  'metrics-sink-topic': { type: 'string' },
  'metric-namespace': { type: 'string' },
  'short-names': { type: 'boolean' },
  'alarm-log-group': { type: 'string' },
  dashboard: { type: 'string' },
} as const;

const RULE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const NAMESPACE = /^[A-Za-z0-9 ._\-/#:]{1,255}$/;

export function edgeRuleNameFlag(value: string | undefined): string | undefined {
  if (value !== undefined && !RULE_NAME.test(value))
    throw new UsageError(`--rule-name ${quotedInput(value)} must be 1-128 letters, digits or _`);
  return value;
}

export function edgeRoleNameFlag(value: string | undefined): string | undefined {
  if (value !== undefined && !ROLE_NAME.test(value)) throw new UsageError(`--role-name ${quotedInput(value)} is not an IAM role name`);
  return value;
}

/** The rules setup-edge creates (alarms, and metrics with --metrics-sink-topic), named after --rule-name when given. */
export function edgeRuleNames(componentName: string, ruleNameFlag: string | undefined): { alarms: string; metrics: string } {
  return ruleNameFlag
    ? { alarms: ruleNameFlag, metrics: `${ruleNameFlag}_metrics`.slice(0, 128) }
    : { alarms: ruleNameFor(componentName, 'alarms'), metrics: ruleNameFor(componentName, 'metrics') };
}

/** A topic as the agent itself would take it for that configuration key: one rule for what the device may publish. */
function agentTopic(key: 'alarmTopic' | 'metricsSinkTopic', flag: string, value: string): string {
  const { config, errors } = parseConfig({ [key]: value });
  if (errors.length > 0) throw new UsageError(`--${flag}: ${errors.map((e) => e.message).join('; ')}`);
  const topic = config[key];
  if (topic === '') throw new UsageError(`--${flag} must not be empty`);
  return topic;
}

async function createSnsTopic(session: Session, arns: Arns, topicName: string): Promise<string> {
  const topicArn = await ensureSnsTopic(session, arns, topicName);
  session.out.info(`SNS topic ${topicArn}`);
  return topicArn;
}

export async function upsertRule(session: Session, ruleName: string, payload: TopicRulePayload): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await session.aws.iot(
        new CreateTopicRuleCommand({ ruleName, topicRulePayload: payload, tags: createdByRuleTags(session.identity.name) }),
      );
      session.out.info(outcome(session, `created topic rule ${ruleName}: ${payload.sql}`, `create topic rule ${ruleName}: ${payload.sql}`));
      return;
    } catch (error) {
      if (isConflict(error)) {
        await session.aws.iot(new ReplaceTopicRuleCommand({ ruleName, topicRulePayload: payload }));
        session.out.info(
          outcome(session, `replaced topic rule ${ruleName}: ${payload.sql}`, `replace topic rule ${ruleName}: ${payload.sql}`),
        );
        return;
      }
      const message = describeError(error);
      const roleNotReady = errorName(error) === 'InvalidRequestException' && /role/i.test(message);
      if (!roleNotReady) throw error;
      if (attempt >= ROLE_PROPAGATION_RETRIES) {
        throw new CliError(`AWS IoT still cannot use the rule's role: ${message}`, 'wait a minute and run setup-edge again');
      }
      session.out.info(`the new role is not usable by AWS IoT yet (${message}); retrying in ${ROLE_PROPAGATION_DELAY_MS / 1000} s`);
      await session.sleep(ROLE_PROPAGATION_DELAY_MS);
    }
  }
}

export async function setupEdgeCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('setup-edge', argv, OPTIONS);
  const topicArnFlag = flags['sns-topic-arn'];
  const createSns = flags['create-sns'];
  if ((topicArnFlag === undefined) === (createSns === undefined))
    throw new UsageError('setup-edge needs exactly one of --sns-topic-arn or --create-sns');
  if (topicArnFlag !== undefined && !SNS_TOPIC_ARN.test(topicArnFlag))
    throw new UsageError(`--sns-topic-arn ${quotedInput(topicArnFlag)} is not an SNS topic ARN`);
  if (createSns !== undefined && !SNS_NAME.test(createSns))
    throw new UsageError(`--create-sns ${quotedInput(createSns)} must be 1-40 characters of a-z A-Z 0-9 _ -`);
  const alarmTopic = agentTopic('alarmTopic', 'alarm-topic', flags['alarm-topic'] ?? DEFAULT_ALARM_TOPIC);
  const sinkTopic =
    flags['metrics-sink-topic'] !== undefined
      ? agentTopic('metricsSinkTopic', 'metrics-sink-topic', flags['metrics-sink-topic'])
      : undefined;
  if (sinkTopic === undefined && (flags['metric-namespace'] !== undefined || flags['short-names'])) {
    throw new UsageError('--metric-namespace and --short-names only apply with --metrics-sink-topic');
  }
  const namespace = sinkTopic === undefined ? undefined : (flags['metric-namespace'] ?? DEFAULT_NAMESPACE);
  if (namespace !== undefined && !NAMESPACE.test(namespace))
    throw new UsageError(`--metric-namespace ${quotedInput(namespace)} is not a CloudWatch namespace`);
  const ruleNameFlag = edgeRuleNameFlag(flags['rule-name']);
  const roleNameFlag = edgeRoleNameFlag(flags['role-name']);

  const alarmLogGroup = flags['alarm-log-group'] ?? DEFAULT_ALARM_LOG_GROUP;
  const logGroupIssue = logGroupProblem(alarmLogGroup);
  if (logGroupIssue) throw new UsageError(`--alarm-log-group ${quotedInput(alarmLogGroup)}: ${logGroupIssue}`);
  const dashboard = flags.dashboard;
  if (dashboard !== undefined && !DASHBOARD_NAME.test(dashboard))
    throw new UsageError(`--dashboard ${quotedInput(dashboard)} must be 1-255 of a-z A-Z 0-9 - _`);

  const session = await openSession(deps, flags);
  const { out, identity } = session;
  const arns = await session.arns();
  const snsTopicArn = topicArnFlag ?? (await createSnsTopic(session, arns, createSns!));
  const roleName = roleNameFlag ?? ruleRoleNameFor(identity.name, session.aws.region);
  const policy = ruleRolePolicy(snsTopicArn, namespace) as { Statement: object[] };
  policy.Statement.push(alarmLogStatement(arns, alarmLogGroup));
  const roleArn = await ensureIotServiceRole(session, arns, {
    roleName,
    description: `Lets AWS IoT rules route ${identity.name} alarms to SNS and a log group${namespace ? ' and its reports to CloudWatch metrics' : ''}`,
    inlinePolicy: { name: 'edge-rule-actions', document: policy },
  });
  await ensureAlarmLogGroup(session, alarmLogGroup);
  const ruleNames = edgeRuleNames(identity.name, ruleNameFlag);
  const alarmPayload = alarmRulePayload(alarmTopic, snsTopicArn, roleArn);
  alarmPayload.actions?.push(alarmLogAction(alarmLogGroup, roleArn));
  await upsertRule(session, ruleNames.alarms, alarmPayload);
  if (sinkTopic !== undefined && namespace !== undefined) {
    await upsertRule(session, ruleNames.metrics, metricsRulePayload(sinkTopic, flags['short-names'] === true, namespace, roleArn));
    // Each of these is a CloudWatch custom metric, billed per metric and month: at fleet scale that is a cost to know.
    out.info(
      `cost: the metrics rule makes ${REPORT_METRIC_NAMES.length} CloudWatch custom metrics per core that reports ` +
        `(${REPORT_METRIC_NAMES.join(', ')}, each named <thing>.<Metric> in ${namespace}), so ${REPORT_METRIC_NAMES.length} x cores ` +
        'custom metrics, each billed as one (see CloudWatch pricing)',
    );
  }
  if (dashboard !== undefined) await putFleetDashboard(session, dashboard, { namespace, alarmLogGroup });
  out.info(
    outcome(
      session,
      `alarms published on ${topicFilterOf(alarmTopic)} now reach ${snsTopicArn}`,
      `route alarms published on ${topicFilterOf(alarmTopic)} to ${snsTopicArn}`,
    ),
  );
  out.info(
    `next: subscribe to the topic (aws sns subscribe --topic-arn ${snsTopicArn} --protocol email --notification-endpoint <you>), then ` +
      'npm run gg -- deploy --thing <core> --behaviors-file <profile.json> (it merges the permission to publish alarms)',
  );
  return 0;
}
