/**
 * `npm run test:windows`: the built Windows artifact under Wine (issue 23 item 4). Needs root (apt-get, namespaces).
 *
 * The outer run installs Wine, node.exe and koffi's addon (wine-env.ts), runs `npm run build`, lays the Windows
 * manifest's artifacts out as the nucleus does, then re-runs this file with `--inner` in a private network and mount
 * namespace (a private /tmp/.wine-0, so the wineserver is a new one inside the namespace: Wine's IP Helper reads the
 * sockets and counters of the namespace its server runs in). The inner run opens listeners, UDP sockets and 1,200
 * established connections (IPv4 and IPv6), runs `node.exe defender-agent-windows.js --collect-once --sample` under Wine with
 * its output in files (node.exe fails with EBADF on a Unix pipe) and compares every block with `ss` and
 * /proc/net/dev. Then, in the same namespace with those sockets closed, the agent end to end once per IPC client
 * (end-to-end.ts): the stand-in core under Wine serving a named pipe, the agent started from the Windows manifest's Run
 * step, two reports ACCEPTED. `--setup` only installs the environment and prints where it is. Last line
 * `N passed, N failed`.
 */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { parse } from 'yaml';
import { describeError } from '../../src/util/describe-error';
import { WINDOWS_BUNDLE_FILE } from '../../scripts/build/recipe';
import { type CheckResult, Checks } from '../nucleus-lite/checks';
import { compareCounters, compareEstablished, compareListeningTcp, compareListeningUdp, type SampleDocument } from './compare';
import { type EndToEndInput, endToEndChecks, type IpcClientName, windowsPath } from './end-to-end';
import { ensureWineEnvironment, TOOLS, type WineEnvironment, wineEnv } from './wine-env';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const print = (line: string) => console.log(`[windows] ${line}`);
const CONNECTIONS_PER_FAMILY = 600;
const LISTENERS_PER_FAMILY = 8;
const UDP_PER_FAMILY = 4;
/** The portable client is what the Windows manifest runs; the SDK's (aws-crt's win32-x64 addon) is tried beside it. */
const END_TO_END_CLIENTS: readonly IpcClientName[] = ['portable', 'sdk'];

interface InnerInput {
  env: WineEnvironment;
  artifactsPath: string;
  resultsFile: string;
  workDir: string;
  endToEnd: EndToEndInput;
}

const NAMESPACE_SETUP = ['set -e', 'mount -t tmpfs -o mode=700 tmpfs /tmp/.wine-0', 'ip link set lo up', 'exec "$@"'].join('\n');

