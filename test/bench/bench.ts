/**
 * `npm run bench`: cost of one sample (collect + build + encode) at idle, 1,000 and 10,000 established connections,
 * from generated fixtures (250 peers, and 10,000 peers of their own) and from live loopback connections (to one peer,
 * and 10,000 each from a loopback address of its own), against the floor (the same /proc reads and nothing else)
 * measured in the same run. Each row runs in its own node process (worker.ts, bundled like the agent, with the
 * node flags and environment of the recipe's Run step), so peak RSS and event-loop stalls are the collector's own.
 * Live connections are held by two helper processes (client ends, server ends): 10,000 pairs need 20,000
 * descriptors, more than one process may open under a 20,000 `ulimit -n`, and the measured process then holds no
 * sockets of its own.
 *
 * The floor is the same files read the cheapest way (synchronously, in the measured process, interleaved with the
 * samples); the asynchronous floor is shown beside it for comparison.
 *
 * Memory: the real Agent with each IPC client against the local core, time scaled so that BENCH_MEMORY_CYCLES
 * (default 20,000) reports at a 5 s interval pass in minutes, with the node flags of the recipe's Run script; RSS and
 * heap after warm-up. Idle RSS: the built bundle itself, started by the recipe's Run script, after IDLE_REPORTS reports. Both
 * under the recipe's default, lowMemory auto (on that quiet fixture: V8's interpreter alone), and also with
 * lowMemory false (V8's default) to show what auto saves; the live 10,000-connection sample (where auto picks V8's
 * default) also with lowMemory true, which is also what a core that was quiet when the agent started pays there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { build } from 'esbuild';
import { buildComponent, PORTABLE_DOWNLOAD_GOAL_BYTES, readTemplate } from '../../scripts/build/build';
import { type RunStep, runStepOf } from '../../scripts/build/recipe';
import { nodeFlagsFor, runStepEnv, tierFlagsFor } from '../../scripts/build/run-step';
import { accessControlFor } from '../../src/component/definition';
import type { LowMemorySetting } from '../../src/config/values';
import { LocalCore } from '../../tools/local-core/core';
import { writeGeneratedProc } from '../fixtures/proc/generate';
import { detectionBench } from './detection';
import { realTimeMemory } from './real-time';
import { targetsVerdict } from './verdict';

const CONNECTIONS = [0, 1_000, 10_000];
const SAMPLES = 15;
/**
 * Time targets are in CPU time (see the misses below): on a loaded machine wall time also holds the waits for a core,
 * which the code does not control. The sample's wall time at 10,000 connections is printed, not judged: the floor
 * alone (the kernel's work) can take longer than any target a sample could be held to; the ratios judge the code.
 */
const TARGETS = {
  ratioToFloor: 1.5,
  ratioAt10k: 1.3,
  ratioAt10kDistinctPeers: 2,
  stallCpuMs: 20,
  idleRssMiB: 60,
  portableIdleRssMiB: 45,
  growthMiB: 2,
};
const MEMORY_CYCLES = Number(process.env.BENCH_MEMORY_CYCLES ?? 20_000);
const MEMORY_WARMUP_CYCLES = Math.min(2_000, Math.floor(MEMORY_CYCLES / 4));
const MIB = 1024 * 1024;
/**
 * Enough reports for the per-report code of a quiet agent to run as hot as V8's budget under lowMemory auto lets it
 * before TurboFan: an idle figure taken after a few reports would miss the step TurboFan's first compile makes.
 */
const IDLE_REPORTS = 60;
const projectRoot = path.join(__dirname, '..', '..');
/** The aws-crt addon for this machine, for the bundled worker (which has no node_modules beside it). */
const CRT_ADDON = path.join(projectRoot, 'node_modules', 'aws-crt', 'dist', 'bin', `linux-${process.arch}-glibc`, 'aws-crt-nodejs.node');

type Json = Record<string, unknown>;

