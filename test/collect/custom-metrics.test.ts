import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CustomMetricSpec } from '../../src/config/definition';
import { FIRST_CPU_INTERVAL_MS, createCustomMetricsCollector, type CustomMetricsDeps } from '../../src/collect/custom-metrics';
import { systemInterfaceSource, type InterfaceAddress } from '../../src/procfs/interfaces';
import { createProcfs, type Procfs } from '../../src/procfs/procfs';
import { systemStatfs } from '../../src/procfs/statfs';

const CAPTURED = path.join(__dirname, '..', 'fixtures', 'proc', 'captured');

/** Serves each file's texts in turn (the last one repeats) and counts the reads. */
function scriptedProcfs(files: Record<string, string[]>, entries: string[] = []): Procfs & { reads: Record<string, number> } {
  const reads: Record<string, number> = {};
  return {
    root: '/scripted',
    reads,
    async readText(file) {
      const texts = files[file];
      if (!texts) throw Object.assign(new Error(`ENOENT: no such file or directory, open '/scripted/${file}'`), { code: 'ENOENT' });
      const index = reads[file] ?? 0;
      reads[file] = index + 1;
      return texts[Math.min(index, texts.length - 1)] ?? '';
    },
    async *readChunks(file) {
      yield Buffer.from(await this.readText(file), 'latin1');
    },
    listDir: async () => entries,
  };
}

