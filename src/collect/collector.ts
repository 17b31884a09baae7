import { setTimeout as delay } from 'node:timers/promises';
import type { CustomMetricSpec } from '../config/definition';
import type { DestinationTable } from '../metrics/destinations';
import type { CustomMetricValue, EstablishedConnection, ListeningPort, MetricsSample, NetworkDelta, Problem } from '../metrics/types';
import { systemInterfaceSource, type InterfaceAddress, type InterfaceAddressSource } from '../procfs/interfaces';
import { mergeInterfaceAddresses, parseIfInet6, parseLocalIpv4 } from './interfaces';
import { SourceDeadlines } from '../procfs/deadline';
import { createProcfs, isNotFound, withDeadlines, type Procfs } from '../procfs/procfs';
import { systemStatfs, type StatfsSource } from '../procfs/statfs';
import { createCustomMetricsCollector } from './custom-metrics';
import { describeError } from '../util/describe-error';
import { isNetDev, netDevInterfaceNames, parseNetDev } from './netdev';
import type { NetworkBaseline } from '../state/network-delta';
import {
  SocketAddressCache,
  SeenSockets,
  SocketSummary,
  SocketTableParser,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  UDP_UNCONNECTED,
  createInterfaceAttribution,
} from './sockets';

export interface CollectOptions {
  customMetrics: Record<string, CustomMetricSpec>;
  networkStatsIncludeLoopback: boolean;
  /**
   * The report's maxListedConnections: only that many connection entries are built (one per remote address first, the
   * order the report lists them in); `establishedConnectionsTotal` still counts them all. All of them when absent.
   */
  maxListedConnections?: number;
}

/** One reading of the device. A block that could not be read is absent and `problems` says why. */
export interface CollectedSample {
  listeningTcpPorts?: ListeningPort[];
  listeningUdpPorts?: ListeningPort[];
  establishedConnections?: EstablishedConnection[];
  /** Established sockets: two that differ only in their local address are one entry but two sockets. */
  establishedConnectionsTotal?: number;
  /** Every distinct remote address of the established sockets, however many connections are listed. */
  destinations?: DestinationTable;
  /** Per-interface counters with the boot they belong to: the input of computeNetworkDelta. */
  network?: NetworkBaseline;
  /** Rows the parsers left out because the report cannot carry them, by table (`net/tcp`: 2); only tables that dropped any. */
  droppedRows: Record<string, number>;
  customMetrics: Record<string, CustomMetricValue>;
  problems: Problem[];
}

export interface CollectorDeps {
  procfs: Procfs;
  interfaces: InterfaceAddressSource;
  statfs: StatfsSource;
  sleep?: (ms: number) => Promise<void>;
  /** How long one read of one source (a table, a statfs) may take before its block is left out; 5 s unless set. */
  readDeadlineMs?: number;
}

const DEFAULT_READ_DEADLINE_MS = 5000;

export interface Collector {
  /** Never rejects: whatever fails is left out and described in `problems`. */
  collect(options: CollectOptions): Promise<CollectedSample>;
}

const BOOT_ID_PATH = 'sys/kernel/random/boot_id';
const BOOT_ID = /^[0-9a-f-]{36}$/;

interface StartedTable {
  file: string;
  chunks: AsyncIterator<Buffer>;
  first: Promise<IteratorResult<Buffer>>;
}

/** Starts reading a table now, so that the tables of a block are read in parallel, to be parsed later, in order. */
function startTable(procfs: Procfs, file: string): StartedTable {
  const chunks = procfs.readChunks(file)[Symbol.asyncIterator]();
  const first = chunks.next();
  // Awaited in readSocketTable; this only keeps a failure that comes before then from counting as unhandled.
  first.catch(() => undefined);
  return { file, chunks, first };
}

/**
 * Feeds one socket table into `summary`; returns why it could not, if so. A missing v6 table means IPv6 is off: no
 * sockets, no problem.
 */
