import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCollector, toMetricsSample, type CollectOptions } from '../../src/collect/collector';
import { buildReport } from '../../src/report/build';
import { validateReport } from '../../src/report/validate';
import type { InterfaceAddress } from '../../src/procfs/interfaces';
import { createProcfs, type Procfs } from '../../src/procfs/procfs';
import { parseNetDev } from '../../src/collect/netdev';
import { dottedIpv4 } from '../../src/collect/ip';
import { GENERATED_BOOT_ID, GENERATED_INTERFACES, netDevText, socketRow, writeGeneratedProc } from '../fixtures/proc/generate';
import { makeFifo } from '../support/fifo';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'proc');
const CAPTURED = path.join(FIXTURES, 'captured');
const EDGE = path.join(FIXTURES, 'edge-cases');

interface Manifest {
  loopbackName: string;
  externalInterface: string;
  tcp: Record<'loopback4' | 'loopback6' | 'wildcard' | 'dualStack' | 'external4' | 'external6', number>;
  established: Array<{ localPort: number; remoteAddress: string; remotePort: number }>;
  udp: Record<'loopback4' | 'loopback6' | 'wildcard' | 'connected4' | 'connected6', number>;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const NO_CUSTOM: CollectOptions = { customMetrics: {}, networkStatsIncludeLoopback: false };

function collectorFor(root: string, interfaces: InterfaceAddress[]) {
  return createCollector({
    procfs: createProcfs(root),
    interfaces: { list: () => interfaces },
    statfs: { statfs: async () => ({ blocks: 100, bfree: 50, bavail: 50 }) },
    sleep: async () => undefined,
  });
}

describe('collect from the captured /proc', () => {
  const manifest = readJson<Manifest>(path.join(CAPTURED, 'manifest.json'));
  const collector = collectorFor(CAPTURED, readJson<InterfaceAddress[]>(path.join(CAPTURED, 'interfaces.json')));
  const lo = manifest.loopbackName;
  const eth = manifest.externalInterface;

  it('reports each listener once with its interface, wildcards without one', async () => {
    const sample = await collector.collect(NO_CUSTOM);
    expect(sample.problems).toEqual([]);
    const ports = sample.listeningTcpPorts ?? [];
    expect(ports).toEqual(
      expect.arrayContaining([
        { port: manifest.tcp.loopback4, interface: lo },
        { port: manifest.tcp.loopback6, interface: lo },
        { port: manifest.tcp.wildcard },
        { port: manifest.tcp.dualStack },
        { port: manifest.tcp.external4, interface: eth },
        { port: manifest.tcp.external6, interface: eth },
      ]),
    );
    expect(ports.filter((p) => p.port === manifest.tcp.wildcard)).toHaveLength(1);
  });

  it('reports UDP sockets that are bound but not connected, and not connected clients', async () => {
    const ports = (await collector.collect(NO_CUSTOM)).listeningUdpPorts ?? [];
    expect(ports).toEqual(
      [
        { port: manifest.udp.loopback4, interface: lo },
        { port: manifest.udp.wildcard },
        { port: manifest.udp.loopback6, interface: lo },
      ].sort((a, b) => a.port - b.port),
    );
  });

  it('reports both ends of every established connection, IPv4-mapped as IPv4, IPv6 bracketed', async () => {
    const connections = (await collector.collect(NO_CUSTOM)).establishedConnections ?? [];
    const endpoint = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);
    const interfaceOf = (address: string) => (address === '127.0.0.1' || address === '::1' ? lo : eth);
    const expected = manifest.established.flatMap((c) => [
      { remoteAddr: endpoint(c.remoteAddress, c.remotePort), localPort: c.localPort, localInterface: interfaceOf(c.remoteAddress) },
      { remoteAddr: endpoint(c.remoteAddress, c.localPort), localPort: c.remotePort, localInterface: interfaceOf(c.remoteAddress) },
    ]);
    expect([...connections].sort((a, b) => a.localPort - b.localPort)).toEqual(expected.sort((a, b) => a.localPort - b.localPort));
  });

  it('returns the per-interface network counters with the boot id', async () => {
    const sample = await collector.collect({ customMetrics: {}, networkStatsIncludeLoopback: true });
    expect(sample.network?.bootId).toBe(fs.readFileSync(path.join(CAPTURED, 'sys/kernel/random/boot_id'), 'latin1').trim());
    expect(sample.network?.interfaces).toEqual(parseNetDev(fs.readFileSync(path.join(CAPTURED, 'net/dev'), 'latin1'), true).interfaces);
  });
});

