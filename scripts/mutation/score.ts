/**
 * A module's mutation score from Stryker's mutant results: detected (killed or timed out) over every mutant a test
 * could judge (detected, survived, no coverage), leaving out the mutants named as equivalent and those that did not
 * compile or run (Stryker's own CompileError, RuntimeError, Ignored).
 */
import type { EquivalentMutant } from './modules';

/** What the score needs of Stryker's MutantResult. */
export interface MutantOutcome {
  fileName: string;
  mutatorName: string;
  replacement: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

interface UndetectedMutant {
  file: string;
  line: number;
  mutator: string;
  original: string;
  replacement: string;
  status: string;
}

export interface ModuleScore {
  /** Every mutant Stryker made by its status (Killed, Timeout, Survived, NoCoverage, Ignored, ...), equivalents apart. */
  statuses: Record<string, number>;
  detected: number;
  undetected: UndetectedMutant[];
  equivalent: number;
  /** Equivalent entries of this module's files that matched no mutant: stale, to be removed from the list. */
  unmatchedEquivalents: EquivalentMutant[];
  /** Percent, one decimal; 100 when nothing could be judged. */
  percent: number;
}

/** The source text a mutant replaces (lines and columns 1-based, as Stryker's results give them). */
export function originalText(source: string, location: MutantOutcome['location']): string {
  const lines = source.split('\n');
  const { start, end } = location;
  if (start.line === end.line) return (lines[start.line - 1] ?? '').slice(start.column - 1, end.column - 1);
  const first = (lines[start.line - 1] ?? '').slice(start.column - 1);
  const middle = lines.slice(start.line, end.line - 1);
  const last = (lines[end.line - 1] ?? '').slice(0, end.column - 1);
  return [first, ...middle, last].join('\n');
}

function lineOf(source: string, line: number): string {
  return (source.split('\n')[line - 1] ?? '').trim();
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

export function scoreModule(
  outcomes: readonly MutantOutcome[],
  sourceOf: (file: string) => string,
  files: readonly string[],
  equivalents: readonly EquivalentMutant[],
): ModuleScore {
  const candidates = equivalents.filter((e) => files.includes(e.file));
  const used = new Set<EquivalentMutant>();
  let detected = 0;
  let equivalent = 0;
  const undetected: UndetectedMutant[] = [];
  const statuses: Record<string, number> = {};
  const count = (status: string) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
  };
  for (const outcome of outcomes) {
    if (!DETECTED.has(outcome.status) && !UNDETECTED.has(outcome.status)) {
      count(outcome.status);
      continue;
    }
    const original = originalText(sourceOf(outcome.fileName), outcome.location);
    const match = candidates.find(
      (e) =>
        e.file === outcome.fileName &&
        e.mutator === outcome.mutatorName &&
        e.original === original &&
        e.replacement === outcome.replacement &&
        (e.line === undefined || e.line === lineOf(sourceOf(outcome.fileName), outcome.location.start.line)),
    );
    count(match ? 'Equivalent' : outcome.status);
    if (match) {
      used.add(match);
      equivalent++;
    } else if (DETECTED.has(outcome.status)) detected++;
    else
      undetected.push({
        file: outcome.fileName,
        line: outcome.location.start.line,
        mutator: outcome.mutatorName,
        original,
        replacement: outcome.replacement,
        status: outcome.status,
      });
  }
  const judged = detected + undetected.length;
  const percent = judged === 0 ? 100 : Math.floor((detected / judged) * 1000) / 10;
  return { statuses, detected, undetected, equivalent, unmatchedEquivalents: candidates.filter((e) => !used.has(e)), percent };
}
