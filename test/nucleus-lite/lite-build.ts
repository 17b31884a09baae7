/**
 * Nucleus lite built from its pinned sources, once: the Debian packages it needs, then cmake and make offline from
 * the four `git archive` tarballs (nucleus lite and its three FetchContent dependencies), into
 * `.nucleus-lite/<key>/bin` of the checkout (git-ignored), where `<key>` hashes the tarballs. A rerun with the same
 * sources reuses the binaries.
 *
 * Sources: `NUCLEUS_LITE_SOURCES` (a folder with the tarballs), else `shared/vendor/greengrass-nucleus-lite` beside
 * the checkout or one of its parents, else the same commits from GitHub (codeload archives).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** github.com repositories and commits (the commits `../shared/vendor/greengrass-nucleus-lite/SOURCES.md` names). */
const LITE_SOURCES = [
  {
    tarball: 'aws-greengrass-lite-326e992b.tar.gz',
    repo: 'aws-greengrass/aws-greengrass-lite',
    commit: '326e992b4a03e1b41b0c49f97663fc0c69182cf9',
    dir: 'aws-greengrass-lite',
  },
  { tarball: 'core_mqtt-bda794aa.tar.gz', repo: 'FreeRTOS/coreMQTT', commit: 'bda794aa54785aa96224f19e37d2e19e66bcd7ab', dir: 'core_mqtt' },
  {
    tarball: 'aws_sigv4-892bcbb2.tar.gz',
    repo: 'aws/SigV4-for-AWS-IoT-embedded-sdk',
    commit: '892bcbb2d4b95daf2b7306ba3210e74b25bfae16',
    dir: 'aws_sigv4',
  },
  {
    tarball: 'gg_sdk-4ead4862.tar.gz',
    repo: 'aws-greengrass/aws-greengrass-component-sdk',
    commit: '4ead4862fefcf96047700d1a7819b0dfa65209e4',
    dir: 'gg_sdk',
  },
] as const;

/** The version nucleus lite's `version` file states at that commit. */
export const LITE_VERSION = '2.6.0';

/** Build dependencies (nucleus lite's docs/BUILD.md), the broker standing in for AWS IoT Core, and openssl for its certificates. */
const DEBIAN_PACKAGES = [
  'build-essential',
  'pkg-config',
  'cmake',
  'libssl-dev',
  'libcurl4-openssl-dev',
  'uuid-dev',
  'libzip-dev',
  'libsqlite3-dev',
  'libyaml-dev',
  'libsystemd-dev',
  'libevent-dev',
  'liburiparser-dev',
  'mosquitto',
  'openssl',
  'util-linux',
  'iproute2',
];

/** The daemons and tools the test runs. */
const LITE_BINARIES = ['ggconfigd', 'iotcored', 'ggpubsubd', 'ggipcd', 'ggdeploymentd', 'recipe-runner', 'ggl-cli'] as const;

/** Debian's commands the test runs (installed by DEBIAN_PACKAGES or part of every Debian system). */
export const TOOLS = {
  aptGet: 'apt-get',
  dpkgQuery: 'dpkg-query',
  mosquitto: 'mosquitto',
  openssl: 'openssl',
  getent: 'getent',
  unshare: 'unshare',
  setpriv: 'setpriv',
  flock: 'flock',
} as const;

/**
 * cmake options, part of the cache key. GGL_RELEASE: the version without a git hash (the sources sit inside this
 * repository's checkout, whose commit lite would otherwise append to its version).
 */
const BUILD_OPTIONS = ['CMAKE_BUILD_TYPE=MinSizeRel', 'FETCHCONTENT_FULLY_DISCONNECTED=ON', 'GGL_RELEASE=ON'];

export type Log = (line: string) => void;

