/**
 * The closing lines of `status --group G`: the group's cores as reporting, silent and in alarm, in a few lines
 * whatever the fleet's size (counts, then up to NAMED names per state). Reporting: a report reached the metrics sink
 * rule's CloudWatch metrics (setup-edge --metrics-sink-topic) within the window; in alarm: the newest edge alarm of a
 * behavior in the alarm log group (setup-edge) within the day is in-alarm.
 */
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { ListThingsInThingGroupCommand } from '@aws-sdk/client-iot';
import { isNotFound } from './aws';
import { readEdgeHistory } from './edge-history';
import { allPages } from './paginate';
import type { Session } from './session';
import { neutralized } from './terminal-text';

/** Three report intervals of 300 s: a core that missed more than two reports is silent. */
const REPORTING_WINDOW_MS = 15 * 60_000;
const ALARM_WINDOW_MS = 24 * 3_600_000;
/** GetMetricData takes at most 500 queries per request. */
const QUERIES_PER_REQUEST = 500;
/** Names shown per state; the rest is a count. */
const NAMED = 10;
/** The metric every JSON report carries (its listening TCP ports total), so its sample count counts reports. */
const REPORT_METRIC = 'ListeningTcpPorts';

export interface FleetSources {
  namespace: string;
  alarmLogGroup: string;
}

async function reportingThings(session: Session, things: string[], namespace: string, end: Date): Promise<Set<string>> {
  const reporting = new Set<string>();
  for (let start = 0; start < things.length; start += QUERIES_PER_REQUEST) {
    const chunk = things.slice(start, start + QUERIES_PER_REQUEST);
    const queries: MetricDataQuery[] = chunk.map((thing, index) => ({
      Id: `t${start + index}`,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: `${thing}.${REPORT_METRIC}` },
        Period: REPORTING_WINDOW_MS / 1000,
        Stat: 'SampleCount',
      },
    }));
    let nextToken: string | undefined;
    do {
      const page = await session.aws.cloudwatch(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          StartTime: new Date(end.getTime() - REPORTING_WINDOW_MS),
          EndTime: end,
          NextToken: nextToken,
        }),
      );
      for (const result of page?.MetricDataResults ?? []) {
        const index = Number(result.Id?.slice(1));
        if ((result.Values ?? []).some((value) => value > 0) && things[index] !== undefined) reporting.add(things[index]);
      }
      nextToken = page?.NextToken;
    } while (nextToken);
  }
  return reporting;
}

/** Each thing's behaviors whose newest alarm of the window is in-alarm. */
async function thingsInAlarm(session: Session, logGroup: string, members: Set<string>, end: Date): Promise<Map<string, string[]>> {
  let history: Awaited<ReturnType<typeof readEdgeHistory>>;
  try {
    history = await readEdgeHistory(session, logGroup, { start: new Date(end.getTime() - ALARM_WINDOW_MS), end }, {});
  } catch (error) {
    if (isNotFound(error)) return new Map();
    throw error;
  }
  const newest = new Map<string, string>();
  for (const event of history.events) {
    if (!event.thingName || !members.has(event.thingName)) continue;
    newest.set(`${event.thingName}\u0000${event.behavior?.name ?? '?'}`, event.violationEventType ?? '');
  }
  const inAlarm = new Map<string, string[]>();
  for (const [key, type] of newest) {
    if (type !== 'in-alarm') continue;
    const [thing, behavior] = key.split('\u0000') as [string, string];
    inAlarm.set(thing, [...(inAlarm.get(thing) ?? []), behavior]);
  }
  return inAlarm;
}

function named(names: string[]): string {
  const shown = names.slice(0, NAMED).join(', ');
  return names.length > NAMED ? `${shown} and ${names.length - NAMED} more` : shown;
}

export async function printFleetSummary(session: Session, groupName: string, sources: FleetSources): Promise<void> {
  const things = (
    await allPages(
      (nextToken) => session.aws.iot(new ListThingsInThingGroupCommand({ thingGroupName: groupName, recursive: true, nextToken })),
      (page) => page.things,
    )
  ).sort();
  const end = session.now();
  const reporting = things.length ? await reportingThings(session, things, sources.namespace, end) : new Set<string>();
  const alarms = await thingsInAlarm(session, sources.alarmLogGroup, new Set(things), end);
  if (session.aws.dryRun) return;
  const silent = things.filter((thing) => !reporting.has(thing));
  const inAlarm = things.filter((thing) => alarms.has(thing));
  const { out } = session;
  out.info(
    `fleet ${groupName}: ${things.length} thing(s): ${reporting.size} reporting, ${silent.length} silent (no report in ${REPORTING_WINDOW_MS / 60_000} min), ${inAlarm.length} in alarm (edge alarms, 24 h)`,
  );
  if (silent.length) out.info(`  silent: ${named(silent)}`);
  if (inAlarm.length) {
    out.info(`  in alarm: ${neutralized(named(inAlarm.map((thing) => `${thing} (${alarms.get(thing)!.join(', ')})`)))}`);
  }
  if (things.length > 0 && reporting.size === 0) {
    out.info(
      `  no report reached namespace ${sources.namespace}: reporting is read from the metrics sink rule (setup-edge --metrics-sink-topic, deploy with metricsSinkTopic)`,
    );
  }
}
