/**
 * The custom metrics a Windows core can have, read without spawning anything (systeminformation would run PowerShell
 * or wmic per call): CPU from `os.cpus()` time deltas, memory from `os.totalmem()/freemem()` (GlobalMemoryStatusEx:
 * free is the memory available to processes, as MemAvailable on Linux), disk from statfs on a drive
 * (GetDiskFreeSpaceExW), uptime from `os.uptime()`, the process count from K32EnumProcesses. Load average does not
 * exist on Windows (`os.loadavg()` is always zeros): the configuration refuses it there (src/config/platform.ts).
 */
import type { CpuInfo } from 'node:os';
import { DEFAULT_WINDOWS_MOUNT_POINT } from '../../config/definition';
import type { InterfaceAddress } from '../../procfs/interfaces';
import type { StatfsSource } from '../../procfs/statfs';
import {
  type CpuTicks,
  type CustomMetricsCollector,
  createCpuUsage,
  diskUsedPercent,
  interfaceMetricSources,
  nonNegative,
  number,
  percent,
  readCustomMetrics,
} from '../custom-metrics';

/** The parts of `node:os` the Windows metrics read. */
export interface WindowsSystem {
  cpus(): CpuInfo[];
  totalmem(): number;
  freemem(): number;
  uptime(): number;
}

export interface WindowsCustomMetricsDeps {
  system: WindowsSystem;
  statfs: StatfsSource;
  processCount: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** Busy and total CPU time over all cores, in ms: every state but idle is busy. */
export function cpuTicksOf(cpus: readonly CpuInfo[]): CpuTicks {
  if (cpus.length === 0) throw new Error('os.cpus() lists no processor');
  let busy = 0;
  let total = 0;
  for (const { times } of cpus) {
    const values = [times.user, times.nice, times.sys, times.irq, times.idle];
    if (!values.every((t) => Number.isFinite(t) && t >= 0)) throw new Error(`os.cpus(): malformed times ${JSON.stringify(times)}`);
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total };
}

export function createWindowsCustomMetrics(deps: WindowsCustomMetricsDeps): CustomMetricsCollector {
  const cpuUsage = createCpuUsage(async () => cpuTicksOf(deps.system.cpus()), deps.sleep, 'os.cpus()');
  return {
    collect: (specs, interfaces: Promise<readonly InterfaceAddress[] | undefined>) =>
      readCustomMetrics(specs, {
        cpuUsage: async () => number(await cpuUsage()),
        memoryUsed: async () => {
          const total = deps.system.totalmem();
          return number(percent(total - deps.system.freemem(), total, 'os.totalmem()/freemem()'));
        },
        diskUsed: (spec) => diskUsedPercent(deps.statfs, spec.mountPoint ?? DEFAULT_WINDOWS_MOUNT_POINT),
        uptime: async () => number(nonNegative(deps.system.uptime(), 'os.uptime()')),
        processCount: async () => number(nonNegative(deps.processCount(), 'K32EnumProcesses')),
        ...interfaceMetricSources(interfaces),
      }),
  };
}
