import type { CpuInfo } from 'node:os';
import { toMetricsSample } from '../../../src/collect/collector';
import { createWindowsCollector, type WindowsCollectorDeps } from '../../../src/collect/windows/collector';
import { ERROR_NOT_SUPPORTED, type IpHelper, IpHelperError } from '../../../src/collect/windows/ip-helper';
import type { InterfaceAddress } from '../../../src/procfs/interfaces';
import { buildReport } from '../../../src/report/build';
import { validateReport } from '../../../src/report/validate';
import { ifTable2, recorded, tcp4Table } from '../../fixtures/windows/tables';

/** The addresses of the recording's namespace, as os.networkInterfaces() names them. */
const RECORDED_INTERFACES: InterfaceAddress[] = [
  { name: 'lo', address: '127.0.0.1', family: 4, internal: true },
  { name: 'lo', address: '::1', family: 6, internal: true },
  { name: 'v0', address: '10.9.8.7', family: 4, internal: false },
  { name: 'v0', address: 'fd00::7', family: 6, internal: false },
];

const NOW = Date.UTC(2026, 11, 7, 14, 0, 0);

function recordedIpHelper(overrides: Partial<IpHelper> = {}): IpHelper {
  return {
    tcpTable: (family) => recorded(family === 4 ? 'tcp4' : 'tcp6'),
    udpTable: (family) => recorded(family === 4 ? 'udp4' : 'udp6'),
    ifTable: () => recorded('if-table2'),
    processCount: () => 42,
    ...overrides,
  };
}

function deps(overrides: Partial<WindowsCollectorDeps> = {}): WindowsCollectorDeps {
  const cpus: CpuInfo[] = [{ model: 'x', speed: 1, times: { user: 1, nice: 0, sys: 1, idle: 8, irq: 0 } }];
  return {
    loadIpHelper: () => recordedIpHelper(),
    interfaces: { list: () => RECORDED_INTERFACES },
    statfs: { statfs: async () => ({ blocks: 100, bfree: 50, bavail: 50 }) },
    system: { cpus: () => cpus, totalmem: () => 100, freemem: () => 40, uptime: () => 3600 },
    now: () => NOW,
    sleep: async () => undefined,
    ...overrides,
  };
}

const OPTIONS = { customMetrics: {}, networkStatsIncludeLoopback: false };

