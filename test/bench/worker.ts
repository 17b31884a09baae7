/**
 * The measured side of `npm run bench` (see bench.ts). Bundled with esbuild and run by plain node, like the shipped
 * agent, so neither tsx nor the orchestrator's memory is counted. One JSON line on stdout per result.
 *   sample <procfsRoot> <samples>   collect + build + encode repeatedly, and the floor (the same reads, nothing else)
 *   idle <procfsRoot>               an agent-like resident process: a few samples, then idle; reports its RSS
 *   serve <count>                   holds <count> accepted loopback connections (the server ends)
 *   connect <port> <count> [distinct]
 *                                   holds <count> loopback client connections (`distinct`: each from its own address)
 *   agent <client> <cycles> <stateFile>
 *                                   the real Agent against the local core, time scaled so a 5 s interval passes in
 *                                   a few ms; prints RSS and heap every MEMORY_EVERY reports, then the totals
 * The socket holders exit when their stdin closes.
 */
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent } from '../../src/agent/agent';
import type { Clock } from '../../src/agent/clock';
import { type Collector, createSystemCollector } from '../../src/collect/collector';
import type { IpcConnection, IpcConnector } from '../../src/ipc/ipc';
import { selectIpcClient } from '../../src/ipc/select-client';
import { createLogger } from '../../src/log/logger';
import { createFileStateStore } from '../../src/state/state-store';
import type { CustomMetricSpec } from '../../src/config/definition';
import type { MetricsSample } from '../../src/metrics/types';
import { buildReport } from '../../src/report/build';
import { sumCounters } from '../../src/state/network-delta';

const ALL_CUSTOM_METRICS: Record<string, CustomMetricSpec> = {
  cpu_usage: { source: 'cpuUsage' },
  memory_used: { source: 'memoryUsed' },
  disk_used: { source: 'diskUsed', mountPoint: '/' },
  uptime: { source: 'uptime' },
  process_count: { source: 'processCount' },
  load_average: { source: 'loadAverage' },
  ip_addresses: { source: 'ipAddresses' },
  interface_names: { source: 'interfaceNames' },
};
/** What the collector reads; the floor reads the IPv6 tables only when net/sockstat6 counts IPv6 sockets, as it does. */
const FLOOR_FILES = [
  'net/tcp',
  'net/tcp6',
  'net/udp',
  'net/udp6',
  'net/dev',
  'sys/kernel/random/boot_id',
  'stat',
  'meminfo',
  'uptime',
  'loadavg',
];

const MIB = 1024 * 1024;
const WARM_UP_SAMPLES = 10;
const print = (result: object) => process.stdout.write(`${JSON.stringify(result)}\n`);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/** A collector wired as the agent's entry point wires it (src/main.ts). */
function agentCollector(root: string): Collector {
  return createSystemCollector(root);
}

/** One full sample as the agent does it: collect, then build and encode the report. */
async function sampleOnce(collector: Collector, reportId: number) {
  // As the agent does: only the connections a report lists are built; the total still counts every socket.
  const collected = await collector.collect({
    customMetrics: ALL_CUSTOM_METRICS,
    networkStatsIncludeLoopback: false,
    maxListedConnections: 500,
  });
  const sample: MetricsSample = {
    ...(collected.listeningTcpPorts ? { listeningTcpPorts: collected.listeningTcpPorts } : {}),
    ...(collected.listeningUdpPorts ? { listeningUdpPorts: collected.listeningUdpPorts } : {}),
    ...(collected.establishedConnections ? { establishedConnections: collected.establishedConnections } : {}),
    ...(collected.establishedConnectionsTotal !== undefined ? { establishedConnectionsTotal: collected.establishedConnectionsTotal } : {}),
    // The delta logic is not measured here; the totals stand in for it.
    ...(collected.network ? { networkStats: sumCounters(collected.network.interfaces) } : {}),
    customMetrics: collected.customMetrics,
  };
  const built = buildReport(sample, {
    reportId,
    shortNames: false,
    format: 'json',
    maxListedPorts: 200,
    maxListedConnections: 500,
    maxReportBytes: 64_000,
  });
  return { collected, bytes: built.bytes };
}

