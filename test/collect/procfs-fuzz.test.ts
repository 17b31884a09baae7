/**
 * Seeded fuzzing of everything read from procfs: 10,000 cases, each the captured tables (plus generated ones) with a
 * few random mutations (bytes flipped, rows cut, duplicated or swapped, numbers made huge, negative or not numbers,
 * ports and states rewritten, files emptied or missing). For each: the collector never throws or hangs, and every
 * report built from what it returns passes the schema validator with no negative value anywhere.
 *
 * The files are served from memory so that 10,000 cases take seconds; the real-file boundary (FIFOs, ENOENT, /proc
 * reading a page per read) is tested in collector.test.ts and procfs.test.ts. Set FUZZ_SEED to replay another seed;
 * a failure names the seed and the case.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createCollector, toMetricsSample } from '../../src/collect/collector';
import type { CustomMetricSpec } from '../../src/config/definition';
import type { InterfaceAddress } from '../../src/procfs/interfaces';
import type { Procfs } from '../../src/procfs/procfs';
import { buildReport } from '../../src/report/build';
import { validateReport } from '../../src/report/validate';
import { computeNetworkDelta } from '../../src/state/network-delta';
import { GENERATED_INTERFACES, netDevText, socketRow, TCP_HEADER, TCP6_HEADER } from '../fixtures/proc/generate';

const CASES = 10_000;
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const CAPTURED = path.join(__dirname, '..', 'fixtures', 'proc', 'captured');
const FILES = [
  'net/tcp',
  'net/tcp6',
  'net/udp',
  'net/udp6',
  'net/dev',
  'uptime',
  'loadavg',
  'meminfo',
  'stat',
  'sys/kernel/random/boot_id',
] as const;
const CUSTOM: Record<string, CustomMetricSpec> = {
  cpu_usage: { source: 'cpuUsage' },
  memory_used: { source: 'memoryUsed' },
  disk_used: { source: 'diskUsed' },
  uptime: { source: 'uptime' },
  process_count: { source: 'processCount' },
  load_average: { source: 'loadAverage' },
  ip_addresses: { source: 'ipAddresses' },
  interface_names: { source: 'interfaceNames' },
};

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The base files: the captured ones, with more rows of each kind the report carries. */
function baseFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const file of FILES) files.set(file, fs.readFileSync(path.join(CAPTURED, file)));
  const extraTcp = [
    socketRow(90, '192.0.2.2', 22, '203.0.113.5', 51000, 0x01),
    socketRow(91, '192.0.2.2', 443, '198.51.100.7', 40000, 0x01),
    socketRow(92, '0.0.0.0', 8080, '0.0.0.0', 0, 0x0a),
  ].join('\n');
  files.set('net/tcp', Buffer.concat([files.get('net/tcp') as Buffer, Buffer.from(`${extraTcp}\n`)]));
  files.set(
    'net/tcp6',
    Buffer.concat([files.get('net/tcp6') as Buffer, Buffer.from(`${socketRow(93, '2001:db8::2', 22, '2001:db8::99', 60000, 0x01, 6)}\n`)]),
  );
  files.set(
    'net/dev',
    Buffer.from(
      netDevText([
        { name: 'lo', rx: [5000n, 50n], tx: [5000n, 50n] },
        { name: 'eth0', rx: [2n ** 63n, 2n ** 40n], tx: [9007199254740993n, 3n] },
        { name: 'veth1a2b', rx: [15n, 1n], tx: [25n, 2n] },
      ]),
    ),
  );
  return files;
}

const INTERESTING = [
  '0',
  '00000000',
  '0000',
  'FFFFFFFF',
  '18446744073709551615',
  '18446744073709551616',
  '99999999999999999999999',
  '-1',
  'NaN',
  'Infinity',
  '1e309',
  '',
  ' ',
  '\t',
  ':',
  '\n',
  '\0',
  '\xff',
  TCP_HEADER,
  TCP6_HEADER,
];

type Mutation = (bytes: Buffer, next: () => number) => Buffer | undefined;