describe('the Windows collector on the recorded tables', () => {
  it('reports listeners with their interface, connections once each, UDP listeners and per-interface traffic', async () => {
    const sample = await createWindowsCollector(deps()).collect(OPTIONS);
    expect(sample.problems).toEqual([]);
    expect(sample.droppedRows).toEqual({});
    expect(sample.listeningTcpPorts).toEqual([
      { port: 7001, interface: 'lo' },
      { port: 7002 },
      { port: 7003 },
      { port: 7004, interface: 'lo' },
      { port: 7005, interface: 'v0' },
      { port: 7006, interface: 'v0' },
      { port: 7007 },
    ]);
    // ss listed 16 established sockets: both ends of 8 connections, the IPv4-mapped one included.
    expect(sample.establishedConnectionsTotal).toBe(16);
    expect(sample.establishedConnections).toHaveLength(16);
    expect(sample.establishedConnections).toContainEqual({ remoteAddr: '[fd00::7]:7006', localPort: 37539, localInterface: 'v0' });
    expect(sample.establishedConnections).toContainEqual({ remoteAddr: '127.0.0.1:55486', localPort: 7007, localInterface: 'lo' });
    expect(sample.listeningUdpPorts).toEqual([
      { port: 7101, interface: 'lo' },
      { port: 7102 },
      { port: 7103 },
      { port: 7104, interface: 'v0' },
    ]);
    expect(sample.network).toEqual({
      bootId: `boot-time:${NOW - 3_600_000}`,
      interfaces: {
        v1: { bytesIn: 666n, packetsIn: 7n, bytesOut: 586n, packetsOut: 7n },
        v0: { bytesIn: 586n, packetsIn: 7n, bytesOut: 666n, packetsOut: 7n },
      },
    });
  });

  it('counts loopback traffic when configured to', async () => {
    const sample = await createWindowsCollector(deps()).collect({ ...OPTIONS, networkStatsIncludeLoopback: true });
    expect(Object.keys(sample.network?.interfaces ?? {})).toEqual(['lo', 'v1', 'v0']);
  });

  it('honours the list cap and keeps the true total, and its report conforms to the schema', async () => {
    const sample = await createWindowsCollector(deps()).collect({ ...OPTIONS, maxListedConnections: 3 });
    expect(sample.establishedConnections).toHaveLength(3);
    expect(sample.establishedConnectionsTotal).toBe(16);
    const built = buildReport(toMetricsSample(sample, undefined), {
      reportId: 1,
      shortNames: false,
      format: 'json',
      maxListedPorts: 200,
      maxListedConnections: 3,
      maxReportBytes: 64_000,
    });
    expect(validateReport(built.document)).toEqual([]);
  });

  it('leaves out a block whose table is truncated, and says why', async () => {
    const cut = recorded('tcp6').subarray(0, 60);
    const sample = await createWindowsCollector(
      deps({ loadIpHelper: () => recordedIpHelper({ tcpTable: (f) => (f === 4 ? recorded('tcp4') : cut) }) }),
    ).collect(OPTIONS);
    expect(sample.listeningTcpPorts).toBeUndefined();
    expect(sample.establishedConnections).toBeUndefined();
    expect(sample.listeningUdpPorts).toHaveLength(4);
    expect(sample.problems).toEqual([
      { subject: 'listening_tcp_ports', message: expect.stringMatching(/^MIB_TCP6TABLE: announces 11 rows but holds 1 /) },
      { subject: 'tcp_connections', message: expect.stringMatching(/^MIB_TCP6TABLE: announces 11 rows but holds 1 /) },
    ]);
  });

  it('takes IPv6 not installed for no IPv6 sockets, and any other failure of a call as the block left out', async () => {
    const noIpv6 = (family: 4 | 6, table: Buffer) => {
      if (family === 6) throw new IpHelperError('GetTcp6Table', ERROR_NOT_SUPPORTED);
      return table;
    };
    const sample = await createWindowsCollector(
      deps({
        loadIpHelper: () =>
          recordedIpHelper({
            tcpTable: (family) => noIpv6(family, recorded('tcp4')),
            udpTable: () => {
              throw new IpHelperError('GetExtendedUdpTable', 8);
            },
          }),
      }),
    ).collect(OPTIONS);
    expect(sample.listeningTcpPorts).toEqual([{ port: 7001, interface: 'lo' }, { port: 7002 }, { port: 7005, interface: 'v0' }]);
    expect(sample.listeningUdpPorts).toBeUndefined();
    expect(sample.problems).toEqual([
      { subject: 'listening_udp_ports', message: 'cannot read MIB_UDPTABLE: GetExtendedUdpTable failed with Windows error 8' },
      { subject: 'listening_udp_ports', message: 'cannot read MIB_UDP6TABLE: GetExtendedUdpTable failed with Windows error 8' },
    ]);
  });

  it('counts rows the report cannot carry as dropped, by table', async () => {
    const table = tcp4Table([
      [2, '0.0.0.0', 0, '0.0.0.0', 0],
      [5, '10.9.8.7', 40000, '10.9.8.1', 0],
      [99, '10.9.8.7', 40001, '10.9.8.1', 443],
      [5, '10.9.8.7', 40002, '10.9.8.1', 443],
    ]);
    const sample = await createWindowsCollector(
      deps({ loadIpHelper: () => recordedIpHelper({ tcpTable: (family) => (family === 4 ? table : recorded('tcp6')) }) }),
    ).collect(OPTIONS);
    expect(sample.droppedRows).toEqual({ MIB_TCPTABLE: 3 });
    expect(sample.establishedConnections).toContainEqual({ remoteAddr: '10.9.8.1:443', localPort: 40002, localInterface: 'v0' });
  });

  it('without koffi reports every IP Helper block as left out with the reason, custom metrics still read, and loads it later', async () => {
    let attempts = 0;
    const collector = createWindowsCollector(
      deps({
        loadIpHelper: () => {
          attempts++;
          if (attempts === 1) throw new Error('koffi-win32-x64.node: The specified module could not be found.');
          return recordedIpHelper();
        },
      }),
    );
    const first = await collector.collect({
      ...OPTIONS,
      customMetrics: { mem: { source: 'memoryUsed' }, procs: { source: 'processCount' } },
    });
    const reason = 'cannot load the IP Helper API through koffi: koffi-win32-x64.node: The specified module could not be found.';
    expect(first.problems).toEqual([
      { subject: 'listening_tcp_ports', message: reason },
      { subject: 'tcp_connections', message: reason },
      { subject: 'listening_udp_ports', message: reason },
      { subject: 'network_stats', message: reason },
      { subject: 'custom_metrics.procs', message: 'K32EnumProcesses is not loaded (see the socket tables)' },
    ]);
    expect(first.customMetrics).toEqual({ mem: { type: 'number', value: 60 } });
    const second = await collector.collect(OPTIONS);
    expect(second.problems).toEqual([]);
    expect(second.listeningTcpPorts).toHaveLength(7);
  });

  it('names the boot by its start time, and leaves network stats out when the uptime is broken', async () => {
    const sample = await createWindowsCollector(deps({ system: { ...deps().system, uptime: () => Number.NaN } })).collect(OPTIONS);
    expect(sample.network).toBeUndefined();
    expect(sample.problems).toEqual([
      { subject: 'network_stats', message: 'cannot tell a reboot from a counter reset without the uptime: os.uptime() is NaN' },
    ]);
  });

  it('reads GetIfTable2 interfaces named by their Alias, filters left out', async () => {
    const table = ifTable2([
      { alias: 'Ethernet 2', counters: { inOctets: 5n, inUcast: 1n } },
      { alias: 'Ethernet 2-WFP 802.3 MAC Layer LightWeight Filter-0000', flags: 0x02, counters: { inOctets: 5n } },
    ]);
    const sample = await createWindowsCollector(deps({ loadIpHelper: () => recordedIpHelper({ ifTable: () => table }) })).collect(OPTIONS);
    expect(sample.network?.interfaces).toEqual({ 'Ethernet 2': { bytesIn: 5n, packetsIn: 1n, bytesOut: 0n, packetsOut: 0n } });
  });
});