/**
 * The floor: the same files the collector reads, read the way the kernel is cheapest to read: synchronously, in this
 * process, into one reused buffer (procfs hands out at most a page per read, so a thread-pool round trip per read
 * only adds cost). Nothing is done with the bytes.
 */
const floorBuffer = Buffer.allocUnsafe(1 << 20);
function readWhole(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return;
  }
  try {
    while (fs.readSync(fd, floorBuffer, 0, floorBuffer.length, null) > 0);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The kernel work a sample needs, done the cheapest way: the files the collector reads, its statfs and readdir, and
 * the interface list (getifaddrs), with the procfs address files it reads when net/dev names an interface getifaddrs
 * leaves out (src/collect/collector.ts enumerateInterfaces).
 */
function floorOnce(root: string): void {
  const skipped = ipv6TablesToSkip(root);
  // net/dev once, as text: its interface names decide the address files below.
  for (const file of FLOOR_FILES) if (!skipped.has(file) && file !== 'net/dev') readWhole(path.join(root, file));
  fs.readdirSync(root);
  fs.statfsSync('/');
  const listed = new Set(Object.keys(os.networkInterfaces()));
  const devNames = fs
    .readFileSync(path.join(root, 'net/dev'), 'latin1')
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]?.trim() ?? '')
    .filter(Boolean);
  if (devNames.some((name) => !listed.has(name)))
    for (const file of ['net/if_inet6', 'net/fib_trie', 'net/route']) readWhole(path.join(root, file));
}

/** The IPv6 tables the collector leaves out because net/sockstat6 counts no IPv6 socket of their protocol. */
function ipv6TablesToSkip(root: string): Set<string> {
  const skipped = new Set<string>();
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, 'net/sockstat6'), 'latin1');
  } catch {
    return skipped;
  }
  if (/^TCP6: inuse 0$/m.test(text)) skipped.add('net/tcp6');
  if (/^UDP6: inuse 0$/m.test(text)) skipped.add('net/udp6');
  return skipped;
}

