import type { CollectedSample, Collector } from '../../src/collect/collector';
import { BUSY_SOCKETS, compilerPlan, type OptimizingCompiler, WITHOUT_OPTIMIZING_COMPILER } from '../../src/agent/optimizing-compiler';
import { createLogger } from '../../src/log/logger';

const sampleWith = (established: number | undefined): CollectedSample => ({
  customMetrics: {},
  problems: [],
  droppedRows: {},
  ...(established === undefined ? {} : { establishedConnectionsTotal: established }),
});

const collectorOf = (sizes: Array<number | undefined>): Collector => {
  let next = 0;
  return { collect: async () => sampleWith(sizes[next++]) };
};

const quiet = createLogger({ out: () => undefined, err: () => undefined });
const neverOn: OptimizingCompiler = {
  turnOn: () => {
    throw new Error('turned on');
  },
};

describe('compilerPlan', () => {
  it('says how node started, and watches the collectors only for auto, when node started without the compiler', async () => {
    const lean = ['--max-semi-space-size=1', WITHOUT_OPTIMIZING_COMPILER];
    const collector = collectorOf([]);
    const auto = compilerPlan('auto', lean, neverOn, quiet);
    expect(auto.startLine).toBe(
      'low memory: node runs without its optimizing compiler until a sample holds 1000 established sockets (lowMemory=auto)',
    );
    expect(auto.watch(collector)).not.toBe(collector);
    // Started by hand with the flag and no setting: as auto, the default.
    expect(compilerPlan(undefined, lean, neverOn, quiet).watch(collector)).not.toBe(collector);
    const never = compilerPlan('true', lean, neverOn, quiet);
    expect(never.startLine).toBe('low memory: node runs without its optimizing compiler (lowMemory=true)');
    expect(never.watch(collector)).toBe(collector);
    for (const setting of ['false', 'auto', 'true', undefined]) {
      const plan = compilerPlan(setting, ['--max-semi-space-size=1'], neverOn, quiet);
      expect(plan.startLine).toBeUndefined();
      expect(plan.watch(collector)).toBe(collector);
    }
  });
});

describe('compilerPlan for auto', () => {
  it('turns the compiler on once, at the first sample with 1,000 established sockets, across collectors', async () => {
    const lines: string[] = [];
    const logger = createLogger({ out: (line) => lines.push(line), err: (line) => lines.push(line) });
    let turnedOn = 0;
    const compiler: OptimizingCompiler = { turnOn: () => turnedOn++ };
    const { watch } = compilerPlan('auto', [WITHOUT_OPTIMIZING_COMPILER], compiler, logger);
    const first = watch(collectorOf([12, undefined, BUSY_SOCKETS - 1, BUSY_SOCKETS, 20_000]));
    const options = { customMetrics: {}, networkStatsIncludeLoopback: false };
    for (let i = 0; i < 3; i++) await first.collect(options);
    expect(turnedOn).toBe(0);
    expect(await first.collect(options)).toEqual(sampleWith(BUSY_SOCKETS));
    expect(turnedOn).toBe(1);
    await first.collect(options);
    // A new procfsRoot makes a new collector: the compiler stays on, and is not turned on twice.
    await watch(collectorOf([50_000])).collect(options);
    expect(turnedOn).toBe(1);
    expect(lines).toEqual([
      expect.stringMatching(
        /INFO {2}busy device: a sample held 1000 established sockets, so node runs its optimizing compiler from now on/,
      ),
    ]);
  });
});
