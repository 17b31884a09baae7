import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { componentAccessProblem, POSIX_USER } from './component-access';

/**
 * The check test:nucleus-lite makes before it starts the core, against real folders: a checkout inside a folder made
 * as mktemp -d makes it (mode 0700, owned by whoever runs the test), with nucleus lite's build folder not made yet.
 */
describe("test:nucleus-lite's check that the component's user can reach the checkout", () => {
  let top: string;
  // Their names as coreutils says them, and the user's uid as id says it, not as the check finds them.
  const owner = () => execFileSync('stat', ['-c', '%U:%G', top], { encoding: 'utf8' }).trim();
  const uid = execFileSync('id', ['-u', POSIX_USER.split(':')[0]!], { encoding: 'utf8' }).trim();

  beforeEach(() => {
    top = fs.mkdtempSync(path.join(os.tmpdir(), 'component-access-'));
    fs.mkdirSync(path.join(top, 'repo'), { mode: 0o755 });
  });

  afterEach(() => fs.rmSync(top, { recursive: true, force: true }));

  const target = () => ({
    path: path.join(top, 'repo', '.nucleus-lite', 'bin', 'recipe-runner'),
    what: "nucleus lite's program",
    otherwise: 'clone the repository under a folder others can enter',
  });

  it('names the 0700 folder mkdtemp made, its mode and owner, the user and the fix', () => {
    expect(fs.statSync(top).mode & 0o777).toBe(0o700);
    expect(componentAccessProblem([target()], POSIX_USER)).toBe(
      `nucleus lite runs the component as ${POSIX_USER} (uid ${uid}), who cannot enter the folder ${top} ` +
        `(drwx------ 0700, owner ${owner()}) on the way to ${target().path}, nucleus lite's program. ` +
        `Fix: chmod o+x ${top}, or clone the repository under a folder others can enter`,
    );
  });

  it('passes once others may enter it (execute only), and then names a program that is not executable', () => {
    fs.chmodSync(top, 0o711);
    expect(componentAccessProblem([target()], POSIX_USER)).toBeUndefined();
    fs.mkdirSync(path.dirname(target().path), { recursive: true, mode: 0o755 });
    fs.writeFileSync(target().path, '', { mode: 0o744 });
    fs.chmodSync(target().path, 0o744);
    expect(componentAccessProblem([target()], POSIX_USER)).toContain(`who cannot execute ${target().path} (-rwxr--r-- 0744`);
    fs.chmodSync(target().path, 0o755);
    expect(componentAccessProblem([target()], POSIX_USER)).toBeUndefined();
  });

  it('follows a symbolic link to the folder it leads to', () => {
    fs.chmodSync(top, 0o755);
    const hidden = fs.mkdtempSync(path.join(os.tmpdir(), 'component-access-hidden-'));
    try {
      fs.symlinkSync(hidden, path.join(top, 'link'));
      const problem = componentAccessProblem([{ ...target(), path: path.join(top, 'link', 'bin') }], POSIX_USER);
      expect(problem).toContain(`who cannot enter the folder ${hidden} (drwx------ 0700`);
    } finally {
      fs.rmSync(hidden, { recursive: true, force: true });
    }
  });
});
