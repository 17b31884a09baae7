/** `violations`: the active Device Defender alarms of a thing or a security profile. */
import {
  ListActiveViolationsCommand,
  ListViolationEventsCommand,
  type ActiveViolation,
  type MetricValue,
  type ViolationEvent,
} from '@aws-sdk/client-iot';
import { COMMON_HELP, COMMON_OPTIONS, exactlyOne, nameFlag, parseFlags } from '../args';
import type { CliDeps } from '../deps';
import { UsageError } from '../errors';
import { DEFAULT_ALARM_LOG_GROUP } from '../edge-history';
import { neutralized, quotedInput } from '../terminal-text';
import { allPages } from '../paginate';
import { openSession, type Session } from '../session';
import { edgeViolations } from './violations-edge';

export const VIOLATIONS_HELP = `Usage: npm run gg -- violations (--thing T | --profile P) [--since D | --start T [--end T]] [--edge]

Lists the active Device Defender violations (alarms) of a thing or of a security profile. With a time
range, lists the history instead (ListViolationEvents): every in-alarm, alarm-cleared and
alarm-invalidated event in the range, oldest first, including alarms that have since cleared.
  --thing T               one thing
  --profile P             one security profile
  --since D               history of the last D: 90m, 24h, 7d (at most 14d: the only retention AWS documents)
  --start T --end T       history between two ISO 8601 times (--end defaults to now)
  --include-suppressed    also events of behaviors with suppressAlerts
  --edge                  the alarms raised on the cores instead (accounts without Detect): the history setup-edge
                          keeps in CloudWatch Logs, same columns; needs --since or --start; --thing/--profile optional
  --alarm-log-group G     with --edge: the log group (default ${DEFAULT_ALARM_LOG_GROUP})
${COMMON_HELP}`;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
/**
 * How far back the history is asked for. AWS documents no retention for ListViolationEvents; the only figure its
 * Device Defender pages give is 14 days, so a longer range is refused with that said, not answered with less in silence.
 */
const HISTORY_DAYS = 14;

function parseTime(flag: string, value: string): Date {
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time.getTime())) {
    throw new UsageError(`--${flag} ${quotedInput(value)} is not an ISO 8601 time like 2025-01-31T12:00:00Z`);
  }
  return time;
}

/** The history range asked for, or undefined for active violations. */
function historyRange(
  flags: { since?: string | undefined; start?: string | undefined; end?: string | undefined },
  now: Date,
): { start: Date; end: Date } | undefined {
  if (flags.since !== undefined && (flags.start !== undefined || flags.end !== undefined)) {
    throw new UsageError('--since replaces --start/--end: give one or the other');
  }
  if (flags.end !== undefined && flags.start === undefined) throw new UsageError('--end needs --start');
  let range: { start: Date; end: Date } | undefined;
  if (flags.since !== undefined) {
    const match = /^(\d+)([mhd])$/.exec(flags.since);
    if (!match || Number(match[1]) === 0)
      throw new UsageError(`--since ${quotedInput(flags.since)} must be a duration like 90m, 24h or 7d`);
    range = { start: new Date(now.getTime() - Number(match[1]) * UNIT_MS[match[2]!]!), end: now };
  } else if (flags.start !== undefined) {
    range = { start: parseTime('start', flags.start), end: flags.end !== undefined ? parseTime('end', flags.end) : now };
  }
  if (range && range.start >= range.end) throw new UsageError('the history range must start before it ends');
  if (range && now.getTime() - range.start.getTime() > HISTORY_DAYS * UNIT_MS.d!) {
    throw new UsageError(
      `the history reaches back at most ${HISTORY_DAYS} days (the only retention AWS documents for Device Defender): start within them`,
    );
  }
  return range;
}

function formatMetricValue(value: MetricValue | undefined): string {
  if (!value) return '(no value)';
  if (value.count !== undefined) return String(value.count);
  if (value.number !== undefined) return String(value.number);
  if (value.numbers) return `[${value.numbers.join(', ')}]`;
  if (value.ports) return `ports ${value.ports.join(', ')}`;
  if (value.cidrs) return `addresses ${value.cidrs.join(', ')}`;
  if (value.strings) return value.strings.join(', ');
  return JSON.stringify(value);
}

