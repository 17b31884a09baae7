/**
 * `npm run bench`: cost of one sample (collect + build + encode) at idle, 1,000 and 10,000 established connections,
 * from generated fixtures and from live loopback connections, against the floor (the same /proc reads and nothing
 * else) measured in the same run. Each row runs in its own node process (worker.ts, bundled like the agent), so peak
 * RSS and event-loop stalls are the collector's own. Live connections are held by two helper processes (client ends,
 * server ends): 10,000 pairs need 20,000 descriptors, more than one process may open under a 20,000 `ulimit -n`, and
 * the measured process then holds no sockets of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { build } from 'esbuild';
import { writeGeneratedProc } from '../fixtures/proc/generate';

const CONNECTIONS = [0, 1_000, 10_000];
const SAMPLES = 15;
const TARGETS = { ratioToFloor: 1.5, msAt10k: 60, stallMs: 20, idleRssMiB: 60 };

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
function startWorker(worker: string, args: string[]): { child: ChildProcess; next: () => Promise<Json> } {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
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

async function runToEnd(worker: string, args: string[]): Promise<Json> {
  const { child, next } = startWorker(worker, args);
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

/** Opens `count` loopback connections held by helper processes; returns a closer, or why it could not. */
async function openLiveConnections(worker: string, count: number): Promise<{ close: () => Promise<void> } | { skipped: string }> {
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
  const client = startWorker(worker, ['connect', String(port), String(count)]);
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

function printTable(rows: Row[]): void {
  const header = ['source', 'conns', 'tcp rows', 'median ms', 'floor ms', 'ratio', 'max stall ms', 'peak RSS MiB', 'report B'];
  const body = rows.map((row) => {
    const r = row.result;
    if (!r) return [row.source, String(row.connections), `skipped: ${row.skipped ?? ''}`];
    const ratio = typeof r.medianMs === 'number' && typeof r.floorMs === 'number' ? r.medianMs / r.floorMs : undefined;
    return [
      row.source,
      String(row.connections),
      String(r.tcpRows),
      fmt(r.medianMs, 2),
      fmt(r.floorMs, 2),
      fmt(ratio, 2),
      fmt(r.maxStallMs),
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

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddbench-'));
  try {
    const worker = await bundleWorker(dir);
    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs, ${SAMPLES} samples per row, all 8 custom metrics on, JSON long names\n`,
    );
    const rows: Row[] = [];

    for (const connections of CONNECTIONS) {
      const root = path.join(dir, `proc-${connections}`);
      // Both ends of each loopback connection are ESTABLISHED rows, as in the live rows.
      writeGeneratedProc(root, { established: 2 * connections, listeners: 20 });
      // cpuUsage needs counters that move.
      fs.symlinkSync('/proc/stat', path.join(root, 'stat'));
      rows.push({ source: 'fixture', connections, result: await runToEnd(worker, ['sample', root, String(SAMPLES)]) });
    }
    for (const connections of CONNECTIONS) {
      const live = connections === 0 ? { close: async () => undefined } : await openLiveConnections(worker, connections);
      if ('skipped' in live) {
        rows.push({ source: 'live', connections, skipped: live.skipped });
        continue;
      }
      try {
        rows.push({ source: 'live', connections, result: await runToEnd(worker, ['sample', '/proc', String(SAMPLES)]) });
      } finally {
        await live.close();
      }
    }
    const idle = await runToEnd(worker, ['idle', '/proc']);

    printTable(rows);
    console.log(
      '\nfloor = the same reads with fs.promises.readFile and nothing else. For fixture rows those are page-cache copies (no kernel ' +
        'formatting), so their ratio is the parsing cost; live rows carry the real /proc cost. tcp rows include both ends of each connection.',
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
      if (r.medianMs / r.floorMs > TARGETS.ratioToFloor)
        misses.push(`${label}: ${(r.medianMs / r.floorMs).toFixed(2)}x the floor (target ${TARGETS.ratioToFloor}x)`);
      if (row.connections === 10_000 && r.medianMs > TARGETS.msAt10k)
        misses.push(`${label}: ${r.medianMs.toFixed(1)} ms (target ${TARGETS.msAt10k} ms)`);
      if (typeof r.maxStallMs === 'number' && r.maxStallMs > TARGETS.stallMs)
        misses.push(`${label}: stall ${r.maxStallMs.toFixed(1)} ms (target ${TARGETS.stallMs} ms)`);
    }
    if (typeof idle.rssMiB === 'number' && idle.rssMiB > TARGETS.idleRssMiB)
      misses.push(`idle RSS ${idle.rssMiB.toFixed(1)} MiB (target ${TARGETS.idleRssMiB} MiB)`);
    console.log(misses.length === 0 ? '\nall targets met' : `\ntargets missed:\n  ${misses.join('\n  ')}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