const INTERFACES: InterfaceAddress[] = [
  { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
  { name: 'lo', address: '::1', family: 6, internal: true },
  { name: 'eth0', address: '192.0.2.2', family: 4, internal: false },
  { name: 'eth0', address: 'fe80::fc:ff:fe00:1%eth0', family: 6, internal: false },
  { name: 'eth0', address: '192.0.2.2', family: 4, internal: false },
  { name: 'wlan0', address: '2001:db8::7', family: 6, internal: false },
];

function collectorWith(procfs: Procfs, overrides: Partial<CustomMetricsDeps> = {}, interfaces: InterfaceAddress[] = INTERFACES) {
  const sleeps: number[] = [];
  const inner = createCustomMetricsCollector({
    procfs,
    statfs: { statfs: async () => ({ blocks: 1000, bfree: 300, bavail: 250 }) },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  const collector = { collect: (specs: Record<string, CustomMetricSpec>) => inner.collect(specs, Promise.resolve(interfaces)) };
  return { collector, sleeps };
}

const metric = (source: CustomMetricSpec['source'], mountPoint?: string): CustomMetricSpec =>
  mountPoint ? { source, mountPoint } : { source };

describe('cpuUsage', () => {
  const stat = (user: number, system: number, idle: number, iowait: number, guest = 0) =>
    `cpu  ${user} 0 ${system} ${idle} ${iowait} 0 0 0 ${guest} 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n`;

  it('spans a short wait on the first collect, then the time since the previous collect', async () => {
    const procfs = scriptedProcfs({ stat: [stat(100, 100, 800, 0), stat(150, 150, 880, 20, 999), stat(150, 450, 980, 20)] });
    const { collector, sleeps } = collectorWith(procfs);
    // busy 200 -> 300 of total 1000 -> 1200 ticks (guest is already inside user)
    expect(await collector.collect({ cpu: metric('cpuUsage') })).toEqual({ values: { cpu: { type: 'number', value: 50 } }, problems: [] });
    expect(sleeps).toEqual([FIRST_CPU_INTERVAL_MS]);
    // busy 300 -> 600 of 1200 -> 1600
    expect(await collector.collect({ cpu: metric('cpuUsage') })).toEqual({ values: { cpu: { type: 'number', value: 75 } }, problems: [] });
    expect(sleeps).toHaveLength(1);
    expect(procfs.reads.stat).toBe(3);
  });

  it('reports a problem when the counters do not move', async () => {
    const { collector } = collectorWith(scriptedProcfs({ stat: [stat(1, 1, 1, 1)] }));
    const result = await collector.collect({ cpu: metric('cpuUsage') });
    expect(result.values).toEqual({});
    expect(result.problems).toEqual([{ subject: 'custom_metrics.cpu', message: expect.stringContaining('did not advance') }]);
  });

  it('refuses a /proc/stat without the aggregate line', async () => {
    const { collector } = collectorWith(scriptedProcfs({ stat: ['cpu0 1 2 3 4\n'] }));
    expect((await collector.collect({ cpu: metric('cpuUsage') })).problems[0]?.message).toMatch(/no aggregate "cpu" line/);
  });
});

describe('the other sources', () => {
  it('reads the captured files', async () => {
    const { collector } = collectorWith(createProcfs(CAPTURED));
    const result = await collector.collect({ mem: metric('memoryUsed'), up: metric('uptime'), load: metric('loadAverage') });
    const uptime = Number(fs.readFileSync(path.join(CAPTURED, 'uptime'), 'latin1').split(' ')[0]);
    const load = fs.readFileSync(path.join(CAPTURED, 'loadavg'), 'latin1').split(' ').slice(0, 3).map(Number);
    expect(result.problems).toEqual([]);
    expect(result.values.up).toEqual({ type: 'number', value: Math.round(uptime * 100) / 100 });
    expect(result.values.load).toEqual({ type: 'number-list', value: load });
    const memory = result.values.mem;
    expect(memory?.type === 'number' && memory.value > 0 && memory.value < 100).toBe(true);
  });

  it('computes memory used from MemAvailable, rounded to two decimals', async () => {
    const { collector } = collectorWith(
      scriptedProcfs({ meminfo: ['MemTotal:  3000000 kB\nMemFree:  100 kB\nMemAvailable:  1000000 kB\n'] }),
    );
    expect((await collector.collect({ mem: metric('memoryUsed') })).values).toEqual({ mem: { type: 'number', value: 66.67 } });
  });

  it('computes disk used like df, from the mount point asked for', async () => {
    const asked: string[] = [];
    const { collector } = collectorWith(scriptedProcfs({}), {
      statfs: {
        statfs: async (mountPoint) => {
          asked.push(mountPoint);
          return { blocks: 1000, bfree: 300, bavail: 250 };
        },
      },
    });
    const result = await collector.collect({ root: metric('diskUsed'), data: metric('diskUsed', '/data') });
    // (1000 - 300) / (1000 - 300 + 250)
    expect(result.values).toEqual({ root: { type: 'number', value: 73.68 }, data: { type: 'number', value: 73.68 } });
    expect(asked.sort()).toEqual(['/', '/data']);
  });

  it('counts the numeric entries of the procfs root', async () => {
    const { collector } = collectorWith(scriptedProcfs({}, ['1', '42', '1234', 'self', 'net', 'sys', '12a']));
    expect((await collector.collect({ procs: metric('processCount') })).values).toEqual({ procs: { type: 'number', value: 3 } });
  });

  it('lists non-loopback addresses (zone ids stripped, once each) and interface names', async () => {
    const { collector } = collectorWith(scriptedProcfs({}));
    expect((await collector.collect({ ips: metric('ipAddresses'), names: metric('interfaceNames') })).values).toEqual({
      ips: { type: 'ip-address-list', value: ['192.0.2.2', 'fe80::fc:ff:fe00:1', '2001:db8::7'] },
      names: { type: 'string-list', value: ['eth0', 'wlan0'] },
    });
  });

  it('leaves a failing metric out with a problem, keeps the others and their order', async () => {
    const procfs = scriptedProcfs({ uptime: ['100.123 5\n'], meminfo: ['MemTotal: 10 kB\n'] });
    const result = await collectorWith(procfs).collector.collect({
      a: metric('uptime'),
      b: metric('loadAverage'),
      c: metric('memoryUsed'),
      d: metric('uptime'),
    });
    expect(result.values).toEqual({ a: { type: 'number', value: 100.12 }, d: { type: 'number', value: 100.12 } });
    expect(Object.keys(result.values)).toEqual(['a', 'd']);
    expect(procfs.reads.uptime).toBe(1);
    expect(result.problems).toEqual([
      { subject: 'custom_metrics.b', message: expect.stringContaining('ENOENT') },
      { subject: 'custom_metrics.c', message: '/proc/meminfo has no MemAvailable' },
    ]);
  });
});

describe('range checks at the source', () => {
  it.each<[string, Record<string, string[]>, CustomMetricSpec['source'], RegExp]>([
    ['a negative uptime', { uptime: ['-5.25 3\n'] }, 'uptime', /\/proc\/uptime: -5.25 is negative/],
    ['a NaN uptime', { uptime: ['nan 3\n'] }, 'uptime', /\/proc\/uptime: no number/],
    ['a negative load average', { loadavg: ['0.5 -0.25 0.1 1/80 99\n'] }, 'loadAverage', /\/proc\/loadavg: -0.25 is negative/],
    ['an infinite load average', { loadavg: ['0.5 Infinity 0.1 1/80 99\n'] }, 'loadAverage', /\/proc\/loadavg: no number/],
    ['memory available above the total', { meminfo: ['MemTotal: 10 kB\nMemAvailable: 20 kB\n'] }, 'memoryUsed', /percentage/],
  ])('leaves out %s with a warning', async (_name, files, source, message) => {
    const result = await collectorWith(scriptedProcfs(files)).collector.collect({ bad: metric(source), up: metric('processCount') });
    expect(result.values).toEqual({ up: { type: 'number', value: 0 } });
    expect(result.problems).toEqual([{ subject: 'custom_metrics.bad', message: expect.stringMatching(message) }]);
  });

  it('leaves out a disk percentage from impossible statfs counts', async () => {
    const { collector } = collectorWith(scriptedProcfs({}), { statfs: { statfs: async () => ({ blocks: 10, bfree: 20, bavail: 5 }) } });
    const result = await collector.collect({ disk: metric('diskUsed') });
    expect(result.values).toEqual({});
    expect(result.problems).toEqual([
      { subject: 'custom_metrics.disk', message: expect.stringMatching(/statfs \/: cannot make a percentage/) },
    ]);
  });
});

describe('on this machine', () => {
  it('reads every source from the real /proc, statfs and interfaces', async () => {
    const { collector } = collectorWith(createProcfs('/proc'), { statfs: systemStatfs() }, systemInterfaceSource().list());
    const sources = ['memoryUsed', 'diskUsed', 'uptime', 'processCount', 'loadAverage', 'ipAddresses', 'interfaceNames'] as const;
    const result = await collector.collect(
      Object.fromEntries(sources.map((s) => [s, metric(s, s === 'diskUsed' ? os.tmpdir() : undefined)])),
    );
    expect(result.problems).toEqual([]);
    expect(Object.keys(result.values)).toEqual([...sources]);
    const processes = result.values.processCount;
    expect(processes?.type === 'number' && processes.value >= 1).toBe(true);
  });
});