async function bundleWorker(dir: string): Promise<string> {
  const outfile = path.join(dir, 'worker.js');
  await build({
    entryPoints: [path.join(__dirname, 'worker.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    logLevel: 'error',
  });
  return outfile;
}

/** Starts the worker in `args` mode; resolves each JSON line it prints, in order. */
function startWorker(
  worker: string,
  args: string[],
  options: { nodeFlags?: string[]; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; next: () => Promise<Json> } {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), worker, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    ...(options.env ? { env: options.env } : {}),
  });
  const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const queue: Json[] = [];
  const waiting: Array<(line: Json) => void> = [];
  lines.on('line', (line) => {
    const parsed = JSON.parse(line) as Json;
    const resolve = waiting.shift();
    if (resolve) resolve(parsed);
    else queue.push(parsed);
  });
  child.on('exit', (code) => {
    for (const resolve of waiting.splice(0)) resolve({ error: `worker exited with code ${code}` });
  });
  const next = () => {
    const line = queue.shift();
    return line ? Promise.resolve(line) : new Promise<Json>((resolve) => waiting.push(resolve));
  };
  return { child, next };
}

async function runToEnd(worker: string, args: string[], launch: WorkerLaunch): Promise<Json> {
  const { child, next } = startWorker(worker, args, launch);
  const result = await next();
  child.stdin?.end();
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
  return result;
}

