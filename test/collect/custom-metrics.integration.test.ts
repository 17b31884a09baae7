/**
 * An independent oracle for the custom metrics: the agent's collector reads /proc, statfs and getifaddrs itself;
 * systeminformation gets the same facts its own way (its own /proc parsing, df, ps, os module). Both read the live
 * system a moment apart, so each comparison allows for what can change in between.
 */
import si from 'systeminformation';
import type { CustomMetricSpec } from '../../src/config/definition';
import { createSystemCollector } from '../../src/collect/collector';
import type { CustomMetricValue } from '../../src/metrics/types';

const SPECS: Record<string, CustomMetricSpec> = {
  memory: { source: 'memoryUsed' },
  disk: { source: 'diskUsed', mountPoint: '/' },
  load: { source: 'loadAverage' },
  uptime: { source: 'uptime' },
  processes: { source: 'processCount' },
  names: { source: 'interfaceNames' },
  addresses: { source: 'ipAddresses' },
};

let agent: Record<string, CustomMetricValue>;

beforeAll(async () => {
  const sample = await createSystemCollector('/proc').collect({ customMetrics: SPECS, networkStatsIncludeLoopback: false });
  expect(sample.problems.filter((p) => p.subject.startsWith('custom_metrics'))).toEqual([]);
  agent = sample.customMetrics;
});

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

describe('custom metrics agree with systeminformation', () => {
  it('memory used %: within 3 points of (total - available) / total', async () => {
    const mem = await si.mem();
    expect(Math.abs(numberOf('memory') - ((mem.total - mem.available) / mem.total) * 100)).toBeLessThan(3);
  });

  it("disk used % at /: within 1 point of df's Use%", async () => {
    const root = (await si.fsSize()).find((fs) => fs.mount === '/');
    if (!root) throw new Error('systeminformation lists no file system mounted at /');
    expect(Math.abs(numberOf('disk') - root.use)).toBeLessThan(1);
  });

  it('load average: three values whose largest matches systeminformation within 0.5', async () => {
    // systeminformation's avgLoad is the largest of the three averages per core, rounded to two decimals.
    const [{ avgLoad }, { cores }] = await Promise.all([si.currentLoad(), si.cpu()]);
    const load = listOf('load') as number[];
    expect(load).toHaveLength(3);
    expect(Math.abs(Math.max(...load) - avgLoad * cores)).toBeLessThan(0.5 + 0.005 * cores);
  });

  it('uptime: within 5 s', () => {
    expect(Math.abs(numberOf('uptime') - si.time().uptime)).toBeLessThan(5);
  });

  it('process count: within 10% (processes start and end between the two reads)', async () => {
    const { all } = await si.processes();
    expect(Math.abs(numberOf('processes') - all)).toBeLessThanOrEqual(Math.max(5, all * 0.1));
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
