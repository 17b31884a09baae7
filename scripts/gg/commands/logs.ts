/** `logs`: this component's log lines from CloudWatch Logs, for one core device or every core of a thing group. */
import { ListCoreDevicesCommand } from '@aws-sdk/client-greengrassv2';
import type { LogLevel } from '../../../src/config/definition';
import { choiceFlag, COMMON_HELP, COMMON_OPTIONS, exactlyOne, integerFlag, nameFlag, parseFlags } from '../args';
import type { CliDeps } from '../deps';
import { UsageError } from '../errors';
import { LEVELS, lineMatches, parseSince, printableLine, type LineFilter } from '../log-lines';
import { type LogEvent, LogReader } from '../log-reader';
import { openSession, type Session } from '../session';
import { neutralized } from '../terminal-text';

const DEFAULT_SINCE = '1h';
const MAX_BACK_DAYS = 30;
const DEFAULT_MAX_LINES = 5_000;
const DEFAULT_POLL_SECONDS = 20;
const MIN_POLL_SECONDS = 5;
const DEFAULT_FOLLOW_MINUTES = 60;
const MAX_FOLLOW_MINUTES = 12 * 60;
/** Most events one follow poll reads; a poll that reaches it says so instead of holding the whole window in memory. */
const MAX_EVENTS_PER_POLL = 50_000;
/**
 * The log manager uploads what the core wrote during the last upload period, so an event can become visible
 * minutes after its timestamp, and a later upload of one core can carry events older than what another core
 * already showed. Each follow poll therefore reads this far back and skips the events already printed.
 */
const LATE_EVENT_WINDOW_MS = 20 * 60_000;

export const LOGS_HELP = `Usage: npm run gg -- logs (--thing T | --group G) [--since 1h] [--level warn] [--grep TEXT] [--follow]

Prints this component's log lines that the log manager uploaded to CloudWatch Logs (deploy --upload-logs),
exactly as they stand in /greengrass/v2/logs/<component>.log on the core. With --group, each line is
prefixed with the core device's thing name. Log group /aws/greengrass/UserComponent/<region>/<component>,
one stream per core and UTC day: /yyyy/MM/dd/thing/<thing>.
  --thing T             one core device
  --group G             every core device of thing group G (as Greengrass lists them)
  --since D             how far back: 90s, 30m, 1h, 2d, or an ISO time (default ${DEFAULT_SINCE}, at most ${MAX_BACK_DAYS}d)
  --level L             least level shown: ${LEVELS.join(', ')} (default debug: every line)
  --grep TEXT           only lines containing TEXT (case-sensitive), e.g. REJECTED or denied
  --max-lines N         stop after N lines (default ${DEFAULT_MAX_LINES}; without --follow)
  --raw                 print the lines' bytes as uploaded, control characters included (only into a pipe or
                        file; on a terminal every control character shows as its escape, such as \\x1b)
  --follow              keep polling for new lines until --follow-minutes pass or Ctrl-C
  --poll-seconds N      seconds between polls (default ${DEFAULT_POLL_SECONDS}, at least ${MIN_POLL_SECONDS})
  --follow-minutes N    stop following after N minutes (default ${DEFAULT_FOLLOW_MINUTES}, at most ${MAX_FOLLOW_MINUTES})
Lines reach CloudWatch Logs once per upload period of the log manager (deploy --log-upload-seconds);
--follow shows lines uploaded up to ${LATE_EVENT_WINDOW_MS / 60_000} minutes after they were written.
${COMMON_HELP}`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  thing: { type: 'string' },
  group: { type: 'string' },
  since: { type: 'string' },
  level: { type: 'string' },
  grep: { type: 'string' },
  'max-lines': { type: 'string' },
  follow: { type: 'boolean' },
  raw: { type: 'boolean' },
  'poll-seconds': { type: 'string' },
  'follow-minutes': { type: 'string' },
} as const;

async function coresOfGroup(session: Session, groupName: string): Promise<string[]> {
  const groupArn = (await session.arns()).thingGroup(groupName);
  const cores: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await session.aws.greengrass(new ListCoreDevicesCommand({ thingGroupArn: groupArn, nextToken }));
    cores.push(...(page.coreDevices ?? []).flatMap((d) => (d.coreDeviceThingName ? [d.coreDeviceThingName] : [])));
    nextToken = page.nextToken;
  } while (nextToken);
  return cores;
}

interface FollowPlan {
  pollMs: number;
  deadlineMs: number;
}

/** Prints each event once: the follow polls read overlapping windows. */
class Printer {
  private readonly printed = new Map<string, number>();
  lines = 0;

  constructor(
    private readonly filter: LineFilter,
    private readonly prefixThing: boolean,
    /** The session's terminal-safe sink, or with --raw into a pipe the bytes as uploaded. */
    private readonly write: (line: string) => void,
    private readonly raw: boolean,
  ) {}

  accept = (event: LogEvent): boolean => !this.printed.has(event.eventId) && lineMatches(event.message, this.filter);

  print(events: readonly LogEvent[]): void {
    for (const event of events) {
      if (this.printed.has(event.eventId)) continue;
      this.printed.set(event.eventId, event.timestampMs);
      // The line was written on the device: whatever it holds, it must not drive the operator's terminal.
      const line = this.raw ? printableLine(event.message) : neutralized(printableLine(event.message));
      this.write(this.prefixThing ? `[${event.thingName}] ${line}` : line);
      this.lines += 1;
    }
  }