async function readSocketTable(
  table: StartedTable,
  family: 4 | 6,
  keepStates: readonly number[],
  summary: SocketSummary,
  addresses: SocketAddressCache,
  droppedRows: Record<string, number>,
): Promise<string | undefined> {
  const parser = new SocketTableParser(family, keepStates, summary.add, addresses);
  const droppedBefore = summary.dropped;
  try {
    for (let next = await table.first; !next.done; next = await table.chunks.next()) {
      parser.push(next.value);
      if (parser.error !== undefined) {
        await table.chunks.return?.();
        break;
      }
    }
  } catch (error) {
    // Closes the file, once a read that missed its deadline returns.
    table.chunks.return?.().catch(() => undefined);
    if (family === 6 && isNotFound(error)) return undefined;
    return `cannot read ${table.file}: ${describeError(error)}`;
  }
  parser.end();
  const dropped = parser.dropped + summary.dropped - droppedBefore;
  if (dropped > 0) droppedRows[table.file] = dropped;
  return parser.error === undefined ? undefined : `${table.file} ${parser.error}`;
}

const SOCKSTAT6_IN_USE = /^(TCP6|UDP6): inuse (\d+)$/gm;

/**
 * How many IPv6 TCP and UDP sockets the namespace has, from `net/sockstat6` (a few counters, no walk). /proc/net/tcp6
 * walks every TCP socket of both families to print the IPv6 ones: with 20,000 IPv4 connections it costs ~8 ms for no
 * row, so it is skipped when the kernel counts no IPv6 socket (listeners included). Unknown (file missing or
 * unreadable): the tables are read.
 */
async function readIpv6InUse(procfs: Procfs): Promise<Partial<Record<'TCP6' | 'UDP6', number>>> {
  const counts: Partial<Record<'TCP6' | 'UDP6', number>> = {};
  try {
    for (const [, protocol, count] of (await procfs.readText('net/sockstat6')).matchAll(SOCKSTAT6_IN_USE)) {
      counts[protocol as 'TCP6' | 'UDP6'] = Number(count);
    }
  } catch {
    // No counts: read the tables.
  }
  return counts;
}

/** Settles now, so that a read started early and awaited later never counts as an unhandled rejection. */
function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

async function readNetwork(
  devRead: Promise<PromiseSettledResult<string>>,
  bootIdRead: Promise<PromiseSettledResult<string>>,
  includeLoopback: boolean,
): Promise<{ reading: NetworkBaseline; dropped: number } | Problem> {
  const problem = (message: string): Problem => ({ subject: 'network_stats', message });
  const [dev, bootId] = [await devRead, await bootIdRead];
  if (dev.status === 'rejected') return problem(`cannot read net/dev: ${describeError(dev.reason)}`);
  if (bootId.status === 'rejected') {
    return problem(`cannot read ${BOOT_ID_PATH}, which tells a reboot from a counter reset: ${describeError(bootId.reason)}`);
  }
  const id = bootId.value.trim();
  if (!BOOT_ID.test(id)) return problem(`${BOOT_ID_PATH} does not hold a boot id: "${id.slice(0, 40)}"`);
  try {
    const { interfaces, dropped } = parseNetDev(dev.value, includeLoopback);
    return { reading: { bootId: id, interfaces }, dropped };
  } catch (error) {
    return problem(`net/dev ${describeError(error)}`);
  }
}

/**
 * The interfaces of this sample, enumerated once (see interfaces.ts): getifaddrs, limited to the interfaces
 * `<root>/net/dev` lists, plus, when net/dev lists an interface getifaddrs left out (up without carrier), the
 * addresses procfs gives for it.
 */