/** The previous floor, kept for comparison: the same reads through fs.promises (the thread pool). */
async function asyncFloorOnce(root: string): Promise<void> {
  await Promise.all([
    ...FLOOR_FILES.map((file) => fs.promises.readFile(path.join(root, file), 'latin1').catch(() => '')),
    fs.promises.readdir(root),
    fs.promises.statfs('/'),
  ]);
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

/**
 * Runs `work` and measures its longest event-loop turn in CPU time: a 1 ms timer notes the process's CPU time whenever
 * the loop turns, and the most spent between two notes is the longest the loop went without turning. CPU time, not
 * wall time: on a loaded machine a turn's wall time also holds the waits for a core, which the code does not control.
 * It counts every thread of the process, so it can only overstate a stall.
 */
async function withLongestTurn<T>(work: () => Promise<T>): Promise<{ result: T; longestTurnCpuMs: number }> {
  const cpuMicros = () => {
    const used = process.cpuUsage();
    return used.user + used.system;
  };
  let last = cpuMicros();
  let longest = 0;
  const note = () => {
    const now = cpuMicros();
    longest = Math.max(longest, now - last);
    last = now;
  };
  const timer = setInterval(note, 1);
  try {
    const result = await work();
    note();
    return { result, longestTurnCpuMs: longest / 1000 };
  } finally {
    clearInterval(timer);
  }
}

async function sample(root: string, samples: number): Promise<void> {
  const collector = agentCollector(root);
  // Warm-up: the first collect takes the first CPU reading (a 200 ms wait), and the JIT tiers the hot functions up over
  // several samples (more of them for small tables). An agent runs for days, so the rows measure it warm.
  for (let i = 1; i <= WARM_UP_SAMPLES; i++) await sampleOnce(collector, i);
  const sampleMs: number[] = [];
  const sampleCpuMs: number[] = [];
  const floorMs: number[] = [];
  const floorCpuMs: number[] = [];
  const asyncFloorMs: number[] = [];
  let last: Awaited<ReturnType<typeof sampleOnce>> | undefined;
  let maxStallCpuMs = 0;
  for (let i = 0; i < samples; i++) {
    // Floor and sample interleaved, so a change in the machine's load hits both alike.
    let started = performance.now();
    let cpu = process.cpuUsage();
    floorOnce(root);
    floorMs.push(performance.now() - started);
    floorCpuMs.push(cpuMs(cpu));
    await delay(20);
    started = performance.now();
    cpu = process.cpuUsage();
    const measured = await withLongestTurn(() => sampleOnce(collector, WARM_UP_SAMPLES + 1 + i));
    sampleMs.push(performance.now() - started);
    sampleCpuMs.push(cpuMs(cpu));
    last = measured.result;
    maxStallCpuMs = Math.max(maxStallCpuMs, measured.longestTurnCpuMs);
    await delay(20);
  }
  // Apart, afterwards: its multi-megabyte strings leave the collector work that would land in the samples' time.
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await asyncFloorOnce(root);
    asyncFloorMs.push(performance.now() - started);
    await delay(20);
  }
  const tcpText = await fs.promises.readFile(path.join(root, 'net/tcp'), 'latin1');
  print({
    medianMs: median(sampleMs),
    floorMs: median(floorMs),
    cpuMs: median(sampleCpuMs),
    floorCpuMs: median(floorCpuMs),
    asyncFloorMs: median(asyncFloorMs),
    maxStallCpuMs,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MIB,
    tcpRows: tcpText.split('\n').length - 2,
    connections: last?.collected.establishedConnections?.length ?? 0,
    problems: last?.collected.problems.map((p) => `${p.subject}: ${p.message}`) ?? [],
    reportBytes: last?.bytes ?? 0,
  });
}

async function idle(root: string): Promise<void> {
  const collector = agentCollector(root);
  for (let i = 1; i <= 3; i++) await sampleOnce(collector, i);
  // Let the young generation empty, as it would between two reports 5 minutes apart.
  await delay(3_000);
  print({
    rssMiB: process.memoryUsage.rss() / MIB,
    heapUsedMiB: process.memoryUsage().heapUsed / MIB,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MIB,
  });
}

/** Virtual time runs SPEEDUP times faster than real time: timers, intervals and deadlines keep their proportions. */
const SPEEDUP = 2_500;
const MEMORY_EVERY = 500;

function scaledClock(speedup: number): Clock {
  const startedReal = performance.now();
  const startedWall = Date.now();
  const elapsed = () => (performance.now() - startedReal) * speedup;
  return {
    now: () => Math.floor(startedWall + elapsed()),
    monotonic: () => Math.floor(elapsed()),
    setTimer: (delayMs, callback) => {
      const timer = setTimeout(callback, Math.max(0, delayMs) / speedup);
      return () => clearTimeout(timer);
    },
  };
}

/** Counts the reports the agent publishes (the cycles). */
function countingConnector(inner: IpcConnector, onPublish: () => void): IpcConnector {
  return {
    async connect(): Promise<IpcConnection> {
      const connection = await inner.connect();
      return Object.assign(Object.create(connection) as IpcConnection, {
        publishToIoTCore: (topic: string, payload: Buffer, qos: '0' | '1') => {
          onPublish();
          return connection.publishToIoTCore(topic, payload, qos);
        },
      });
    },
  };
}

function memoryNow(cycle: number) {
  // After a full collection, heapUsed is what is live, not what the collector has not reached yet.
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return {
    cycle,
    rssMiB: usage.rss / MIB,
    heapUsedMiB: usage.heapUsed / MIB,
    heapTotalMiB: usage.heapTotal / MIB,
    externalMiB: usage.external / MIB,
    arrayBuffersMiB: usage.arrayBuffers / MIB,
  };
}

