/**
 * A CloudWatch Logs log group answering FilterLogEvents over stored events the way the service documents it:
 * stream name prefix, startTime inclusive, endTime exclusive, events oldest first, pages of a fixed size with an
 * opaque nextToken, and an unknown log group as ResourceNotFoundException. An event is visible only from its
 * ingestionTime on, which is how uploads that arrive after their timestamps are modelled.
 */
import { readFileSync } from 'node:fs';
import type { FilterLogEventsCommandInput, FilterLogEventsCommandOutput, FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';

export interface StoredLogEvent {
  logStreamName: string;
  timestamp: number;
  message: string;
  ingestionTime: number;
  eventId: string;
}

export function readLogEventsFixture(path: string): StoredLogEvent[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as { events: StoredLogEvent[] }).events;
}

export class FakeLogGroup {
  readonly requests: FilterLogEventsCommandInput[] = [];

  constructor(
    readonly logGroupName: string,
    private readonly events: readonly StoredLogEvent[],
    private readonly nowMs: () => number,
    private readonly pageSize = 2,
  ) {}

  filterLogEvents(input: FilterLogEventsCommandInput): Partial<FilterLogEventsCommandOutput> {
    this.requests.push(input);
    if (input.logGroupName !== this.logGroupName) {
      throw Object.assign(new Error('The specified log group does not exist.'), {
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const matching = this.events
      .filter((e) => e.ingestionTime <= this.nowMs())
      .filter((e) => input.logStreamNamePrefix === undefined || e.logStreamName.startsWith(input.logStreamNamePrefix))
      .filter((e) => input.logStreamNames === undefined || input.logStreamNames.includes(e.logStreamName))
      .filter((e) => input.startTime === undefined || e.timestamp >= input.startTime)
      .filter((e) => input.endTime === undefined || e.timestamp < input.endTime)
      .sort((a, b) => a.timestamp - b.timestamp);
    const offset = input.nextToken === undefined ? 0 : Number(/^page-(\d+)$/.exec(input.nextToken)?.[1]);
    const events: FilteredLogEvent[] = matching.slice(offset, offset + this.pageSize).map((e) => ({ ...e }));
    const next = offset + this.pageSize;
    return { events, ...(next < matching.length ? { nextToken: `page-${next}` } : {}) };
  }
}