describe('collect from the hand-made edge cases', () => {
  const interfaces: InterfaceAddress[] = [
    { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
    { name: 'eth0', address: '192.0.2.2', family: 4, internal: false },
    { name: 'eth0', address: '2001:db8::2', family: 6, internal: false },
  ];
  const collector = collectorFor(EDGE, interfaces);

  it('keeps what it could read and explains what it could not', async () => {
    const sample = await collector.collect({
      customMetrics: { mem: { source: 'memoryUsed' }, up: { source: 'uptime' }, load: { source: 'loadAverage' } },
      networkStatsIncludeLoopback: false,
    });
    expect(sample.listeningTcpPorts).toEqual([{ port: 22 }, { port: 53, interface: 'lo' }, { port: 631, interface: 'lo' }, { port: 8080 }]);
    expect(sample.establishedConnections).toEqual([
      { remoteAddr: '127.0.0.1:40000', localPort: 53, localInterface: 'lo' },
      { remoteAddr: '203.0.113.7:51000', localPort: 22, localInterface: 'eth0' },
      { remoteAddr: '[2001:db8::99]:60000', localPort: 22, localInterface: 'eth0' },
    ]);
    // net/udp is truncated: its last row is dropped and counted; net/udp6 is missing (IPv6 off), which is no problem.
    expect(sample.listeningUdpPorts).toEqual([{ port: 68 }]);
    expect(sample.droppedRows).toEqual({ 'net/udp': 1 });
    expect(sample.network).toEqual({
      bootId: 'c2a9f8d4-5b1e-4c3a-9d7f-1e2b3c4d5e6f',
      interfaces: {
        eth0: { bytesIn: 18446744073709551000n, packetsIn: 123456789012n, bytesOut: 9007199254740993n, packetsOut: 3n },
        wlan0: { bytesIn: 15n, packetsIn: 1n, bytesOut: 25n, packetsOut: 2n },
      },
    });
    expect(sample.customMetrics).toEqual({ up: { type: 'number', value: 12345.67 } });
    expect(sample.problems).toEqual([
      { subject: 'custom_metrics.mem', message: '/proc/meminfo has no MemAvailable' },
      { subject: 'custom_metrics.load', message: expect.stringContaining('ENOENT') },
    ]);
  });
});

describe('collect when files are missing or broken', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ddcol-'));
    writeGeneratedProc(root, { established: 3, listeners: 1 });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('leaves out both TCP blocks when net/tcp cannot be read, keeps the rest', async () => {
    fs.rmSync(path.join(root, 'net/tcp'));
    const sample = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(sample.listeningTcpPorts).toBeUndefined();
    expect(sample.establishedConnections).toBeUndefined();
    expect(sample.listeningUdpPorts).toEqual([{ port: 68 }]);
    expect(sample.network?.bootId).toBe(GENERATED_BOOT_ID);
    expect(sample.problems.map((p) => p.subject)).toEqual(['listening_tcp_ports', 'tcp_connections']);
    expect(sample.problems[0]?.message).toMatch(/^cannot read net\/tcp: ENOENT/);
  });

  it('drops the rows a report cannot carry, counts them by table, and the report stays valid', async () => {
    const tcp = fs.readFileSync(path.join(root, 'net/tcp'), 'latin1');
    fs.writeFileSync(
      path.join(root, 'net/tcp'),
      `${tcp}${socketRow(90, '192.0.2.2', 40000, '203.0.113.5', 0, 0x01)}\n   91: this row is garbage\n`,
    );
    const sample = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(sample.problems).toEqual([]);
    expect(sample.droppedRows).toEqual({ 'net/tcp': 2 });
    expect(sample.establishedConnections).toHaveLength(3);
    const built = buildReport(toMetricsSample(sample, undefined), {
      reportId: 1,
      shortNames: false,
      format: 'json',
      maxListedPorts: 100,
      maxListedConnections: 100,
      maxReportBytes: 128 * 1024,
    });
    expect(validateReport(built.document)).toEqual([]);
  });

  it('names no socket by an interface the socket tables’ namespace does not list, and says so', async () => {
    const foreign: InterfaceAddress[] = GENERATED_INTERFACES.map((entry) => (entry.name === 'eth0' ? { ...entry, name: 'eth9' } : entry));
    const sample = await collectorFor(root, foreign).collect(NO_CUSTOM);
    expect(sample.establishedConnections?.some((c) => c.localInterface === 'eth9')).toBe(false);
    expect(sample.problems).toEqual([
      {
        subject: 'interfaces',
        message: expect.stringMatching(/net\/dev does not list eth9: the socket tables are another network namespace/),
      },
    ]);
  });

  it('skips net/tcp6 and net/udp6 when net/sockstat6 counts no IPv6 socket, and reads them otherwise', async () => {
    fs.appendFileSync(path.join(root, 'net/tcp6'), `${socketRow(7, '2001:db8::2', 22, '2001:db8::99', 60000, 0x01, 6)}\n`);
    fs.writeFileSync(path.join(root, 'net/sockstat6'), 'TCP6: inuse 0\nUDP6: inuse 0\nUDPLITE6: inuse 0\nRAW6: inuse 0\n');
    const skipped = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(skipped.establishedConnectionsTotal).toBe(3);
    fs.writeFileSync(path.join(root, 'net/sockstat6'), 'TCP6: inuse 1\nUDP6: inuse 0\n');
    const read = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(read.establishedConnectionsTotal).toBe(4);
    expect(read.establishedConnections).toContainEqual({ remoteAddr: '[2001:db8::99]:60000', localPort: 22, localInterface: 'eth0' });
    expect(read.problems).toEqual([]);
  });

  it('gives from sample to sample what a new collector would: peers come and go, and a crowd of them leaves', async () => {
    const kept = collectorFor(root, GENERATED_INTERFACES);
    const header = fs.readFileSync(path.join(root, 'net/tcp'), 'latin1').split('\n')[0];
    const peers = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => socketRow(i, '192.0.2.2', 30000 + (i % 20000), dottedIpv4(0xcb000000 + from + i), 443, 0x01));
    const mapped = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) =>
        socketRow(i, '::ffff:192.0.2.2', 30000 + (i % 20000), `::ffff:${dottedIpv4(0xcb000000 + from + i)}`, 443, 0x01, 6),
      );
    const tcp6Header = fs.readFileSync(path.join(root, 'net/tcp6'), 'latin1').split('\n')[0];
    fs.writeFileSync(path.join(root, 'net/sockstat6'), 'TCP6: inuse 1\nUDP6: inuse 1\n');
    // [IPv4 rows, IPv4-mapped rows, distinct sockets]: a mapped row with an IPv4 row's peer and ports is that socket.
    const samples: Array<[string[], string[], number]> = [
      [peers(0, 3), [], 3],
      [peers(2, 3), mapped(0, 2), 5],
      [peers(0, 3_000), mapped(1_000, 50), 3_050],
      [peers(5_000, 2), mapped(4_000, 1), 3],
      [peers(0, 3), mapped(0, 3), 3],
    ];
    for (const [tcp, tcp6, sockets] of samples) {
      fs.writeFileSync(path.join(root, 'net/tcp'), [header, ...tcp].join('\n'));
      fs.writeFileSync(path.join(root, 'net/tcp6'), [tcp6Header, ...tcp6].join('\n'));
      const fresh = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
      const sample = await kept.collect(NO_CUSTOM);
      expect(sample).toEqual(fresh);
      expect(sample.establishedConnectionsTotal).toBe(sockets);
    }
  });

  it('treats a missing net/tcp6 as no IPv6 sockets', async () => {
    fs.rmSync(path.join(root, 'net/tcp6'));
    const sample = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(sample.problems).toEqual([]);
    expect(sample.establishedConnections).toHaveLength(3);
  });

  it('leaves out the network totals without a boot id, and on a malformed net/dev', async () => {
    fs.rmSync(path.join(root, 'sys/kernel/random/boot_id'));
    let sample = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(sample.network).toBeUndefined();
    expect(sample.problems).toEqual([{ subject: 'network_stats', message: expect.stringContaining('boot_id') }]);

    fs.writeFileSync(path.join(root, 'sys/kernel/random/boot_id'), 'not a boot id\n');
    sample = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(sample.problems).toEqual([{ subject: 'network_stats', message: expect.stringContaining('does not hold a boot id') }]);

    fs.writeFileSync(path.join(root, 'sys/kernel/random/boot_id'), GENERATED_BOOT_ID);
    fs.writeFileSync(path.join(root, 'net/dev'), 'Inter-|\n');
    sample = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(sample.network).toBeUndefined();
    expect(sample.problems).toEqual([{ subject: 'network_stats', message: expect.stringMatching(/^net\/dev .*header/) }]);
  });

  it('drops only the net/dev row with a malformed counter, counts it, and keeps network_stats', async () => {
    fs.writeFileSync(
      path.join(root, 'net/dev'),
      netDevText([
        { name: 'lo', rx: [1000n, 10n], tx: [1000n, 10n] },
        { name: 'eth0', rx: [5n, 5n], tx: [700n, 7n] },
        { name: 'eth1', rx: [2n ** 64n, 1n], tx: [1n, 1n] },
        { name: 'wlan0', rx: [9n, 9n], tx: [9n, 9n] },
      ]).replace('    700 ', '   7x00 '),
    );
    const sample = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(sample.problems).toEqual([]);
    expect(sample.droppedRows).toEqual({ 'net/dev': 2 });
    expect(sample.network?.interfaces).toEqual({ wlan0: { bytesIn: 9n, packetsIn: 9n, bytesOut: 9n, packetsOut: 9n } });
  });

  it('still reports sockets, without interfaces, when the interface list fails', async () => {
    const collector = createCollector({
      procfs: createProcfs(root),
      interfaces: {
        list: () => {
          throw new Error('getifaddrs failed');
        },
      },
      statfs: { statfs: async () => ({ blocks: 1, bfree: 1, bavail: 1 }) },
    });
    const sample = await collector.collect({ customMetrics: { ips: { source: 'ipAddresses' } }, networkStatsIncludeLoopback: false });
    expect(sample.establishedConnections?.every((c) => c.localInterface === undefined)).toBe(true);
    expect(sample.establishedConnections).toHaveLength(3);
    expect(sample.problems.map((p) => p.subject)).toEqual(['interfaces', 'custom_metrics.ips']);
  });
});

