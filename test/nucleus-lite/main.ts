/**
 * `npm run test:nucleus-lite`: the component against the real nucleus lite (issue 18 item 5). Needs root (apt-get,
 * namespaces, cgroups), as CI has.
 *
 * The outer run installs the Debian packages, builds nucleus lite (cached in `.nucleus-lite/`), runs `npm run build`,
 * then re-runs this file with `--inner` in a private network and mount namespace: loopback only (iotcored always dials
 * port 8883, so the broker needs a loopback of its own), a private /run (lite's core bus sockets under
 * /run/greengrass/) and a private /etc/systemd/system (ggdeploymentd's `systemctl link` writes there). The inner run
 * is scenario.ts. Afterwards the outer run checks that nothing is left behind. The last line is `N passed, N failed`;
 * the exit code is non-zero when a check failed. One run per machine at a time (host-lock.ts): a second one waits.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CheckResult, Checks } from './checks';
import { type AccessTarget, componentAccessProblem, POSIX_USER } from './component-access';
import { acquireHostLock, HOST_LOCK_FILE } from './host-lock';
import { buildNucleusLite, LITE_VERSION, TOOLS } from './lite-build';
import { UNIT_CGROUP_ROOT } from './lite-core';
import { RunState } from './run-state';
import { runScenario, type ScenarioOutput } from './scenario';
import { describeError } from '../../src/util/describe-error';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(REPO_ROOT, '.nucleus-lite');
const INNER_STATE = path.join(CACHE, 'run-state.json');
const OUTER_STATE = path.join(CACHE, 'run-state.outer.json');
const LAST_RUN_LOGS = path.join(CACHE, 'last-run-logs');
const print = (line: string) => console.log(`[nucleus-lite] ${line}`);

interface InnerResults {
  results: CheckResult[];
  output?: ScenarioOutput;
  error?: string;
}

/** In the new namespaces: private /run and /etc/systemd/system, loopback up, then the inner run. */
const NAMESPACE_SETUP = [
  'set -e',
  'mount -t tmpfs -o mode=755 tmpfs /run',
  'if [ -d /etc/systemd/system ]; then mount -t tmpfs -o mode=755 tmpfs /etc/systemd/system; fi',
  'ip link set lo up',
  'exec "$@"',
].join('\n');

async function inner(): Promise<void> {
  const runDir = process.env.NUCLEUS_LITE_RUN_DIR!;
  const binDir = process.env.NUCLEUS_LITE_BIN!;
  const checks = new Checks(print);
  const resultsFile = path.join(runDir, 'results.json');
  const write = (extra: Partial<InnerResults>) => fs.writeFileSync(resultsFile, JSON.stringify({ results: checks.results, ...extra }));
  let cleanup: (() => Promise<void>) | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    print(`${signal}: cleaning up`);
    void (async () => {
      await cleanup?.().catch(() => undefined);
      write({ error: `interrupted by ${signal}` });
      process.exit(1);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const output = await runScenario({
      repoRoot: REPO_ROOT,
      binDir,
      runDir,
      stateFile: INNER_STATE,
      print,
      checks,
      onCleanup: (fn) => {
        cleanup = fn;
      },
    });
    write({ output });
  } catch (error) {
    write({ error: describeError(error) });
  }
  if (!stopping) process.exit(0);
}

function hostLeftovers(componentName: string | undefined, runDir: string | undefined): string[] {
  const found: string[] = [];
  if (fs.existsSync(UNIT_CGROUP_ROOT)) {
    for (const entry of fs.readdirSync(UNIT_CGROUP_ROOT)) {
      if (componentName && entry.startsWith(`ggl.${componentName}.`)) found.push(path.join(UNIT_CGROUP_ROOT, entry));
    }
  }
  for (const dir of ['/etc/systemd/system', '/usr/lib/systemd/system']) {
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir))
      if (componentName && entry.startsWith(`ggl.${componentName}.`)) found.push(path.join(dir, entry));
  }
  if (runDir && fs.existsSync(runDir)) found.push(runDir);
  if (fs.existsSync(INNER_STATE)) found.push(INNER_STATE);
  return found;
}

