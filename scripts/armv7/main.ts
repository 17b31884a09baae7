/**
 * Runs the built bundle on 32-bit ARM (armv7/armhf) under qemu-user against the local core, the way the recipe's
 * any-architecture manifest ships it: the bundle alone, so the agent must pick the portable IPC client by itself.
 * Development only, not part of CI (emulation is slow: Node takes several seconds to start).
 *
 * Needs `qemu-arm` (Debian: qemu-user) and an armhf Node.js unpacked into .local-core/armv7/sysroot. `--setup` fetches
 * Debian 13's armhf nodejs (Node.js 20, as the recipe's Install check requires; Debian 12's is 18) and its libraries
 * with `apt-get download`, through an apt root of its own under .local-core/armv7/apt (its own sources, lists and
 * cache: the host's apt configuration and packages are left alone), and unpacks them there without installing
 * anything. The bundle is started with the node flags of the recipe's Run script.
 *
 *   npx tsx scripts/armv7/main.ts [--setup] [--reports N] [--low-memory auto|true|false]
 *
 * --low-memory (default auto, as the recipe's): the setting handed over as the Run step's Setenv does, with the node
 * flag the Run script adds for it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { accessControlFor } from '../../src/component/definition';
import { recipeDefaultConfiguration } from '../../src/config/definition';
import { type LowMemorySetting, lowMemorySetting } from '../../src/config/values';
import { LocalCore } from '../../tools/local-core/core';
import { buildComponent } from '../build/build';
import { BUNDLE_FILE, runStepOf } from '../build/recipe';
import { nodeFlagsFor, runStepEnv } from '../build/run-step';
import { describeError } from '../../src/util/describe-error';

const WORK_DIR = resolve('.local-core', 'armv7');
const SYSROOT = join(WORK_DIR, 'sysroot');
const GUEST_NODE = join(SYSROOT, 'usr', 'bin', 'node');
const DEBIAN_SUITE = 'trixie';
/**
 * nodejs:armhf, its libraries, and the arch-independent modules Debian's Node loads from /usr/share/nodejs: the
 * closure of `apt-cache depends --recurse nodejs` without recommends (node-corepack and gcc-14-base left out).
 */
const DEBIAN_PACKAGES = [
  'nodejs',
  'libnode115',
  'libbrotli1',
  'libc6',
  'libcares2',
  'libgcc-s1',
  'libicu76',
  'libnghttp2-14',
  'libssl3t64',
  'libstdc++6',
  'libuv1t64',
  'libzstd1',
  'zlib1g',
  'openssl-provider-legacy',
  'node-acorn',
  'node-cjs-module-lexer',
  'node-undici',
  'node-xtend',
  'node-balanced-match',
  'node-brace-expansion',
  'node-minimatch',
];
/** System tools this script needs (Debian: qemu-user, apt, dpkg); not npm packages. */
const TOOLS = { qemu: 'qemu-arm', aptGet: 'apt-get', dpkg: 'dpkg' } as const;
const THING = 'Armv7Thing';
const INTERVAL_SECONDS = 5;
/** Emulated start-up takes 5-15 s; a report every 5 s after that. */
const GRACE_SECONDS = 180;

function setUpSysroot(): void {
  const apt = join(WORK_DIR, 'apt');
  const debs = join(WORK_DIR, 'debs');
  for (const dir of [join(apt, 'lists', 'partial'), join(apt, 'cache', 'archives', 'partial'), debs]) mkdirSync(dir, { recursive: true });
  const sources = join(apt, 'sources.list');
  writeFileSync(
    sources,
    `deb [arch=armhf signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${DEBIAN_SUITE} main\n`,
  );
  const options = [
    `Dir::Etc::SourceList=${sources}`,
    'Dir::Etc::SourceParts=/dev/null',
    `Dir::State::Lists=${join(apt, 'lists')}`,
    `Dir::Cache=${join(apt, 'cache')}`,
    'Dir::State::Status=/dev/null',
    'APT::Architecture=armhf',
    'APT::Architectures::=armhf',
  ].flatMap((option) => ['-o', option]);
  for (const [args, cwd] of [
    [['update'], apt],
    [['download', ...DEBIAN_PACKAGES], debs],
  ] as const) {
    const step = spawnSync(TOOLS.aptGet, [...options, ...args], { cwd, stdio: 'inherit' });
    if (step.status !== 0) throw new Error(`apt-get ${args[0]} (${DEBIAN_SUITE}, armhf) failed`);
  }
  rmSync(SYSROOT, { recursive: true, force: true });
  for (const deb of readdirSync(debs).filter((file) => file.endsWith('.deb'))) {
    const unpack = spawnSync(TOOLS.dpkg, ['-x', join(debs, deb), SYSROOT], { stdio: 'inherit' });
    if (unpack.status !== 0) throw new Error(`dpkg -x ${deb} failed`);
  }
  // Debian 13 has a merged /usr: /lib is a link that the base system makes, which no package here ships.
  symlinkSync('usr/lib', join(SYSROOT, 'lib'));
}

/** qemu-arm running the guest's node with the guest's libraries. */
function qemuArgs(): string[] {
  const libraries = [join(SYSROOT, 'lib', 'arm-linux-gnueabihf'), join(SYSROOT, 'usr', 'lib', 'arm-linux-gnueabihf')].join(':');
  return ['-L', SYSROOT, '-E', `LD_LIBRARY_PATH=${libraries}`, GUEST_NODE];
}

