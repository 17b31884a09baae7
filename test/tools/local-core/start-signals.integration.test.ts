/**
 * `npm start` closed by its terminal: the local core gets SIGHUP and stops as on Ctrl-C, stopping the component it
 * launched (which runs in a process group of its own) instead of leaving it running without a core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { buildFolder, sharedBuild } from '../../support/built-component';
import { waitFor } from '../../support/wait-for';

const PROJECT = path.join(__dirname, '..', '..', '..');
/** The core's stop timeout for the component (STOP_TIMEOUT_MS in tools/local-core/main.ts), after which it kills it. */
const STOP_TIMEOUT_MS = 5_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start under a terminal that closes', () => {
  let core: ChildProcess | undefined;
  let componentPid: number | undefined;

  afterAll(() => {
    if (componentPid !== undefined && alive(componentPid)) process.kill(-componentPid, 'SIGKILL');
    if (core?.pid !== undefined && alive(-core.pid)) process.kill(-core.pid, 'SIGKILL');
  });

  it('stops on SIGHUP as on Ctrl-C and leaves no component running', async () => {
    const componentDir = buildFolder(await sharedBuild());
    core = spawn(
      process.execPath,
      [path.join(PROJECT, 'node_modules/tsx/dist/cli.mjs'), 'tools/local-core/main.ts', '--interval', '5', '--component-dir', componentDir],
      // A process group of its own, as a terminal's foreground job: the terminal's SIGHUP goes to all of it.
      { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let output = '';
    core.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    core.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(() => /running \(pid \d+\)/.test(output), 60_000, 'the component running');
    componentPid = Number(/running \(pid (\d+)\)/.exec(output)![1]);
    expect(alive(componentPid)).toBe(true);
    // The terminal goes: its end of the output closes and its foreground job (npm, tsx, the core) gets SIGHUP.
    core.stdout!.destroy();
    core.stderr!.destroy();
    process.kill(-core.pid!, 'SIGHUP');
    // The core stops the component (SIGTERM, SIGKILL after its stop timeout) before it exits.
    await waitFor(() => !alive(-core!.pid!), 2 * STOP_TIMEOUT_MS, 'the core gone').catch(() => undefined);
    expect({ coreRunning: alive(-core.pid!), componentRunning: alive(componentPid) }).toEqual({
      coreRunning: false,
      componentRunning: false,
    });
  }, 120_000);
});