  /** Events older than every window still to be read can no longer come back. */
  forgetBefore(startMs: number): void {
    for (const [id, timestampMs] of this.printed) if (timestampMs < startMs) this.printed.delete(id);
  }
}

async function follow(session: Session, deps: CliDeps, reader: LogReader, printer: Printer, sinceMs: number, plan: FollowPlan) {
  const stop = new AbortController();
  const release = deps.onInterrupt?.(() => stop.abort());
  // Progress goes to stderr so that the lines on stdout can be piped.
  session.out.error(
    `following every ${plan.pollMs / 1000} s until ${new Date(plan.deadlineMs).toISOString()} (Ctrl-C stops); lines arrive once per log manager upload period`,
  );
  try {
    let lastReadMs = session.now().getTime();
    while (!stop.signal.aborted && session.now().getTime() + plan.pollMs <= plan.deadlineMs) {
      await deps.sleep(plan.pollMs, stop.signal);
      if (stop.signal.aborted) break;
      const fromMs = Math.max(sinceMs, lastReadMs - LATE_EVENT_WINDOW_MS);
      lastReadMs = session.now().getTime();
      const { events, truncated } = await reader.read(fromMs, MAX_EVENTS_PER_POLL, printer.accept);
      printer.print(events);
      printer.forgetBefore(fromMs);
      if (truncated)
        session.out.error(`more than ${MAX_EVENTS_PER_POLL} new lines in one poll: some were skipped; narrow with --level or --grep`);
    }
  } finally {
    release?.();
  }
  session.out.error(stop.signal.aborted ? 'stopped (Ctrl-C)' : `stopped: --follow-minutes reached (${printer.lines} line(s) shown)`);
}

export async function logsCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('logs', argv, OPTIONS);
  const targetKind = exactlyOne('logs', { thing: flags.thing, group: flags.group });
  const targetName = nameFlag(targetKind, targetKind === 'thing' ? flags.thing : flags.group)!;
  const minimumLevel: LogLevel = choiceFlag('level', flags.level?.toLowerCase(), LEVELS) ?? 'debug';
  if (flags.grep === '') throw new UsageError('--grep needs some text');
  const maxLines = integerFlag('max-lines', flags['max-lines'], 1) ?? DEFAULT_MAX_LINES;
  if (!flags.follow && (flags['poll-seconds'] !== undefined || flags['follow-minutes'] !== undefined)) {
    throw new UsageError('--poll-seconds and --follow-minutes only apply with --follow');
  }
  if (flags.follow && flags['max-lines'] !== undefined) throw new UsageError('--max-lines does not apply with --follow');
  const pollSeconds = integerFlag('poll-seconds', flags['poll-seconds'], MIN_POLL_SECONDS, 3600) ?? DEFAULT_POLL_SECONDS;
  const followMinutes = integerFlag('follow-minutes', flags['follow-minutes'], 1, MAX_FOLLOW_MINUTES) ?? DEFAULT_FOLLOW_MINUTES;
  const raw = flags.raw === true;
  if (raw && deps.stdoutIsTerminal !== false) {
    throw new UsageError(
      '--raw keeps control characters a device wrote, which would drive this terminal: pipe the output (| less -R, > file)',
    );
  }
  const nowMs = deps.now().getTime();
  const sinceMs = parseSince(flags.since ?? DEFAULT_SINCE, nowMs, MAX_BACK_DAYS * 86_400_000);

  const session = await openSession(deps, flags);
  const isGroup = targetKind === 'group';
  const things = isGroup ? await coresOfGroup(session, targetName) : [targetName];
  if (things.length === 0 && !session.aws.dryRun) {
    session.out.error(`thing group ${targetName} has no core devices (greengrass ListCoreDevices): no logs to read`);
    return 1;
  }
  // A dry run cannot list the group; one placeholder core shows the requests a real run sends per core.
  const reader = new LogReader(session, things.length > 0 ? things : ['<core device>']);
  const write = raw ? (line: string) => deps.out.info(line) : (line: string) => session.out.info(line);
  const printer = new Printer({ minimumLevel, text: flags.grep }, isGroup, write, raw);
  const first = await reader.read(sinceMs, flags.follow ? MAX_EVENTS_PER_POLL : maxLines, printer.accept);
  printer.print(first.events);
  if (first.truncated && !flags.follow) {
    session.out.error(`stopped after ${maxLines} lines: narrow with --since, --level or --grep, or raise --max-lines`);
  }
  if (!flags.follow) {
    if (printer.lines === 0 && !session.aws.dryRun) {
      session.out.error(`no matching lines since ${new Date(sinceMs).toISOString()} in ${reader.logGroupName}`);
    }
    return 0;
  }
  if (session.aws.dryRun) {
    session.out.info(`[dry-run] --follow would repeat this read every ${pollSeconds} s for ${followMinutes} min`);
    return 0;
  }
  await follow(session, deps, reader, printer, sinceMs, {
    pollMs: pollSeconds * 1000,
    deadlineMs: session.now().getTime() + followMinutes * 60_000,
  });
  return 0;
}
