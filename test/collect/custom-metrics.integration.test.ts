/**
 * The custom metrics through the system collector (the real procfs adapter, statfs and getifaddrs). What /proc says
 * (memory, load, uptime, processes) is read from a procfs root of the test's own, in the kernel's format (the
 * captured files, test/fixtures/proc/captured) with values the test chose, so the host's load and processes decide
 * nothing. Disk and interfaces come from the live system, checked against an independent oracle: systeminformation,
 * which gets the same facts its own way (df, its own os module calls).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import si from 'systeminformation';
import type { CustomMetricSpec } from '../../src/config/definition';
import { createSystemCollector } from '../../src/collect/collector';
import type { CustomMetricValue } from '../../src/metrics/types';

const CAPTURED = path.join(__dirname, '..', 'fixtures', 'proc', 'captured');
const SPECS: Record<string, CustomMetricSpec> = {
  memory: { source: 'memoryUsed' },
  disk: { source: 'diskUsed', mountPoint: '/' },
  load: { source: 'loadAverage' },
  uptime: { source: 'uptime' },
  processes: { source: 'processCount' },
  names: { source: 'interfaceNames' },
  addresses: { source: 'ipAddresses' },
};
/** The device's /proc: 75% of its memory in use, its load averages, its uptime and its process ids. */
const MEM_TOTAL_KB = 1_000_000;
const MEM_AVAILABLE_KB = 250_000;
const LOADAVG = '7.31 2.08 0.96 3/811 40213\n';
const UPTIME = '12345.67 23456.78\n';
const PIDS = ['1', '2', '311', '40213'];

let agent: Record<string, CustomMetricValue>;
let procRoot: string;

/** The captured /proc with the values above in place of the captured ones. */
function writeDeviceProc(root: string): void {
  fs.cpSync(CAPTURED, root, { recursive: true });
  const meminfo = fs
    .readFileSync(path.join(CAPTURED, 'meminfo'), 'utf8')
    .replace(/^MemTotal:\s+\d+ kB$/m, `MemTotal:       ${MEM_TOTAL_KB} kB`)
    .replace(/^MemAvailable:\s+\d+ kB$/m, `MemAvailable:   ${MEM_AVAILABLE_KB} kB`);
  fs.writeFileSync(path.join(root, 'meminfo'), meminfo);
  fs.writeFileSync(path.join(root, 'loadavg'), LOADAVG);
  fs.writeFileSync(path.join(root, 'uptime'), UPTIME);
  for (const pid of PIDS) fs.mkdirSync(path.join(root, pid));
  fs.mkdirSync(path.join(root, 'self'));
}

beforeAll(async () => {
  procRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'custom-metrics-proc-'));
  writeDeviceProc(procRoot);
  const sample = await createSystemCollector(procRoot).collect({ customMetrics: SPECS, networkStatsIncludeLoopback: false });
  expect(sample.problems.filter((p) => p.subject.startsWith('custom_metrics'))).toEqual([]);
  agent = sample.customMetrics;
});
afterAll(() => fs.rmSync(procRoot, { recursive: true, force: true }));

function numberOf(name: string): number {
  const value = agent[name];
  if (value?.type !== 'number') throw new Error(`${name} is not a number metric: ${JSON.stringify(value)}`);
  return value.value;
}

function listOf(name: string): Array<string | number> {
  const value = agent[name];
  if (value === undefined || value.type === 'number') throw new Error(`${name} is not a list metric: ${JSON.stringify(value)}`);
  return value.value;
}

describe("custom metrics from the device's /proc", () => {
  it('memory used %: (MemTotal - MemAvailable) / MemTotal', () => {
    expect(numberOf('memory')).toBe(75);
  });

  it('load average: the three averages of loadavg, in order', () => {
    expect(listOf('load')).toEqual([7.31, 2.08, 0.96]);
  });

  it('uptime: the first field of uptime, in seconds', () => {
    expect(numberOf('uptime')).toBe(12345.67);
  });

  it('process count: the numeric entries of the root, and nothing else', () => {
    expect(numberOf('processes')).toBe(PIDS.length);
  });
});

describe('custom metrics of the live system agree with systeminformation', () => {
  it("disk used % at /: within 1 point of df's Use%", async () => {
    const root = (await si.fsSize()).find((fs) => fs.mount === '/');
    if (!root) throw new Error('systeminformation lists no file system mounted at /');
    expect(Math.abs(numberOf('disk') - root.use)).toBeLessThan(1);
  });

  it('interface names: the non-loopback interfaces that have an address', async () => {
    const interfaces = await si.networkInterfaces();
    const withAddress = interfaces.filter((i) => !i.internal && (i.ip4 !== '' || i.ip6 !== '')).map((i) => i.iface);
    expect([...listOf('names')].sort()).toEqual([...new Set(withAddress)].sort());
  });

  it('addresses: every address systeminformation sees on those interfaces, and none on loopback', async () => {
    const interfaces = await si.networkInterfaces();
    const addresses = listOf('addresses');
    for (const i of interfaces.filter((entry) => !entry.internal)) {
      if (i.ip4 !== '') expect(addresses).toContain(i.ip4);
      if (i.ip6 !== '') expect(addresses).toContain(i.ip6);
    }
    for (const i of interfaces.filter((entry) => entry.internal)) {
      expect(addresses).not.toContain(i.ip4);
      if (i.ip6 !== '') expect(addresses).not.toContain(i.ip6);
    }
  });
});
