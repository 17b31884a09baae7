import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTemplate } from '../../../scripts/build/build';
import { runStepOf } from '../../../scripts/build/recipe';
import { nodeFlagsFor, tierFlagsFor } from '../../../scripts/build/run-step';
import { writeGeneratedProc } from '../../fixtures/proc/generate';

/** The Run script's own lines, run by sh (scripts/build/run-step.ts), against socket tables of a known size. */
describe("the recipe's Run script chooses node's tier at start", () => {
  const run = runStepOf(readTemplate());
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-step-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A proc root whose net/tcp and net/tcp6 hold `tcpLines` and `tcp6Lines` lines (headers included). */
  function procWithLines(name: string, tcpLines: number, tcp6Lines: number): string {
    const root = path.join(dir, name);
    fs.mkdirSync(path.join(root, 'net'), { recursive: true });
    fs.writeFileSync(path.join(root, 'net', 'tcp'), 'row\n'.repeat(tcpLines));
    fs.writeFileSync(path.join(root, 'net', 'tcp6'), 'row\n'.repeat(tcp6Lines));
    return root;
  }

  it('auto: never optimizes on a quiet core, leaves V8 its default on a busy one; true and false do not count', () => {
    const quiet = path.join(dir, 'quiet');
    const busy = path.join(dir, 'busy');
    writeGeneratedProc(quiet, { established: 20, listeners: 5 });
    writeGeneratedProc(busy, { established: 1_200, listeners: 5 });
    const fixed = ['--max-semi-space-size=1', '--optimize-for-size'];
    expect(nodeFlagsFor(run, 'auto', quiet)).toEqual([...fixed, '--max-opt=0', '--gc-global']);
    expect(nodeFlagsFor(run, 'auto', busy)).toEqual(fixed);
    for (const root of [quiet, busy]) {
      expect(nodeFlagsFor(run, 'true', root)).toEqual([...fixed, '--max-opt=0', '--gc-global']);
      expect(nodeFlagsFor(run, 'false', root)).toEqual(fixed);
    }
  });

  it('counts the lines of net/tcp and net/tcp6 together: busy above 1,000', () => {
    expect(tierFlagsFor(run, 'auto', procWithLines('at-limit', 600, 400))).toEqual(['--max-opt=0', '--gc-global']);
    expect(tierFlagsFor(run, 'auto', procWithLines('above-limit', 600, 401))).toEqual([]);
    expect(tierFlagsFor(run, 'auto', procWithLines('tcp-alone-above', 1_001, 0))).toEqual([]);
    expect(tierFlagsFor(run, 'auto', procWithLines('tcp6-alone-above', 1, 1_000))).toEqual([]);
  });

  it('takes a proc root it cannot read as a quiet core, and any other lowMemory text as auto', () => {
    expect(tierFlagsFor(run, 'auto', path.join(dir, 'no-such-root'))).toEqual(['--max-opt=0', '--gc-global']);
    const busy = procWithLines('busy-lines', 2_000, 0);
    expect(tierFlagsFor(run, 'AUTO' as 'auto', busy)).toEqual([]);
  });

  it('reads procfsRoot as a value, never as shell text', () => {
    const marker = path.join(dir, 'ran');
    const root = procWithLines('$(touch ran) `touch ran` *', 2_000, 0);
    expect(tierFlagsFor(run, 'auto', root)).toEqual([]);
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.existsSync(path.join(process.cwd(), 'ran'))).toBe(false);
  });
});
