import { accessProblem, describeMode, mayPass, memberGroups, type PathStep, pathPrefixes } from './component-access';

const nobody = { name: 'nobody', group: 'nogroup', uid: 65534, gids: [65534] };
const root = { name: 'root', group: 'root', uid: 0, gids: [0] };

function folder(p: string, mode: number, uid = 0, gid = 0): PathStep {
  return { path: p, directory: true, mode: 0o040000 | mode, uid, gid, owner: uid === 0 ? 'root' : `user${uid}`, ownerGroup: 'staff' };
}

function file(p: string, mode: number, uid = 0, gid = 0): PathStep {
  return { ...folder(p, mode, uid, gid), directory: false, mode: 0o100000 | mode };
}

const runner = {
  path: '/tmp/tmp.Ab12/repo/.nucleus-lite/k/bin/recipe-runner',
  what: 'the program every lifecycle phase runs',
  otherwise: 'clone the repository under a folder others can enter',
};

describe('which folder keeps the component user out', () => {
  it('names a root-owned 0700 folder (mktemp -d) on the way, its mode, owner and the chmod that opens it', () => {
    const steps = [
      folder('/', 0o755),
      folder('/tmp', 0o1777),
      folder('/tmp/tmp.Ab12', 0o700),
      folder('/tmp/tmp.Ab12/repo', 0o755),
      file(runner.path, 0o755),
    ];
    expect(accessProblem(runner, steps, nobody)).toBe(
      'nucleus lite runs the component as nobody:nogroup (uid 65534), who cannot enter the folder /tmp/tmp.Ab12 ' +
        '(drwx------ 0700, owner root:staff) on the way to /tmp/tmp.Ab12/repo/.nucleus-lite/k/bin/recipe-runner, ' +
        'the program every lifecycle phase runs. Fix: chmod o+x /tmp/tmp.Ab12, or clone the repository under a folder others can enter',
    );
  });

  it('passes when every folder lets others enter (0711 is enough: no read needed) and the program is executable', () => {
    const steps = [folder('/', 0o755), folder('/home', 0o711), folder('/home/me', 0o701, 1000), file(runner.path, 0o751)];
    expect(accessProblem(runner, steps, nobody)).toBeUndefined();
  });

  it('reports the first blocking folder, in the order the kernel walks the path', () => {
    const steps = [folder('/', 0o755), folder('/a', 0o750), folder('/a/b', 0o700), file(runner.path, 0o755)];
    expect(accessProblem(runner, steps, nobody)).toContain('cannot enter the folder /a (drwxr-x--- 0750');
  });

  it('names a program without an execute bit for the user, with the chmod of that file', () => {
    const steps = [folder('/', 0o755), file(runner.path, 0o744)];
    const problem = accessProblem(runner, steps, nobody);
    expect(problem).toContain(`cannot execute ${runner.path} (-rwxr--r-- 0744, owner root:staff), the program`);
    expect(problem).toContain(`Fix: chmod o+x ${runner.path},`);
  });

  it("applies only the owner's bits to the owner and only the group's bits to a member, as the kernel does", () => {
    const member = { ...nobody, gids: [65534, 50] };
    // Others may enter, but the owner's bits deny the owner: the kernel never falls through to the others' bits.
    expect(mayPass(folder('/x', 0o071, 65534), nobody)).toBe(false);
    expect(accessProblem(runner, [folder('/x', 0o071, 65534)], nobody)).toContain('Fix: chmod u+x /x,');
    // A member of the folder's group gets the group's bits, not the others'.
    expect(mayPass(folder('/x', 0o701, 0, 50), member)).toBe(false);
    expect(accessProblem(runner, [folder('/x', 0o701, 0, 50)], member)).toContain('Fix: chmod g+x /x,');
    expect(mayPass(folder('/x', 0o710, 0, 50), member)).toBe(true);
    expect(mayPass(folder('/x', 0o710, 0, 50), nobody)).toBe(false);
    expect(mayPass(folder('/x', 0o100, 65534), nobody)).toBe(true);
  });

  it('lets root into any folder, and run a file only with some execute bit', () => {
    expect(mayPass(folder('/x', 0o000, 1000), root)).toBe(true);
    expect(mayPass(file('/x', 0o001, 1000), root)).toBe(true);
    expect(mayPass(file('/x', 0o644, 0), root)).toBe(false);
  });
});

describe('the path a check walks', () => {
  it('is every folder from the root down, then the path itself', () => {
    expect(pathPrefixes('/tmp/tmp.Ab12/repo')).toEqual(['/', '/tmp', '/tmp/tmp.Ab12', '/tmp/tmp.Ab12/repo']);
    expect(pathPrefixes('/')).toEqual(['/']);
    expect(() => pathPrefixes('repo/bin')).toThrow(/not an absolute path/);
  });
});

describe('modes as ls and chmod write them', () => {
  it('gives the letters and the octal, with special bits in the octal', () => {
    expect(describeMode(folder('/tmp', 0o1777))).toBe('drwxrwxrwx 1777');
    expect(describeMode(file('/f', 0o640))).toBe('-rw-r----- 0640');
  });
});

describe("the groups setpriv --init-groups gives the user besides the unit's group", () => {
  it('are the groups whose member lists name the user exactly', () => {
    const groupFile = ['root:x:0:', 'nogroup:x:65534:', 'audio:x:29:pulse,nobody', 'video:x:44:nobodyelse', 'staff:x:50:nobody'].join('\n');
    expect(memberGroups(groupFile, 'nobody')).toEqual([29, 50]);
    expect(memberGroups(groupFile, 'pulse')).toEqual([29]);
    expect(memberGroups('', 'nobody')).toEqual([]);
  });
});
