import { join } from 'node:path';
import { FilterLogEventsCommand, type FilterLogEventsCommandInput } from '@aws-sdk/client-cloudwatch-logs';
import { ListCoreDevicesCommand } from '@aws-sdk/client-greengrassv2';
import { run } from '../../../../scripts/gg/cli';
import { FakeLogGroup, readLogEventsFixture, type StoredLogEvent } from '../../../support/fake-cloudwatch-logs';
import { ACCOUNT, awsError, COMPONENT, type Harness, harness, inputsOf, makeProject, mocks, totalCalls } from '../helpers';

const GROUP = `/aws/greengrass/UserComponent/eu-west-1/${COMPONENT}`;
const EVENTS = readLogEventsFixture(join(__dirname, '..', 'fixtures', 'cloudwatch-logs-events.json'));
const NOW = Date.parse('2025-01-01T00:00:00Z');

/** The lines of the fixture as they stand in the file on the core, for these streams, oldest first. */
function fileLines(streams: string[], from = 0, to = Number.MAX_SAFE_INTEGER): string[] {
  return EVENTS.filter((e) => streams.includes(e.logStreamName) && e.timestamp >= from && e.timestamp < to)
    .sort((a, b) => a.timestamp - b.timestamp)
    .map((e) => e.message);
}

/** What the command printed on stdout apart from the session's region line. */
function printed(h: Harness): string[] {
  return h.lines.filter((line) => !line.startsWith('region: '));
}

function serve(h: Harness, events: readonly StoredLogEvent[] = EVENTS): FakeLogGroup {
  const group = new FakeLogGroup(GROUP, events, () => h.deps.now().getTime());
  mocks.logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => group.filterLogEvents(input));
  return group;
}

function coresInGroup(names: string[]): void {
  mocks.greengrass.on(ListCoreDevicesCommand).resolves({ coreDevices: names.map((coreDeviceThingName) => ({ coreDeviceThingName })) });
}

