/**
 * Detection's own small state file in the component's work folder, beside the agent's: alarm state per behavior (an
 * alarm raised before a restart is not raised again, and is cleared exactly once), the traffic sums in progress, the
 * network baseline of the last sample, alarms not yet delivered, and the drill that last ran. A damaged file is
 * reported and detection starts fresh: at worst an alarm still raised is raised once more.
 */
import { createAtomicFileWriter } from '../state/atomic-file';
import { type NetworkBaseline, persistBaseline, restoreBaseline } from '../state/network-delta';
import { MAX_OUTBOX, type OutboxEntry } from './alarms';
import { type DetectorState, restoreBehaviorState } from './detector';
import { readFile } from '../util/async-fs';
import { describeError } from '../util/describe-error';

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
  save(state: DetectionState): Promise<void>;
}

export function createDetectionStateFile(path: string): DetectionStateStore {
  const write = createAtomicFileWriter(path);
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
        return { problem: `cannot read ${path}: ${describeError(error)}` };
      }
      return parseDetectionState(text, path);
    },
    save(state) {
      const file = {
        version: 1,
        behaviors: state.behaviors,
        ...(state.network ? { network: { baseline: persistBaseline(state.network.baseline), atMs: state.network.atMs } } : {}),
        outbox: state.outbox,
        ...(state.drill ? { drill: state.drill } : {}),
      };
      const text = `${JSON.stringify(file)}\n`;
      return write(text);
    },
  };
}

function parseDetectionState(text: string, path: string): { state?: DetectionState; problem?: string } {
  const invalid = (why: string) => ({ problem: `${path} is not a valid detection state file (${why}); alarm state starts fresh` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return invalid(describeError(error));
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return invalid('not a JSON object');
  const file = parsed as Record<string, unknown>;
  if (file.version !== 1) return invalid(`unsupported version ${JSON.stringify(file.version)}`);
  if (file.behaviors === null || typeof file.behaviors !== 'object' || Array.isArray(file.behaviors)) return invalid('no behaviors');
  const behaviors: DetectorState = Object.create(null);
  for (const [name, value] of Object.entries(file.behaviors as Record<string, unknown>)) {
    const restored = restoreBehaviorState(value);
    if (!restored) return invalid(`behavior ${JSON.stringify(name.slice(0, 40))} has an invalid state`);
    behaviors[name] = restored;
  }
  const state: DetectionState = { behaviors, outbox: [] };
  if (Array.isArray(file.outbox)) {
    state.outbox = file.outbox.filter(isOutboxEntry).slice(-MAX_OUTBOX);
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
  return { state };
}

function isOutboxEntry(value: unknown): value is OutboxEntry {
  if (value === null || typeof value !== 'object') return false;
  const entry = value as Record<string, unknown>;
  const event = entry.event as Record<string, unknown> | null;
  return (
    event !== null &&
    typeof event === 'object' &&
    typeof event.violationId === 'string' &&
    (event.violationEventType === 'in-alarm' || event.violationEventType === 'alarm-cleared') &&
    (entry.cloudTopic === undefined || typeof entry.cloudTopic === 'string') &&
    (entry.localTopic === undefined || typeof entry.localTopic === 'string')
  );
}
