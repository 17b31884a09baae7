/**
 * `npm run collect` against a procfs root whose net/dev is a FIFO nobody writes: before reads had a deadline and
 * refused non-regular files, the open waited for a writer forever and the command never printed anything.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateReport } from '../../../src/report/validate';
import { writeGeneratedProc } from '../../fixtures/proc/generate';
import { makeFifo } from '../../support/fifo';

const REPO = path.join(__dirname, '..', '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');
/**
 * What is caught is waiting forever (for a writer that never comes), so the bound only has to outlast tsx compiling
 * and starting the command on a loaded machine; how fast it finishes is not this test's to measure.
 */
const BOUND_MS = 60_000;

describe('npm run collect with a FIFO for net/dev', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ddcli-fifo-'));
    writeGeneratedProc(root, { established: 3, listeners: 1 });
    fs.rmSync(path.join(root, 'net/dev'));
    makeFifo(path.join(root, 'net/dev'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finishes and prints a valid report without network_stats, saying why', async () => {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        TSX,
        ['scripts/collect/main.ts', '--procfs-root', root],
        { cwd: REPO, timeout: BOUND_MS, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => resolve({ code: child.exitCode, signal: error?.signal ?? null, stdout, stderr }),
      );
    });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(validateReport(report)).toEqual([]);
    expect(report.metrics.network_stats).toBeUndefined();
    expect(report.metrics.tcp_connections.established_connections.total).toBe(3);
    expect(result.stderr).toMatch(/network_stats left out: cannot read net\/dev: .*not a regular file/);
  }, 90_000);
});
