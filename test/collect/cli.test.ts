import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GENERATED_BOOT_ID, writeGeneratedProc } from '../fixtures/proc/generate';
import { COLLECT_HELP, parseCustomMetricList, runCollect } from '../../src/collect/cli';
import { createSystemCollector } from '../../src/collect/collector';
import { validateReport } from '../../src/report/validate';

const CAPTURED = path.join(__dirname, '..', 'fixtures', 'proc', 'captured');

async function collect(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  const code = await runCollect(args, {
    createCollector: createSystemCollector,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    sleep: async (ms) => void sleeps.push(ms),
    now: () => Date.UTC(2026, 10, 22),
  });
  return { code, out, err, sleeps };
}

describe('collect command', () => {
  it('prints one valid long-name JSON report, like collector.py -n 1', async () => {
    const { code, out, err } = await collect(['--procfs-root', CAPTURED]);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const report = JSON.parse(out[0]!);
    expect(validateReport(report)).toEqual([]);
    expect(Object.keys(report.metrics).sort()).toEqual(['listening_tcp_ports', 'listening_udp_ports', 'tcp_connections']);
    expect(err.join('\n')).toContain('network_stats left out: first sample');
  });

  it('exits 1 and says so when nothing could be read (a mistyped --procfs-root)', async () => {
    const { code, err } = await collect(['--procfs-root', path.join(CAPTURED, 'no-such-dir')]);
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/error: nothing could be read under .*no-such-dir .*is --procfs-root a procfs\?/);
  });

  it('prints N short-name reports S seconds apart, with network_stats from the second on', async () => {
    const { code, out, sleeps } = await collect(['--procfs-root', CAPTURED, '-n', '2', '-s', '5', '--names', 'short']);
    expect(code).toBe(0);
    expect(sleeps).toEqual([5000]);
    const [first, second] = out.map((t) => JSON.parse(t));
    expect(first.met.ns).toBeUndefined();
    expect(second.met.ns).toEqual({ bi: 0, bo: 0, pi: 0, po: 0 });
    expect(second.hed.rid).toBeGreaterThan(first.hed.rid);
  });

  it('prints the CBOR size and the decoded report', async () => {
    const { code, out } = await collect(['--procfs-root', CAPTURED, '--format', 'cbor', '--custom-metrics', 'uptime=uptime']);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^CBOR report: \d+ bytes \(\d+ as compact JSON\)$/);
    const report = JSON.parse(out[1]!);
    expect(report.custom_metrics.uptime[0].number).toBeGreaterThan(0);
  });

  it('explains bad flags and shows help', async () => {
    const bad = await collect(['--names', 'tiny', '--format', 'xml', '-n', '0', '--custom-metrics', 'x=nothing']);
    expect(bad.code).toBe(2);
    const text = bad.err.join('\n');
    expect(text).toContain('--names must be long or short (got tiny)');
    expect(text).toContain('--format must be json or cbor (got xml)');
    expect(text).toContain('--count must be a whole number >= 1 (got 0)');
    expect(text).toContain('source must be one of');
    const help = await collect(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toEqual([COLLECT_HELP]);
    for (const flag of ['--count', '--seconds', '--names', '--format', '--custom-metrics', '--procfs-root'])
      expect(COLLECT_HELP).toContain(flag);
  });

  it('--sample prints every entry and the cumulative counters, where the report is capped', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'collect-sample-'));
    try {
      writeGeneratedProc(root, { established: 1200, listeners: 300 });
      const sampled = await collect(['--procfs-root', root, '--sample', '--custom-metrics', 'up=uptime']);
      expect(sampled.code).toBe(0);
      expect(sampled.out).toHaveLength(1);
      const sample = JSON.parse(sampled.out[0]!);
      expect(sample.listening_tcp_ports).toHaveLength(300);
      expect(sample.tcp_connections.established_connections).toHaveLength(1200);
      expect(sample.tcp_connections.total).toBe(1200);
      expect(sample.listening_udp_ports).toEqual([{ port: 68 }]);
      expect(sample.network.boot_id).toBe(GENERATED_BOOT_ID);
      expect(Object.keys(sample.network.interfaces)).toEqual(['eth0']);
      expect(sample.network.interfaces.eth0).toEqual({
        bytes_in: expect.any(Number),
        bytes_out: expect.any(Number),
        packets_in: expect.any(Number),
        packets_out: expect.any(Number),
      });
      expect(sample.custom_metrics.up).toEqual({ type: 'number', value: expect.any(Number) });
      expect(sample).toHaveProperty('problems');
      expect(sample).toHaveProperty('dropped_rows');
      const report = JSON.parse((await collect(['--procfs-root', root])).out[0]!);
      expect(report.metrics.tcp_connections.established_connections.connections).toHaveLength(500);
      expect(report.metrics.listening_tcp_ports.ports).toHaveLength(200);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('expands --custom-metrics all to every source under a valid metric name', () => {
    const all = parseCustomMetricList('all');
    expect(Object.keys(all)).toHaveLength(8);
    expect(all.disk_used_root).toEqual({ source: 'diskUsed', mountPoint: '/' });
    expect(parseCustomMetricList('d=diskUsed:/data')).toEqual({ d: { source: 'diskUsed', mountPoint: '/data' } });
  });

  it('on Windows, expands all to the sources Windows has, the disk at C:\\, and refuses load average by name', () => {
    const all = parseCustomMetricList('all', 'win32');
    expect(Object.keys(all)).toHaveLength(7);
    expect(all.load_average).toBeUndefined();
    expect(all.disk_used_root).toEqual({ source: 'diskUsed', mountPoint: 'C:\\' });
    expect(() => parseCustomMetricList('l=loadAverage', 'win32')).toThrow(/source loadAverage does not exist on Windows/);
  });
});
