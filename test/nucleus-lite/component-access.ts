/**
 * Whether the user nucleus lite runs the component as can reach what the run needs it to reach, checked before the
 * core starts. Lite runs every lifecycle phase as the unit's `User=`/`Group=` (the configured posixUser), not as root:
 * that user executes `recipe-runner` from the build folder inside the checkout and reads its artifacts, work folder,
 * IPC socket and the test's /proc fixtures under the run folder. A checkout in a folder others cannot enter (a clone
 * made in `mktemp -d`, mode 0700) otherwise fails the install phase with a bare "Permission denied" and every check
 * after it; this names the folder, its mode and owner, and the fix instead.
 *
 * The pure part decides from stat results (the kernel's rule: the owner's bits for the owner, else the group's bits
 * for a member of the file's group, else the others' bits; root passes any folder). ACLs are not read: a folder
 * opened to the user by an ACL alone would be named here although lite could enter it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TOOLS } from './lite-build';

/** The posixUser the test's core runs components as (`runWithDefault`), as a unit's `User=` and `Group=`. */
export const POSIX_USER = 'nobody:nogroup';

/** The component's user as `setpriv --reuid --regid --init-groups` makes it: the unit's group and the user's groups. */
export interface ComponentUser {
  name: string;
  group: string;
  uid: number;
  gids: readonly number[];
}

/** One component of a path, as lstat saw it, with its owner's and group's names. */
export interface PathStep {
  path: string;
  directory: boolean;
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  ownerGroup: string;
}

/** What the component's user must reach, what it is for, and the other way out beside chmod. */
export interface AccessTarget {
  path: string;
  what: string;
  otherwise: string;
}

type PermissionClass = 'u' | 'g' | 'o';

/** The one class of the mode the kernel applies to the user: the owner's, else the group's, else the others'. */
function permissionClass(step: PathStep, user: ComponentUser): PermissionClass {
  if (step.uid === user.uid) return 'u';
  if (user.gids.includes(step.gid)) return 'g';
  return 'o';
}

const EXECUTE_BIT: Record<PermissionClass, number> = { u: 0o100, g: 0o010, o: 0o001 };

/** A folder the user may enter, a file the user may execute (root: any folder, a file with any execute bit). */
export function mayPass(step: PathStep, user: ComponentUser): boolean {
  if (user.uid === 0) return step.directory || (step.mode & 0o111) !== 0;
  return (step.mode & EXECUTE_BIT[permissionClass(step, user)]) !== 0;
}

/** `/a/b/c` -> `/`, `/a`, `/a/b`, `/a/b/c`: every folder the kernel enters on the way, then the path itself. */
export function pathPrefixes(absolute: string): string[] {
  if (!path.isAbsolute(absolute)) throw new Error(`not an absolute path: ${absolute}`);
  const prefixes = [path.parse(absolute).root];
  for (const part of absolute.split(path.sep).filter(Boolean)) prefixes.push(path.join(prefixes[prefixes.length - 1]!, part));
  return prefixes;
}

/** `drwx------ 0700`, as ls and chmod write it. */
export function describeMode(step: PathStep): string {
  const bits = [0o400, 0o200, 0o100, 0o040, 0o020, 0o010, 0o004, 0o002, 0o001];
  const letters = bits.map((bit, i) => ((step.mode & bit) !== 0 ? 'rwx'[i % 3] : '-')).join('');
  return `${step.directory ? 'd' : '-'}${letters} ${(step.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

/** The first step, in the order the kernel takes them, that the user cannot pass; the message that says what to do. */
export function accessProblem(target: AccessTarget, steps: readonly PathStep[], user: ComponentUser): string | undefined {
  const blocked = steps.find((step) => !mayPass(step, user));
  if (!blocked) return undefined;
  const verb = blocked.directory ? 'enter the folder' : 'execute';
  return [
    `nucleus lite runs the component as ${user.name}:${user.group} (uid ${user.uid}), who cannot ${verb} ${blocked.path}`,
    ` (${describeMode(blocked)}, owner ${blocked.owner}:${blocked.ownerGroup})`,
    blocked.path === target.path ? `, ${target.what}` : ` on the way to ${target.path}, ${target.what}`,
    `. Fix: chmod ${permissionClass(blocked, user)}+x ${blocked.path}, or ${target.otherwise}`,
  ].join('');
}

/** The gids of the groups `group(5)` lines list `user` as a member of. */
export function memberGroups(groupDatabase: string, user: string): number[] {
  const gids: number[] = [];
  for (const line of groupDatabase.split('\n')) {
    const [, , gid, members = ''] = line.split(':');
    if (gid !== undefined && members.split(',').includes(user)) gids.push(Number(gid));
  }
  return gids;
}

// The IO: getent for the user and the names of owners, lstat for the steps.

function getent(database: 'passwd' | 'group', key?: string): string | undefined {
  const result = spawnSync(TOOLS.getent, key === undefined ? [database] : [database, key], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : undefined;
}

/** `nobody:nogroup` as the unit runs it: the user's uid, the named group and every group that lists the user. */
function componentUser(posixUser: string): ComponentUser {
  const [name = '', group = name] = posixUser.split(':');
  const uid = getent('passwd', name)?.split(':')[2];
  if (uid === undefined) throw new Error(`no user ${name} on this system (nucleus lite's posixUser is ${posixUser})`);
  const gid = getent('group', group)?.split(':')[2];
  if (gid === undefined) throw new Error(`no group ${group} on this system (nucleus lite's posixUser is ${posixUser})`);
  return { name, group, uid: Number(uid), gids: [Number(gid), ...memberGroups(getent('group') ?? '', name)] };
}

function nameOf(database: 'passwd' | 'group', id: number): string {
  return getent(database, String(id))?.split(':')[0] ?? String(id);
}

/**
 * The steps to `target` that exist now (the rest the harness creates as root, mode 0755), in the kernel's order: the
 * path as written, then the folders its symbolic links lead to. A link itself needs no permission and is left out.
 */
function existingSteps(target: string): PathStep[] {
  const steps: PathStep[] = [];
  const seen = new Set<string>();
  let deepest = path.parse(target).root;
  const add = (prefix: string): boolean => {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(prefix);
    } catch {
      return false;
    }
    if (!stat.isSymbolicLink() && !seen.has(prefix)) {
      seen.add(prefix);
      steps.push({
        path: prefix,
        directory: stat.isDirectory(),
        mode: stat.mode,
        uid: stat.uid,
        gid: stat.gid,
        owner: nameOf('passwd', stat.uid),
        ownerGroup: nameOf('group', stat.gid),
      });
    }
    return true;
  };
  for (const prefix of pathPrefixes(path.resolve(target))) {
    if (!add(prefix)) break;
    deepest = prefix;
  }
  for (const prefix of pathPrefixes(fs.realpathSync(deepest))) add(prefix);
  return steps;
}

/** The first target the component's user cannot reach, said plainly; undefined when it reaches them all. */
export function componentAccessProblem(targets: readonly AccessTarget[], posixUser: string): string | undefined {
  const user = componentUser(posixUser);
  for (const target of targets) {
    const problem = accessProblem(target, existingSteps(target.path), user);
    if (problem) return problem;
  }
  return undefined;
}
