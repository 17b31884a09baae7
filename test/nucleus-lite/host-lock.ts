/**
 * One run of test:nucleus-lite per machine at a time. Runs from different checkouts share what belongs to the host,
 * whatever namespaces they run in: the cgroup named after the component's unit (`ggl.<name>.service` under
 * UNIT_CGROUP_ROOT), which every run creates, empties with SIGTERM when a phase stops and removes, and which the
 * leftover check counts. Two runs at once end each other's agent mid-check. A second run waits for the first.
 *
 * The lock is the kernel's flock(2), held by a `flock` process whose command reads its stdin until the run closes it:
 * when the run ends, however it ends (SIGKILL included), the pipe closes, the holder exits and the lock is free. No
 * stale lock file can keep the next run out.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { TOOLS } from './lite-build';

/** Where the lock lives: /run/lock is the host's (the inner run's private /run is mounted after it is taken). */
export const HOST_LOCK_FILE = '/run/lock/defender-agent-nucleus-lite.lock';

/**
 * Takes the lock, waiting while another run holds it (`onWait` once, with what that run wrote into the file: its
 * checkout and pid). Resolves with the function that releases it; `holder` is written into the file for the next one.
 */
export async function acquireHostLock(file: string, holder: string, onWait: (holder: string) => void): Promise<() => void> {
  const attempt = (wait: boolean) =>
    new Promise<(() => void) | undefined>((resolve, reject) => {
      const child = spawn(TOOLS.flock, [...(wait ? [] : ['-n', '-E', '75']), file, 'sh', '-c', 'echo locked && exec cat >/dev/null'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (!output.includes('locked\n')) return;
        child.stdout.removeAllListeners('data');
        // The holder must not keep this process alive, nor outlive it.
        child.unref();
        (child.stdout as unknown as { unref(): void }).unref();
        (child.stdin as unknown as { unref(): void }).unref();
        fs.writeFileSync(file, `${holder}\n`);
        resolve(() => child.stdin.end());
      });
      child.once('error', reject);
      child.once('exit', (code) => {
        if (code === 75 && !wait) resolve(undefined);
        else if (!output.includes('locked\n')) reject(new Error(`${TOOLS.flock} ${file} exited with ${code} before it held the lock`));
      });
    });
  const release = await attempt(false);
  if (release) return release;
  let current = '';
  try {
    current = fs.readFileSync(file, 'utf8').trim();
  } catch {
    // it was just released
  }
  onWait(current || 'a run that has not said who it is');
  return (await attempt(true))!;
}
