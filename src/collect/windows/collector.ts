/**
 * The collector of a Windows core: the same sample as on Linux (src/collect/collector.ts), from the IP Helper API
 * instead of /proc. Sockets come from the basic TCP and UDP tables (the report carries no process ids, so the owner-PID
 * classes would add cost and nothing else), traffic per interface from GetIfTable2 named by the interface Alias (the
 * name `os.networkInterfaces()` gives it, so listeners and traffic name interfaces alike), addresses from
 * `os.networkInterfaces()`. A socket table arrives whole from one call: it cannot be streamed as /proc is.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Problem } from '../../metrics/types';
import type { InterfaceAddress, InterfaceAddressSource } from '../../procfs/interfaces';
import type { StatfsSource } from '../../procfs/statfs';
import { describeError } from '../../util/describe-error';
import { bootTimeId } from '../boot';
import { assembleSample, type Collector, type SampleParts } from '../collector';
import { SeenSockets, SocketAddressCache, SocketSummary, TCP_LISTEN, UDP_UNCONNECTED, createInterfaceAttribution } from '../sockets';
import { createWindowsCustomMetrics, type WindowsSystem } from './custom-metrics';
import { ERROR_NOT_SUPPORTED, type IpHelper, IpHelperError } from './ip-helper';
import { decodeIfTable2, decodeTcpTable, decodeUdpTable, type TableDecoding } from './ip-helper-tables';

export interface WindowsCollectorDeps {
  /** Loads the IP Helper; tried again at every sample until it loads, and why it did not is each sample's problem. */
  loadIpHelper: () => IpHelper;
  interfaces: InterfaceAddressSource;
  statfs: StatfsSource;
  system: WindowsSystem;
  /** Wall clock, epoch ms: with the uptime it names the boot. */
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const TABLES = {
  tcp: { 4: 'MIB_TCPTABLE', 6: 'MIB_TCP6TABLE' },
  udp: { 4: 'MIB_UDPTABLE', 6: 'MIB_UDP6TABLE' },
} as const;

export function createWindowsCollector(deps: WindowsCollectorDeps): Collector {
  let ipHelper: IpHelper | undefined;
  const custom = createWindowsCustomMetrics({
    system: deps.system,
    statfs: deps.statfs,
    processCount: () => {
      if (!ipHelper) throw new Error('K32EnumProcesses is not loaded (see the socket tables)');
      return ipHelper.processCount();
    },
    sleep: deps.sleep ?? ((ms) => delay(ms)),
  });
  const tcpSockets = new SeenSockets();
  const addresses = new SocketAddressCache();

  /** The IP Helper, or why it cannot be had. */
  const helper = (): IpHelper | string => {
    if (ipHelper) return ipHelper;
    try {
      ipHelper = deps.loadIpHelper();
      return ipHelper;
    } catch (error) {
      return `cannot load the IP Helper API through koffi: ${describeError(error)}`;
    }
  };

  /** Feeds one table into `summary`; returns why it could not, if so. */
  const readTable = (
    read: () => Buffer,
    decode: typeof decodeTcpTable,
    family: 4 | 6,
    summary: SocketSummary,
    table: string,
    droppedRows: Record<string, number>,
  ): string | undefined => {
    let decoded: TableDecoding;
    const droppedBefore = summary.dropped;
    try {
      decoded = decode(read(), family, addresses, summary.add);
    } catch (error) {
      // IPv6 not installed: no IPv6 sockets, as a missing tcp6 table on Linux.
      if (family === 6 && error instanceof IpHelperError && error.code === ERROR_NOT_SUPPORTED) return undefined;
      return `cannot read ${table}: ${describeError(error)}`;
    }
    const dropped = decoded.dropped + summary.dropped - droppedBefore;
    if (dropped > 0) droppedRows[table] = dropped;
    return decoded.error;
  };

  return {
    async collect(options) {
      const problems: Problem[] = [];
      const droppedRows: Record<string, number> = {};
      addresses.startSample();
      let listed: InterfaceAddress[] | undefined;
      try {
        listed = deps.interfaces.list();
      } catch (error) {
        problems.push({
          subject: 'interfaces',
          message: `cannot list the network interfaces, sockets are reported without them: ${describeError(error)}`,
        });
      }
      const ip = helper();
      const customRead = custom.collect(options.customMetrics, Promise.resolve(listed));
      const interfaceOf = createInterfaceAttribution(listed ?? []);
      const tcp = new SocketSummary(interfaceOf, TCP_LISTEN, tcpSockets, options.maxListedConnections);
      const udp = new SocketSummary(interfaceOf, UDP_UNCONNECTED);
      const block = (kind: 'tcp' | 'udp', summary: SocketSummary): Array<string | undefined> => {
        if (typeof ip === 'string') return [ip];
        const decode = kind === 'tcp' ? decodeTcpTable : decodeUdpTable;
        return ([4, 6] as const).map((family) =>
          readTable(
            () => (kind === 'tcp' ? ip.tcpTable(family) : ip.udpTable(family)),
            decode,
            family,
            summary,
            TABLES[kind][family],
            droppedRows,
          ),
        );
      };
      const tcpFailures = block('tcp', tcp);
      const udpFailures = block('udp', udp);
      const network = readNetwork(ip, options.networkStatsIncludeLoopback);
      const parts: SampleParts = {
        tcp: { summary: tcp, failures: tcpFailures },
        udp: { summary: udp, failures: udpFailures },
        network,
        customMetrics: await customRead,
        problems,
        droppedRows,
      };
      return assembleSample(parts);
    },
  };

  function readNetwork(ip: IpHelper | string, includeLoopback: boolean): SampleParts['network'] {
    const problem = (message: string): Problem => ({ subject: 'network_stats', message });
    if (typeof ip === 'string') return problem(ip);
    let bootId: string;
    try {
      const uptime = deps.system.uptime();
      if (!(uptime >= 0)) throw new Error(`os.uptime() is ${uptime}`);
      bootId = bootTimeId(deps.now(), uptime);
    } catch (error) {
      return problem(`cannot tell a reboot from a counter reset without the uptime: ${describeError(error)}`);
    }
    try {
      const decoded = decodeIfTable2(ip.ifTable(), includeLoopback);
      if (decoded.error !== undefined) return problem(decoded.error);
      return { reading: { bootId, interfaces: decoded.interfaces }, dropped: decoded.dropped, table: 'MIB_IF_TABLE2' };
    } catch (error) {
      return problem(`cannot read GetIfTable2: ${describeError(error)}`);
    }
  }
}
