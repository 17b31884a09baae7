/**
 * `npm run test:mutation`: StrykerJS with the jest runner over the pure modules of src/ (scripts/mutation/modules.ts),
 * one module at a time against the unit tests that judge it. Prints each module's score and its undetected
 * mutants, then as its last line `mutation score: X% (floor Y%)` (the lowest module's score) and exits non-zero when a
 * module is below the floor.
 *
 *   npm run test:mutation -- [--module <name>]... [--concurrency N] [--incremental] [--baselined-only]
 *
 * `--incremental` reads and rewrites the committed baseline of each module (scripts/mutation/baseline/, Stryker's
 * incremental file) and retests only the mutants whose code or covering tests changed since it was written; the others
 * keep the status the baseline recorded. A module without a baseline is run in full and gets one. What it does not see:
 * a change in a file the module uses but does not mutate (src/metrics, test helpers); a full run (without
 * --incremental) judges every mutant again. `--baselined-only` (CI) is `--incremental` over the modules that have a
 * committed baseline; each other module is named as not run, since its first run would take CI past its time budget.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeError } from '../../src/util/describe-error';
import { portableBaseline } from './baseline';
import { baselineFile, EQUIVALENT_MUTANTS, FLOOR_PERCENT, MODULES, type MutationModule } from './modules';
import { type ModuleScore, type MutantOutcome, scoreModule } from './score';

/** What this script uses of @stryker-mutator/core. */
type StrykerConstructor = new (options: Record<string, unknown>) => { runMutationTest(): Promise<MutantOutcome[]> };
const STRYKER: string = '@stryker-mutator/core';

const ROOT = path.resolve(__dirname, '..', '..');
const ENVIRONMENT = path.join(__dirname, 'jest-environment.cjs');
const SEQUENCER = path.join(__dirname, 'jest-sequencer.cjs');

interface Options {
  modules: MutationModule[];
  concurrency: number;
  incremental: boolean;
  /** Only the modules with a committed baseline (CI's budget); the others are named as not run. */
  baselinedOnly: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const names: string[] = [];
  let concurrency = 2;
  let incremental = false;
  let baselinedOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--module') names.push(argv[++i] ?? '');
    else if (arg === '--concurrency') concurrency = Number(argv[++i]);
    else if (arg === '--incremental') incremental = true;
    else if (arg === '--baselined-only') baselinedOnly = incremental = true;
    else throw new Error(`unknown argument ${JSON.stringify(arg)} (--module <name>, --concurrency N, --incremental, --baselined-only)`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('--concurrency takes a whole number >= 1');
  const modules = names.length === 0 ? [...MODULES] : names.map((name) => moduleNamed(name));
  return { modules, concurrency, incremental, baselinedOnly };
}

function moduleNamed(name: string): MutationModule {
  const found = MODULES.find((m) => m.name === name);
  if (!found) throw new Error(`no module ${JSON.stringify(name)}; modules: ${MODULES.map((m) => m.name).join(', ')}`);
  return found;
}

async function runModule(module: MutationModule, options: Options): Promise<ModuleScore> {
  for (const file of [...module.mutate, ...module.tests]) {
    if (!fs.existsSync(path.join(ROOT, file)))
      throw new Error(`module ${module.name} lists ${file}, which does not exist (moved? update scripts/mutation/modules.ts)`);
  }
  // Stryker is an ES module only, whose types this project's CommonJS resolution cannot see: loaded with import().
  const { Stryker }: { Stryker: StrykerConstructor } = await import(STRYKER);
  // The options shared by every module are in stryker.config.json, which Stryker reads itself.
  const baseline = baselineFile(module);
  const stryker = new Stryker({
    mutate: module.mutate,
    concurrency: options.concurrency,
    incremental: options.incremental,
    incrementalFile: baseline,
    jest: {
      projectType: 'custom',
      // The sequencer picks the files of the tests covering each mutant, more narrowly than Jest's related tests would.
      enableFindRelatedTests: false,
      // Stryker lays this over jest.config.js: its projects (which would run every unit test, and the integration tests)
      // and its minute-long test timeout (a mutant that leaves a test waiting would hold a runner that long) are cleared.
      config: {
        projects: undefined,
        testTimeout: 5_000,
        roots: ['<rootDir>/src', '<rootDir>/test'],
        testEnvironment: ENVIRONMENT,
        testSequencer: SEQUENCER,
        transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
        testMatch: module.tests.map((entry) => (entry.endsWith('.test.ts') ? `<rootDir>/${entry}` : `<rootDir>/${entry}/**/*.test.ts`)),
        testPathIgnorePatterns: ['\\.integration\\.test\\.ts$'],
      },
    },
  });
  const results = await stryker.runMutationTest();
  if (options.incremental) {
    // Committed, so stripped of this machine's paths and messages (scripts/mutation/baseline.ts).
    const report = JSON.parse(fs.readFileSync(baseline, 'utf8'));
    fs.writeFileSync(baseline, `${JSON.stringify(portableBaseline(report), null, 2)}\n`);
  }
  const sources = new Map<string, string>();
  const sourceOf = (file: string) => {
    let text = sources.get(file);
    if (text === undefined) {
      text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      sources.set(file, text);
    }
    return text;
  };
  const relative = results.map((r) => ({ ...r, fileName: path.relative(ROOT, path.resolve(ROOT, r.fileName)) }));
  return scoreModule(relative, sourceOf, module.mutate, EQUIVALENT_MUTANTS);
}

function describe(module: MutationModule, score: ModuleScore, seconds: number): string[] {
  const total = score.detected + score.undetected.length;
  const statuses = Object.entries(score.statuses)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  const lines = [
    `${module.name}: ${score.percent}% (${score.detected} of ${total} detected, ${score.equivalent} equivalent excluded) in ${seconds} s`,
    `  mutants: ${statuses}`,
  ];
  for (const m of score.undetected) {
    const original = m.original.replace(/\s+/g, ' ').slice(0, 80);
    const replacement = m.replacement.replace(/\s+/g, ' ').slice(0, 80);
    lines.push(`  ${m.status.toLowerCase()} ${m.file}:${m.line} ${m.mutator}: ${original} -> ${replacement}`);
  }
  for (const e of score.unmatchedEquivalents) {
    lines.push(`  stale equivalent entry (matches no mutant): ${e.file} ${e.mutator} ${JSON.stringify(e.original)}`);
  }
  return lines;
}

async function main(): Promise<number> {
  process.chdir(ROOT);
  const options = parseArgs(process.argv.slice(2));
  const scores: number[] = [];
  let stale = false;
  for (const module of options.modules) {
    if (options.baselinedOnly && !fs.existsSync(path.join(ROOT, baselineFile(module)))) {
      console.log(
        `${module.name}: not run, no committed baseline (a full run: npm run test:mutation -- --module '${module.name}' --incremental)`,
      );
      continue;
    }
    const started = Date.now();
    const score = await runModule(module, options);
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(describe(module, score, seconds).join('\n'));
    scores.push(score.percent);
    stale ||= score.unmatchedEquivalents.length > 0;
  }
  const lowest = scores.length > 0 ? Math.min(...scores) : 0;
  if (stale) console.log('equivalent entries that match no mutant must be removed from scripts/mutation/modules.ts');
  console.log(`mutation score: ${lowest}% (floor ${FLOOR_PERCENT}%)`);
  return lowest >= FLOOR_PERCENT && !stale ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(describeError(error));
    console.log(`mutation score: 0% (floor ${FLOOR_PERCENT}%)`);
    process.exitCode = 1;
  },
);
