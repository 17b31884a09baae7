/**
 * The agent's small state file in the component's work folder (the process cwd under Greengrass):
 * the last report id (ids must keep increasing across restarts) and the network baseline (so the
 * first report after an agent restart still carries a true delta). Losing it costs one report's
 * network_stats, so a bad file is reported and the agent starts fresh instead of failing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { persistBaseline, restoreBaseline, type NetworkBaseline, type PersistedNetworkBaseline } from './network-delta';

export interface AgentState {
  version: 1;
  /** 0 before the first report. */
  lastReportId: number;
  /** Epoch ms of the last publish, so a quick restart does not report sooner than the interval. */
  lastPublishedAtMs?: number;
  network?: NetworkBaseline;
}

interface LoadedState {
  state?: AgentState;
  /** Why the file (or part of it) could not be used. */
  problem?: string;
}

export interface StateStore {
  load(): Promise<LoadedState>;
  save(state: AgentState): Promise<void>;
}

/** The file's JSON: as AgentState, with the 64-bit counters as decimal strings. */
interface StateFile {
  version: 1;
  lastReportId: number;
  lastPublishedAtMs?: number;
  network?: PersistedNetworkBaseline;
}

export function createFileStateStore(path: string): StateStore {
  let lastSave: Promise<void> = Promise.resolve();
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
        return { problem: `cannot read ${path}: ${(error as Error).message}` };
      }
      return parseStateFile(text, path);
    },
    save(state) {
      const text = `${JSON.stringify(toStateFile(state), null, 2)}\n`;
      // One write at a time, in call order: the newest state is the one left on disk.
      const write = lastSave.catch(() => undefined).then(() => writeAtomically(path, text));
      lastSave = write;
      return write;
    },
  };
}

function toStateFile(state: AgentState): StateFile {
  return {
    version: 1,
    lastReportId: state.lastReportId,
    ...(state.lastPublishedAtMs !== undefined ? { lastPublishedAtMs: state.lastPublishedAtMs } : {}),
    ...(state.network ? { network: persistBaseline(state.network) } : {}),
  };
}

function parseStateFile(text: string, path: string): LoadedState {
  const invalid = (why: string): LoadedState => ({ problem: `${path} is not a valid state file (${why})` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return invalid((error as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return invalid('not a JSON object');
  const file = parsed as Partial<Record<keyof StateFile, unknown>>;
  if (file.version !== 1) return invalid(`unsupported version ${JSON.stringify(file.version)}`);
  if (!isNonNegativeInteger(file.lastReportId)) return invalid('lastReportId is not a non-negative integer');
  if (file.lastPublishedAtMs !== undefined && !isNonNegativeInteger(file.lastPublishedAtMs))
    return invalid('lastPublishedAtMs is not a timestamp');
  const state: AgentState = {
    version: 1,
    lastReportId: file.lastReportId,
    ...(file.lastPublishedAtMs !== undefined ? { lastPublishedAtMs: file.lastPublishedAtMs } : {}),
  };
  if (file.network === undefined) return { state };
  // A damaged baseline costs one report's network_stats; the report id is still worth keeping.
  const restored = restoreBaseline(file.network);
  if (restored.baseline) return { state: { ...state, network: restored.baseline } };
  return { state, problem: `${path}: ${restored.problem ?? 'invalid network baseline'}; the next report omits network_stats` };
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Write a temporary file next to the target, flush it, then rename: a crash leaves the old or the new file, never half of one. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
