/**
 * koffi's addon for a platform other than the build machine's (the Windows manifest ships koffi-win32-x64.node). npm
 * installs only the build machine's `@koromix/koffi-<platform>-<arch>` package, so the other one is fetched once with
 * `npm pack` at the version and integrity package-lock.json pins, checked against that integrity, and kept in
 * node_modules/.cache (a fresh `npm ci` fetches it again).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  integrity?: string;
}

function lockEntry(projectRoot: string, packageName: string): LockEntry {
  const lock = JSON.parse(readFileSync(join(projectRoot, 'package-lock.json'), 'utf8')) as { packages?: Record<string, LockEntry> };
  const entry = lock.packages?.[`node_modules/${packageName}`];
  const koffi = lock.packages?.['node_modules/koffi'];
  if (!entry?.version || !entry.integrity || !koffi?.version)
    throw new Error(
      `package-lock.json has no ${packageName} beside koffi: add koffi to dependencies (npm install koffi), then build again`,
    );
  if (entry.version !== koffi.version)
    throw new Error(`package-lock.json pins ${packageName} ${entry.version} but koffi ${koffi.version}: run npm install`);
  return entry;
}

/** `@koromix/koffi-win32-x64` keeps its addon in `win32_x64/koffi.node`. */
function addonPathInPackage(packageName: string): string {
  const suffix = /^@koromix\/koffi-(.+)$/.exec(packageName)?.[1];
  if (!suffix) throw new Error(`${packageName} is not one of koffi's addon packages`);
  return join(suffix.replace(/-/g, '_'), 'koffi.node');
}

function npm(args: string[], cwd: string): string {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(
      `npm ${args.join(' ')} failed (the build fetches koffi's addon for another platform from the npm registry): ${result.stderr}`,
    );
  return result.stdout;
}

/** The path of the package's koffi.node at the locked version: installed, cached, or fetched now. */
export function koffiAddonSource(projectRoot: string, packageName: string): string {
  const entry = lockEntry(projectRoot, packageName);
  const inPackage = addonPathInPackage(packageName);
  const installed = join(projectRoot, 'node_modules', packageName, inPackage);
  if (existsSync(installed)) return installed;
  const cacheDir = join(projectRoot, 'node_modules', '.cache', 'defender-agent-build');
  const cached = join(cacheDir, `${packageName.replace('/', '+')}-${entry.version}-koffi.node`);
  if (existsSync(cached)) return cached;

  const work = mkdtempSync(join(tmpdir(), 'koffi-addon-'));
  try {
    npm(['pack', `${packageName}@${entry.version}`, '--silent', '--pack-destination', work], work);
    const tarball = readdirSync(work).find((file) => file.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${packageName}@${entry.version} wrote no tarball`);
    const [algorithm, expected] = entry.integrity!.split('-', 2) as [string, string];
    const actual = createHash(algorithm)
      .update(readFileSync(join(work, tarball)))
      .digest('base64');
    if (actual !== expected)
      throw new Error(
        `${packageName}@${entry.version} from the registry does not match package-lock.json's integrity (${entry.integrity})`,
      );
    const untar = spawnSync('tar', ['-xzf', join(work, tarball), '-C', work, `package/${inPackage}`], { encoding: 'utf8' });
    if (untar.status !== 0) throw new Error(`cannot unpack ${inPackage} from ${tarball}: ${untar.stderr}`);
    mkdirSync(cacheDir, { recursive: true });
    // Copied beside the cache file, then renamed: a build interrupted here leaves no half-written addon to ship.
    copyFileSync(join(work, 'package', inPackage), `${cached}.partial`);
    renameSync(`${cached}.partial`, cached);
    return cached;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
