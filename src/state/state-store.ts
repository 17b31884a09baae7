/**
 * The agent's small state file in the component's work folder (the process cwd under Greengrass):
 * the last report id (ids must keep increasing across restarts), when the last report was handed to
 * the nucleus (no report sooner than the interval after a restart) and the network baseline of the
 * last report that went out (the next report carries all traffic since). The id and publish time
 * are written ahead of the publish, so a kill between the publish and the next save cannot give a
 * reused id or an early report. A bad file, or a bad part of one, is reported once and the agent
 * carries on with what is still good.
 */
import { quoteValue } from '../config/quote';
import { createAtomicFileWriter, readSmallFile } from './atomic-file';
import { persistBaseline, restoreBaseline, type NetworkBaseline, type PersistedNetworkBaseline } from './network-delta';
import { describeError } from '../util/describe-error';

export interface AgentState {
  version: 1;
  /** 0 before the first report. */
  lastReportId: number;
  /** Epoch ms of the last publish (written ahead of it), so a quick restart does not report sooner than the interval. */
  lastPublishedAtMs?: number;
  /** The same moment on the monotonic clock of that boot: immune to wall clock steps between two runs. */
  lastPublishedMonotonic?: MonotonicMark;
  /** Baseline of the last report handed to the nucleus: the next report carries the traffic since. */
  network?: NetworkBaseline;
  /** Written ahead of a publish, removed once its outcome is known: set after a restart, that outcome is unknown. */
  publishingReportId?: number;
}

export interface MonotonicMark {
  bootId: string;
  ms: number;
}

interface LoadedState {
  state?: AgentState;
  /** Why the file (or part of it) could not be used. */
  problem?: string;
}

export interface StateStore {
  /** `nowMs` (wall clock) is what a persisted report id is checked against. */
  load(nowMs: number): Promise<LoadedState>;
  save(state: AgentState): Promise<void>;
}

/** The file's JSON: as AgentState, with the 64-bit counters as decimal strings. */
interface StateFile {
  version: 1;
  lastReportId: number;
  lastPublishedAtMs?: number;
  lastPublishedMonotonic?: MonotonicMark;
  network?: PersistedNetworkBaseline;
  publishingReportId?: number;
}

/** Report ids are epoch seconds: one more than a day ahead of the clock, or near 2^53 (no +1 left), is damage. */
const REPORT_ID_CLOCK_SLACK_SECONDS = 86_400;
const REPORT_ID_CEILING = 2 ** 52;

function isPlausibleReportId(reportId: number, nowMs: number): boolean {
  return (
    Number.isSafeInteger(reportId) &&
    reportId >= 0 &&
    reportId < REPORT_ID_CEILING &&
    reportId <= Math.floor(nowMs / 1000) + REPORT_ID_CLOCK_SLACK_SECONDS
  );
}

/**
 * Far above what the agent writes (a report id, two times and one counter row per interface: a few KiB even with
 * thousands of interfaces), so only a damaged or planted file is refused.
 */
export const MAX_STATE_FILE_BYTES = 1024 * 1024;

export function createFileStateStore(path: string): StateStore {
  const write = createAtomicFileWriter(path);
  return {
    async load(nowMs) {
      let read: Awaited<ReturnType<typeof readSmallFile>>;
      try {
        read = await readSmallFile(path, MAX_STATE_FILE_BYTES);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
        return { problem: `cannot read ${path}: ${describeError(error)}` };
      }
      if ('tooLargeBytes' in read) {
        return {
          problem: `${path} is not a valid state file (${read.tooLargeBytes} bytes, more than the ${MAX_STATE_FILE_BYTES} the agent ever writes; not read)`,
        };
      }
      return parseStateFile(read.text, path, nowMs);
    },
    save(state) {
      const text = `${JSON.stringify(toStateFile(state), null, 2)}\n`;
      return write(text);
    },
  };
}

function toStateFile(state: AgentState): StateFile {
  return {
    version: 1,
    lastReportId: state.lastReportId,
    ...(state.lastPublishedAtMs !== undefined ? { lastPublishedAtMs: state.lastPublishedAtMs } : {}),
    ...(state.lastPublishedMonotonic ? { lastPublishedMonotonic: state.lastPublishedMonotonic } : {}),
    ...(state.network ? { network: persistBaseline(state.network) } : {}),
    ...(state.publishingReportId !== undefined ? { publishingReportId: state.publishingReportId } : {}),
  };
}

function parseStateFile(text: string, path: string, nowMs: number): LoadedState {
  const invalid = (why: string): LoadedState => ({ problem: `${path} is not a valid state file (${why})` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return invalid(describeError(error));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return invalid('not a JSON object');
  const file = parsed as Partial<Record<keyof StateFile, unknown>>;
  if (file.version !== 1) return invalid(`unsupported version ${JSON.stringify(file.version)}`);
  // Each damaged part is dropped on its own: a corrupt id must not cost the baseline, nor stop reporting.
  const problems: string[] = [];
  let lastReportId = 0;
  if (typeof file.lastReportId === 'number' && isPlausibleReportId(file.lastReportId, nowMs)) lastReportId = file.lastReportId;
  else
    problems.push(
      `lastReportId ${quoteValue(file.lastReportId)} is implausible (report ids are epoch seconds; this is not a whole number, ` +
        'beyond the clock by more than a day, or too close to 2^53): ignored, ids restart from the clock',
    );
  const state: AgentState = { version: 1, lastReportId };
  if (file.lastPublishedAtMs !== undefined) {
    if (isNonNegativeInteger(file.lastPublishedAtMs)) state.lastPublishedAtMs = file.lastPublishedAtMs;
    else problems.push('lastPublishedAtMs is not a timestamp: ignored');
  }
  const mark = file.lastPublishedMonotonic as Partial<MonotonicMark> | undefined;
  if (mark !== undefined) {
    if (typeof mark === 'object' && mark !== null && typeof mark.bootId === 'string' && isNonNegativeInteger(mark.ms))
      state.lastPublishedMonotonic = { bootId: mark.bootId, ms: mark.ms };
    else problems.push('lastPublishedMonotonic is not a boot id and a time: ignored');
  }
  if (file.publishingReportId !== undefined) {
    if (isNonNegativeInteger(file.publishingReportId)) state.publishingReportId = file.publishingReportId;
    else problems.push('publishingReportId is not a report id: ignored');
  }
  if (file.network !== undefined) {
    // A damaged baseline costs one report's network_stats; the rest is still worth keeping.
    const restored = restoreBaseline(file.network);
    if (restored.baseline) state.network = restored.baseline;
    else problems.push(`${restored.problem ?? 'invalid network baseline'}; the next report omits network_stats`);
  }
  return problems.length > 0 ? { state, problem: `${path}: ${problems.join('; ')}` } : { state };
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
