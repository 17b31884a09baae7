import { setTimeout as delay } from 'node:timers/promises';
import type { CustomMetricSpec } from '../config/definition';
import type { CustomMetricValue, EstablishedConnection, ListeningPort, NetworkTotals, Problem } from '../metrics/types';
import { systemInterfaceSource, type InterfaceAddressSource } from '../procfs/interfaces';
import { createProcfs, isNotFound, type Procfs } from '../procfs/procfs';
import { systemStatfs, type StatfsSource } from '../procfs/statfs';
import { createCustomMetricsCollector } from './custom-metrics';
import { describeError } from './describe-error';
import { parseNetDevTotals } from './netdev';
import { SocketSummary, SocketTableParser, TCP_ESTABLISHED, TCP_LISTEN, UDP_UNCONNECTED, createInterfaceAttribution, type InterfaceOf } from './sockets';

export interface CollectOptions {
  customMetrics: Record<string, CustomMetricSpec>;
  networkStatsIncludeLoopback: boolean;
}

/** One reading of the device. A block that could not be read is absent and `problems` says why. */
export interface CollectedSample {
  listeningTcpPorts?: ListeningPort[];
  listeningUdpPorts?: ListeningPort[];
  establishedConnections?: EstablishedConnection[];
  /** Present together with `bootId`: a delta needs both. */
  networkTotals?: NetworkTotals;
  bootId?: string;
  customMetrics: Record<string, CustomMetricValue>;
  problems: Problem[];
}

export interface CollectorDeps {
  procfs: Procfs;
  interfaces: InterfaceAddressSource;
  statfs: StatfsSource;
  sleep?: (ms: number) => Promise<void>;
}

export interface Collector {
  /** Never rejects: whatever fails is left out and described in `problems`. */
  collect(options: CollectOptions): Promise<CollectedSample>;
}

const BOOT_ID_PATH = 'sys/kernel/random/boot_id';
const BOOT_ID = /^[0-9a-f-]{36}$/;

/**
 * Feeds one socket table into `summary` as it is read; returns why it could not, if so. A missing v6 table means IPv6
 * is off: no sockets, no problem.
 */
async function readSocketTable(procfs: Procfs, file: string, family: 4 | 6, keepStates: readonly number[], summary: SocketSummary): Promise<string | undefined> {
  const parser = new SocketTableParser(family, keepStates, summary.add);
  try {
    for await (const chunk of procfs.readChunks(file)) {
      parser.push(chunk);
      if (parser.error !== undefined) break;
    }
  } catch (error) {
    if (family === 6 && isNotFound(error)) return undefined;
    return `cannot read ${file}: ${describeError(error)}`;
  }
  parser.end();
  return parser.error === undefined ? undefined : `${file} ${parser.error}`;
}

async function readNetwork(procfs: Procfs, includeLoopback: boolean): Promise<{ totals: NetworkTotals; bootId: string } | Problem> {
  const problem = (message: string): Problem => ({ subject: 'network_stats', message });
  const [dev, bootId] = await Promise.allSettled([procfs.readText('net/dev'), procfs.readText(BOOT_ID_PATH)]);
  if (dev.status === 'rejected') return problem(`cannot read net/dev: ${describeError(dev.reason)}`);
  if (bootId.status === 'rejected') {
    return problem(`cannot read ${BOOT_ID_PATH}, which tells a reboot from a counter reset: ${describeError(bootId.reason)}`);
  }
  const id = bootId.value.trim();
  if (!BOOT_ID.test(id)) return problem(`${BOOT_ID_PATH} does not hold a boot id: "${id.slice(0, 40)}"`);
  try {
    return { totals: parseNetDevTotals(dev.value, includeLoopback), bootId: id };
  } catch (error) {
    return problem(`net/dev ${describeError(error)}`);
  }
}

export function createCollector(deps: CollectorDeps): Collector {
  const custom = createCustomMetricsCollector({
    procfs: deps.procfs,
    interfaces: deps.interfaces,
    statfs: deps.statfs,
    sleep: deps.sleep ?? ((ms) => delay(ms)),
  });
  const tcpStates = [TCP_LISTEN, TCP_ESTABLISHED];
  const udpStates = [UDP_UNCONNECTED];

  return {
    async collect(options) {
      const problems: Problem[] = [];
      let interfaceOf: InterfaceOf;
      try {
        interfaceOf = createInterfaceAttribution(deps.interfaces.list());
      } catch (error) {
        // Ports and connections are still true without interface names.
        problems.push({ subject: 'interfaces', message: `cannot list the network interfaces, sockets are reported without them: ${describeError(error)}` });
        interfaceOf = () => undefined;
      }
      const [tcp4, tcp6] = [new SocketSummary(interfaceOf, TCP_LISTEN), new SocketSummary(interfaceOf, TCP_LISTEN)];
      const [udp4, udp6] = [new SocketSummary(interfaceOf, UDP_UNCONNECTED), new SocketSummary(interfaceOf, UDP_UNCONNECTED)];
      const [tcp4Failure, tcp6Failure, udp4Failure, udp6Failure, network, customMetrics] = await Promise.all([
        readSocketTable(deps.procfs, 'net/tcp', 4, tcpStates, tcp4),
        readSocketTable(deps.procfs, 'net/tcp6', 6, tcpStates, tcp6),
        readSocketTable(deps.procfs, 'net/udp', 4, udpStates, udp4),
        readSocketTable(deps.procfs, 'net/udp6', 6, udpStates, udp6),
        readNetwork(deps.procfs, options.networkStatsIncludeLoopback),
        custom.collect(options.customMetrics),
      ]);
      const sample: CollectedSample = { customMetrics: customMetrics.values, problems };

      /** A block is reported only if all of its tables were read. */
      const complete = (subjects: string[], ...failures: Array<string | undefined>) => {
        for (const message of failures) if (message !== undefined) for (const subject of subjects) problems.push({ subject, message });
        return failures.every((f) => f === undefined);
      };
      if (complete(['listening_tcp_ports', 'tcp_connections'], tcp4Failure, tcp6Failure)) {
        const tcp = tcp4.merge(tcp6);
        sample.listeningTcpPorts = tcp.listeningPorts();
        sample.establishedConnections = tcp.establishedConnections();
      }
      if (complete(['listening_udp_ports'], udp4Failure, udp6Failure)) sample.listeningUdpPorts = udp4.merge(udp6).listeningPorts();

      if ('subject' in network) problems.push(network);
      else {
        sample.networkTotals = network.totals;
        sample.bootId = network.bootId;
      }
      problems.push(...customMetrics.problems);
      return sample;
    },
  };
}

/** The collector on the real system: procfs at `procfsRoot`, getifaddrs, statfs. */
export function createSystemCollector(procfsRoot: string): Collector {
  return createCollector({ procfs: createProcfs(procfsRoot), interfaces: systemInterfaceSource(), statfs: systemStatfs() });
}