function guestNode(args: string[], cwd: string, env: Record<string, string>): ChildProcess {
  return spawn(TOOLS.qemu, [...qemuArgs(), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const say = (tag: string, message: string): void =>
  console.log(`${new Date().toISOString().slice(11, 19)} ${`[${tag}]`.padEnd(8)} ${message}`);

async function run(reports: number, lowMemory: LowMemorySetting): Promise<number> {
  if (spawnSync(TOOLS.qemu, ['--version']).status !== 0) throw new Error('qemu-arm not found (Debian: apt-get install qemu-user)');
  if (!existsSync(GUEST_NODE)) throw new Error(`no armhf node at ${GUEST_NODE}; run with --setup`);

  const root = mkdtempSync(join(tmpdir(), 'armv7-'));
  const core = new LocalCore({
    socketPath: join(root, 'ipc.sock'),
    thingName: THING,
    interpolateComponentConfiguration: true,
    defenderMinIntervalSeconds: INTERVAL_SECONDS - 1,
  });
  let agent: ChildProcess | undefined;
  try {
    const built = await buildComponent({ outputRoot: join(WORK_DIR, 'component') });
    const download = built.downloads.at(-1);
    if (download?.files.length !== 1 || download.files[0] !== BUNDLE_FILE) {
      throw new Error('the recipe has no last manifest with the bundle alone');
    }
    say('build', `manifest "${download.manifest}": ${download.files.join(', ')}, ${(download.zippedBytes / 1024).toFixed(1)} KiB zipped`);
    const runDir = join(root, 'work');
    mkdirSync(runDir);
    copyFileSync(join(built.local.componentArtifactsDir, BUNDLE_FILE), join(runDir, BUNDLE_FILE));

    await core.start();
    const name = built.identity.name;
    const { svcuid } = core.registerComponent({
      name,
      version: built.identity.version,
      configuration: {
        ...recipeDefaultConfiguration(),
        intervalSeconds: String(INTERVAL_SECONDS),
        allowFastIntervalForDevelopment: 'true',
        accessControl: accessControlFor(name, '{iot:thingName}'),
      },
    });
    let count = 0;
    let rejected = 0;
    let finished: (code: number) => void = () => undefined;
    const outcome = new Promise<number>((resolvePromise) => (finished = resolvePromise));
    core.on('connect', ({ component }) => say('core', `${component} connected`));
    core.on('defender-report', (report) => {
      count += 1;
      if (report.status !== 'ACCEPTED') rejected += 1;
      say('report', `#${count} ${report.bytes} B ${report.format} -> ${report.status}`);
      if (count >= reports) finished(rejected === 0 ? 0 : 1);
    });

    const version = spawnSync(TOOLS.qemu, [...qemuArgs(), '-p', 'process.arch + " " + process.version'], { encoding: 'utf8' });
    say('guest', `node ${version.stdout.trim()} under qemu-arm`);
    const guestMajor = Number(/v(\d+)/.exec(version.stdout)?.[1]);
    if (lowMemory !== 'false' && !(guestMajor >= 20)) {
      say(
        'guest',
        `lowMemory ${lowMemory} needs Node.js >= 20 (--max-opt, and the recipe's minimum); this guest has ${version.stdout.trim()}`,
      );
      return 1;
    }
    // As the recipe's Setenv leaves it when ipcClient is the default: auto.
    // The default procfsRoot: qemu-user runs the guest on this kernel, whose socket tables auto counts.
    const nodeFlags = nodeFlagsFor(runStepOf(built.recipe), lowMemory, '/proc');
    say('guest', `node ${nodeFlags.join(' ')} ${BUNDLE_FILE}`);
    agent = guestNode([...nodeFlags, BUNDLE_FILE], runDir, {
      DEFENDER_AGENT_IPC_CLIENT: 'auto',
      ...runStepEnv(lowMemory, '/proc'),
      SVCUID: svcuid,
      AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: core.socketPath,
      AWS_IOT_THING_NAME: THING,
    });
    for (const stream of [agent.stdout, agent.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => say('agent', line));
    }
    agent.once('exit', (code, signal) => {
      say('agent', `exited (${code ?? signal})`);
      finished(1);
    });
    const deadline = setTimeout(
      () => {
        say('core', `gave up: ${count} of ${reports} reports after ${GRACE_SECONDS + reports * INTERVAL_SECONDS} s`);
        finished(1);
      },
      (GRACE_SECONDS + reports * INTERVAL_SECONDS) * 1000,
    );
    const code = await outcome;
    clearTimeout(deadline);
    return code;
  } finally {
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((resolvePromise) => agent?.once('exit', resolvePromise));
      agent.kill('SIGTERM');
      await exited;
    }
    await core.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      setup: { type: 'boolean', default: false },
      reports: { type: 'string', default: '2' },
      'low-memory': { type: 'string', default: 'auto' },
    },
  });
  if (values.setup) setUpSysroot();
  process.exit(await run(Number(values.reports), lowMemorySetting(values['low-memory'])));
}

main().catch((error: unknown) => {
  console.error(`armv7: ${describeError(error)}`);
  process.exit(1);
});
