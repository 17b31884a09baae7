/**
 * Detection's own small state file in the component's work folder, beside the agent's: alarm state per behavior (an
 * alarm raised before a restart is not raised again, and is cleared exactly once), the traffic sums in progress, the
 * network baseline of the last sample, alarms not yet delivered, and the drill that last ran. A damaged file is
 * reported and detection starts fresh: at worst an alarm still raised is raised once more.
 */
import { createAtomicFileWriter, readSmallFile } from '../state/atomic-file';
import { type NetworkBaseline, persistBaseline, restoreBaseline } from '../state/network-delta';
import { MAX_OUTBOX, type OutboxEntry } from './alarms';
import { type DetectorState, restoreBehaviorState } from './detector';
import { describeError } from '../util/describe-error';
import { parseExactJson, stringifyExactJson } from '../util/exact-json';
import { cloudTopic, localTopic } from '../config/detection';
import { THING_NAME_VARIABLE } from '../component/definition';

export interface DetectionState {
  behaviors: DetectorState;
  /** The network reading of the previous sample and when it was taken. */
  network?: { baseline: NetworkBaseline; atMs: number };
  outbox: OutboxEntry[];
  /** The drill that ran last: a restart resumes it until its end, and never runs it again. */
  drill?: { fingerprint: string; endsAtMs: number };
}

export interface DetectionStateStore {
  load(): Promise<{ state?: DetectionState; problem?: string }>;
  /**
   * Writes the state. Resolves with how many of the oldest outbox entries were left out of the file to keep it within
   * what load reads; the caller drops them too, so the file and memory agree. Rejects when the state would not fit even
   * without its outbox (nothing is written then: the file the agent could not read back is never left behind).
   */
  save(state: DetectionState): Promise<number>;
}

/**
 * What is read of the file at most: alarm state for 100 behaviors and many undelivered events fit; a larger file is
 * damaged or planted, and is refused unread rather than parsed into memory. The writer keeps under it: MAX_OUTBOX
 * events whose behaviors carry sets of 1,000 long values would not, so the oldest are left out.
 */
export const MAX_DETECTION_STATE_BYTES = 16 * 1024 * 1024;

export function createDetectionStateFile(path: string): DetectionStateStore {
  const write = createAtomicFileWriter(path);
  /** What the file holds: a save of the same text is skipped (the write, with its fsync, is most of detection's cost). */
  let onDisk: string | undefined;
  let lastWrite: Promise<void> = Promise.resolve();
  return {
    async load() {
      let read: Awaited<ReturnType<typeof readSmallFile>>;
      try {
        read = await readSmallFile(path, MAX_DETECTION_STATE_BYTES);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
        return { problem: `cannot read ${path}: ${describeError(error)}` };
      }
      if ('tooLargeBytes' in read) {
        return {
          problem: `${path} is not a valid detection state file (${read.tooLargeBytes} bytes, more than ${MAX_DETECTION_STATE_BYTES}; not read); alarm state starts fresh`,
        };
      }
      onDisk = read.text;
      return parseDetectionState(read.text, path);
    },
    save(state) {
      let fitted: ReturnType<typeof stateFileText>;
      try {
        fitted = stateFileText(state, path);
      } catch (error) {
        return Promise.reject(error);
      }
      const { text, leftOut } = fitted;
      if (text === onDisk) return lastWrite.then(() => leftOut);
      onDisk = text;
      lastWrite = write(text).catch((error: unknown) => {
        onDisk = undefined;
        throw error;
      });
      return lastWrite.then(() => leftOut);
    },
  };
}

/**
 * The file's text within MAX_DETECTION_STATE_BYTES, the oldest outbox entries left out as needed (each entry is
 * written once, so sizing costs no more than writing). Exact JSON: an undelivered alarm's counts may pass 2^53.
 */
