/**
 * What `quarantine auto enable` creates, derived from the quarantine group's name: the isolation function, its role
 * and the one inline policy that is all it may do, the AWS IoT rule on the agent's alarm topic, and the SNS
 * subscription for Device Defender's alerts. Pure: the command sends these; `disable` removes the same names.
 */
import type { TopicRulePayload } from '@aws-sdk/client-iot';
import { type Arns, partitionFor } from './aws';
import { thingExpression, topicFilterOf } from './edge-rules';
import { SOURCE_THING_FIELD } from '../../cloud/isolation/events';

export interface IsolationNames {
  group: string;
  functionName: string;
  roleName: string;
  ruleName: string;
  logGroup: string;
  shadowName: string;
}

/** IAM role names are global to the account: the region keeps a second region's enable from taking over the first's role. */
export function isolationNames(group: string, region: string, shadowName: string): IsolationNames {
  const functionName = `${group}-isolate`.slice(0, 64);
  return {
    group,
    functionName,
    roleName: `${group.slice(0, 40)}-isolate-${region}`.slice(0, 64),
    ruleName: `${group.replace(/[^A-Za-z0-9_]/g, '_')}_isolate`.slice(0, 128),
    logGroup: `/aws/lambda/${functionName}`,
    shadowName,
  };
}

export function functionArn(arns: Arns, functionName: string): string {
  return `arn:${partitionFor(arns.region)}:lambda:${arns.region}:${arns.account}:function:${functionName}`;
}

export function ruleArn(arns: Arns, ruleName: string): string {
  return `arn:${partitionFor(arns.region)}:iot:${arns.region}:${arns.account}:rule/${ruleName}`;
}

export function logGroupArn(arns: Arns, logGroup: string): string {
  return `arn:${partitionFor(arns.region)}:logs:${arns.region}:${arns.account}:log-group:${logGroup}`;
}

/** Lambda may assume the role, for functions of this account only. */
export function lambdaTrustPolicy(arns: Arns): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': arns.account } },
      },
    ],
  };
}

/**
 * Exactly what the function does: look a thing up, add it to this one group, read and write this one named shadow
 * of any thing, and write its own log. The log group is created by `enable`, so the role cannot create any.
 */
export function isolationRolePolicy(arns: Arns, names: IsolationNames): object {
  const anyThing = arns.thing('*');
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'LookUpThings', Effect: 'Allow', Action: 'iot:DescribeThing', Resource: anyThing },
      {
        Sid: 'AddToQuarantineGroup',
        Effect: 'Allow',
        Action: 'iot:AddThingToThingGroup',
        Resource: [arns.thingGroup(names.group), anyThing],
      },
      {
        Sid: 'QuarantineShadow',
        Effect: 'Allow',
        Action: ['iot:GetThingShadow', 'iot:UpdateThingShadow'],
        Resource: arns.thing(`*/${names.shadowName}`),
      },
      {
        Sid: 'OwnLog',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: `${logGroupArn(arns, names.logGroup)}:*`,
      },
    ],
  };
}

/**
 * The rule on the agent's alarm topic: only in-alarm events reach the function, each with the thing the topic names
 * (a core can publish only on its own topic), so the function can refuse an alarm that names another thing.
 */
export function isolationRulePayload(alarmTopic: string, fnArn: string): TopicRulePayload {
  return {
    sql: `SELECT *, ${thingExpression(alarmTopic)} AS ${SOURCE_THING_FIELD} FROM '${topicFilterOf(alarmTopic)}' WHERE violationEventType = 'in-alarm'`,
    awsIotSqlVersion: '2016-03-23',
    description: 'Device Defender agent alarms (in-alarm) to the quarantine function',
    ruleDisabled: false,
    actions: [{ lambda: { functionArn: fnArn } }],
  };
}

/** SNS delivers only in-alarm alerts to the function (a filter on the message body). */
export const SNS_FILTER_POLICY = { violationEventType: ['in-alarm'] };

/** Lambda's retries of a failed asynchronous invocation: a few, within an hour, never for ever. */
export const EVENT_INVOKE_LIMITS = { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 };
/** How long the function's log lines are kept (days; a value CloudWatch Logs takes). */
export const LOG_RETENTION_DAYS = 90;