/** The IPC socket and token come from the environment, as under the nucleus. */
async function agentCycles(client: string, cycles: number, stateFile: string): Promise<void> {
  const devNull = fs.openSync('/dev/null', 'w');
  // The real logger, writing synchronously like the agent's stdout pipe; the lines themselves are not kept.
  const logger = createLogger({ out: (line) => fs.writeSync(devNull, `${line}\n`), err: (line) => fs.writeSync(devNull, `${line}\n`) });
  const selected = selectIpcClient({ setting: client, operationTimeoutMs: 10_000, logger });
  if (!selected.client) throw new Error(selected.problem);
  let published = 0;
  // A short run (BENCH_MEMORY_CYCLES=200) still gets its ten points.
  const memoryEvery = Math.max(1, Math.min(MEMORY_EVERY, Math.floor(cycles / 10)));
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const agent = new Agent({
    identity: {
      componentName: 'com.example.DeviceDefenderAgent',
      componentVersion: '1.0.0',
      coreThingName: 'BenchThing',
      platform: 'bench',
    },
    ipc: countingConnector({ connect: () => selected.connector.connect() }, () => {
      published += 1;
      if (published % memoryEvery === 0) print({ client: selected.client, ...memoryNow(published) });
      if (published >= cycles) finished();
    }),
    createCollector: (root) => createSystemCollector(root),
    stateStore: createFileStateStore(stateFile),
    clock: scaledClock(SPEEDUP),
    logger,
    bootId: async () => 'memory-bench-boot',
  });
  const started = performance.now();
  await agent.start();
  await done;
  await agent.stop();
  print({ done: true, client: selected.client, cycles: published, seconds: (performance.now() - started) / 1000 });
  process.exit(0);
}

function holdUntilStdinCloses(sockets: Array<net.Socket | net.Server>): void {
  process.stdin.resume();
  process.stdin.on('end', () => {
    for (const s of sockets) {
      if (s instanceof net.Server) s.close();
      else s.destroy();
    }
    process.exit(0);
  });
}

async function serve(count: number): Promise<void> {
  const held: Array<net.Socket | net.Server> = [];
  let accepted = 0;
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    held.push(socket);
    if (++accepted === count) print({ ready: true });
  });
  held.push(server);
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => print({ port: (server.address() as net.AddressInfo).port }));
  holdUntilStdinCloses(held);
}

/** The `i`th client's own loopback source address (127.1.0.0/16 upwards), for a peer per connection. */
const distinctSource = (i: number) => `127.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

async function connect(port: number, count: number, distinctPeers: boolean): Promise<void> {
  const sockets: net.Socket[] = [];
  holdUntilStdinCloses(sockets);
  try {
    for (let opened = 0; opened < count; ) {
      const batch = Math.min(500, count - opened);
      const first = opened;
      await Promise.all(
        Array.from({ length: batch }, async (_, i) => {
          const socket = net.connect({ host: '127.0.0.1', port, ...(distinctPeers ? { localAddress: distinctSource(first + i) } : {}) });
          sockets.push(socket);
          await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
        }),
      );
      opened += batch;
    }
    print({ ready: true });
  } catch (error) {
    print({ error: String(error) });
  }
}

const [mode, first = '', second = '', third = ''] = process.argv.slice(2);
const run =
  mode === 'sample'
    ? sample(first, Number(second))
    : mode === 'idle'
      ? idle(first)
      : mode === 'serve'
        ? serve(Number(first))
        : mode === 'connect'
          ? connect(Number(first), Number(second), third === 'distinct')
          : mode === 'agent'
            ? agentCycles(first, Number(second), process.argv[5] ?? '')
            : Promise.reject(new Error(`unknown mode ${mode}`));
run.catch((error: unknown) => {
  print({ error: String(error) });
  process.exitCode = 1;
});
