import fs from 'node:fs';
import path from 'node:path';
import { baselineFile, MODULES } from '../../../scripts/mutation/modules';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Baseline {
  files: Record<string, unknown>;
  testFiles: Record<string, unknown>;
}

const baselined = MODULES.filter((module) => fs.existsSync(path.join(ROOT, baselineFile(module))));

// A baseline written for other files, or judged by other tests, would let CI's incremental run (--baselined-only)
// reuse results that say nothing about the module as it is configured.
it.each(baselined.map((module) => [module.name, module] as const))(
  'the committed mutation baseline of %s covers exactly the module’s files, judged by its own tests',
  (_name, module) => {
    const baseline = JSON.parse(fs.readFileSync(path.join(ROOT, baselineFile(module)), 'utf8')) as Baseline;
    expect(Object.keys(baseline.files).sort()).toEqual([...module.mutate].sort());
    for (const testFile of Object.keys(baseline.testFiles))
      expect(module.tests.some((entry) => testFile === entry || testFile.startsWith(`${entry}/`))).toBe(true);
  },
);

it('every baseline file belongs to a module', () => {
  const files = fs.readdirSync(path.join(ROOT, 'scripts', 'mutation', 'baseline')).map((name) => `scripts/mutation/baseline/${name}`);
  expect(files.sort()).toEqual(baselined.map((module) => baselineFile(module)).sort());
});