/** The daemons', the broker's and the agent's logs of the last run, kept in the git-ignored cache for reading after it. */
function keepLogs(runDir: string | undefined): void {
  fs.rmSync(LAST_RUN_LOGS, { recursive: true, force: true });
  if (!runDir || !fs.existsSync(path.join(runDir, 'logs'))) return;
  fs.cpSync(path.join(runDir, 'logs'), LAST_RUN_LOGS, { recursive: true });
  const broker = path.join(runDir, 'mosquitto.log');
  if (fs.existsSync(broker)) fs.copyFileSync(broker, path.join(LAST_RUN_LOGS, 'mosquitto.log'));
  print(`logs of this run: ${path.relative(REPO_ROOT, LAST_RUN_LOGS)}/`);
}

function componentName(): string | undefined {
  const gdk = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'gdk-config.json'), 'utf8')) as { component: Record<string, unknown> };
  return Object.keys(gdk.component)[0];
}

const ACCESS_CHECK = `the component's user (${POSIX_USER}) can reach recipe-runner in the checkout and the run's folder`;

/** The access check failed (it is recorded): the run stops before the core starts. */
class AccessBlocked extends Error {}

/**
 * What the component's user reaches of what this run makes: recipe-runner, which every lifecycle phase executes as that
 * user, from the build in the checkout; and the run folder, which holds the core's root (the artifacts ggdeploymentd
 * copies there, the work folder, the IPC socket) and the /proc fixtures. The recipe and artifacts folders of the
 * checkout are not among them: ggdeploymentd, as root, copies them into the root (merge_dir_to). Before the build,
 * `built` is undefined and the cache folder and the temporary folder stand for them.
 */
function accessTargets(built: { binDir: string; runDir: string } | undefined): AccessTarget[] {
  const otherwise = 'clone the repository under a folder others can enter (mktemp -d makes its folder 0700)';
  const tmpOtherwise = 'set TMPDIR to a folder others can enter';
  const core = "the core's root with the component's artifacts, work folder and IPC socket";
  if (!built) {
    return [
      {
        path: CACHE,
        what: 'where nucleus lite is built: its recipe-runner runs every lifecycle phase of the component as that user',
        otherwise,
      },
      { path: os.tmpdir(), what: `where the run's folder is made, with ${core}`, otherwise: tmpOtherwise },
    ];
  }
  return [
    { path: path.join(built.binDir, 'recipe-runner'), what: 'which runs every lifecycle phase of the component as that user', otherwise },
    { path: built.runDir, what: `the run's folder, with ${core}`, otherwise: tmpOtherwise },
  ];
}

