/**
 * Reads this component's uploaded log lines from CloudWatch Logs for some core devices over a time window:
 * one FilterLogEvents series (followed to its last page) per day stream prefix, because the log manager
 * writes one stream per core and UTC day. A stream prefix is used rather than a list of stream names
 * because FilterLogEvents fails on a named stream that does not exist (a day without logs).
 */
import { FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { isNotFound } from './aws';
import { CliError } from './errors';
import { componentLogGroup, dayStreamPrefix, daysBetween, thingLogStream, thingOfStream } from './log-manager';
import type { Session } from './session';

/** Up to this many cores are read stream by stream; above, one prefix covers all cores of a day and is filtered here. */
const MAX_CORES_READ_ONE_BY_ONE = 10;

export interface LogEvent {
  thingName: string;
  timestampMs: number;
  eventId: string;
  message: string;
}

export interface WindowRead {
  events: LogEvent[];
  /** True when `maxEvents` was reached before every page was read. */
  truncated: boolean;
}

interface EventSink {
  into: LogEvent[];
  maxEvents: number;
  accept(event: LogEvent): boolean;
}

interface StreamQuery {
  prefix: string;
  keep(streamName: string): string | undefined;
}

function queriesFor(day: Date, thingNames: readonly string[]): StreamQuery[] {
  if (thingNames.length <= MAX_CORES_READ_ONE_BY_ONE) {
    return thingNames.map((thingName) => {
      const exact = thingLogStream(day, thingName);
      // The prefix of `core-1` also matches `core-10`: keep the exact stream only.
      return { prefix: exact, keep: (stream) => (stream === exact ? thingName : undefined) };
    });
  }
  const members = new Set(thingNames);
  return [
    {
      prefix: dayStreamPrefix(day),
      keep: (stream) => {
        const thing = thingOfStream(stream);
        return thing !== undefined && members.has(thing) ? thing : undefined;
      },
    },
  ];
}

function toEvent(event: FilteredLogEvent, thingName: string): LogEvent | undefined {
  if (event.timestamp === undefined || event.eventId === undefined) return undefined;
  return { thingName, timestampMs: event.timestamp, eventId: event.eventId, message: event.message ?? '' };
}

export class LogReader {
  readonly logGroupName: string;

  constructor(
    private readonly session: Session,
    private readonly thingNames: readonly string[],
  ) {
    this.logGroupName = componentLogGroup(session.aws.region, session.identity.name);
  }

  /** Accepted events from `startMs` up to now, oldest first, at most `maxEvents`. */
  async read(startMs: number, maxEvents: number, accept: (event: LogEvent) => boolean): Promise<WindowRead> {
    const events: LogEvent[] = [];
    let truncated = false;
    for (const day of daysBetween(startMs, this.session.now().getTime())) {
      for (const query of queriesFor(day, this.thingNames)) {
        truncated = (await this.readStreams(query, startMs, { into: events, maxEvents, accept })) || truncated;
        if (truncated) break;
      }
      if (truncated) break;
    }
    events.sort((a, b) => a.timestampMs - b.timestampMs);
    return { events, truncated };
  }

  private async readStreams(query: StreamQuery, startMs: number, sink: EventSink): Promise<boolean> {
    const { into, maxEvents, accept } = sink;
    const seenTokens = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await this.filter(query.prefix, startMs, nextToken);
      for (const raw of page.events ?? []) {
        const thingName = raw.logStreamName === undefined ? undefined : query.keep(raw.logStreamName);
        const event = thingName === undefined ? undefined : toEvent(raw, thingName);
        if (!event || !accept(event)) continue;
        if (into.length >= maxEvents) return true;
        into.push(event);
      }
      nextToken = page.nextToken || undefined;
      // A token seen before would page forever; stop rather than loop.
      if (nextToken !== undefined && seenTokens.has(nextToken)) break;
      if (nextToken !== undefined) seenTokens.add(nextToken);
    } while (nextToken);
    return false;
  }

  private async filter(prefix: string, startMs: number, nextToken: string | undefined) {
    try {
      return await this.session.aws.logs(
        new FilterLogEventsCommand({ logGroupName: this.logGroupName, logStreamNamePrefix: prefix, startTime: startMs, nextToken }),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new CliError(
        `log group ${this.logGroupName} does not exist in ${this.session.aws.region}: no core has uploaded this component's log`,
        'run `npm run gg -- deploy --thing <core> --upload-logs` (or --group), then `npm run gg -- doctor --thing <core>`',
      );
    }
  }
}
