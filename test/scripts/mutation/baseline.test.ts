import fs from 'node:fs';
import path from 'node:path';
import { portableBaseline } from '../../../scripts/mutation/baseline';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BASELINE_DIR = path.join(ROOT, 'scripts', 'mutation', 'baseline');

/** A report as Stryker 9 writes its incremental file (trimmed to one mutant of each kind). */
function strykerReport(root: string) {
  const location = { start: { line: 3, column: 5 }, end: { line: 3, column: 10 } };
  return {
    files: {
      'src/x.ts': {
        language: 'typescript',
        source: 'const a = 1;\n',
        mutants: [
          {
            id: '0',
            mutatorName: 'EqualityOperator',
            replacement: 'a >= 0',
            statusReason: `Error: expect(received)\n    at Object.<anonymous> (${root}/.stryker-tmp/sandbox-AbC/test/x.test.ts:4:5)`,
            status: 'Killed',
            static: false,
            testsCompleted: 1,
            coveredBy: ['0', '1'],
            killedBy: ['1'],
            location,
          },
          { id: '1', mutatorName: 'BooleanLiteral', replacement: 'true', status: 'Survived', static: false, coveredBy: ['0'], location },
        ],
      },
    },
    schemaVersion: '1.0',
    thresholds: { high: 80, low: 60, break: null },
    testFiles: { 'test/x.test.ts': { source: 'it()', tests: [{ id: '0', name: 'x works', location: { start: { line: 1, column: 1 } } }] } },
    projectRoot: root,
    config: { jest: { config: { testEnvironment: `${root}/scripts/mutation/jest-environment.cjs` } }, concurrency: 2 },
    framework: { name: 'StrykerJS', version: '9.6.1', branding: { imageUrl: 'data:image/svg+xml;...' }, dependencies: { jest: '30' } },
  };
}

describe('portableBaseline', () => {
  const root = '/home/someone/checkout';
  const report = strykerReport(root);
  const portable = portableBaseline(report);

  it('holds no path of the machine that wrote it: no project root, options or failure messages', () => {
    expect(JSON.stringify(portable)).not.toContain(root);
    expect(Object.keys(portable).sort()).toEqual(['files', 'framework', 'schemaVersion', 'testFiles', 'thresholds']);
    expect(portable.framework).toEqual({ name: 'StrykerJS', version: '9.6.1', dependencies: { jest: '30' } });
  });

  it('keeps everything Stryker’s incremental differ reads: sources, mutant keys and statuses, coverage, kills, tests', () => {
    const [killed, survived] = report.files['src/x.ts'].mutants;
    const { statusReason: _, ...kept } = killed as NonNullable<typeof killed>;
    expect(portable.files).toEqual({ 'src/x.ts': { language: 'typescript', source: 'const a = 1;\n', mutants: [kept, survived] } });
    expect(portable.testFiles).toEqual(report.testFiles);
    expect(portable.schemaVersion).toBe('1.0');
    expect(portable.thresholds).toEqual(report.thresholds);
  });

  it('writes a reused timeout as Stryker wrote it when judged: no empty killedBy', () => {
    const judged = strykerReport(root);
    const timeout = {
      id: '2',
      mutatorName: 'UpdateOperator',
      replacement: 'i--',
      status: 'Timeout',
      static: false,
      coveredBy: ['0'],
      location: judged.files['src/x.ts'].mutants[0]!.location,
    };
    judged.files['src/x.ts'].mutants.push(timeout as any);
    const reused = strykerReport(root);
    reused.files['src/x.ts'].mutants.push({ ...timeout, killedBy: [] } as any);
    expect(portableBaseline(reused)).toEqual(portableBaseline(judged));
    expect((portableBaseline(judged) as any).files['src/x.ts'].mutants[0].killedBy).toEqual(['1']);
  });

  it('lists mutants and tests in the order of their ids, however Stryker listed them', () => {
    const shuffled = strykerReport(root);
    shuffled.files['src/x.ts'].mutants.reverse();
    shuffled.testFiles['test/x.test.ts'].tests.unshift({ id: '10', name: 'y works', location: { start: { line: 2, column: 1 } } });
    const out = portableBaseline(shuffled) as any;
    expect(out.files['src/x.ts'].mutants.map((m: { id: string }) => m.id)).toEqual(['0', '1']);
    expect(out.testFiles['test/x.test.ts'].tests.map((t: { id: string }) => t.id)).toEqual(['0', '10']);
  });
});

describe('the committed baselines', () => {
  const files = fs.existsSync(BASELINE_DIR) ? fs.readdirSync(BASELINE_DIR).filter((name) => name.endsWith('.json')) : [];

  it.each(files)('%s is already portable: no absolute path, nothing portableBaseline would remove', (name) => {
    const text = fs.readFileSync(path.join(BASELINE_DIR, name), 'utf8');
    expect(text).not.toContain(ROOT);
    const report = JSON.parse(text);
    expect(portableBaseline(report)).toEqual(report);
    for (const key of [...Object.keys(report.files), ...Object.keys(report.testFiles ?? {})]) expect(path.isAbsolute(key)).toBe(false);
  });
});