describe('collect at 10,000 connections (generated)', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ddcol-'));
    writeGeneratedProc(root, { established: 10_000, listeners: 100, mappedDuplicates: 2_000, timeWait: 5_000 });
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reports every connection once with its interface, and the wildcard listeners once', async () => {
    const sample = await collectorFor(root, GENERATED_INTERFACES).collect({ customMetrics: {}, networkStatsIncludeLoopback: true });
    expect(sample.problems).toEqual([]);
    expect(sample.listeningTcpPorts).toHaveLength(100);
    expect(sample.establishedConnections).toHaveLength(10_000);
    const byInterface = new Map<string | undefined, number>();
    for (const c of sample.establishedConnections ?? []) byInterface.set(c.localInterface, (byInterface.get(c.localInterface) ?? 0) + 1);
    expect(Object.fromEntries(byInterface)).toEqual({ eth0: 5_000, lo: 5_000 });
    const capped = await collectorFor(root, GENERATED_INTERFACES).collect({ ...NO_CUSTOM, maxListedConnections: 500 });
    expect(capped.establishedConnections).toEqual(sample.establishedConnections?.slice(0, 500));
    expect(capped.establishedConnectionsTotal).toBe(10_000);
    // The destination table holds every distinct peer of the generated connections (250), capped list or not.
    const destinations = capped.destinations!;
    const texts = Array.from({ length: destinations.count }, (_, i) => destinations.text(i));
    expect(new Set(texts).size).toBe(250);
    expect(texts.sort()).toEqual([...new Set(sample.establishedConnections?.map((c) => c.remoteAddr.split(':')[0]))].sort());
    expect(Array.from(destinations.v4.subarray(0, destinations.count)).every((word, i) => dottedIpv4(word) === destinations.text(i))).toBe(
      true,
    );
    const interfaces = sample.network?.interfaces ?? {};
    expect(Object.values(interfaces).reduce((sum, counters) => sum + counters.bytesIn, 0n)).toBe(2n ** 53n + 1n + 1000n);
  });
});