describe('logs --thing', () => {
  it('prints the lines of the last hour across the midnight stream change, following every page', async () => {
    const h = harness(makeProject());
    const group = serve(h);
    expect(await run(['logs', '--thing', 'core-1', '--since', '1h'], h.deps)).toBe(0);

    const oneHourAgo = NOW - 3_600_000;
    expect(group.requests.map((r) => [r.logStreamNamePrefix, r.startTime, r.nextToken])).toEqual([
      ['/2024/12/31/thing/core-1', oneHourAgo, undefined],
      ['/2024/12/31/thing/core-1', oneHourAgo, 'page-2'],
      ['/2024/12/31/thing/core-1', oneHourAgo, 'page-4'],
      ['/2024/12/31/thing/core-1', oneHourAgo, 'page-6'],
      ['/2025/01/01/thing/core-1', oneHourAgo, undefined],
    ]);
    expect(group.requests.every((r) => r.logGroupName === GROUP)).toBe(true);
    // Exactly core-1's lines since 23:00 (not the 22:30 one, not core-10's, whose stream shares the prefix).
    expect(printed(h)).toEqual(fileLines(['/2024/12/31/thing/core-1'], oneHourAgo));
    expect(printed(h)).toHaveLength(6);
    expect(printed(h)[0]).toMatch(
      /^2024-12-31T23:10:00\.001Z \[INFO\] \(Copier\) com\.example\.TestAgent: stdout\. 2024-12-31T23:10:00\.000Z INFO {2}/,
    );
  });

  it('--since takes an ISO time and reaches the older line', async () => {
    const h = harness(makeProject());
    const group = serve(h);
    expect(await run(['logs', '--thing', 'core-1', '--since', '2024-12-31T22:00:00Z'], h.deps)).toBe(0);
    expect(group.requests[0]!.startTime).toBe(Date.parse('2024-12-31T22:00:00Z'));
    expect(printed(h)).toEqual(fileLines(['/2024/12/31/thing/core-1']));
  });

  it("--level warn keeps the agent's warnings and errors; the agent's own level wins over the nucleus's", async () => {
    const h = harness(makeProject());
    serve(h);
    expect(await run(['logs', '--thing', 'core-1', '--level', 'warn'], h.deps)).toBe(0);
    expect(printed(h)).toHaveLength(2);
    expect(printed(h)[0]).toContain('WARN  report 1735687200 REJECTED by Device Defender');
    expect(printed(h)[1]).toContain('ERROR PublishToIoTCore denied');

    const info = harness(makeProject());
    serve(info);
    expect(await run(['logs', '--thing', 'core-1', '--level', 'info'], info.deps)).toBe(0);
    // The DEBUG line came through stdout, which the nucleus marks [INFO]; it is still a debug line.
    expect(printed(info).some((l) => l.includes('connected to the nucleus over IPC'))).toBe(false);
    expect(printed(info)).toHaveLength(5);
  });

  it('--grep keeps the lines containing the text', async () => {
    const h = harness(makeProject());
    serve(h);
    expect(await run(['logs', '--thing', 'core-1', '--grep', 'ACCEPTED'], h.deps)).toBe(0);
    expect(printed(h)).toEqual([expect.stringContaining('report 1735686900 ACCEPTED by Device Defender after 228 ms')]);
  });

  it('says when nothing matched, on stderr', async () => {
    const h = harness(makeProject());
    serve(h);
    expect(await run(['logs', '--thing', 'core-1', '--grep', 'no such text'], h.deps)).toBe(0);
    expect(printed(h)).toEqual([]);
    expect(h.errors).toEqual([`no matching lines since 2024-12-31T23:00:00.000Z in ${GROUP}`]);
  });

  it('--max-lines stops early and says how to narrow the read', async () => {
    const h = harness(makeProject());
    const group = serve(h);
    expect(await run(['logs', '--thing', 'core-1', '--max-lines', '3'], h.deps)).toBe(0);
    expect(printed(h)).toEqual(fileLines(['/2024/12/31/thing/core-1'], NOW - 3_600_000).slice(0, 3));
    expect(h.errors).toEqual(['stopped after 3 lines: narrow with --since, --level or --grep, or raise --max-lines']);
    expect(group.requests.some((r) => r.logStreamNamePrefix === '/2025/01/01/thing/core-1')).toBe(false);
  });

  it('a page still throttled after the SDK retried it ends the command with what to do (no second retry layer)', async () => {
    const h = harness(makeProject());
    mocks.logs.on(FilterLogEventsCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    expect(await run(['logs', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(mocks.logs.commandCalls(FilterLogEventsCommand)).toHaveLength(1);
    expect(h.sleeps).toEqual([]);
    expect(h.errors[0]).toBe("error: FilterLogEvents is still throttled by AWS after the SDK's retries");
  });

  it('explains a log group that does not exist', async () => {
    const h = harness(makeProject());
    mocks.logs.on(FilterLogEventsCommand).rejects(awsError('ResourceNotFoundException', 'The specified log group does not exist.'));
    expect(await run(['logs', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(h.errors[0]).toBe(`error: log group ${GROUP} does not exist in eu-west-1: no core has uploaded this component's log`);
    expect(h.errors[1]).toMatch(/^next: run `npm run gg -- deploy --thing <core> --upload-logs`/);
  });
});

describe('logs --group', () => {
  it("fans out over the group's cores, each line prefixed with its thing name, in time order", async () => {
    coresInGroup(['core-1', 'core-2', 'edge:core']);
    const h = harness(makeProject());
    const group = serve(h);
    expect(await run(['logs', '--group', 'fleet', '--since', '1h', '--level', 'warn'], h.deps)).toBe(0);

    expect(inputsOf(mocks.greengrass, ListCoreDevicesCommand)[0]!).toEqual({
      thingGroupArn: `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/fleet`,
    });
    const prefixes = new Set(group.requests.map((r) => r.logStreamNamePrefix));
    expect(prefixes).toEqual(
      new Set([
        '/2024/12/31/thing/core-1',
        '/2024/12/31/thing/core-2',
        '/2024/12/31/thing/edge+core',
        '/2025/01/01/thing/core-1',
        '/2025/01/01/thing/core-2',
        '/2025/01/01/thing/edge+core',
      ]),
    );
    expect(printed(h).map((l) => l.replace(/\] .* (WARN|ERROR) +/, '] $1 '))).toEqual([
      '[core-1] WARN report 1735687200 REJECTED by Device Defender after 170 ms: InvalidPayload: Malformed metrics report. {scriptName=services.com.example.TestAgent.lifecycle.Run, serviceName=com.example.TestAgent, currentState=RUNNING}',
      '[core-2] WARN report 1735688400 REJECTED by Device Defender after 120 ms: InvalidPayload: Malformed metrics report. {scriptName=services.com.example.TestAgent.lifecycle.Run, serviceName=com.example.TestAgent, currentState=RUNNING}',
      '[edge:core] WARN report 1735688700 REJECTED by Device Defender after 80 ms: InvalidPayload: Malformed metrics report. {scriptName=services.com.example.TestAgent.lifecycle.Run, serviceName=com.example.TestAgent, currentState=RUNNING}',
      expect.stringMatching(/^\[core-1\] ERROR PublishToIoTCore denied/),
    ]);
    expect(printed(h)[1]).toBe(`[core-2] ${fileLines(['/2024/12/31/thing/core-2'])[0]}`);
  });

  it('reads a large group with one prefix per day and keeps only its cores', async () => {
    const members = ['core-1', 'core-2', 'edge:core', ...Array.from({ length: 9 }, (_, i) => `spare-${i}`)];
    coresInGroup(members);
    const h = harness(makeProject());
    const group = serve(h);
    expect(await run(['logs', '--group', 'fleet', '--grep', 'REJECTED'], h.deps)).toBe(0);
    expect([...new Set(group.requests.map((r) => r.logStreamNamePrefix))]).toEqual(['/2024/12/31/thing/', '/2025/01/01/thing/']);
    expect(printed(h).map((l) => l.slice(0, l.indexOf(']') + 1))).toEqual(['[core-1]', '[core-2]', '[edge:core]']);
    expect(h.text()).not.toContain('core-10 only');
  });

  it('fails plainly for a group without core devices', async () => {
    coresInGroup([]);
    const h = harness(makeProject());
    serve(h);
    expect(await run(['logs', '--group', 'empty'], h.deps)).toBe(1);
    expect(h.errors).toEqual(['thing group empty has no core devices (greengrass ListCoreDevices): no logs to read']);
    expect(mocks.logs.calls()).toHaveLength(0);
  });
});

describe('logs --follow', () => {
  it('polls until the deadline, prints each new line once, and shows a line uploaded after newer ones', async () => {
    const h = harness(makeProject());
    const group = serve(h);
    const args = ['logs', '--thing', 'core-1', '--since', '10m', '--follow', '--poll-seconds', '30', '--follow-minutes', '3'];
    expect(await run(args, h.deps)).toBe(0);

    expect(h.sleeps).toEqual([30_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
    const late = EVENTS.find((e) => e.message.includes('IPC connection lost'))!;
    const first = fileLines(['/2024/12/31/thing/core-1'], NOW - 600_000);
    const later = EVENTS.filter((e) => e.logStreamName === '/2025/01/01/thing/core-1' && e !== late).map((e) => e.message);
    // 23:55 before following; the two lines uploaded at 00:00:30; then the line written at 00:00:05 but uploaded at 00:01:30.
    expect(printed(h)).toEqual([...first, ...later, late.message]);
    expect(new Set(printed(h)).size).toBe(printed(h).length);
    // Each poll reads back over the late-event window from the start of the previous one, never before --since.
    const firstPages = group.requests.filter((r) => r.logStreamNamePrefix === '/2025/01/01/thing/core-1' && r.nextToken === undefined);
    expect(firstPages.map((r) => r.startTime)).toEqual(Array(7).fill(NOW - 600_000));
    expect(h.errors.at(-1)).toBe('stopped: --follow-minutes reached (4 line(s) shown)');
  });

  it('moves the read window forward, keeping the late-event window, and drops the previous day once past it', async () => {
    const h = harness(makeProject());
    const group = serve(h);
    const args = ['logs', '--thing', 'core-1', '--since', '1h', '--follow', '--poll-seconds', '600', '--follow-minutes', '40'];
    expect(await run(args, h.deps)).toBe(0);
    const reads = group.requests
      .filter((r) => r.nextToken === undefined)
      .map((r) => [r.logStreamNamePrefix, (r.startTime! - NOW) / 60_000]);
    expect(reads).toEqual([
      ['/2024/12/31/thing/core-1', -60],
      ['/2025/01/01/thing/core-1', -60],
      ['/2024/12/31/thing/core-1', -20],
      ['/2025/01/01/thing/core-1', -20],
      ['/2024/12/31/thing/core-1', -10],
      ['/2025/01/01/thing/core-1', -10],
      ['/2025/01/01/thing/core-1', 0],
      ['/2025/01/01/thing/core-1', 10],
    ]);
    expect(new Set(printed(h)).size).toBe(printed(h).length);
    expect(printed(h)).toHaveLength(6 + 3);
  });

  it('stops cleanly on Ctrl-C and releases the handler', async () => {
    let interrupt: (() => void) | undefined;
    let released = false;
    const h = harness(makeProject(), {
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => {
          released = true;
        };
      },
    });
    const group = new FakeLogGroup(GROUP, EVENTS, () => h.deps.now().getTime());
    mocks.logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => {
      // Ctrl-C during the second poll: that poll finishes, no further one starts.
      if (h.sleeps.length === 2) interrupt?.();
      return group.filterLogEvents(input);
    });
    expect(await run(['logs', '--thing', 'core-1', '--follow', '--poll-seconds', '30'], h.deps)).toBe(0);
    expect(h.sleeps).toEqual([30_000, 30_000]);
    expect(h.errors.at(-1)).toBe('stopped (Ctrl-C)');
    expect(released).toBe(true);
  });

  it('passes its abort signal to the wait between polls', async () => {
    const signals: Array<AbortSignal | undefined> = [];
    let interrupt: (() => void) | undefined;
    const h = harness(makeProject(), {
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => undefined;
      },
      sleep: async (_ms, signal) => {
        signals.push(signal);
        interrupt?.();
      },
    });
    serve(h);
    expect(await run(['logs', '--thing', 'core-1', '--follow'], h.deps)).toBe(0);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(h.errors.at(-1)).toBe('stopped (Ctrl-C)');
  });
});

describe('logs flags and dry run', () => {
  it('--help exits 0 and names the log group and stream the log manager writes', async () => {
    const h = harness(makeProject());
    expect(await run(['logs', '--help'], h.deps)).toBe(0);
    expect(printed(h)[0]).toMatch(/^Usage: npm run gg -- logs/);
    expect(printed(h)[0]).toContain('/aws/greengrass/UserComponent/<region>/<component>');
    expect(printed(h)[0]).toContain('/yyyy/MM/dd/thing/<thing>');
    expect(totalCalls()).toBe(0);
  });

  it.each([
    [['logs'], 'logs needs exactly one of --thing or --group'],
    [['logs', '--thing', 'a', '--since', 'yesterday'], '--since must be a duration'],
    [['logs', '--thing', 'a', '--since', '31d'], '--since reaches back at most 30 days'],
    [['logs', '--thing', 'a', '--level', 'loud'], '--level must be one of debug, info, warn, error'],
    [['logs', '--thing', 'a', '--poll-seconds', '10'], '--poll-seconds and --follow-minutes only apply with --follow'],
    [['logs', '--thing', 'a', '--follow', '--poll-seconds', '1'], '--poll-seconds must be a whole number from 5'],
    [['logs', '--thing', 'a', '--follow', '--follow-minutes', '721'], '--follow-minutes must be a whole number from 1 to 720'],
  ])('%j is a usage error', async (argv, message) => {
    const h = harness(makeProject());
    expect(await run(argv, h.deps)).toBe(2);
    expect(h.errors[0]).toContain(message);
    expect(totalCalls()).toBe(0);
  });

  it('--dry-run prints the FilterLogEvents requests and sends none', async () => {
    const h = harness(makeProject());
    expect(await run(['logs', '--thing', 'core-1', '--dry-run', '--follow'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    const text = h.text();
    expect(text).toContain('[dry-run] logs FilterLogEvents');
    expect(text).toContain(`"logGroupName": "${GROUP}"`);
    expect(text).toContain('"logStreamNamePrefix": "/2025/01/01/thing/core-1"');
    expect(text).toContain('[dry-run] --follow would repeat this read every 20 s for 60 min');
  });

  it('--dry-run for a group shows the per-core request with a placeholder core', async () => {
    const h = harness(makeProject());
    expect(await run(['logs', '--group', 'fleet', '--dry-run'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    expect(h.text()).toContain('[dry-run] greengrass ListCoreDevices');
    expect(h.text()).toContain('"logStreamNamePrefix": "/2025/01/01/thing/<core device>"');
  });
});

describe('logs paging', () => {
  it('stops on a repeated page token instead of paging forever', async () => {
    const h = harness(makeProject());
    const event = EVENTS.find((e) => e.logStreamName === '/2024/12/31/thing/core-1' && e.message.includes('REJECTED'))!;
    mocks.logs.on(FilterLogEventsCommand).resolves({ events: [event], nextToken: 'same' });
    expect(await run(['logs', '--thing', 'core-1', '--since', '30m'], h.deps)).toBe(0);
    // Two days (the window crosses midnight), each series: the first page and the one that repeats its token.
    expect(mocks.logs.calls()).toHaveLength(4);
    expect(printed(h)).toEqual([event.message]);
  });
});
