/**
 * Edge alarm history without Detect: `setup-edge` adds a CloudWatch Logs action to the alarm rule, so every alarm a
 * core raises is kept as one log event (the violation event unchanged, https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html),
 * and `violations --edge` reads them back in the columns of Device Defender's own history.
 */
import { CreateLogGroupCommand, FilterLogEventsCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Action, ViolationEvent } from '@aws-sdk/client-iot';
import type { Arns } from './aws';
import { errorName } from './aws';
import { logGroupArn } from './isolation-plan';
import type { Session } from './session';

export const DEFAULT_ALARM_LOG_GROUP = '/defender-agent/alarms';
/** How long alarms are kept (days; a value CloudWatch Logs takes). AWS documents 14 days for Device Defender's own history. */
export const ALARM_LOG_RETENTION_DAYS = 90;
const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
/** Most alarms one `violations --edge` reads; more says so instead of holding everything. */
const MAX_EVENTS = 10_000;

export function logGroupProblem(name: string): string | undefined {
  return LOG_GROUP_NAME.test(name) ? undefined : 'a log group name is 1-512 of a-z A-Z 0-9 . - _ / #';
}

/** One log event per alarm, written as it arrived (batchMode false: a message is one alarm, not a JSON array). */
export function alarmLogAction(logGroupName: string, roleArn: string): Action {
  return { cloudwatchLogs: { roleArn, logGroupName, batchMode: false } };
}

/** What the rule's role needs for that action, on that group only. */
export function alarmLogStatement(arns: Arns, logGroupName: string): object {
  return {
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
    Resource: `${logGroupArn(arns, logGroupName)}:*`,
  };
}

export async function ensureAlarmLogGroup(session: Session, logGroupName: string): Promise<void> {
  try {
    await session.aws.logs(new CreateLogGroupCommand({ logGroupName }));
  } catch (error) {
    if (errorName(error) !== 'ResourceAlreadyExistsException') throw error;
  }
  await session.aws.logs(new PutRetentionPolicyCommand({ logGroupName, retentionInDays: ALARM_LOG_RETENTION_DAYS }));
  session.out.info(
    `every alarm is kept in log group ${logGroupName} for ${ALARM_LOG_RETENTION_DAYS} days (npm run gg -- violations --edge --since 7d)`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An alarm as Device Defender's ListViolationEvents would list it; undefined for a message that is not one. */
function asViolationEvent(message: string | undefined): ViolationEvent | undefined {
  let alarm: unknown;
  try {
    alarm = JSON.parse(message ?? '');
  } catch {
    return undefined;
  }
  if (!isRecord(alarm) || typeof alarm.violationEventType !== 'string' || typeof alarm.thingName !== 'string') return undefined;
  const time = typeof alarm.violationEventTime === 'number' ? new Date(alarm.violationEventTime) : undefined;
  return {
    violationId: typeof alarm.violationId === 'string' ? alarm.violationId : undefined,
    thingName: alarm.thingName,
    securityProfileName: typeof alarm.securityProfileName === 'string' ? alarm.securityProfileName : undefined,
    behavior:
      isRecord(alarm.behavior) && typeof alarm.behavior.name === 'string'
        ? (alarm.behavior as unknown as ViolationEvent['behavior'])
        : undefined,
    metricValue: isRecord(alarm.metricValue) ? (alarm.metricValue as ViolationEvent['metricValue']) : undefined,
    violationEventType: alarm.violationEventType as ViolationEvent['violationEventType'],
    violationEventTime: time && Number.isFinite(time.getTime()) ? time : undefined,
  };
}

export interface EdgeHistory {
  events: ViolationEvent[];
  /** Log events that were not alarms (a message the rule kept that does not parse). */
  unreadable: number;
  truncated: boolean;
}

/** JSON filter pattern of CloudWatch Logs; names are AWS IoT names, so they need no escaping. */
function filterPattern(scope: { thingName?: string; securityProfileName?: string }): string | undefined {
  if (scope.thingName) return `{ $.thingName = "${scope.thingName}" }`;
  if (scope.securityProfileName) return `{ $.securityProfileName = "${scope.securityProfileName}" }`;
  return undefined;
}

export async function readEdgeHistory(
  session: Session,
  logGroupName: string,
  range: { start: Date; end: Date },
  scope: { thingName?: string; securityProfileName?: string },
): Promise<EdgeHistory> {
  const events: ViolationEvent[] = [];
  let unreadable = 0;
  let nextToken: string | undefined;
  const pattern = filterPattern(scope);
  do {
    const page = await session.aws.logs(
      new FilterLogEventsCommand({
        logGroupName,
        startTime: range.start.getTime(),
        endTime: range.end.getTime(),
        ...(pattern ? { filterPattern: pattern } : {}),
        nextToken,
      }),
    );
    for (const logEvent of page?.events ?? []) {
      const event = asViolationEvent(logEvent.message);
      if (event) events.push(event);
      else unreadable += 1;
    }
    nextToken = page?.nextToken;
  } while (nextToken && events.length < MAX_EVENTS);
  events.sort((a, b) => (a.violationEventTime?.getTime() ?? 0) - (b.violationEventTime?.getTime() ?? 0));
  return { events, unreadable, truncated: nextToken !== undefined };
}
