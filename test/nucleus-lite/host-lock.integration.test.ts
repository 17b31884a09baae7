import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireHostLock } from './host-lock';

/** The lock that keeps two test:nucleus-lite runs on one machine apart, on a lock file of the test's own. */
describe('the host lock of test:nucleus-lite', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-lock-'));
    file = path.join(dir, 'lock');
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Whether `promise` settles within `ms`. */
  const settled = async (promise: Promise<unknown>, ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        promise.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  it('makes a second run wait, naming the first, until the first releases it', async () => {
    const waits: string[] = [];
    const releaseFirst = await acquireHostLock(file, '/work/a pid 1', () => waits.push('first waited'));
    const second = acquireHostLock(file, '/work/b pid 2', (holder) => waits.push(holder));
    try {
      expect(await settled(second, 1_000)).toBe(false);
      expect(waits).toEqual(['/work/a pid 1']);
    } finally {
      releaseFirst();
    }
    expect(await settled(second, 5_000)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('/work/b pid 2\n');
    (await second)();
  });

  it('is free again once the run that held it is killed with SIGKILL, without a release', async () => {
    const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    // tsx runs the script in a node process of its own: that process holds the lock and is the one killed.
    const script = `require(${JSON.stringify(path.join(__dirname, 'host-lock.ts'))}).acquireHostLock(${JSON.stringify(file)}, 'killed run', () => {}).then(() => { console.log('held ' + process.pid); setInterval(() => {}, 1000); });`;
    const run = spawn(tsx, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let holderPid = 0;
    const kill = () => {
      for (const pid of [holderPid, run.pid]) {
        try {
          if (pid) process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    try {
      holderPid = await new Promise<number>((resolve, reject) => {
        run.stdout.on('data', (chunk: Buffer) => {
          const held = /held (\d+)/.exec(chunk.toString());
          if (held) resolve(Number(held[1]));
        });
        run.once('exit', (code) => reject(new Error(`the holding run exited with ${code}`)));
      });
      let waitedFor = '';
      const next = acquireHostLock(file, 'next run', (holder) => {
        waitedFor = holder;
      });
      try {
        expect(await settled(next, 1_000)).toBe(false);
        expect(waitedFor).toBe('killed run');
      } finally {
        kill();
      }
      expect(await settled(next, 5_000)).toBe(true);
      (await next)();
    } finally {
      kill();
    }
  });
});
