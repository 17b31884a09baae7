/**
 * The committed baseline of `--incremental` (scripts/mutation/baseline/<module>.json) as Stryker writes it holds this
 * machine's paths: `projectRoot`, the options (the absolute paths of the jest environment and sequencer) and each
 * killed mutant's `statusReason`, a failure message with stack traces through this checkout's sandbox. None of them is
 * read back: Stryker's incremental differ matches mutants and tests by their file names relative to the project, their
 * source text and locations, and keeps of an old mutant only its status, `testsCompleted`, `coveredBy` and `killedBy`.
 * What is kept is what it reads, so that a clone in any directory reuses the same results, and the file is a tenth of
 * the size and changes only when results do.
 */

/** What this file keeps of a mutant of Stryker's report (mutation-testing-report-schema's MutantResult). */
const MUTANT_KEYS = ['id', 'mutatorName', 'replacement', 'location', 'status', 'static', 'testsCompleted', 'coveredBy', 'killedBy'];

type Json = Record<string, unknown>;

function pick(object: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key];
  return out;
}

function mapValues(object: unknown, f: (value: Json) => Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries((object ?? {}) as Json)) out[key] = f(value as Json);
  return out;
}

/**
 * In the order of their ids (Stryker numbers mutants in source order): Stryker lists the reused results apart from the
 * retested ones, so an unchanged run would otherwise rewrite the file in another order.
 */
function byId(items: readonly Json[]): Json[] {
  return [...items].sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * A mutant's kept keys. An empty `killedBy` is left out: Stryker writes none for a mutant it judged and `[]` for one it
 * reused, so an unchanged run would otherwise rewrite every reused timeout.
 */
function keptOfMutant(mutant: Json): Json {
  const kept = pick(mutant, MUTANT_KEYS);
  if (Array.isArray(kept.killedBy) && kept.killedBy.length === 0) delete kept.killedBy;
  return kept;
}

/** Stryker's incremental report reduced to what its differ reads: no path, option or message of this machine. */
export function portableBaseline(report: Json): Json {
  const framework = report.framework as Json | undefined;
  return {
    schemaVersion: report.schemaVersion,
    thresholds: report.thresholds,
    // Which Stryker, runner and compiler wrote it (its branding, an inline image, left out).
    ...(framework ? { framework: pick(framework, ['name', 'version', 'dependencies']) } : {}),
    files: mapValues(report.files, (file) => ({
      ...pick(file, ['language', 'source']),
      mutants: byId(file.mutants as Json[]).map(keptOfMutant),
    })),
    ...(report.testFiles ? { testFiles: mapValues(report.testFiles, (file) => ({ ...file, tests: byId(file.tests as Json[]) })) } : {}),
  };
}