const pick = <T>(items: readonly T[], next: () => number): T => items[Math.floor(next() * items.length)] as T;
const at = (bytes: Buffer, next: () => number) => Math.floor(next() * (bytes.length + 1));
const lines = (bytes: Buffer) => bytes.toString('latin1').split('\n');
const joined = (parts: string[]) => Buffer.from(parts.join('\n'), 'latin1');

const MUTATIONS: Mutation[] = [
  // Flip bytes.
  (bytes, next) => {
    const copy = Buffer.from(bytes);
    for (let i = 0, n = 1 + Math.floor(next() * 8); i < n && copy.length > 0; i++)
      copy[Math.floor(next() * copy.length)] = Math.floor(next() * 256);
    return copy;
  },
  // Cut the file anywhere.
  (bytes, next) => bytes.subarray(0, at(bytes, next)),
  // Insert something interesting.
  (bytes, next) => {
    const where = at(bytes, next);
    return Buffer.concat([bytes.subarray(0, where), Buffer.from(pick(INTERESTING, next), 'latin1'), bytes.subarray(where)]);
  },
  // Replace a run of hex digits or digits (an address, a port, a state, a counter) with something interesting.
  (bytes, next) => {
    const text = bytes.toString('latin1');
    const runs = [...text.matchAll(/[0-9A-Fa-f]+/g)];
    if (runs.length === 0) return bytes;
    const run = pick(runs, next);
    const start = run.index ?? 0;
    const replacement = next() < 0.5 ? pick(INTERESTING, next) : '0'.repeat(run[0].length);
    return Buffer.from(text.slice(0, start) + replacement + text.slice(start + run[0].length), 'latin1');
  },
  // Duplicate, drop or swap rows.
  (bytes, next) => {
    const rows = lines(bytes);
    const i = Math.floor(next() * rows.length);
    const j = Math.floor(next() * rows.length);
    const choice = next();
    if (choice < 0.4) rows.splice(i, 0, rows[j] ?? '');
    else if (choice < 0.7) rows.splice(i, 1);
    else [rows[i], rows[j]] = [rows[j] ?? '', rows[i] ?? ''];
    return joined(rows);
  },
  // A socket row in a state the report carries, with a port of 0 or a garbage address.
  (bytes, next) => {
    const rows = lines(bytes);
    const v6 = rows[0]?.includes('remote_address') && rows[1]?.length !== undefined && rows[1].length > 120;
    const state = pick([0x01, 0x0a, 0x07], next);
    const row = v6
      ? socketRow(500, '::', Math.floor(next() * 3), '2001:db8::5', pick([0, 1, 65535], next), state, 6)
      : socketRow(
          500,
          pick(['0.0.0.0', '127.0.0.1', '192.0.2.2'], next),
          pick([0, 22], next),
          '203.0.113.1',
          pick([0, 1, 65535], next),
          state,
        );
    rows.splice(1 + Math.floor(next() * rows.length), 0, row);
    return joined(rows);
  },
  // Empty, missing, or whitespace only.
  (_bytes, next) => pick([Buffer.alloc(0), undefined, Buffer.from('\n\n'), Buffer.from(' \t ')], next),
  // Numbers negative or huge in counters and readings.
  (bytes, next) => {
    const text = bytes.toString('latin1');
    const numbers = [...text.matchAll(/\d+(\.\d+)?/g)];
    if (numbers.length === 0) return bytes;
    const found = pick(numbers, next);
    const start = found.index ?? 0;
    const replacement = pick(['-1', '-0.5', '18446744073709551616', '1e400', '9007199254740993', '0'], next);
    return Buffer.from(text.slice(0, start) + replacement + text.slice(start + found[0].length), 'latin1');
  },
];

function mutated(base: Map<string, Buffer>, next: () => number): Map<string, Buffer | undefined> {
  const files = new Map<string, Buffer | undefined>(base);
  for (let i = 0, n = 1 + Math.floor(next() * 3); i < n; i++) {
    const file = pick(FILES, next);
    const bytes = files.get(file);
    files.set(file, bytes === undefined ? undefined : pick(MUTATIONS, next)(bytes, next));
  }
  return files;
}

