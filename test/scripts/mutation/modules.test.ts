import fs from 'node:fs';
import path from 'node:path';
import { baselineFile, MODULES } from '../../../scripts/mutation/modules';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Baseline {
  files: Record<string, unknown>;
  testFiles: Record<string, unknown>;
}

// CI runs the mutation tests incrementally: a module without its baseline would be run in full, which takes CI past its
// time budget, and a baseline written for other files would retest nothing that changed.
describe.each(MODULES.map((module) => [module.name, module] as const))('the committed mutation baseline of %s', (_name, module) => {
  const file = path.join(ROOT, baselineFile(module));

  it('exists and covers exactly the module’s files, judged by its own tests', () => {
    expect(fs.existsSync(file)).toBe(true);
    const baseline = JSON.parse(fs.readFileSync(file, 'utf8')) as Baseline;
    expect(Object.keys(baseline.files).sort()).toEqual([...module.mutate].sort());
    for (const testFile of Object.keys(baseline.testFiles))
      expect(module.tests.some((entry) => testFile === entry || testFile.startsWith(`${entry}/`))).toBe(true);
  });
});
