// Read from procfs, statfs and getifaddrs directly rather than through systeminformation: its currentLoad() runs
// execSync('cat /proc/stat | grep cpu') and blocks the event loop, fsSize() spawns df, and mem() reads a hard-coded
// /proc/meminfo, so none of them honours procfsRoot (and loading it costs ~10 MiB of RSS on small boards).
import type { CustomMetricSource, CustomMetricSpec } from '../config/definition';
import type { CustomMetricValue, Problem } from '../metrics/types';
import type { InterfaceAddress } from '../procfs/interfaces';
import type { Procfs } from '../procfs/procfs';
import type { StatfsSource } from '../procfs/statfs';
import { describeError } from '../util/describe-error';
import { canonicalIp } from './ip';

export interface CustomMetricsDeps {
  procfs: Procfs;
  statfs: StatfsSource;
  sleep: (ms: number) => Promise<void>;
}

export interface CustomMetricsResult {
  values: Record<string, CustomMetricValue>;
  problems: Problem[];
}

export interface CustomMetricsCollector {
  /** `interfaces`: the sample's interface list, enumerated once for the sockets and these metrics alike. */
  collect(
    specs: Record<string, CustomMetricSpec>,
    interfaces: Promise<readonly InterfaceAddress[] | undefined>,
  ): Promise<CustomMetricsResult>;
}

/** How long the first CPU reading spans when there is no earlier reading to compare with. */
export const FIRST_CPU_INTERVAL_MS = 200;
const DEFAULT_MOUNT_POINT = '/';

/** Device Defender keeps 15 significant digits; two decimals are all a percentage or a load needs. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

export function number(value: number): CustomMetricValue {
  return { type: 'number', value: round(value) };
}

export function percent(part: number, whole: number, what: string): number {
  if (!(whole > 0) || !(part >= 0) || part > whole) throw new Error(`${what}: cannot make a percentage of ${part} / ${whole}`);
  return (part / whole) * 100;
}

function field(line: string, index: number, what: string): number {
  const text = line.trim().split(/\s+/)[index];
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(value)) throw new Error(`${what}: no number in "${line.trim().slice(0, 80)}"`);
  return value;
}

/** Uptime, load averages and counts are never negative: a negative reading is a broken source, not a value to send. */
export function nonNegative(value: number, what: string): number {
  if (!(value >= 0)) throw new Error(`${what}: ${value} is negative; a broken reading is not sent`);
  return value;
}

/** Cumulative CPU time, busy and in all, in any unit. */
export interface CpuTicks {
  busy: number;
  total: number;
}

/** The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal (guest time is inside user). */
function parseCpuTicks(stat: string): CpuTicks {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('/proc/stat has no aggregate "cpu" line');
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 4 || !ticks.every((t) => Number.isSafeInteger(t) && t >= 0))
    throw new Error(`/proc/stat: malformed cpu line "${line.trim()}"`);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Used % of MemTotal, counting MemAvailable (kernel >= 3.14) as free, as `free` and `top` do. */
function parseMemoryUsedPercent(meminfo: string): number {
  const kilobytes = (key: string) => {
    const line = meminfo.split('\n').find((l) => l.startsWith(`${key}:`));
    if (line === undefined) throw new Error(`/proc/meminfo has no ${key}`);
    return field(line, 1, `/proc/meminfo ${key}`);
  };
  const total = kilobytes('MemTotal');
  return percent(total - kilobytes('MemAvailable'), total, '/proc/meminfo');
}

/** What a source reads for one metric. */
type CustomMetricSourceReader = (spec: CustomMetricSpec) => Promise<CustomMetricValue>;
/** A platform's sources; a source it cannot have is absent (its configuration refuses it, see config/platform.ts). */
export type CustomMetricSources = Partial<Record<CustomMetricSource, CustomMetricSourceReader>>;

/**
 * Busy % of the CPU since the previous call, from cumulative busy and total times; the first time (or if the counters
 * did not advance) over a short wait. `what` names the source in a message.
 */