function memoryProcfs(files: Map<string, Buffer | undefined>, next: () => number): Procfs {
  const get = (file: string): Buffer => {
    const bytes = files.get(file);
    if (bytes === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
    return bytes;
  };
  // Random piece sizes, so that rows are cut at every place across chunk boundaries.
  const pieceLength = 1 + Math.floor(next() * 300);
  return {
    root: '/fuzz',
    readText: async (file) => get(file).toString('latin1'),
    listDir: async () => ['1', '42', 'self', 'net', String(Math.floor(next() * 1e6))],
    readChunks: (file) => ({
      async *[Symbol.asyncIterator]() {
        const bytes = get(file);
        for (let start = 0; start < bytes.length; start += pieceLength) yield bytes.subarray(start, start + pieceLength);
      },
    }),
  };
}

/** Paths of negative numbers, NaN or infinities in a report document. */
function badNumbers(value: unknown, where = 'report'): string[] {
  if (typeof value === 'bigint') return value < 0n ? [`${where}: ${value}`] : [];
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? [] : [`${where}: ${value}`];
  if (Array.isArray(value)) return value.flatMap((item, index) => badNumbers(item, `${where}[${index}]`));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([key, item]) => badNumbers(item, `${where}.${key}`));
  return [];
}

describe(`procfs fuzzing (seed ${SEED}, ${CASES} cases)`, () => {
  it('never throws or hangs, and every report passes the validator with no negative value', async () => {
    const base = baseFiles();
    const baseline = await createCollector({
      procfs: memoryProcfs(base, random(SEED)),
      interfaces: { list: () => GENERATED_INTERFACES },
      statfs: { statfs: async () => ({ blocks: 1000, bfree: 300, bavail: 250 }) },
      sleep: async () => undefined,
    }).collect({ customMetrics: CUSTOM, networkStatsIncludeLoopback: false });
    expect(baseline.network).toBeDefined();

    const failures: string[] = [];
    let reportsWithConnections = 0;
    for (let index = 0; index < CASES && failures.length < 5; index++) {
      const next = random(SEED ^ Math.imul(index + 1, 0x9e3779b1));
      const interfaces: InterfaceAddress[] = next() < 0.1 ? [] : GENERATED_INTERFACES;
      const collector = createCollector({
        procfs: memoryProcfs(mutated(base, next), next),
        interfaces: { list: () => interfaces },
        statfs: {
          statfs: async () =>
            pick(
              [
                { blocks: 1000, bfree: 300, bavail: 250 },
                { blocks: 0, bfree: 0, bavail: 0 },
              ],
              next,
            ),
        },
        sleep: async () => undefined,
      });
      const where = `case ${index} (FUZZ_SEED=${SEED})`;
      try {
        const sample = await collector.collect({ customMetrics: CUSTOM, networkStatsIncludeLoopback: next() < 0.3 });
        const delta = sample.network ? computeNetworkDelta(baseline.network, sample.network) : undefined;
        const built = buildReport(toMetricsSample(sample, delta?.delta), {
          reportId: 1_700_000_000 + index,
          shortNames: next() < 0.5,
          format: next() < 0.5 ? 'json' : 'cbor',
          maxListedPorts: 1 + Math.floor(next() * 50),
          maxListedConnections: 1 + Math.floor(next() * 50),
          maxReportBytes: 128 * 1024,
        });
        const problems = [...validateReport(built.document), ...badNumbers(built.document)];
        if (problems.length > 0) failures.push(`${where}: ${problems.slice(0, 3).join('; ')}`);
        if (sample.establishedConnections?.length) reportsWithConnections++;
      } catch (error) {
        failures.push(`${where}: threw ${error instanceof Error ? error.stack : String(error)}`);
      }
    }
    expect(failures).toEqual([]);
    // The mutations leave most tables readable: the reports are not trivially empty.
    expect(reportsWithConnections).toBeGreaterThan(CASES / 2);
  });
});