async function enumerateInterfaces(
  procfs: Procfs,
  system: InterfaceAddressSource,
  devRead: Promise<PromiseSettledResult<string>>,
  problems: Problem[],
): Promise<InterfaceAddress[] | undefined> {
  let listed: InterfaceAddress[];
  try {
    listed = system.list();
  } catch (error) {
    // Ports and connections are still true without interface names.
    problems.push({
      subject: 'interfaces',
      message: `cannot list the network interfaces, sockets are reported without them: ${describeError(error)}`,
    });
    return undefined;
  }
  const dev = await devRead;
  // Without net/dev (or its header) there is nothing to check the list against: getifaddrs stands alone (the problem is
  // net/dev's).
  const names = dev.status === 'fulfilled' && isNetDev(dev.value) ? netDevInterfaceNames(dev.value) : undefined;
  let fromProcfs: InterfaceAddress[] = [];
  const seen = new Set(listed.map((a) => a.name));
  if (names !== undefined && [...names].some((name) => !seen.has(name))) {
    const optional = (file: string) => procfs.readText(file).catch(() => '');
    const [inet6, fibTrie, route] = await Promise.all([optional('net/if_inet6'), optional('net/fib_trie'), optional('net/route')]);
    fromProcfs = [...parseLocalIpv4(fibTrie, route), ...parseIfInet6(inet6)].filter((a) => !seen.has(a.name));
  }
  const merged = mergeInterfaceAddresses(listed, fromProcfs, names);
  if (merged.foreign.length > 0) {
    problems.push({
      subject: 'interfaces',
      message:
        `${procfs.root}/net/dev does not list ${merged.foreign.slice(0, 5).join(', ')}: the socket tables are another network ` +
        "namespace than the agent's own, so interfaces it does not list name no socket",
    });
  }
  return merged.addresses;
}

export function createCollector(deps: CollectorDeps): Collector {
  const deadlines = new SourceDeadlines(deps.readDeadlineMs ?? DEFAULT_READ_DEADLINE_MS);
  const procfs = withDeadlines(deps.procfs, deadlines);
  const statfs: StatfsSource = { statfs: (mountPoint) => deadlines.run(`statfs ${mountPoint}`, () => deps.statfs.statfs(mountPoint)) };
  const custom = createCustomMetricsCollector({
    procfs,
    statfs,
    sleep: deps.sleep ?? ((ms) => delay(ms)),
  });
  const tcpStates = [TCP_LISTEN, TCP_ESTABLISHED];
  /** Kept from sample to sample, at the size the last one needed. */
  const tcpSockets = new SeenSockets();
  const addresses = new SocketAddressCache();
  const udpStates = [UDP_UNCONNECTED];

  return {
    async collect(options) {
      const problems: Problem[] = [];
      const droppedRows: Record<string, number> = {};
      addresses.startSample();
      // Every read starts now, in parallel; the socket rows are parsed once the interfaces that name them are known.
      const devRead = settle(procfs.readText('net/dev'));
      const bootIdRead = settle(procfs.readText(BOOT_ID_PATH));
      const ipv6InUse = readIpv6InUse(procfs);
      const startV6 = async (file: string, protocol: 'TCP6' | 'UDP6') =>
        (await ipv6InUse)[protocol] === 0 ? undefined : startTable(procfs, file);
      const tables = {
        tcp: [startTable(procfs, 'net/tcp'), startV6('net/tcp6', 'TCP6')] as const,
        udp: [startTable(procfs, 'net/udp'), startV6('net/udp6', 'UDP6')] as const,
      };
      const interfaces = enumerateInterfaces(procfs, deps.interfaces, devRead, problems);
      const customRead = custom.collect(options.customMetrics, interfaces);
      const interfaceOf = createInterfaceAttribution((await interfaces) ?? []);
      const tcp = new SocketSummary(interfaceOf, TCP_LISTEN, tcpSockets, options.maxListedConnections);
      const udp = new SocketSummary(interfaceOf, UDP_UNCONNECTED);
      // A block's two tables are parsed one after the other, so that the order of its entries does not depend on timing.
      const readBlock = async (
        started: readonly [StartedTable, Promise<StartedTable | undefined>],
        keepStates: readonly number[],
        summary: SocketSummary,
      ) => {
        const v4 = await readSocketTable(started[0], 4, keepStates, summary, addresses, droppedRows);
        const v6Table = await started[1];
        return [v4, v6Table === undefined ? undefined : await readSocketTable(v6Table, 6, keepStates, summary, addresses, droppedRows)];
      };
      const [tcpFailures, udpFailures, network, customMetrics] = await Promise.all([
        readBlock(tables.tcp, tcpStates, tcp),
        readBlock(tables.udp, udpStates, udp),
        readNetwork(devRead, bootIdRead, options.networkStatsIncludeLoopback),
        customRead,
      ]);
      return assembleSample({
        tcp: { summary: tcp, failures: tcpFailures },
        udp: { summary: udp, failures: udpFailures },
        network: 'subject' in network ? network : { ...network, table: 'net/dev' },
        customMetrics,
        problems,
        droppedRows,
      });
    },
  };
}

