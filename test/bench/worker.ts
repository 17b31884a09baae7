/**
 * The measured side of `npm run bench` (see bench.ts). Bundled with esbuild and run by plain node, like the shipped
 * agent, so neither tsx nor the orchestrator's memory is counted. One JSON line on stdout per result.
 *   sample <procfsRoot> <samples>   collect + build + encode repeatedly, and the floor (the same reads, nothing else)
 *   idle <procfsRoot>               an agent-like resident process: a few samples, then idle; reports its RSS
 *   serve <count>                   holds <count> accepted loopback connections (the server ends)
 *   connect <port> <count>          holds <count> loopback client connections
 * The socket holders exit when their stdin closes.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { createSystemCollector } from '../../src/collect/collector';
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
const print = (result: object) => process.stdout.write(`${JSON.stringify(result)}\n`);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/** One full sample as the agent does it: collect, then build and encode the report. */
async function sampleOnce(collector: ReturnType<typeof createSystemCollector>, reportId: number) {
  const collected = await collector.collect({ customMetrics: ALL_CUSTOM_METRICS, networkStatsIncludeLoopback: false });
  const sample: MetricsSample = {
    ...(collected.listeningTcpPorts ? { listeningTcpPorts: collected.listeningTcpPorts } : {}),
    ...(collected.listeningUdpPorts ? { listeningUdpPorts: collected.listeningUdpPorts } : {}),
    ...(collected.establishedConnections ? { establishedConnections: collected.establishedConnections } : {}),
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

/** The same reads the collector makes, with nothing done on the text. */
async function floorOnce(root: string): Promise<void> {
  await Promise.all([
    ...FLOOR_FILES.map((file) => fs.promises.readFile(path.join(root, file), 'latin1').catch(() => '')),
    fs.promises.readdir(root),
    fs.promises.statfs('/'),
  ]);
}

async function sample(root: string, samples: number): Promise<void> {
  const collector = createSystemCollector(root);
  // Warm-up: the first collect takes the first CPU reading (a 200 ms wait) and warms the JIT.
  await sampleOnce(collector, 1);
  await sampleOnce(collector, 2);
  const stall = monitorEventLoopDelay({ resolution: 1 });
  const sampleMs: number[] = [];
  const floorMs: number[] = [];
  let last: Awaited<ReturnType<typeof sampleOnce>> | undefined;
  let maxStallNs = 0;
  for (let i = 0; i < samples; i++) {
    let started = performance.now();
    await floorOnce(root);
    floorMs.push(performance.now() - started);
    await delay(20);
    stall.reset();
    stall.enable();
    started = performance.now();
    last = await sampleOnce(collector, 3 + i);
    sampleMs.push(performance.now() - started);
    stall.disable();
    maxStallNs = Math.max(maxStallNs, stall.max);
    await delay(20);
  }
  const tcpText = await fs.promises.readFile(path.join(root, 'net/tcp'), 'latin1');
  print({
    medianMs: median(sampleMs),
    floorMs: median(floorMs),
    maxStallMs: maxStallNs / 1e6,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MIB,
    tcpRows: tcpText.split('\n').length - 2,
    connections: last?.collected.establishedConnections?.length ?? 0,
    problems: last?.collected.problems.map((p) => `${p.subject}: ${p.message}`) ?? [],
    reportBytes: last?.bytes ?? 0,
  });
}

async function idle(root: string): Promise<void> {
  const collector = createSystemCollector(root);
  for (let i = 1; i <= 3; i++) await sampleOnce(collector, i);
  // Let the young generation empty, as it would between two reports 5 minutes apart.
  await delay(3_000);
  print({
    rssMiB: process.memoryUsage.rss() / MIB,
    heapUsedMiB: process.memoryUsage().heapUsed / MIB,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / MIB,
  });
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

async function connect(port: number, count: number): Promise<void> {
  const sockets: net.Socket[] = [];
  holdUntilStdinCloses(sockets);
  try {
    for (let opened = 0; opened < count; ) {
      const batch = Math.min(500, count - opened);
      await Promise.all(
        Array.from({ length: batch }, async () => {
          const socket = net.connect({ host: '127.0.0.1', port });
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

const [mode, first = '', second = ''] = process.argv.slice(2);
const run =
  mode === 'sample'
    ? sample(first, Number(second))
    : mode === 'idle'
      ? idle(first)
      : mode === 'serve'
        ? serve(Number(first))
        : mode === 'connect'
          ? connect(Number(first), Number(second))
          : Promise.reject(new Error(`unknown mode ${mode}`));
run.catch((error: unknown) => {
  print({ error: String(error) });
  process.exitCode = 1;
});