/** node.exe under Wine with the given arguments; stdout and stderr go to files. */
function runWine(env: WineEnvironment, args: string[], outFile: string, errFile: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const out = fs.openSync(outFile, 'w');
  const err = fs.openSync(errFile, 'w');
  try {
    return spawnSync(TOOLS.wine, args, { stdio: ['ignore', out, err], env: { ...wineEnv(env.prefix), ...extraEnv }, timeout: 120_000 });
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

async function openSockets(): Promise<() => void> {
  const closers: Array<() => void> = [];
  const servers: net.Server[] = [];
  for (const host of ['127.0.0.1', '::1']) {
    for (let i = 0; i < LISTENERS_PER_FAMILY; i += 1) {
      const server = net.createServer((socket) => closers.push(() => socket.destroy()));
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      servers.push(server);
      closers.push(() => server.close());
    }
    for (let i = 0; i < UDP_PER_FAMILY; i += 1) {
      const socket = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
      await new Promise<void>((resolve) => socket.bind(0, host, resolve));
      closers.push(() => socket.close());
    }
  }
  const connects: Array<Promise<void>> = [];
  for (const [index, server] of servers.entries()) {
    const address = server.address() as net.AddressInfo;
    const perServer = Math.ceil(CONNECTIONS_PER_FAMILY / LISTENERS_PER_FAMILY);
    const family = index < LISTENERS_PER_FAMILY ? 4 : 6;
    for (let i = 0; i < perServer; i += 1) {
      connects.push(
        new Promise<void>((resolve, reject) => {
          const socket = net.connect({ port: address.port, host: address.address, family }, () => resolve());
          socket.once('error', reject);
          closers.push(() => socket.destroy());
        }),
      );
    }
  }
  await Promise.all(connects);
  // Loopback traffic beyond the handshakes, so the counters are not only a handful of packets.
  const sender = dgram.createSocket('udp4');
  for (let i = 0; i < 20; i += 1) await new Promise<void>((resolve) => sender.send(Buffer.alloc(100 + i), 9, '127.0.0.1', () => resolve()));
  sender.close();
  await new Promise((resolve) => setTimeout(resolve, 500));
  return () => {
    for (const close of closers.reverse()) close();
  };
}

function ss(args: string[]): string {
  const result = spawnSync(TOOLS.ss, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ss ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function inner(): Promise<void> {
  const input = JSON.parse(fs.readFileSync(process.env.WINDOWS_TEST_INPUT!, 'utf8')) as InnerInput;
  const checks = new Checks(print);
  const figures: string[] = [];
  let closeSockets: (() => void) | undefined;
  try {
    closeSockets = await openSockets();
    const before = { tcpListen: ss(['-Htln']), udp: ss(['-Huan']), established: ss(['-Htn', 'state', 'established']) };
    const procBefore = fs.readFileSync('/proc/net/dev', 'utf8');
    const outFile = path.join(input.workDir, 'collect.out');
    const errFile = path.join(input.workDir, 'collect.err');
    const started = Date.now();
    const run = runWine(
      input.env,
      [
        input.env.nodeExe,
        windowsPath(path.join(input.artifactsPath, WINDOWS_BUNDLE_FILE)),
        '--collect-once',
        '--sample',
        '--include-loopback',
      ],
      outFile,
      errFile,
    );
    figures.push(`one-shot collection under Wine: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const procAfter = fs.readFileSync('/proc/net/dev', 'utf8');
    const stdout = fs.readFileSync(outFile, 'utf8');
    const stderr = fs.readFileSync(errFile, 'utf8');
    let sample: SampleDocument | undefined;
    await checks.run('the built Windows bundle runs its one-shot collection under Wine (node.exe, koffi.node beside it)', async () => {
      if (run.status !== 0) throw new Error(`exit ${run.status ?? run.signal}: ${stderr.slice(-2000)}`);
      sample = JSON.parse(stdout) as SampleDocument;
      const problems = (sample as unknown as { problems: unknown[] }).problems;
      if (problems.length > 0) throw new Error(`the sample names problems: ${JSON.stringify(problems)}`);
      return undefined;
    });
    if (!sample) {
      for (const name of ['listening TCP ports', 'UDP ports', 'established connections', 'interface counters'])
        checks.notReached(`${name} equal ss and /proc/net/dev`, 'the collection did not run');
    } else {
      const doc = sample;
      await checks.run('listening TCP ports equal ss -Htln (IPv4 and IPv6)', async () => {
        const r = compareListeningTcp(before.tcpListen, doc);
        if (r.problems.length > 0) throw new Error(r.problems.join('; '));
        return `${r.count} ports`;
      });
      await checks.run('UDP ports equal ss -Huan (IPv4 and IPv6)', async () => {
        const r = compareListeningUdp(before.udp, doc);
        if (r.problems.length > 0) throw new Error(r.problems.join('; '));
        return `${r.count} ports`;
      });
      await checks.run('established connections equal ss -Htn state established, total and every entry', async () => {
        const r = compareEstablished(before.established, doc);
        if (r.count < 1_000 || r.ipv6 === 0)
          throw new Error(`the fixture has ${r.count} connections (${r.ipv6} IPv6), not >= 1,000 with IPv6`);
        if (r.problems.length > 0) throw new Error(r.problems.join('; '));
        return `${r.count} established sockets (both ends of ${r.count / 2} connections), ${r.ipv6} over IPv6`;
      });
      await checks.run('every interface counter equals /proc/net/dev exactly', async () => {
        if (procBefore !== procAfter) throw new Error('the counters moved while the Windows build read them; the namespace was not quiet');
        const r = compareCounters(procBefore, doc);
        if (r.problems.length > 0) throw new Error(r.problems.join('; '));
        return `${r.interfaces.join(', ')}`;
      });
    }
    // The end to end needs none of the fixture's sockets: closed first, so its samples are small and quick.
    closeSockets();
    closeSockets = undefined;
    for (const client of END_TO_END_CLIENTS) {
      const figure = await endToEndChecks(client, input.env, input.endToEnd, input.workDir, checks);
      if (figure) figures.push(figure);
    }
  } catch (error) {
    checks.record({ name: 'the run in the namespace completes', passed: false, detail: describeError(error), seconds: 0 });
  } finally {
    closeSockets?.();
    spawnSync(TOOLS.wineserver, ['-k'], { env: wineEnv(input.env.prefix), stdio: 'ignore', timeout: 15_000 });
  }
  fs.writeFileSync(input.resultsFile, JSON.stringify({ results: checks.results, figures }));
  process.exit(0);
}

/** Processes of this test's Wine prefix still running (wineserver, node.exe), by their environment. */
async function winePrefixProcesses(prefix: string): Promise<number[]> {
  // wineserver -k has been sent: give the processes a moment to end before counting them as left behind.
  for (let waited = 0; waited < 5_000 && scanPrefix(prefix).length > 0; waited += 250) await new Promise((r) => setTimeout(r, 250));
  return scanPrefix(prefix);
}

function scanPrefix(prefix: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`WINEPREFIX=${prefix}`)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** The Windows manifest's Install step, run by Wine's cmd as the nucleus runs it (`cmd /C <script>`). */
async function installStepChecks(env: WineEnvironment, recipe: Record<string, unknown>, workDir: string, checks: Checks) {
  const manifests = recipe.Manifests as Array<{ Platform: { os: string }; Lifecycle: { install: { Script: string } } }>;
  const script = manifests.find((m) => m.Platform.os === 'windows')!.Lifecycle.install.Script;
  const outFile = path.join(workDir, 'install.out');
  const errFile = path.join(workDir, 'install.err');
  // Not checked here: the step passing with node on the PATH. node.exe started by Wine's cmd exits non-zero even for
  // `node -v` (it prints the version), so under Wine only the failing path can be told apart.
  await checks.run("the Windows Install step fails with the remedy under Wine's cmd without node on the PATH", async () => {
    const run = runWine(env, ['cmd', '/C', script], outFile, errFile);
    const err = fs.readFileSync(errFile, 'utf8');
    if (run.status === 0) throw new Error('it passed without node');
    if (!err.includes('Node.js 20 or newer is required on the PATH of the core components'))
      throw new Error(`exit ${run.status} without the remedy: ${err}`);
    return `exit ${run.status}`;
  });
  spawnSync(TOOLS.wineserver, ['-k'], { env: wineEnv(env.prefix), stdio: 'ignore', timeout: 15_000 });
}

/**
 * The stand-in core bundled into one file node.exe can run (it runs under Wine, not through tsx), and the files the
 * end to end lays out beside the build's.
 */
function endToEndInput(workDir: string, recipeFile: string, builtArtifacts: string): EndToEndInput {
  const coreBundle = path.join(workDir, 'wine-core.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'wine-core.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    outfile: coreBundle,
    logLevel: 'error',
  });
  // The aws-crt the SDK's bundle was built from (the build insists on one copy, node_modules/aws-crt).
  const crtWindowsAddon = path.join(REPO_ROOT, 'node_modules', 'aws-crt', 'dist', 'bin', 'win32-x64-cruntime', 'aws-crt-nodejs.node');
  if (!fs.existsSync(crtWindowsAddon)) throw new Error(`aws-crt's npm package has no Windows x64 addon at ${crtWindowsAddon}`);
  return { coreBundle, recipeFile, builtArtifacts, crtWindowsAddon };
}

async function outer(): Promise<void> {
  const started = Date.now();
  const checks = new Checks(print);
  const figures: string[] = [];
  let workDir: string | undefined;
  let env: WineEnvironment | undefined;
  let innerResults: { results: CheckResult[]; figures: string[] } | undefined;
  try {
    env = ensureWineEnvironment(REPO_ROOT, print);
    figures.push(
      `installed: ${env.installed.length > 0 ? env.installed.join(', ') : 'nothing (cached)'}; node.exe ${env.nodeVersion}, koffi ${env.koffiVersion}`,
    );
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'windows-test-'));
    const build = spawnSync('npm', ['run', '-s', 'build', '--', '--out', path.join(workDir, 'build')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
    const recipesDir = path.join(workDir, 'build', 'recipes');
    const recipeFile = fs.readdirSync(recipesDir).find((file) => file.endsWith('.yaml'))!;
    const recipe = parse(fs.readFileSync(path.join(recipesDir, recipeFile), 'utf8'), { version: '1.1' }) as Record<string, unknown>;
    const name = recipe.ComponentName as string;
    const version = recipe.ComponentVersion as string;
    const windows = (recipe.Manifests as Array<{ Platform: { os: string }; Artifacts: Array<{ URI: string }> }>).find(
      (m) => m.Platform.os === 'windows',
    );
    if (!windows) throw new Error('the rendered recipe has no Windows manifest');
    // {artifacts:path} as the nucleus lays it out: only the files the Windows manifest names.
    const artifactsPath = path.join(workDir, 'root', 'packages', 'artifacts', name, version);
    fs.mkdirSync(artifactsPath, { recursive: true });
    for (const artifact of windows.Artifacts) {
      const file = path.basename(artifact.URI);
      fs.copyFileSync(path.join(workDir, 'build', 'artifacts', name, version, file), path.join(artifactsPath, file));
    }
    await installStepChecks(env, recipe, workDir, checks);

    const input: InnerInput = {
      env,
      artifactsPath,
      resultsFile: path.join(workDir, 'results.json'),
      workDir,
      endToEnd: endToEndInput(workDir, path.join(recipesDir, recipeFile), path.join(workDir, 'build', 'artifacts', name, version)),
    };
    fs.writeFileSync(path.join(workDir, 'input.json'), JSON.stringify(input));
    fs.mkdirSync('/tmp/.wine-0', { recursive: true, mode: 0o700 });
    const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    const child = spawn(
      TOOLS.unshare,
      ['--mount', '--net', '--propagation', 'private', '--', '/bin/sh', '-c', NAMESPACE_SETUP, 'namespace', tsx, __filename, '--inner'],
      { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, WINDOWS_TEST_INPUT: path.join(workDir, 'input.json') } },
    );
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (exitCode) => resolve(exitCode));
      child.once('error', () => resolve(null));
    });
    if (!fs.existsSync(input.resultsFile)) throw new Error(`the run in the namespace ended (exit ${code}) without results`);
    innerResults = JSON.parse(fs.readFileSync(input.resultsFile, 'utf8')) as { results: CheckResult[]; figures: string[] };
  } catch (error) {
    checks.record({ name: 'set up Wine and the Windows build', passed: false, detail: describeError(error), seconds: 0 });
  } finally {
    const left = env ? await winePrefixProcesses(env.prefix) : [];
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    checks.record({
      name: 'nothing is left behind: Wine processes of the prefix, the work folder',
      passed: left.length === 0 && (!workDir || !fs.existsSync(workDir)),
      detail: left.length > 0 ? `killed ${left.join(', ')}` : '',
      seconds: 0,
    });
  }
  figures.push(...(innerResults?.figures ?? []));
  figures.push(`wall time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const line of figures) print(line);
  const all = [...checks.results.slice(0, -1), ...(innerResults?.results ?? []), ...checks.results.slice(-1)];
  const failed = all.filter((r) => !r.passed);
  for (const result of failed) print(`FAILED: ${result.name}`);
  console.log(`${all.length - failed.length} passed, ${failed.length} failed`);
  process.exit(failed.length > 0 ? 1 : 0);
}

if (process.argv.includes('--inner')) void inner();
else if (process.argv.includes('--setup')) {
  const env = ensureWineEnvironment(REPO_ROOT, print);
  console.log(JSON.stringify(env, null, 2));
} else void outer();
