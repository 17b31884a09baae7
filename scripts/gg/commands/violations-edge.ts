/** `violations --edge`: the alarms raised on the cores, from the log group setup-edge keeps, in Detect's columns. */
import type { ViolationEvent } from '@aws-sdk/client-iot';
import type { CliDeps } from '../deps';
import { DEFAULT_ALARM_LOG_GROUP, logGroupProblem, readEdgeHistory } from '../edge-history';
import { UsageError } from '../errors';
import { openSession, type SessionFlags } from '../session';
import { neutralized, quotedInput } from '../terminal-text';

export async function edgeViolations(
  deps: CliDeps,
  flags: SessionFlags & { 'alarm-log-group'?: string | undefined; 'include-suppressed'?: boolean | undefined },
  range: { start: Date; end: Date } | undefined,
  filter: { thingName: string | undefined; profileName: string | undefined },
  formatEvent: (event: ViolationEvent) => string,
): Promise<number> {
  if (!range) throw new UsageError('violations --edge reads the alarm history: give --since D or --start T');
  if (filter.thingName && filter.profileName) throw new UsageError('violations --edge takes --thing or --profile, not both');
  if (flags['include-suppressed'])
    throw new UsageError('--include-suppressed does not apply to --edge: suppressed alarms are never published');
  const logGroup = flags['alarm-log-group'] ?? DEFAULT_ALARM_LOG_GROUP;
  const problem = logGroupProblem(logGroup);
  if (problem) throw new UsageError(`--alarm-log-group ${quotedInput(logGroup)}: ${problem}`);
  const session = await openSession(deps, flags);
  const history = await readEdgeHistory(session, logGroup, range, {
    ...(filter.thingName ? { thingName: filter.thingName } : {}),
    ...(filter.profileName ? { securityProfileName: filter.profileName } : {}),
  });
  if (session.aws.dryRun) return 0;
  const what = `${range.start.toISOString()} to ${range.end.toISOString()} in ${logGroup}`;
  if (history.events.length === 0) session.out.info(`no edge alarms from ${what}`);
  else session.out.info(`${history.events.length} edge alarm(s) from ${what}:`);
  // A core chose every field of its alarm: shown, never obeyed.
  for (const event of history.events) session.out.info(`  ${neutralized(formatEvent(event))}`);
  if (history.unreadable > 0) session.out.info(`${history.unreadable} log event(s) in ${logGroup} are not alarms; skipped`);
  if (history.truncated) session.out.info('more alarms than shown: narrow the range or name a --thing');
  return 0;
}
