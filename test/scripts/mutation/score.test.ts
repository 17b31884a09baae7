import type { EquivalentMutant } from '../../../scripts/mutation/modules';
import { type MutantOutcome, originalText, scoreModule } from '../../../scripts/mutation/score';

const SOURCE = ['const a = 1;', 'if (a > 0) {', '  run();', '}'].join('\n');

function mutant(
  status: string,
  mutatorName: string,
  replacement: string,
  line: number,
  from: number,
  to: number,
  endLine = line,
): MutantOutcome {
  return {
    fileName: 'src/x.ts',
    mutatorName,
    replacement,
    status,
    location: { start: { line, column: from }, end: { line: endLine, column: to } },
  };
}

describe('originalText', () => {
  it('cuts one line or several at Stryker’s 1-based lines and columns', () => {
    expect(originalText(SOURCE, { start: { line: 2, column: 5 }, end: { line: 2, column: 10 } })).toBe('a > 0');
    expect(originalText(SOURCE, { start: { line: 2, column: 12 }, end: { line: 4, column: 2 } })).toBe('{\n  run();\n}');
  });
});

describe('scoreModule', () => {
  const sourceOf = () => SOURCE;
  const equivalent: EquivalentMutant = {
    file: 'src/x.ts',
    mutator: 'EqualityOperator',
    original: 'a > 0',
    replacement: 'a >= 0',
    reason: 'a is 1',
  };

  it('counts killed and timed out as detected, survived and uncovered as not, and leaves out what could not run', () => {
    const score = scoreModule(
      [
        mutant('Killed', 'BooleanLiteral', 'true', 2, 5, 10),
        mutant('Timeout', 'BlockStatement', '{}', 2, 12, 2, 4),
        mutant('Survived', 'EqualityOperator', 'a < 0', 2, 5, 10),
        mutant('NoCoverage', 'NumericLiteral', '0', 1, 11, 12),
        mutant('CompileError', 'StringLiteral', '""', 1, 1, 2),
        mutant('RuntimeError', 'StringLiteral', '""', 1, 1, 2),
        mutant('Ignored', 'StringLiteral', '""', 1, 1, 2),
      ],
      sourceOf,
      ['src/x.ts'],
      [],
    );
    expect(score.detected).toBe(2);
    expect(score.undetected.map((m) => [m.status, m.line, m.original, m.replacement])).toEqual([
      ['Survived', 2, 'a > 0', 'a < 0'],
      ['NoCoverage', 1, '1', '0'],
    ]);
    expect(score.percent).toBe(50);
    expect(score.statuses).toEqual({ Killed: 1, Timeout: 1, Survived: 1, NoCoverage: 1, CompileError: 1, RuntimeError: 1, Ignored: 1 });
  });

  it('leaves out a mutant named equivalent only when file, mutator, original and replacement all match', () => {
    const outcomes = [
      mutant('Survived', 'EqualityOperator', 'a >= 0', 2, 5, 10),
      mutant('Survived', 'EqualityOperator', 'a < 0', 2, 5, 10),
      mutant('Killed', 'BooleanLiteral', 'true', 2, 5, 10),
    ];
    const score = scoreModule(outcomes, sourceOf, ['src/x.ts'], [equivalent]);
    expect([score.equivalent, score.detected, score.undetected.length, score.percent]).toEqual([1, 1, 1, 50]);
    expect(score.statuses).toEqual({ Equivalent: 1, Survived: 1, Killed: 1 });
    expect(score.unmatchedEquivalents).toEqual([]);
  });

  it('an entry with a line matches only the mutant on that source line', () => {
    const source = ['const a = 1;', 'const b = 1;'].join('\n');
    const literal = (line: number) => mutant('Survived', 'NumericLiteral', '0', line, 11, 12);
    const onB = { ...equivalent, mutator: 'NumericLiteral', original: '1', replacement: '0', line: 'const b = 1;' };
    const score = scoreModule([literal(1), literal(2)], () => source, ['src/x.ts'], [onB]);
    expect([score.equivalent, score.undetected.map((m) => m.line)]).toEqual([1, [1]]);
  });

  it('names an equivalent entry of its files that matched nothing as stale, and ignores other modules’ entries', () => {
    const other = { ...equivalent, file: 'src/y.ts' };
    const score = scoreModule([mutant('Killed', 'BooleanLiteral', 'true', 2, 5, 10)], sourceOf, ['src/x.ts'], [equivalent, other]);
    expect(score.unmatchedEquivalents).toEqual([equivalent]);
  });

  it('rounds down to one decimal, so a score never shows above the floor it missed', () => {
    const outcomes = [
      ...Array.from({ length: 5 }, () => mutant('Killed', 'BooleanLiteral', 'true', 2, 5, 10)),
      mutant('Survived', 'BooleanLiteral', 'false', 2, 5, 10),
    ];
    expect(scoreModule(outcomes, sourceOf, ['src/x.ts'], []).percent).toBe(83.3);
    expect(scoreModule([], sourceOf, ['src/x.ts'], []).percent).toBe(100);
  });
});
