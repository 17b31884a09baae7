/**
 * Which of V8's compilers the recipe's Run script gave node (lowMemory, chosen once at start), as the agent's start line
 * says it, so that an operator reading the log knows what runs and why without reading the recipe.
 */

/** The lifecycle variable the Run script reads lowMemory from (the Run step's Setenv: `{configuration:/lowMemory}`). */
export const LOW_MEMORY_VARIABLE = 'DEFENDER_AGENT_LOW_MEMORY';
/** The node flag of lowMemory true, and of auto on a quiet core: V8's interpreter alone. */
export const INTERPRETER_ONLY_FLAG = '--max-opt=0';
/** lowMemory auto runs V8's compilers when net/tcp and net/tcp6 hold more lines than this at start. */
export const BUSY_TCP_LINES = 1000;

/** ` (V8 …: lowMemory …)` for the start line, or nothing when neither the flag nor the setting is there (a manual run). */
export function v8TierNote(execArgv: readonly string[], lowMemory: string | undefined): string {
  const interpreted = execArgv.includes(INTERPRETER_ONLY_FLAG);
  const tier = interpreted ? 'V8 interpreter only' : 'V8 compilers on';
  const count = BUSY_TCP_LINES.toLocaleString('en-US');
  if (lowMemory === 'auto')
    return ` (${tier}: lowMemory auto, ${interpreted ? 'at most' : 'more than'} ${count} TCP sockets when it started)`;
  if (lowMemory === 'true' || lowMemory === 'false') return ` (${tier}: lowMemory ${lowMemory})`;
  return interpreted ? ` (${tier})` : '';
}