describe('collect when a source never answers', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ddhang-'));
    writeGeneratedProc(root, { established: 3, listeners: 1 });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** The real procfs, except that reads of `hungFile` never return; counts the attempts. */
  function hangingProcfs(hungFile: string): { procfs: Procfs; attempts: () => number } {
    const real = createProcfs(root);
    let attempts = 0;
    const never = <T>() => {
      attempts++;
      return new Promise<T>(() => undefined);
    };
    return {
      attempts: () => attempts,
      procfs: {
        root,
        readText: (file) => (file === hungFile ? never<string>() : real.readText(file)),
        listDir: (file) => real.listDir(file),
        readChunks: (file) =>
          file === hungFile ? { [Symbol.asyncIterator]: () => ({ next: () => never<IteratorResult<Buffer>>() }) } : real.readChunks(file),
      },
    };
  }

  it('leaves out the block of a table that never answers, keeps the rest, and does not read it again while pending', async () => {
    const { procfs, attempts } = hangingProcfs('net/tcp');
    const collector = createCollector({
      procfs,
      interfaces: { list: () => GENERATED_INTERFACES },
      statfs: { statfs: async () => ({ blocks: 100, bfree: 50, bavail: 50 }) },
      readDeadlineMs: 1000,
    });
    const first = await collector.collect(NO_CUSTOM);
    expect(first.listeningTcpPorts).toBeUndefined();
    expect(first.establishedConnections).toBeUndefined();
    expect(first.listeningUdpPorts).toEqual([{ port: 68 }]);
    expect(first.network?.bootId).toBe(GENERATED_BOOT_ID);
    expect(first.problems).toEqual([
      {
        subject: 'listening_tcp_ports',
        message: 'cannot read net/tcp: net/tcp did not answer within 1000 ms (a hung mount, a FIFO or a stuck driver)',
      },
      { subject: 'tcp_connections', message: expect.stringContaining('did not answer within 1000 ms') },
    ]);
    const second = await collector.collect(NO_CUSTOM);
    expect(second.problems[0]?.message).toMatch(
      /^cannot read net\/tcp: net\/tcp: its previous read, started \d+ s ago, has not returned yet/,
    );
    expect(second.problems.map((p) => p.subject)).toEqual(['listening_tcp_ports', 'tcp_connections']);
    expect(second.listeningUdpPorts).toEqual([{ port: 68 }]);
    expect(attempts()).toBe(1);
  });

  it('leaves out a diskUsed metric whose statfs hangs (a dead NFS mount), keeps the other custom metrics', async () => {
    let statfsCalls = 0;
    const collector = createCollector({
      procfs: createProcfs(root),
      interfaces: { list: () => GENERATED_INTERFACES },
      statfs: {
        statfs: (mountPoint) => {
          statfsCalls++;
          return mountPoint === '/mnt/nfs' ? new Promise(() => undefined) : Promise.resolve({ blocks: 100, bfree: 50, bavail: 50 });
        },
      },
      readDeadlineMs: 1000,
    });
    const options: CollectOptions = {
      customMetrics: { nfs: { source: 'diskUsed', mountPoint: '/mnt/nfs' }, root: { source: 'diskUsed' }, up: { source: 'uptime' } },
      networkStatsIncludeLoopback: false,
    };
    for (let cycle = 0; cycle < 2; cycle++) {
      const sample = await collector.collect(options);
      expect(sample.customMetrics).toEqual({ root: { type: 'number', value: 50 }, up: { type: 'number', value: 6766.52 } });
      expect(sample.problems).toEqual([{ subject: 'custom_metrics.nfs', message: expect.stringContaining('statfs /mnt/nfs') }]);
      expect(sample.establishedConnections).toHaveLength(3);
    }
    expect(statfsCalls).toBe(3);
  });

  it('refuses a FIFO in place of net/dev at once and reports the rest', async () => {
    fs.rmSync(path.join(root, 'net/dev'));
    makeFifo(path.join(root, 'net/dev'));
    const sample = await collectorFor(root, GENERATED_INTERFACES).collect(NO_CUSTOM);
    expect(sample.network).toBeUndefined();
    expect(sample.problems).toEqual([
      { subject: 'network_stats', message: expect.stringMatching(/^cannot read net\/dev: .*not a regular file/) },
    ]);
    expect(sample.establishedConnections).toHaveLength(3);
  });
});
