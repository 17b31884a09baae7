/**
 * What `npm run test:mutation` mutates, which unit tests judge each module, the floor, and the mutants excluded as
 * equivalent (no test can tell them from the original), each with the reason.
 */

export interface MutationModule {
  name: string;
  /** Source files mutated (repository-relative). */
  mutate: string[];
  /** Folders under test/ whose unit tests run against the mutants (tests mirror src/). */
  tests: string[];
}

/**
 * A mutant no behaviour can tell from the original. Matched on its file, Stryker's mutator name, the original source
 * text the mutant replaces and its replacement, so that an edit elsewhere in the file does not unmatch it.
 */
export interface EquivalentMutant {
  file: string;
  mutator: string;
  original: string;
  replacement: string;
  reason: string;
}

/** Every module's score must reach this (killed + timed out, over all mutants but the equivalent ones). */
export const FLOOR_PERCENT = 85;

export const MODULES: readonly MutationModule[] = [
  {
    name: 'detection',
    mutate: ['src/detect/detector.ts', 'src/detect/measure.ts', 'src/detect/cidr.ts', 'src/config/behaviors.ts'],
    tests: ['test/detect', 'test/config'],
  },
  {
    name: 'report build',
    mutate: ['src/report/build.ts', 'src/report/names.ts', 'src/report/custom-metric-values.ts'],
    tests: ['test/report'],
  },
  { name: 'network delta', mutate: ['src/state/network-delta.ts'], tests: ['test/state'] },
  {
    name: 'config parsing',
    mutate: ['src/config/parse.ts', 'src/config/values.ts', 'src/config/names.ts', 'src/config/detection.ts'],
    tests: ['test/config', 'test/detect'],
  },
  {
    name: 'procfs parsers',
    mutate: ['src/collect/sockets.ts', 'src/collect/netdev.ts', 'src/collect/interfaces.ts', 'src/collect/ip.ts'],
    tests: ['test/collect'],
  },
  { name: 'eventstream codec', mutate: ['src/ipc/eventstream.ts'], tests: ['test/ipc'] },
];

export const EQUIVALENT_MUTANTS: readonly EquivalentMutant[] = [];