function formatViolation(v: ActiveViolation): string {
  const behavior = v.behavior;
  const confidence = v.violationEventAdditionalInfo?.confidenceLevel;
  const parts = [
    `${v.thingName ?? '?'}: ${v.securityProfileName ?? '?'} / ${behavior?.name ?? '?'} (${behavior?.metric ?? 'no metric'})`,
    `value ${formatMetricValue(v.lastViolationValue)}`,
    `since ${v.violationStartTime?.toISOString() ?? '?'}`,
    `last ${v.lastViolationTime?.toISOString() ?? '?'}`,
  ];
  if (confidence) parts.push(`ML confidence ${confidence}`);
  if (v.verificationState) parts.push(`verification ${v.verificationState}`);
  return parts.join(', ');
}

function formatEvent(event: ViolationEvent): string {
  const behavior = event.behavior;
  return [
    `${event.violationEventTime?.toISOString() ?? '?'} ${event.violationEventType ?? '?'}`,
    `${event.thingName ?? '?'}: ${event.securityProfileName ?? '?'} / ${behavior?.name ?? '?'} (${behavior?.metric ?? 'no metric'})`,
    `value ${formatMetricValue(event.metricValue)}`,
    ...(behavior?.suppressAlerts ? ['alerts suppressed'] : []),
    ...(event.violationEventAdditionalInfo?.confidenceLevel ? [`ML confidence ${event.violationEventAdditionalInfo.confidenceLevel}`] : []),
  ].join(', ');
}

async function listHistory(
  session: Session,
  scope: { thingName?: string; securityProfileName?: string },
  range: { start: Date; end: Date },
  includeSuppressed: boolean,
): Promise<number> {
  const events = await allPages(
    (nextToken) =>
      session.aws.iot(
        new ListViolationEventsCommand({
          ...scope,
          startTime: range.start,
          endTime: range.end,
          ...(includeSuppressed ? { listSuppressedAlerts: true } : {}),
          nextToken,
        }),
      ),
    (page) => page.violationEvents,
  );
  if (session.aws.dryRun) return 0;
  const what = `${range.start.toISOString()} to ${range.end.toISOString()}`;
  if (events.length === 0) {
    session.out.info(`no violation events from ${what}`);
    return 0;
  }
  events.sort((a, b) => (a.violationEventTime?.getTime() ?? 0) - (b.violationEventTime?.getTime() ?? 0));
  session.out.info(`${events.length} violation event(s) from ${what}:`);
  // Names, values and strings in these answers were chosen by whoever registered the thing or sent the metric.
  for (const event of events) session.out.info(`  ${neutralized(formatEvent(event))}`);
  return 0;
}

export async function violationsCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('violations', argv, {
    ...COMMON_OPTIONS,
    thing: { type: 'string' },
    profile: { type: 'string' },
    since: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    'include-suppressed': { type: 'boolean' },
    edge: { type: 'boolean' },
    'alarm-log-group': { type: 'string' },
  });
  if (!flags.edge) exactlyOne('violations', { thing: flags.thing, profile: flags.profile });
  const thingName = nameFlag('thing', flags.thing);
  const profileName = nameFlag('profile', flags.profile);
  const range = historyRange(flags, deps.now());
  if (flags.edge) return edgeViolations(deps, flags, range, { thingName, profileName }, formatEvent);
  const session = await openSession(deps, flags);
  const scope = thingName ? { thingName } : { securityProfileName: profileName! };
  if (range) return listHistory(session, scope, range, flags['include-suppressed'] === true);
  const violations: ActiveViolation[] = await allPages(
    (nextToken) =>
      session.aws.iot(
        new ListActiveViolationsCommand({ ...scope, ...(flags['include-suppressed'] ? { listSuppressedAlerts: true } : {}), nextToken }),
      ),
    (page) => page.activeViolations,
  );
  if (session.aws.dryRun) return 0;
  if (violations.length === 0) {
    session.out.info(`no active violations for ${thingName ? `thing ${thingName}` : `profile ${profileName}`}`);
    return 0;
  }
  session.out.info(`${violations.length} active violation(s):`);
  for (const violation of violations) session.out.info(`  ${neutralized(formatViolation(violation))}`);
  return 0;
}