/** The soft RLIMIT_NOFILE, from /proc (process.getrlimit does not exist). */
function openFileLimit(): number {
  const line = fs
    .readFileSync('/proc/self/limits', 'latin1')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

/** Rows of /proc/net/tcp in TIME_WAIT (state 06): closed connections stay listed for 60 s. */
function timeWaitRows(): number {
  let count = 0;
  for (const line of fs.readFileSync('/proc/net/tcp', 'latin1').split('\n')) if (/^\s*\d+: \S+ \S+ 06 /.test(line)) count++;
  return count;
}

/**
 * Waits (at most 65 s) until the connections an earlier row or run closed have left the table: they would be read and
 * skipped by both the sample and the floor, and make the row's figures depend on what ran before it.
 */
async function drainTimeWait(): Promise<number> {
  const until = Date.now() + 65_000;
  let left = timeWaitRows();
  while (left > 20 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    left = timeWaitRows();
  }
  return left;
}

/** Opens `count` loopback connections held by helper processes; returns a closer, or why it could not. */
async function openLiveConnections(
  worker: string,
  count: number,
  distinctPeers = false,
): Promise<{ close: () => Promise<void> } | { skipped: string }> {
  const limit = openFileLimit();
  if (count + 100 > limit) return { skipped: `ulimit -n is ${limit}; each helper needs ${count + 100} descriptors` };
  const server = startWorker(worker, ['serve', String(count)]);
  const helpers = [server.child];
  const close = async () => {
    for (const helper of helpers) {
      helper.stdin?.end();
      if (helper.exitCode === null) await new Promise((resolve) => helper.once('exit', resolve));
    }
  };
  const { port } = await server.next();
  const client = startWorker(worker, ['connect', String(port), String(count), ...(distinctPeers ? ['distinct'] : [])]);
  helpers.push(client.child);
  const [clientReady, serverReady] = await Promise.all([client.next(), server.next()]);
  const failure = clientReady.error ?? serverReady.error;
  if (failure !== undefined) {
    await close();
    return { skipped: `could not open ${count} connections: ${String(failure)}` };
  }
  return { close };
}

interface Row {
  source: string;
  connections: number;
  result?: Json;
  skipped?: string;
}

const fmt = (value: unknown, digits = 1) => (typeof value === 'number' ? value.toFixed(digits) : '-');
const ratioOf = (value: unknown, floor: unknown): number | undefined =>
  typeof value === 'number' && typeof floor === 'number' && floor > 0 ? value / floor : undefined;

/** The lowMemory setting a run is started with, as the Run step's Setenv would hand it over. */
type NodeMode = LowMemorySetting;

const modeLabel = (client: string, mode: NodeMode) => (mode === 'auto' ? client : `${client}, lowMemory ${mode}`);

interface WorkerLaunch {
  nodeFlags: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * The bundled worker started with the node flags and environment the recipe gives the agent in `mode`, the Run script's
 * choice made against `procfsRoot` as it is when the worker starts (auto counts its TCP sockets).
 */
function workerLaunch(recipe: RunStep, mode: NodeMode, procfsRoot: string): WorkerLaunch {
  return {
    nodeFlags: nodeFlagsFor(recipe, mode, procfsRoot),
    env: { ...process.env, ...recipe.env, ...runStepEnv(mode, procfsRoot) },
  };
}

const COMPONENT = 'com.example.DeviceDefenderAgent';
const THING = 'BenchThing';

async function startCore(dir: string, configuration: Record<string, unknown>): Promise<{ core: LocalCore; env: NodeJS.ProcessEnv }> {
  const core = new LocalCore({ socketPath: path.join(dir, 'ipc.sock'), thingName: THING, defenderMinIntervalSeconds: 0 });
  await core.start();
  const { svcuid } = core.registerComponent({
    name: COMPONENT,
    version: '1.0.0',
    configuration: {
      intervalSeconds: '5',
      allowFastIntervalForDevelopment: 'true',
      ...configuration,
      accessControl: accessControlFor(COMPONENT, THING),
    },
  });
  const env = {
    PATH: process.env.PATH ?? '',
    SVCUID: svcuid,
    AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: core.socketPath,
    AWS_IOT_THING_NAME: THING,
  };
  return { core, env };
}

interface MemoryRun {
  label: string;
  points: Json[];
  done?: Json;
  error?: string;
  rejected: number;
}

/** The real Agent for MEMORY_CYCLES reports against its own local core (see worker.ts `agent`). */
async function memoryRun(
  worker: string,
  dir: string,
  client: 'sdk' | 'portable',
  mode: NodeMode,
  procRoot: string,
  recipe: RunStep,
): Promise<MemoryRun> {
  const runDir = fs.mkdtempSync(path.join(dir, `mem-${client}-${mode}-`));
  const { core, env } = await startCore(runDir, { procfsRoot: procRoot });
  const run: MemoryRun = { label: modeLabel(client, mode), points: [], rejected: 0 };
  core.on('defender-report', (report) => {
    if (report.status !== 'ACCEPTED') run.rejected += 1;
  });
  try {
    const { child, next } = startWorker(worker, ['agent', client, String(MEMORY_CYCLES), path.join(runDir, 'state.json')], {
      nodeFlags: [...workerLaunch(recipe, mode, procRoot).nodeFlags, '--expose-gc'],
      env: { ...env, ...recipe.env, ...runStepEnv(mode, procRoot), AWS_CRT_NODEJS_BINARY_ABSOLUTE_PATH: CRT_ADDON },
    });
    for (;;) {
      const line = await next();
      if (line.error !== undefined) {
        run.error = String(line.error);
        break;
      }
      if (line.done) {
        run.done = line;
        break;
      }
      run.points.push(line);
    }
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  } finally {
    await core.stop();
  }
  return run;
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

interface MemorySummary {
  label: string;
  line: string;
  growthMiB?: number;
}

function summarize(run: MemoryRun): MemorySummary {
  if (run.error !== undefined || !run.done) return { label: run.label, line: `${run.label}: failed: ${run.error ?? 'no result'}` };
  const at = (cycle: number) => run.points.find((p) => p.cycle === cycle);
  const warm = at(MEMORY_WARMUP_CYCLES) ?? run.points[0];
  const last = run.points[run.points.length - 1];
  if (!warm || !last) return { label: run.label, line: `${run.label}: no memory points` };
  const after = run.points.filter((p) => (p.cycle as number) >= (warm.cycle as number));
  const rss = after.map((p) => p.rssMiB as number);
  // RSS swings by a few MiB from one point to the next (malloc, GC timing); growth compares the median of the first
  // quarter after warm-up with the median of the last quarter, so one high or low point does not decide it.
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const early = medianOf(rss.slice(0, quarter));
  const late = medianOf(rss.slice(-quarter));
  const growth = late - early;
  const line =
    `${run.label.padEnd(19)}: ${run.done.cycles} reports in ${fmt(run.done.seconds, 0)} s (${run.rejected} rejected); after ` +
    `${warm.cycle} warm-up reports RSS ${fmt(early)} -> ${fmt(late)} MiB (growth ${growth >= 0 ? '+' : ''}${fmt(growth, 2)} MiB, ` +
    `range ${fmt(Math.min(...rss))}-${fmt(Math.max(...rss))}), heap used ${fmt(warm.heapUsedMiB, 2)} -> ${fmt(last.heapUsedMiB, 2)} MiB, ` +
    `heap total ${fmt(warm.heapTotalMiB)} -> ${fmt(last.heapTotalMiB)} MiB`;
  return { label: run.label, line, growthMiB: growth };
}

/**
 * RSS of the built bundle started as the nucleus starts it (the recipe's Run script through sh, from its artifact
 * folder), after IDLE_REPORTS reports and a rest.
 */
async function idleBundleRss(
  dir: string,
  artifactsDir: string,
  client: 'sdk' | 'portable',
  mode: NodeMode,
  recipe: RunStep,
  procRoot: string,
): Promise<Json> {
  const runDir = fs.mkdtempSync(path.join(dir, `idle-${client}-${mode}-`));
  // A quiet device's /proc (the small fixture): what else this machine holds open must not decide the figure.
  const { core, env } = await startCore(runDir, { procfsRoot: procRoot });
  try {
    let reports = 0;
    const enoughReports = new Promise<void>((resolve) =>
      core.on('defender-report', () => {
        reports += 1;
        if (reports === IDLE_REPORTS) resolve();
      }),
    );
    const child = spawn('sh', ['-c', recipe.script.replaceAll('{artifacts:path}', artifactsDir)], {
      cwd: runDir,
      stdio: 'ignore',
      env: {
        ...env,
        ...recipe.env,
        DEFENDER_AGENT_IPC_CLIENT: client,
        ...runStepEnv(mode, procRoot),
      },
    });
    try {
      const exited = new Promise<string>((resolve) => child.once('exit', (code) => resolve(`exited with ${code}`)));
      const outcome = await Promise.race([
        enoughReports.then(() => 'ok'),
        exited,
        new Promise<string>((r) => setTimeout(() => r('timed out'), IDLE_REPORTS * 5_000 + 60_000)),
      ]);
      if (outcome !== 'ok') return { error: outcome };
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      // The script ends in `exec node`, so the shell's pid is the agent's.
      const argv = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
      if (!argv.at(-1)?.endsWith('defender-agent.js')) return { error: `measured ${argv.join(' ')}, not the agent` };
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'latin1');
      const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
      return { rssMiB: (kib('VmRSS') * 1024) / MIB, anonMiB: (kib('RssAnon') * 1024) / MIB, fileMiB: (kib('RssFile') * 1024) / MIB };
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }
  } finally {
    await core.stop();
  }
}

function printTable(rows: Row[]): void {
  const header = [
    'source',
    'conns',
    'tcp rows',
    'median ms',
    'floor ms',
    'ratio',
    'CPU ms',
    'floor CPU ms',
    'CPU ratio',
    'async floor ms',
    'stall CPU ms',
    'peak RSS MiB',
    'report B',
  ];
  const body = rows.map((row) => {
    const r = row.result;
    if (!r) return [row.source, String(row.connections), `skipped: ${row.skipped ?? ''}`];
    return [
      row.source,
      String(row.connections),
      String(r.tcpRows),
      fmt(r.medianMs, 2),
      fmt(r.floorMs, 2),
      fmt(ratioOf(r.medianMs, r.floorMs), 2),
      fmt(r.cpuMs, 2),
      fmt(r.floorCpuMs, 2),
      fmt(ratioOf(r.cpuMs, r.floorCpuMs), 2),
      fmt(r.asyncFloorMs, 2),
      fmt(r.maxStallCpuMs),
      fmt(r.peakRssMiB),
      String(r.reportBytes),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b.length === header.length ? (b[i] ?? '').length : 0))));
  const line = (cells: string[]) =>
    cells.length === header.length ? cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ') : cells.join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const b of body) console.log(line(b));
}

/** `--real-time <minutes>`: only the real-time memory run (real-time.ts). */
function realTimeMinutes(): number | undefined {
  const at = process.argv.indexOf('--real-time');
  if (at < 0) return undefined;
  const minutes = Number(process.argv[at + 1]);
  if (!(minutes > 0)) throw new Error('--real-time needs a duration in minutes, for example --real-time 120');
  return minutes;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddbench-'));
  try {
    const minutes = realTimeMinutes();
    if (minutes !== undefined) {
      if (!(await realTimeMemory(dir, projectRoot, minutes))) process.exitCode = 1;
      return;
    }
    const worker = await bundleWorker(dir);
    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs, ${SAMPLES} samples per row, all 8 custom metrics on, JSON long names\n`,
    );
    const rows: Row[] = [];
    const recipe = runStepOf(readTemplate(projectRoot));
    // As the recipe starts the agent by default, with the proc root the row reads as it is when the row's worker starts.
    const asRecipe = (procfsRoot: string) => workerLaunch(recipe, 'auto', procfsRoot);

    for (const connections of CONNECTIONS) {
      const root = path.join(dir, `proc-${connections}`);
      // Both ends of each loopback connection are ESTABLISHED rows, as in the live rows.
      writeGeneratedProc(root, { established: 2 * connections, listeners: 20 });
      // cpuUsage needs counters that move.
      fs.symlinkSync('/proc/stat', path.join(root, 'stat'));
      rows.push({ source: 'fixture', connections, result: await runToEnd(worker, ['sample', root, String(SAMPLES)], asRecipe(root)) });
    }
    // The rows above share 250 peers; a server's clients are each a peer of their own (the peers stay between samples).
    const distinctRoot = path.join(dir, 'proc-distinct');
    writeGeneratedProc(distinctRoot, { established: 10_000, listeners: 20, distinctPeers: true });
    fs.symlinkSync('/proc/stat', path.join(distinctRoot, 'stat'));
    rows.push({
      source: 'fixture, a peer each',
      connections: 10_000,
      result: await runToEnd(worker, ['sample', distinctRoot, String(SAMPLES)], asRecipe(distinctRoot)),
    });
    let lowMemory10k: Json | undefined;
    for (const connections of CONNECTIONS) {
      const timeWaitLeft = await drainTimeWait();
      if (timeWaitLeft > 20)
        console.log(`live ${connections}: ${timeWaitLeft} TIME_WAIT rows still listed after 65 s (read by sample and floor alike)`);
      const live = connections === 0 ? { close: async () => undefined } : await openLiveConnections(worker, connections);
      if ('skipped' in live) {
        rows.push({ source: 'live', connections, skipped: live.skipped });
        continue;
      }
      try {
        rows.push({ source: 'live', connections, result: await runToEnd(worker, ['sample', '/proc', String(SAMPLES)], asRecipe('/proc')) });
        // The price of running no compiler where it is highest, on the same open connections: lowMemory true's, and
        // auto's on a core that was quiet when the agent started.
        if (connections === 10_000)
          lowMemory10k = await runToEnd(worker, ['sample', '/proc', String(SAMPLES)], workerLaunch(recipe, 'true', '/proc'));
      } finally {
        await live.close();
      }
    }
    // A server's clients are each a peer of their own: the server ends' rows name 10,000 distinct addresses.
    {
      const timeWaitLeft = await drainTimeWait();
      if (timeWaitLeft > 20) console.log(`live 10000, a peer each: ${timeWaitLeft} TIME_WAIT rows still listed after 65 s`);
      const live = await openLiveConnections(worker, 10_000, true);
      if ('skipped' in live) rows.push({ source: 'live, a peer each', connections: 10_000, skipped: live.skipped });
      else
        try {
          rows.push({
            source: 'live, a peer each',
            connections: 10_000,
            result: await runToEnd(worker, ['sample', '/proc', String(SAMPLES)], asRecipe('/proc')),
          });
        } finally {
          await live.close();
        }
    }
    const idle = await runToEnd(worker, ['idle', '/proc'], asRecipe('/proc'));

    printTable(rows);
    console.log(
      '\nfloor = the kernel work a sample needs done the cheapest way: the /proc files the collector reads (the IPv6 tables only when ' +
        'net/sockstat6 counts IPv6 sockets, the procfs address files only when getifaddrs leaves out an interface of net/dev), its ' +
        'statfs, readdir and getifaddrs, synchronously, into one buffer, in the measured process, interleaved with the samples, nothing ' +
        'done with the bytes; async floor = the same reads through fs.promises. CPU = process CPU time ' +
        '(thread pool included); stall CPU = the longest a sample kept the event loop from turning, in that CPU time. For fixture rows the reads are page-cache copies (no kernel formatting), so their ratio is the parsing ' +
        'cost; live rows carry the real /proc cost. tcp rows include both ends of each connection.',
    );
    const live10k = rows.find((row) => row.source === 'live' && row.connections === 10_000)?.result;
    const ratio10k = ratioOf(live10k?.medianMs, live10k?.floorMs);
    console.log(
      live10k && ratio10k !== undefined
        ? `\n10,000 connections (live): a sample costs ${fmt(live10k.cpuMs, 1)} ms CPU = ` +
            `${fmt(ratioOf(live10k.cpuMs, live10k.floorCpuMs), 2)}x the synchronous floor (${fmt(live10k.floorCpuMs, 1)} ms CPU); ` +
            `wall ${fmt(live10k.medianMs, 1)} ms = ${fmt(ratio10k, 2)}x (floor ${fmt(live10k.floorMs, 1)} ms, async floor ${fmt(live10k.asyncFloorMs, 1)} ms)`
        : '\n10,000 connections (live): not measured (see the table)',
    );
    const distinct10k = rows.find((row) => row.source === 'live, a peer each')?.result;
    if (distinct10k)
      console.log(
        `10,000 connections with 10,000 distinct peers (live): ${fmt(distinct10k.cpuMs, 1)} ms CPU = ` +
          `${fmt(ratioOf(distinct10k.cpuMs, distinct10k.floorCpuMs), 2)}x the synchronous floor (${fmt(distinct10k.floorCpuMs, 1)} ms CPU)`,
      );
    if (lowMemory10k)
      console.log(
        `  with lowMemory true, or auto on a core that was quiet when the agent started (node ${tierFlagsFor(recipe, 'true', '/proc').join(' ')}): ` +
          `${fmt(lowMemory10k.cpuMs, 1)} ms CPU = ` +
          `${fmt(ratioOf(lowMemory10k.cpuMs, lowMemory10k.floorCpuMs), 2)}x its floor (${fmt(lowMemory10k.floorCpuMs, 1)} ms CPU)`,
      );

    // Memory: all runs at once (each is one process, mostly waiting on the other end of its socket).
    const launch = [...recipe.nodeFlags, ...Object.entries(recipe.env).map(([name, value]) => `${name}=${value}`)].join(' ');
    const memoryRoot = path.join(dir, 'proc-memory');
    writeGeneratedProc(memoryRoot, { established: 20, listeners: 5 });
    fs.symlinkSync('/proc/stat', path.join(memoryRoot, 'stat'));
    console.log(
      `\nmemory: the real Agent, ${MEMORY_CYCLES} reports per IPC client against the local core (5 s interval, time scaled x2500, ` +
        `small procfs fixture), node with ${launch || 'no flags'} as in the recipe (lowMemory auto, the default, adds ` +
        `${tierFlagsFor(recipe, 'auto', memoryRoot).join(' ') || 'nothing'} on this fixture), ` +
        `RSS and heap after a full GC every ${Math.max(1, Math.min(500, Math.floor(MEMORY_CYCLES / 10)))} reports:`,
    );
    const runs = [
      ['sdk', 'auto'],
      ['portable', 'auto'],
      ['portable', 'false'],
    ] as const;
    const memory = (await Promise.all(runs.map(([client, mode]) => memoryRun(worker, dir, client, mode, memoryRoot, recipe)))).map(
      summarize,
    );
    for (const summary of memory) console.log(`  ${summary.line}`);

    const built = await buildComponent({ projectRoot, outputRoot: path.join(dir, 'component') });
    // Side by side: each is one process, mostly waiting for its next report.
    const idleBundle: Record<string, Json> = Object.fromEntries(
      await Promise.all(
        runs.map(async ([client, mode]) => [
          modeLabel(client, mode),
          await idleBundleRss(dir, built.local.componentArtifactsDir, client, mode, recipe, memoryRoot),
        ]),
      ),
    );
    console.log(
      `\nidle agent (the built bundle against the local core, small procfs fixture, after ${IDLE_REPORTS} reports at 5 s and a 3 s rest):`,
    );
    for (const [client, r] of Object.entries(idleBundle)) {
      console.log(
        r.error !== undefined
          ? `  ${client}: ${String(r.error)}`
          : `  ${client.padEnd(19)}: RSS ${fmt(r.rssMiB)} MiB (anonymous ${fmt(r.anonMiB)}, file-backed ${fmt(r.fileMiB)})`,
      );
    }
    const portableDownload = built.downloads.find((download) => download.files.length === 1);
    console.log(
      `\ndownload of the manifest for every other architecture (${portableDownload?.files.join(', ') ?? 'none'}): ` +
        `${fmt((portableDownload?.zippedBytes ?? Number.NaN) / 1000)} KB zipped (goal ${PORTABLE_DOWNLOAD_GOAL_BYTES / 1000} KB)`,
    );
    console.log(
      `\nresident idle process (collector + report builder, after 3 samples): RSS ${fmt(idle.rssMiB)} MiB, heap used ${fmt(idle.heapUsedMiB)} MiB, peak RSS ${fmt(idle.peakRssMiB)} MiB`,
    );
    for (const row of rows) {
      const problems = row.result?.problems;
      if (Array.isArray(problems) && problems.length > 0)
        console.log(`problems (${row.source} ${row.connections}): ${problems.join('; ')}`);
      if (row.result?.error !== undefined) console.log(`error (${row.source} ${row.connections}): ${String(row.result.error)}`);
    }

    const misses: string[] = [];
    for (const row of rows) {
      const r = row.result;
      if (!r || typeof r.medianMs !== 'number' || typeof r.floorMs !== 'number') continue;
      const label = `${row.source} ${row.connections}`;
      // Against the kernel's cost (live rows), in CPU time: the synchronous floor reads one file after another while the
      // sample may overlap reads on the thread pool, so wall time would flatter the sample on a multi-core machine.
      const cpuRatio = ratioOf(r.cpuMs, r.floorCpuMs);
      const target =
        row.source === 'live, a peer each'
          ? TARGETS.ratioAt10kDistinctPeers
          : row.connections === 10_000
            ? TARGETS.ratioAt10k
            : TARGETS.ratioToFloor;
      if (row.source.startsWith('live') && cpuRatio !== undefined && cpuRatio > target)
        misses.push(`${label}: ${cpuRatio.toFixed(2)}x the floor in CPU time (target ${target}x)`);
      if (typeof r.maxStallCpuMs === 'number' && r.maxStallCpuMs > TARGETS.stallCpuMs)
        misses.push(`${label}: event-loop stall ${r.maxStallCpuMs.toFixed(1)} ms CPU (target ${TARGETS.stallCpuMs} ms)`);
    }
    if (typeof idle.rssMiB === 'number' && idle.rssMiB > TARGETS.idleRssMiB)
      misses.push(`idle RSS ${idle.rssMiB.toFixed(1)} MiB (target ${TARGETS.idleRssMiB} MiB)`);
    for (const summary of memory) {
      if (summary.growthMiB === undefined) misses.push(`memory ${summary.label}: no result`);
      else if (summary.growthMiB > TARGETS.growthMiB)
        misses.push(
          `memory ${summary.label}: RSS grew ${summary.growthMiB.toFixed(2)} MiB after warm-up (target ${TARGETS.growthMiB} MiB)`,
        );
    }
    for (const label of ['portable']) {
      const rss = idleBundle[label]?.rssMiB;
      if (typeof rss !== 'number' || rss > TARGETS.portableIdleRssMiB)
        misses.push(`idle agent RSS (${label}) ${fmt(rss)} MiB (goal ${TARGETS.portableIdleRssMiB} MiB)`);
    }
    if (!portableDownload || portableDownload.zippedBytes > PORTABLE_DOWNLOAD_GOAL_BYTES)
      misses.push(
        `download of the manifest for every other architecture ${fmt((portableDownload?.zippedBytes ?? Number.NaN) / 1000)} KB zipped (goal ${PORTABLE_DOWNLOAD_GOAL_BYTES / 1000} KB)`,
      );
    const detectionMiss = await detectionBench(dir, typeof live10k?.cpuMs === 'number' ? live10k.cpuMs : undefined);
    if (detectionMiss) misses.push(detectionMiss);
    const verdict = targetsVerdict(misses);
    console.log(verdict.text);
    if (verdict.exitCode !== 0) process.exitCode = verdict.exitCode;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