async function outer(): Promise<void> {
  const started = Date.now();
  // systemd starts services with UMask=0022 (systemd.exec(5)); the folders this run and lite's daemons (run by hand
  // here, inheriting it) create must be as open to the component's user as they would be there.
  process.umask(0o022);
  // Before anything of the host is touched (a killed run's leftovers included), and before the signal handlers: a
  // run that waits here ends on Ctrl-C.
  const releaseHostLock = await acquireHostLock(HOST_LOCK_FILE, `${REPO_ROOT} (pid ${process.pid})`, (holder) =>
    print(`waiting for the run of ${holder} to end: runs on one machine share the cgroup of the component's unit`),
  );
  const checks = new Checks(print);
  const figures: string[] = [];
  const outerState = new RunState(OUTER_STATE);
  let runDir: string | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const forward = (signal: NodeJS.Signals) => {
    interrupted = signal;
    if (child && child.exitCode === null) child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);

  for (const file of [INNER_STATE, OUTER_STATE]) {
    const undone = await RunState.leftOver(file)?.cleanUp();
    if (undone && undone.length > 0) print(`cleaned up after an earlier run that was killed: ${undone.join(', ')}`);
  }

  let innerResults: InnerResults | undefined;
  try {
    // Before the build (minutes): the folders that exist already, so that a checkout the component's user cannot
    // enter is named at once; after it, recipe-runner and the run folder themselves. One check either way.
    const reachable = componentAccessProblem(accessTargets(undefined), POSIX_USER);
    if (reachable !== undefined) {
      checks.record({ name: ACCESS_CHECK, passed: false, detail: reachable, seconds: 0 });
      throw new AccessBlocked();
    }
    const buildStarted = Date.now();
    const build = buildNucleusLite(REPO_ROOT, print);
    const buildSeconds = (Date.now() - buildStarted) / 1000;
    figures.push(
      `nucleus lite ${LITE_VERSION} (${build.key}): ${build.cached ? 'cached build' : 'built from source'}, ${buildSeconds.toFixed(0)} s`,
    );
    const npmBuild = spawnSync('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (npmBuild.status !== 0) throw new Error(`npm run build failed: ${npmBuild.stdout}${npmBuild.stderr}`);
    if (interrupted) throw new Error(`interrupted by ${interrupted}`);

    runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nucleus-lite-'));
    outerState.addPath(runDir);
    // The component runs as an unprivileged user that must reach its work folder and artifacts below this one.
    fs.chmodSync(runDir, 0o755);
    const blocked = componentAccessProblem(accessTargets({ binDir: build.binDir, runDir }), POSIX_USER);
    checks.record({ name: ACCESS_CHECK, passed: blocked === undefined, detail: blocked ?? '', seconds: 0 });
    if (blocked !== undefined) throw new AccessBlocked();
    const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    child = spawn(
      TOOLS.unshare,
      ['--mount', '--net', '--propagation', 'private', '--', '/bin/sh', '-c', NAMESPACE_SETUP, 'namespace', tsx, __filename, '--inner'],
      {
        cwd: REPO_ROOT,
        stdio: 'inherit',
        env: { ...process.env, NUCLEUS_LITE_RUN_DIR: runDir, NUCLEUS_LITE_BIN: build.binDir },
      },
    );
    if (child.pid) outerState.addProcess(child.pid, 'nucleus-lite inner run');
    const code = await new Promise<number | null>((resolve) => {
      child!.once('exit', (exitCode) => resolve(exitCode));
      child!.once('error', () => resolve(null));
    });
    const resultsFile = path.join(runDir, 'results.json');
    if (!fs.existsSync(resultsFile)) throw new Error(`the run in the namespaces ended (exit ${code}) without results`);
    innerResults = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as InnerResults;
    if (innerResults.error) checks.record({ name: 'the run completes', passed: false, detail: innerResults.error, seconds: 0 });
  } catch (error) {
    if (!(error instanceof AccessBlocked)) {
      checks.record({ name: 'set up nucleus lite and the component', passed: false, detail: describeError(error), seconds: 0 });
    }
  } finally {
    const undoneInner = (await RunState.leftOver(INNER_STATE)?.cleanUp()) ?? [];
    keepLogs(runDir);
    await outerState.cleanUp();
    const left = hostLeftovers(componentName(), runDir);
    checks.record({
      name: 'nothing is left behind: daemons, cgroup directories, unit links, sockets and files',
      passed: undoneInner.length === 0 && left.length === 0,
      detail: [
        undoneInner.length > 0 ? `the run left ${undoneInner.join(', ')} (removed now)` : '',
        left.length > 0 ? `still present: ${left.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
      seconds: 0,
    });
  }

  for (const [client, f] of Object.entries(innerResults?.output?.figures ?? {})) {
    figures.push(
      `${client}: ${f.published} reports published (${f.notSent} not sent), ${f.acceptedByResponder} ACCEPTED by the responder (${f.rejectedByResponder} rejected), ${f.acceptedInLog} ACCEPTED in the agent's log; largest delivered ${f.largestDeliveredBytes} bytes`,
    );
  }
  figures.push(`wall time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const line of figures) print(line);
  const all = [...(innerResults?.results ?? []), ...checks.results];
  const failed = all.filter((r) => !r.passed);
  for (const result of failed) print(`FAILED: ${result.name}`);
  console.log(`${all.length - failed.length} passed, ${failed.length} failed`);
  releaseHostLock();
  process.exit(failed.length > 0 || interrupted ? 1 : 0);
}

if (process.argv.includes('--inner')) void inner();
else void outer();
