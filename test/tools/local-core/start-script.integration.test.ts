/**
 * `npm start` as package.json runs it: --help and a mistyped flag answer before anything is built.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runToExit } from '../../support/run-to-exit';

const PROJECT = path.join(__dirname, '..', '..', '..');

/** The `start` script with `args` appended, as `npm start -- args` runs it (through a shell, in the project). */
function npmStart(args: string[], componentDir: string): Promise<{ code: number | null; output: string }> {
  const script = (JSON.parse(fs.readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  return runToExit('sh', ['-c', `${script} "$@"`, 'start', ...args, '--component-dir', componentDir], {
    cwd: PROJECT,
    env: { ...process.env, PATH: `${path.join(PROJECT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}` },
  });
}

describe('npm start', () => {
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'start-script-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('answers --help without building', async () => {
    const componentDir = path.join(root, 'component');
    const { code, output } = await npmStart(['--help'], componentDir);
    expect(code).toBe(0);
    expect(output).toContain('Usage: npm start');
    expect(output).not.toMatch(/bundle \d+ B/);
    expect(fs.existsSync(componentDir)).toBe(false);
  });

  it('refuses a mistyped flag with exit code 2 without building', async () => {
    const componentDir = path.join(root, 'component');
    const { code, output } = await npmStart(['--interva', '5'], componentDir);
    expect(code).toBe(2);
    expect(output).toMatch(/Unknown option '--interva'/);
    expect(output).not.toMatch(/bundle \d+ B/);
    expect(fs.existsSync(componentDir)).toBe(false);
  });
});