function stateFileText(state: DetectionState, path: string): { text: string; leftOut: number } {
  const file = {
    version: 1,
    behaviors: state.behaviors,
    ...(state.network ? { network: { baseline: persistBaseline(state.network.baseline), atMs: state.network.atMs } } : {}),
    outbox: [],
    ...(state.drill ? { drill: state.drill } : {}),
  };
  const frame = `${stringifyExactJson(file)}\n`;
  // A quote inside a JSON string is escaped, so the key with its empty list appears only as the key.
  const at = frame.indexOf('"outbox":[]') + '"outbox":['.length;
  const entries = state.outbox.map((entry) => stringifyExactJson(entry));
  let bytes =
    Buffer.byteLength(frame) + entries.reduce((sum, entry) => sum + Buffer.byteLength(entry) + 1, 0) - (entries.length > 0 ? 1 : 0);
  let leftOut = 0;
  while (bytes > MAX_DETECTION_STATE_BYTES && leftOut < entries.length) {
    bytes -= Buffer.byteLength(entries[leftOut] as string) + (leftOut < entries.length - 1 ? 1 : 0);
    leftOut += 1;
  }
  if (bytes > MAX_DETECTION_STATE_BYTES) {
    throw new Error(
      `the detection state is ${bytes} bytes without undelivered alarms, more than the ${MAX_DETECTION_STATE_BYTES} ${path} may hold`,
    );
  }
  return { text: `${frame.slice(0, at)}${entries.slice(leftOut).join(',')}${frame.slice(at)}`, leftOut };
}

function parseDetectionState(text: string, path: string): { state?: DetectionState; problem?: string } {
  const invalid = (why: string) => ({ problem: `${path} is not a valid detection state file (${why}); alarm state starts fresh` });
  let parsed: unknown;
  try {
    parsed = parseExactJson(text);
  } catch (error) {
    return invalid(describeError(error));
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return invalid('not a JSON object');
  const file = parsed as Record<string, unknown>;
  if (file.version !== 1) return invalid(`unsupported version ${stringifyExactJson(file.version)}`);
  if (file.behaviors === null || typeof file.behaviors !== 'object' || Array.isArray(file.behaviors)) return invalid('no behaviors');
  const behaviors: DetectorState = Object.create(null);
  for (const [name, value] of Object.entries(file.behaviors as Record<string, unknown>)) {
    const restored = restoreBehaviorState(value);
    if (!restored) return invalid(`behavior ${JSON.stringify(name.slice(0, 40))} has an invalid state`);
    behaviors[name] = restored;
  }
  const state: DetectionState = { behaviors, outbox: [] };
  let problem: string | undefined;
  if (Array.isArray(file.outbox)) {
    const entries = file.outbox.filter(isOutboxEntry);
    state.outbox = entries.filter(hasValidTopics).slice(-MAX_OUTBOX);
    const dropped = entries.length - entries.filter(hasValidTopics).length;
    if (dropped > 0) {
      problem = `${path}: ${dropped} undelivered alarm(s) dropped: their topic is not one the configuration could have given (a damaged or altered file)`;
    }
  }
  const network = file.network as { baseline?: unknown; atMs?: unknown } | undefined;
  if (network && typeof network.atMs === 'number' && Number.isFinite(network.atMs)) {
    const restored = restoreBaseline(network.baseline);
    if (restored.baseline) state.network = { baseline: restored.baseline, atMs: network.atMs };
  }
  const drill = file.drill as { fingerprint?: unknown; endsAtMs?: unknown } | undefined;
  if (drill && typeof drill.fingerprint === 'string' && typeof drill.endsAtMs === 'number') {
    state.drill = { fingerprint: drill.fingerprint, endsAtMs: drill.endsAtMs };
  }
  return problem === undefined ? { state } : { state, problem };
}

/**
 * A saved alarm goes where the file says: the topics are checked again as the configuration checks them (a plain
 * topic, never under $aws/, no wildcard), resolved (no `{iot:thingName}` left).
 */
function hasValidTopics(entry: OutboxEntry): boolean {
  const valid = (topic: string | undefined, parse: (value: unknown) => string): boolean => {
    if (topic === undefined) return true;
    if (topic === '' || topic.includes(THING_NAME_VARIABLE)) return false;
    try {
      return parse(topic) === topic;
    } catch {
      return false;
    }
  };
  return valid(entry.cloudTopic, cloudTopic) && valid(entry.localTopic, localTopic) && (entry.cloudTopic ?? entry.localTopic) !== undefined;
}

function isOutboxEntry(value: unknown): value is OutboxEntry {
  if (value === null || typeof value !== 'object') return false;
  const entry = value as Record<string, unknown>;
  const event = entry.event as Record<string, unknown> | null;
  return (
    event !== null &&
    typeof event === 'object' &&
    typeof event.violationId === 'string' &&
    (event.violationEventType === 'in-alarm' ||
      event.violationEventType === 'alarm-cleared' ||
      event.violationEventType === 'alarm-invalidated') &&
    (entry.cloudTopic === undefined || typeof entry.cloudTopic === 'string') &&
    (entry.localTopic === undefined || typeof entry.localTopic === 'string')
  );
}
