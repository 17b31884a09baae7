/**
 * lowMemory: when node runs V8's optimizing compiler (TurboFan). Its code in the node binary and the code it makes
 * cost an idle agent 3.5 MiB of resident memory and about 7 MiB over a long run; without it a sample of 10,000
 * connections costs about twice the CPU (npm run bench). So `auto`, the default, starts node without it (the recipe's
 * Run script adds the flag below) and turns it on for good at the first sample of a busy device: a quiet core stays
 * lean, a busy one runs its samples at full speed. `true`: never; `false`: from the start.
 */
import type { Collector } from '../collect/collector';
import type { Logger } from '../log/logger';

/** The lifecycle variable the recipe's Run script reads lowMemory from (its Setenv: `{configuration:/lowMemory}`). */
export const LOW_MEMORY_VARIABLE = 'DEFENDER_AGENT_LOW_MEMORY';
/** The node flag the Run script adds for lowMemory `auto` and `true`. */
export const WITHOUT_OPTIMIZING_COMPILER = '--max-opt=1';
/** A sample with at least this many established sockets is a busy device's. */
export const BUSY_SOCKETS = 1_000;

/** V8's optimizing compiler as the agent can switch it: on, once, for good. */
export interface OptimizingCompiler {
  turnOn(): void;
}

/**
 * Node's. The flag takes effect at V8's next decision to optimize a function:
 * test/agent/optimizing-compiler.integration.test.ts shows it with V8's own trace (it was also seen with node 20 for
 * armv7 under qemu). node:v8 is loaded only then: it costs an idle agent 0.3 MiB.
 */
export const nodeOptimizingCompiler: OptimizingCompiler = {
  turnOn: () => (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--turbofan'),
};

export interface CompilerPlan {
  /** The line the agent logs at start, if node runs without the compiler. */
  startLine: string | undefined;
  /** Wraps each collector the agent makes: with `auto`, to turn the compiler on at the first busy sample. */
  watch: (collector: Collector) => Collector;
}

/**
 * What this process does, from the lifecycle setting and node's flags (the Run script chose them from the same). The
 * agent's entry point and the bench's worker both wire their collectors with it.
 */
export function compilerPlan(
  setting: string | undefined,
  execArgv: readonly string[],
  compiler: OptimizingCompiler,
  logger: Logger,
): CompilerPlan {
  const unchanged = (collector: Collector) => collector;
  if (!execArgv.includes(WITHOUT_OPTIMIZING_COMPILER)) return { startLine: undefined, watch: unchanged };
  if (setting === 'true') return { startLine: 'low memory: node runs without its optimizing compiler (lowMemory=true)', watch: unchanged };
  return {
    startLine: `low memory: node runs without its optimizing compiler until a sample holds ${BUSY_SOCKETS} established sockets (lowMemory=${setting ?? 'auto'})`,
    watch: turnOnWhenBusy(compiler, logger),
  };
}

/**
 * Wraps each collector the agent makes (a new procfsRoot makes a new one) so that the first sample with BUSY_SOCKETS
 * established sockets or more turns the compiler on, once for the process.
 */
function turnOnWhenBusy(compiler: OptimizingCompiler, logger: Logger): (collector: Collector) => Collector {
  let on = false;
  return (collector) => ({
    async collect(options) {
      const sample = await collector.collect(options);
      const sockets = sample.establishedConnectionsTotal ?? 0;
      if (!on && sockets >= BUSY_SOCKETS) {
        on = true;
        compiler.turnOn();
        logger.info(
          `busy device: a sample held ${sockets} established sockets, so node runs its optimizing compiler from now on ` +
            '(lowMemory=auto: about half the CPU per sample for 4-7 MiB more memory)',
        );
      }
      return sample;
    },
  });
}