/** What a platform's collector read, block by block: the input of assembleSample. */
export interface SampleParts {
  /** A block's summary, and why each of its tables could not be read (undefined: read). */
  tcp: { summary: SocketSummary; failures: Array<string | undefined> };
  udp: { summary: SocketSummary; failures: Array<string | undefined> };
  /** The interface counters with the table they came from (for droppedRows), or why they could not be read. */
  network: { reading: NetworkBaseline; dropped: number; table: string } | Problem;
  customMetrics: { values: Record<string, CustomMetricValue>; problems: Problem[] };
  /** The sample's problems and dropped rows so far; assembleSample adds to them. */
  problems: Problem[];
  droppedRows: Record<string, number>;
}

/**
 * The sample of the blocks that were read, on every platform alike: a block is reported only if all of its tables were
 * read (else each of its subjects gets the problem), since a block missing a table would under-report.
 */
export function assembleSample(parts: SampleParts): CollectedSample {
  const { problems, droppedRows, tcp, udp, network, customMetrics } = parts;
  const sample: CollectedSample = { customMetrics: customMetrics.values, problems, droppedRows };
  const complete = (subjects: string[], failures: Array<string | undefined>) => {
    for (const message of failures) if (message !== undefined) for (const subject of subjects) problems.push({ subject, message });
    return failures.every((f) => f === undefined);
  };
  if (complete(['listening_tcp_ports', 'tcp_connections'], tcp.failures)) {
    sample.listeningTcpPorts = tcp.summary.listeningPorts();
    sample.establishedConnections = tcp.summary.establishedConnections();
    sample.establishedConnectionsTotal = tcp.summary.establishedTotal();
    sample.destinations = tcp.summary.destinations();
  }
  if (complete(['listening_udp_ports'], udp.failures)) sample.listeningUdpPorts = udp.summary.listeningPorts();
  if ('subject' in network) problems.push(network);
  else {
    sample.network = network.reading;
    if (network.dropped > 0) droppedRows[network.table] = network.dropped;
  }
  problems.push(...customMetrics.problems);
  return sample;
}

/** The collector on the real system: procfs at `procfsRoot`, getifaddrs, statfs. */
export function createSystemCollector(procfsRoot: string): Collector {
  return createCollector({ procfs: createProcfs(procfsRoot), interfaces: systemInterfaceSource(), statfs: systemStatfs() });
}

/** The report's view of a collected sample: the blocks that were collected, plus the network delta if there is one. */
export function toMetricsSample(collected: CollectedSample, networkStats: NetworkDelta | undefined): MetricsSample {
  return {
    ...(collected.listeningTcpPorts ? { listeningTcpPorts: collected.listeningTcpPorts } : {}),
    ...(collected.listeningUdpPorts ? { listeningUdpPorts: collected.listeningUdpPorts } : {}),
    ...(collected.establishedConnections ? { establishedConnections: collected.establishedConnections } : {}),
    ...(collected.establishedConnectionsTotal !== undefined ? { establishedConnectionsTotal: collected.establishedConnectionsTotal } : {}),
    ...(networkStats ? { networkStats } : {}),
    customMetrics: collected.customMetrics,
  };
}
