/**
 * The node command line the recipe's Run script would start (Linux): its own lines that choose the lowMemory tier, run
 * by sh with the environment the nucleus gives them, so that the bench, the armv7 script and the tests start node with
 * exactly the flags a core would, including auto's choice from the socket count under `procfsRoot`.
 */
import { execFileSync } from 'node:child_process';
import type { LowMemorySetting } from '../../src/config/values';
import { LOW_MEMORY_VARIABLE, PROCFS_ROOT_VARIABLE, type RunStep } from './recipe';

/** What the Run step's Setenv hands the script for these settings. */
export function runStepEnv(lowMemory: LowMemorySetting, procfsRoot: string): Record<string, string> {
  return { [LOW_MEMORY_VARIABLE]: lowMemory, [PROCFS_ROOT_VARIABLE]: procfsRoot };
}

/** The tier flags the Run script picks for a lowMemory setting with `procfsRoot`'s socket tables as they are now. */
export function tierFlagsFor(run: RunStep, lowMemory: LowMemorySetting, procfsRoot: string): string[] {
  const tier = execFileSync('sh', ['-c', `${run.tierChoice}\nprintf '%s' "$tier"`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...runStepEnv(lowMemory, procfsRoot) },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return tier.split(/\s+/).filter((word) => word !== '');
}

/** Every flag the Run script gives node: the fixed ones, then the tier's. */
export function nodeFlagsFor(run: RunStep, lowMemory: LowMemorySetting, procfsRoot: string): string[] {
  return [...run.nodeFlags, ...tierFlagsFor(run, lowMemory, procfsRoot)];
}
