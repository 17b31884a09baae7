/**
 * Which of V8's compilers and collections the recipe's Run script gave node (lowMemory, chosen once at start), as the
 * agent's start line says it, so that an operator reading the log knows what runs and why without reading the recipe.
 */

/** The lifecycle variable the Run script reads lowMemory from (the Run step's Setenv: `{configuration:/lowMemory}`). */
export const LOW_MEMORY_VARIABLE = 'DEFENDER_AGENT_LOW_MEMORY';
/**
 * The node flags of lowMemory true, and of auto on a quiet core: V8's interpreter alone, and every collection a full one.
 * A quiet agent's scavenges promote some of each sample's objects; without full collections that garbage piles up in
 * the old generation until V8's growing step (about 3 MiB) is reached (`npm run bench -- --real-time 120`).
 */
export const QUIET_TIER_FLAGS = ['--max-opt=0', '--gc-global'] as const;
const [INTERPRETER_ONLY_FLAG, FULL_COLLECTIONS_FLAG] = QUIET_TIER_FLAGS;
/** lowMemory auto runs V8's compilers when net/tcp and net/tcp6 hold more lines than this at start. */
export const BUSY_TCP_LINES = 1000;

/** ` (V8 …: lowMemory …)` for the start line, or nothing when neither the flag nor the setting is there (a manual run). */
export function v8TierNote(execArgv: readonly string[], lowMemory: string | undefined): string {
  const interpreted = execArgv.includes(INTERPRETER_ONLY_FLAG);
  const collections = execArgv.includes(FULL_COLLECTIONS_FLAG) ? ', full garbage collections' : '';
  const tier = `${interpreted ? 'V8 interpreter only' : 'V8 compilers on'}${collections}`;
  // Not toLocaleString: ICU's data would stay resident (lint/no-icu.grit).
  const count = String(BUSY_TCP_LINES).replace(/\B(?=(\d{3})+$)/g, ',');
  if (lowMemory === 'auto')
    return ` (${tier}: lowMemory auto, ${interpreted ? 'at most' : 'more than'} ${count} TCP sockets when it started)`;
  if (lowMemory === 'true' || lowMemory === 'false') return ` (${tier}: lowMemory ${lowMemory})`;
  return interpreted || collections ? ` (${tier})` : '';
}