export function createCpuUsage(
  readTicks: () => Promise<CpuTicks>,
  sleep: (ms: number) => Promise<void>,
  what: string,
): () => Promise<number> {
  let previous: CpuTicks | undefined;
  return async () => {
    let before = previous;
    let now = await readTicks();
    if (before === undefined || now.total <= before.total || now.busy < before.busy) {
      before = now;
      await sleep(FIRST_CPU_INTERVAL_MS);
      now = await readTicks();
    }
    previous = now;
    if (now.total <= before.total) throw new Error(`the cpu counters in ${what} did not advance over ${FIRST_CPU_INTERVAL_MS} ms`);
    return percent(now.busy - before.busy, now.total - before.total, `${what} cpu`);
  };
}

/** Used % of a file system from its statfs block counts, like df: blocks reserved for root count neither as used nor as available. */
export async function diskUsedPercent(statfs: StatfsSource, mountPoint: string): Promise<CustomMetricValue> {
  const { blocks, bfree, bavail } = await statfs.statfs(mountPoint);
  const used = blocks - bfree;
  return number(percent(used, used + bavail, `statfs ${mountPoint}`));
}

/** The sources every platform reads from the sample's interface list. */
export function interfaceMetricSources(interfaces: Promise<readonly InterfaceAddress[] | undefined>): CustomMetricSources {
  const externalAddresses = async () => {
    const listed = await interfaces;
    if (listed === undefined) throw new Error('the network interfaces could not be listed');
    return listed.filter((a) => !a.internal);
  };
  return {
    ipAddresses: async () => ({
      type: 'ip-address-list',
      value: [...new Set((await externalAddresses()).flatMap((a) => canonicalIp(a.address) ?? []))],
    }),
    interfaceNames: async () => ({ type: 'string-list', value: [...new Set((await externalAddresses()).map((a) => a.name))] }),
  };
}

/** Reads every metric of `specs` from `sources`: one failure costs only its metric, and is described. */
export async function readCustomMetrics(
  specs: Record<string, CustomMetricSpec>,
  sources: CustomMetricSources,
): Promise<CustomMetricsResult> {
  const values: Record<string, CustomMetricValue> = {};
  const problems: Problem[] = [];
  // Metrics with the same source and mount point share one reading (and one CPU interval).
  const readings = new Map<string, Promise<CustomMetricValue>>();
  const read = (spec: CustomMetricSpec) => {
    const key = `${spec.source}:${spec.mountPoint ?? ''}`;
    let reading = readings.get(key);
    if (!reading) {
      const source = Object.hasOwn(sources, spec.source) ? sources[spec.source] : undefined;
      reading = source ? source(spec) : Promise.reject(new Error(`source "${String(spec.source)}" does not exist on this platform`));
      readings.set(key, reading);
    }
    return reading;
  };
  const names = Object.keys(specs);
  const settled = await Promise.allSettled(names.map((name) => read(specs[name] as CustomMetricSpec)));
  settled.forEach((result, index) => {
    const name = names[index] ?? '';
    if (result.status === 'fulfilled') values[name] = result.value;
    else problems.push({ subject: `custom_metrics.${name}`, message: describeError(result.reason) });
  });
  return { values, problems };
}

export function createCustomMetricsCollector(deps: CustomMetricsDeps): CustomMetricsCollector {
  const cpuUsage = createCpuUsage(async () => parseCpuTicks(await deps.procfs.readText('stat')), deps.sleep, '/proc/stat');
  const linuxSources: CustomMetricSources = {
    cpuUsage: async () => number(await cpuUsage()),
    memoryUsed: async () => number(parseMemoryUsedPercent(await deps.procfs.readText('meminfo'))),
    diskUsed: (spec) => diskUsedPercent(deps.statfs, spec.mountPoint ?? DEFAULT_MOUNT_POINT),
    uptime: async () => number(nonNegative(field(await deps.procfs.readText('uptime'), 0, '/proc/uptime'), '/proc/uptime')),
    processCount: async () => number((await deps.procfs.listDir('.')).filter((entry) => /^\d+$/.test(entry)).length),
    loadAverage: async () => {
      const loadavg = await deps.procfs.readText('loadavg');
      return {
        type: 'number-list',
        value: [0, 1, 2].map((i) => round(nonNegative(field(loadavg, i, '/proc/loadavg'), '/proc/loadavg'))),
      };
    },
  };
  return {
    collect: (specs, interfaces) => readCustomMetrics(specs, { ...linuxSources, ...interfaceMetricSources(interfaces) }),
  };
}
