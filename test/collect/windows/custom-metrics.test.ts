import type { CpuInfo } from 'node:os';
import { cpuTicksOf, createWindowsCustomMetrics, type WindowsSystem } from '../../../src/collect/windows/custom-metrics';
import type { InterfaceAddress } from '../../../src/procfs/interfaces';

const cpu = (user: number, sys: number, idle: number, irq = 0, nice = 0): CpuInfo => ({
  model: 'x',
  speed: 1,
  times: { user, nice, sys, idle, irq },
});

function fakeSystem(cpuReadings: CpuInfo[][]): WindowsSystem & { reads: number } {
  const system = {
    reads: 0,
    cpus: () => cpuReadings[Math.min(system.reads++, cpuReadings.length - 1)] as CpuInfo[],
    totalmem: () => 8_000,
    freemem: () => 2_000,
    uptime: () => 4321.5,
  };
  return system;
}

const INTERFACES: InterfaceAddress[] = [
  { name: 'Loopback Pseudo-Interface 1', address: '127.0.0.1', family: 4, internal: true },
  { name: 'Ethernet 2', address: '192.0.2.7', family: 4, internal: false },
  { name: 'Ethernet 2', address: 'fe80::1%7', family: 6, internal: false },
];

function collector(
  system: WindowsSystem,
  overrides: {
    processCount?: () => number;
    statfs?: (mountPoint: string) => Promise<{ blocks: number; bfree: number; bavail: number }>;
  } = {},
) {
  const mounts: string[] = [];
  const sleeps: number[] = [];
  const metrics = createWindowsCustomMetrics({
    system,
    statfs: {
      statfs: async (mountPoint) => {
        mounts.push(mountPoint);
        return overrides.statfs ? overrides.statfs(mountPoint) : { blocks: 1000, bfree: 250, bavail: 200 };
      },
    },
    processCount: overrides.processCount ?? (() => 87),
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { metrics, mounts, sleeps };
}

describe('Windows custom metrics', () => {
  it('reads every Windows source without spawning anything', async () => {
    const system = fakeSystem([
      [cpu(100, 50, 850), cpu(100, 50, 850)],
      [cpu(160, 80, 910, 10), cpu(130, 60, 960)],
    ]);
    const { metrics, mounts, sleeps } = collector(system);
    const result = await metrics.collect(
      {
        cpu: { source: 'cpuUsage' },
        mem: { source: 'memoryUsed' },
        disk_c: { source: 'diskUsed', mountPoint: 'D:\\' },
        disk_default: { source: 'diskUsed' },
        up: { source: 'uptime' },
        procs: { source: 'processCount' },
        ips: { source: 'ipAddresses' },
        names: { source: 'interfaceNames' },
      },
      Promise.resolve(INTERFACES),
    );
    expect(result.problems).toEqual([]);
    // Between the readings: busy (60+30+10) + (30+10) = 140 ms of 310 ms.
    expect(result.values).toEqual({
      cpu: { type: 'number', value: Math.round((140 / 310) * 10000) / 100 },
      mem: { type: 'number', value: 75 },
      disk_c: { type: 'number', value: Math.round((750 / 950) * 10000) / 100 },
      disk_default: { type: 'number', value: Math.round((750 / 950) * 10000) / 100 },
      up: { type: 'number', value: 4321.5 },
      procs: { type: 'number', value: 87 },
      ips: { type: 'ip-address-list', value: ['192.0.2.7', 'fe80::1'] },
      names: { type: 'string-list', value: ['Ethernet 2'] },
    });
    expect(mounts.sort()).toEqual(['C:\\', 'D:\\']);
    expect(sleeps).toEqual([200]);
  });

  it('leaves out load average, which Windows does not have, and says why', async () => {
    const { metrics } = collector(fakeSystem([[cpu(1, 1, 1)]]));
    const result = await metrics.collect({ load: { source: 'loadAverage' }, up: { source: 'uptime' } }, Promise.resolve(INTERFACES));
    expect(result.values).toEqual({ up: { type: 'number', value: 4321.5 } });
    expect(result.problems).toEqual([{ subject: 'custom_metrics.load', message: 'source "loadAverage" does not exist on this platform' }]);
  });

  it('costs only its metric when a source fails', async () => {
    const { metrics } = collector(fakeSystem([[cpu(1, 1, 1)]]), {
      processCount: () => {
        throw new Error('K32EnumProcesses failed');
      },
      statfs: async () => ({ blocks: 0, bfree: 0, bavail: 0 }),
    });
    const result = await metrics.collect(
      { procs: { source: 'processCount' }, disk: { source: 'diskUsed' }, mem: { source: 'memoryUsed' } },
      Promise.resolve(INTERFACES),
    );
    expect(result.values).toEqual({ mem: { type: 'number', value: 75 } });
    expect(result.problems.map((p) => p.subject).sort()).toEqual(['custom_metrics.disk', 'custom_metrics.procs']);
    expect(result.problems.find((p) => p.subject === 'custom_metrics.procs')?.message).toBe('K32EnumProcesses failed');
  });

  it('adds up busy and total CPU time over the cores, and refuses malformed times', () => {
    expect(cpuTicksOf([cpu(10, 5, 80, 2, 3), cpu(1, 1, 8)])).toEqual({ busy: 22, total: 110 });
    expect(() => cpuTicksOf([])).toThrow(/lists no processor/);
    expect(() => cpuTicksOf([cpu(Number.NaN, 0, 0)])).toThrow(/malformed times/);
    expect(() => cpuTicksOf([cpu(-1, 0, 0)])).toThrow(/malformed times/);
  });
});