function run(command: string, args: string[], options: { cwd?: string; logFile?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const out = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';
  try {
    const result = spawnSync(command, args, { cwd: options.cwd, stdio: ['ignore', out, out], env: options.env ?? process.env });
    if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
    if (result.status !== 0) {
      throw new Error(
        `${command} ${args.join(' ')} exited with ${result.status ?? result.signal}${options.logFile ? ` (see ${options.logFile})` : ''}`,
      );
    }
  } finally {
    if (typeof out === 'number') fs.closeSync(out);
  }
}

function installed(pkg: string): boolean {
  const result = spawnSync(TOOLS.dpkgQuery, ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('install ok installed');
}

/** Installs the Debian packages that are missing (needs root, as CI has). */
function ensureDebianPackages(log: Log, logFile: string): void {
  const missing = DEBIAN_PACKAGES.filter((pkg) => !installed(pkg));
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run(TOOLS.aptGet, ['update'], { logFile, env });
  run(TOOLS.aptGet, ['install', '-y', '--no-install-recommends', ...missing], { logFile, env });
}

function vendoredSources(repoRoot: string): string | undefined {
  const fromEnv = process.env.NUCLEUS_LITE_SOURCES;
  if (fromEnv) return path.resolve(fromEnv);
  for (let dir = path.dirname(repoRoot); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'vendor', 'greengrass-nucleus-lite');
    if (LITE_SOURCES.every((s) => fs.existsSync(path.join(candidate, s.tarball)))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** GitHub's archive of a commit unpacks into `<name>-<commit>/`; `git archive` tarballs into `<name>/`. */
function downloadSources(target: string, log: Log, logFile: string): void {
  fs.mkdirSync(target, { recursive: true });
  for (const source of LITE_SOURCES) {
    const url = `https://codeload.github.com/${source.repo}/tar.gz/${source.commit}`;
    log(`no vendored nucleus lite sources; downloading ${url}`);
    run('curl', ['-fsSL', '--retry', '3', '-o', path.join(target, source.tarball), url], { logFile });
  }
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export interface LiteBuild {
  binDir: string;
  key: string;
  cached: boolean;
}

/** The lite binaries, built now or taken from the cache. Throws with the log file to read when a step fails. */
export function buildNucleusLite(repoRoot: string, log: Log): LiteBuild {
  const cacheRoot = path.join(repoRoot, '.nucleus-lite');
  fs.mkdirSync(cacheRoot, { recursive: true });
  const logFile = path.join(cacheRoot, 'build.log');
  ensureDebianPackages(log, logFile);

  let sourceDir = vendoredSources(repoRoot);
  if (!sourceDir) {
    sourceDir = path.join(cacheRoot, 'downloads');
    if (!LITE_SOURCES.every((s) => fs.existsSync(path.join(sourceDir!, s.tarball)))) downloadSources(sourceDir, log, logFile);
  }
  const keyHash = createHash('sha256');
  for (const source of LITE_SOURCES) keyHash.update(`${source.tarball} ${sha256File(path.join(sourceDir, source.tarball))}\n`);
  keyHash.update(BUILD_OPTIONS.join(' '));
  const key = keyHash.digest('hex').slice(0, 16);
  const binDir = path.join(cacheRoot, key, 'bin');
  const complete = path.join(cacheRoot, key, 'complete');
  if (fs.existsSync(complete) && LITE_BINARIES.every((b) => fs.existsSync(path.join(binDir, b)))) return { binDir, key, cached: true };

  log(`building nucleus lite ${LITE_VERSION} (${key}) from ${sourceDir}; log: ${logFile}`);
  const work = path.join(cacheRoot, `${key}.partial`);
  fs.rmSync(work, { recursive: true, force: true });
  const src = path.join(work, 'src');
  fs.mkdirSync(path.join(src, 'unity'), { recursive: true });
  for (const source of LITE_SOURCES) {
    const into = path.join(src, source.dir);
    fs.mkdirSync(into, { recursive: true });
    // Both archive layouts have one top folder: git archive's `<dir>/`, GitHub's `<repo>-<commit>/`.
    run('tar', ['-xzf', path.join(sourceDir, source.tarball), '-C', into, '--strip-components=1'], { logFile });
  }
  const build = path.join(work, 'build');
  const dep = (name: string, dir: string) => ['-D', `FETCHCONTENT_SOURCE_DIR_${name}=${path.join(src, dir)}`];
  run(
    'cmake',
    [
      '-S',
      path.join(src, 'aws-greengrass-lite'),
      '-B',
      build,
      ...BUILD_OPTIONS.flatMap((option) => ['-D', option]),
      ...dep('CORE_MQTT', 'core_mqtt'),
      ...dep('AWS_SIGV4', 'aws_sigv4'),
      ...dep('GG_SDK', 'gg_sdk'),
      ...dep('UNITY', 'unity'),
    ],
    { logFile },
  );
  run('make', ['-C', build, '-j2'], { logFile });
  fs.rmSync(path.join(cacheRoot, key), { recursive: true, force: true });
  fs.mkdirSync(path.join(cacheRoot, key), { recursive: true });
  fs.cpSync(path.join(build, 'bin'), binDir, { recursive: true });
  fs.rmSync(work, { recursive: true, force: true });
  fs.writeFileSync(complete, `${new Date().toISOString()}\n`);
  return { binDir, key, cached: false };
}
