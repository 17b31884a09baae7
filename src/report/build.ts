/**
 * MetricsSample -> Device Defender report document and payload (docs/device-defender-report.md).
 *
 * Lists are capped (maxListedPorts / maxListedConnections) and then trimmed further if the encoded
 * report would exceed maxReportBytes. `total` always carries the true count, and network_stats is
 * never trimmed. The size of every list entry is computed once (encodedSize), so the byte budget is
 * met with arithmetic and the report is encoded exactly once.
 */
import type { ReportFormat } from '../component/definition';
import type { EstablishedConnection, ListeningPort, MetricsSample, NetworkDelta, Problem } from '../metrics/types';
import { checkCustomMetric, wireCustomMetric } from './custom-metric-values';
import { encodedSize, encodeReport, listFramingSize } from './encode';
import { keyNames, type KeyNames } from './names';
import { compareOrdinal } from '../util/compare-ordinal';

export interface ReportOptions {
  reportId: number;
  shortNames: boolean;
  format: ReportFormat;
  maxListedPorts: number;
  maxListedConnections: number;
  maxReportBytes: number;
}

interface ListCount {
  listed: number;
  total: number;
}

export interface BuiltReport {
  /** The report object as encoded (bigints kept as bigint). */
  document: Record<string, unknown>;
  /** Encoded JSON (utf8) or CBOR. */
  payload: Buffer;
  bytes: number;
  counts: { tcpPorts?: ListCount; udpPorts?: ListCount; connections?: ListCount; customMetrics: number };
  /** Lists were cut (or custom metrics dropped) to fit the byte budget, beyond the configured caps. */
  trimmed: boolean;
  /** The byte budget it was built to (maxReportBytes). */
  budget: number;
  /** E.g. custom metric values dropped because invalid. */
  problems: Problem[];
}

const REPORT_VERSION = '1.0';

type ListKind = 'tcpPorts' | 'udpPorts' | 'connections';

/**
 * A list block as it may be sent: up to `length` entries in the order they are kept when the list
 * is cut. Entries are built on first use, so the thousands past the byte budget are never built.
 */
interface ListPlan {
  kind: ListKind;
  total: number;
  length: number;
  entryAt(index: number): Record<string, unknown>;
}

function listPlan<T>(kind: ListKind, total: number, selected: readonly T[], toEntry: (item: T) => Record<string, unknown>): ListPlan {
  const built: Record<string, unknown>[] = [];
  return {
    kind,
    total,
    length: selected.length,
    entryAt: (index) => (built[index] ??= toEntry(selected[index] as T)),
  };
}

export function buildReport(sample: MetricsSample, options: ReportOptions): BuiltReport {
  const names = keyNames(options.shortNames);
  const problems: Problem[] = [];
  const customMetrics = new Map<string, unknown>();
  for (const [name, metric] of Object.entries(sample.customMetrics)) {
    const checked = checkCustomMetric(name, metric);
    problems.push(...checked.problems);
    if (checked.value) customMetrics.set(name, wireCustomMetric(checked.value));
  }

  const lists: ListPlan[] = [];
  if (sample.listeningTcpPorts) lists.push(portList('tcpPorts', sample.listeningTcpPorts, options.maxListedPorts, names));
  if (sample.listeningUdpPorts) lists.push(portList('udpPorts', sample.listeningUdpPorts, options.maxListedPorts, names));
  if (sample.establishedConnections) {
    const total = Math.max(sample.establishedConnections.length, sample.establishedConnectionsTotal ?? 0);
    lists.push(connectionList(sample.establishedConnections, total, options.maxListedConnections, names));
  }

  const assemble = (listed: readonly number[]): Record<string, unknown> =>
    assembleDocument(options.reportId, names, lists, listed, sample.networkStats, customMetrics);
  const emptyListsSize = (): number => encodedSize(assemble(lists.map(() => 0)), options.format);
  const sizer = new ListSizer(lists, options.format, emptyListsSize(), options.maxReportBytes);
  let listed = lists.map((list) => list.length);
  let trimmed = false;
  if (sizer.size(listed) > options.maxReportBytes) {
    trimmed = true;
    // Each metric's size is known, so metrics are given up by arithmetic and the report is measured once per pass,
    // not once per metric (which made 4,000 metrics cost 29 s). A removal saves at least the metric's own size and
    // separators, so one pass nearly always suffices; a second covers the `metrics: {}` block that appears when the
    // last one goes.
    const candidates = largestFirst(customMetrics, options.format);
    // JSON: leaving an entry out also saves its `:` and a `,`; CBOR has no separators.
    const separators = options.format === 'json' ? 2 : 0;
    let next = 0;
    while (sizer.emptyListsSize > options.maxReportBytes && next < candidates.length) {
      let estimate = sizer.emptyListsSize;
      while (estimate > options.maxReportBytes && next < candidates.length) {
        const { name, size } = candidates[next++] as { name: string; size: number };
        customMetrics.delete(name);
        estimate -= size + separators;
        problems.push({
          subject: `custom_metrics.${name}`,
          message: `left out: the report does not fit maxReportBytes (${options.maxReportBytes}) even with empty port and connection lists`,
        });
      }
      sizer.emptyListsSize = emptyListsSize();
    }
    listed = sizer.fit(options.maxReportBytes);
  }

  const document = assemble(listed);
  const payload = encodeReport(document, options.format);
  if (payload.length > options.maxReportBytes) {
    problems.push({
      subject: 'report',
      message: `${payload.length} bytes, above maxReportBytes (${options.maxReportBytes}) even with empty lists and no custom metrics`,
    });
  }
  const counts: BuiltReport['counts'] = { customMetrics: customMetrics.size };
  lists.forEach((list, index) => {
    counts[list.kind] = { listed: listed[index] ?? 0, total: list.total };
  });
  return { document, payload, bytes: payload.length, counts, trimmed, budget: options.maxReportBytes, problems };
}

function assembleDocument(
  reportId: number,
  names: KeyNames,
  lists: readonly ListPlan[],
  listed: readonly number[],
  networkStats: NetworkDelta | undefined,
  customMetrics: ReadonlyMap<string, unknown>,
): Record<string, unknown> {
  const listBlock = (kind: ListKind): Record<string, unknown> | undefined => {
    const index = lists.findIndex((list) => list.kind === kind);
    const list = lists[index];
    if (!list) return undefined;
    const listKey = kind === 'connections' ? names.connections : names.ports;
    return { [listKey]: Array.from({ length: listed[index] ?? 0 }, (_, entry) => list.entryAt(entry)), [names.total]: list.total };
  };
  // The spec's order: listening ports, network stats, connections.
  const metrics: Record<string, unknown> = {};
  const tcpPorts = listBlock('tcpPorts');
  if (tcpPorts) metrics[names.listening_tcp_ports] = tcpPorts;
  const udpPorts = listBlock('udpPorts');
  if (udpPorts) metrics[names.listening_udp_ports] = udpPorts;
  if (networkStats) {
    metrics[names.network_stats] = {
      [names.bytes_in]: networkStats.bytesIn,
      [names.bytes_out]: networkStats.bytesOut,
      [names.packets_in]: networkStats.packetsIn,
      [names.packets_out]: networkStats.packetsOut,
    };
  }
  const connections = listBlock('connections');
  if (connections) metrics[names.tcp_connections] = { [names.established_connections]: connections };
  const document: Record<string, unknown> = { [names.header]: { [names.report_id]: reportId, [names.version]: REPORT_VERSION } };
  // The spec wants metrics and/or custom_metrics. With nothing collected, an empty metrics block
  // (every child is optional) still makes a well-formed report that shows the agent is alive.
  if (Object.keys(metrics).length > 0 || customMetrics.size === 0) document[names.metrics] = metrics;
  if (customMetrics.size > 0) document[names.custom_metrics] = Object.fromEntries(customMetrics);
  return document;
}

/**
 * Ports in ascending order, each distinct port number before a second interface listening on the
 * same port: a cut list then still covers as many ports as possible, which is what the
 * `aws:listening-*-ports` port-set behaviours look at.
 */
function portList(kind: 'tcpPorts' | 'udpPorts', ports: readonly ListeningPort[], cap: number, names: KeyNames): ListPlan {
  const sorted = [...ports].sort((a, b) => a.port - b.port || compareOrdinal(a.interface ?? '', b.interface ?? ''));
  const selected = distinctFirst(sorted, (port) => port.port, cap);
  return listPlan(kind, ports.length, selected, (port) =>
    port.interface === undefined ? { [names.port]: port.port } : { [names.port]: port.port, [names.interface]: port.interface },
  );
}

/**
 * Connections in the order collected (no sort: a few ms saved at 10,000 connections), one per
 * remote IP first: a cut list then still names as many destinations as possible, which is what
 * `aws:destination-ip-addresses` looks at; 5,000 connections to the broker cannot hide the one
 * connection to an unexpected address.
 */
function connectionList(connections: readonly EstablishedConnection[], total: number, cap: number, names: KeyNames): ListPlan {
  const selected = distinctFirst(connections, remoteIp, cap);
  return listPlan('connections', total, selected, (connection) => {
    const entry: Record<string, unknown> = { [names.remote_addr]: connection.remoteAddr, [names.local_port]: connection.localPort };
    if (connection.localInterface !== undefined) entry[names.local_interface] = connection.localInterface;
    return entry;
  });
}

/** `1.2.3.4:80` -> `1.2.3.4`, `[2001:db8::1]:443` -> `[2001:db8::1]`. */
function remoteIp(connection: EstablishedConnection): string {
  const colon = connection.remoteAddr.lastIndexOf(':');
  return colon < 0 ? connection.remoteAddr : connection.remoteAddr.slice(0, colon);
}

/**
 * Up to `limit` items, round-robin over the groups of equal keys in first-seen order: the first
 * member of every group, then the second members, and so on. Stops reading once `limit` distinct
 * keys are found (a cap of 500 out of 10,000 connections reads little more than 500).
 */
function distinctFirst<T>(items: readonly T[], key: (item: T) => unknown, limit: number): T[] {
  const result: T[] = [];
  if (limit <= 0) return result;
  // null until a key is seen a second time: most keys never are, and need no array.
  const laterMembers = new Map<unknown, T[] | null>();
  for (const item of items) {
    const itemKey = key(item);
    const later = laterMembers.get(itemKey);
    if (later === undefined) {
      laterMembers.set(itemKey, null);
      result.push(item);
      if (result.length === limit) return result;
    } else if (later === null) {
      laterMembers.set(itemKey, [item]);
    } else {
      later.push(item);
    }
  }
  for (let round = 0; result.length < Math.min(limit, items.length); round += 1) {
    for (const later of laterMembers.values()) {
      const item = later?.[round];
      if (item === undefined) continue;
      result.push(item);
      if (result.length === limit) return result;
    }
  }
  return result;
}

/**
 * Custom metrics with their encoded size (name and value, without separators: a lower bound of what leaving one out
 * saves), largest first: the order in which they are given up as a last resort.
 */
function largestFirst(customMetrics: ReadonlyMap<string, unknown>, format: ReportFormat): Array<{ name: string; size: number }> {
  return [...customMetrics]
    .map(([name, value]) => ({ name, size: encodedSize(name, format) + encodedSize(value, format) }))
    .sort((a, b) => b.size - a.size);
}

/**
 * The encoded size of the report as a function of how many entries each list keeps:
 * the size with empty lists plus, per list, its kept entries and their separators or array header.
 */
class ListSizer {
  /** Per list, the size of its first k entries for k = 0, 1, ...; only as far as the budget reaches. */
  private readonly prefixSizes: number[][];

  constructor(
    private readonly lists: readonly ListPlan[],
    private readonly format: ReportFormat,
    public emptyListsSize: number,
    budget: number,
  ) {
    // Entries past the budget can never be sent, so 10,000 connections cost no more than the ~1,000 that fit.
    this.prefixSizes = lists.map((list) => {
      const prefix = [0];
      let sum = 0;
      for (let index = 0; index < list.length && sum <= budget; index += 1) {
        sum += encodedSize(list.entryAt(index), format);
        prefix.push(sum);
      }
      return prefix;
    });
  }

  size(listed: readonly number[]): number {
    let size = this.emptyListsSize;
    listed.forEach((count, index) => {
      size += (this.prefixSizes[index]?.[count] ?? Infinity) + listFramingSize(count, this.format) - listFramingSize(0, this.format);
    });
    return size;
  }

  /**
   * The longest lists that fit: every list cut to the same largest length k (short lists stay whole,
   * so the few ports survive and the long connection list gives way), then what budget is left goes
   * to the lists still cut, in order.
   */
  fit(budget: number): number[] {
    const lengths = this.lists.map((list) => list.length);
    const capAt = (k: number): number[] => lengths.map((length) => Math.min(length, k));
    const k = largestFitting(0, Math.max(0, ...lengths), (candidate) => this.size(capAt(candidate)) <= budget);
    const listed = capAt(k);
    lengths.forEach((length, index) => {
      if (length <= k) return;
      listed[index] = largestFitting(k, length, (candidate) => {
        const attempt = [...listed];
        attempt[index] = candidate;
        return this.size(attempt) <= budget;
      });
    });
    return listed;
  }
}

/** Binary search: the largest value in [low, high] for which `fits` holds, or `low` when none does. */
function largestFitting(low: number, high: number, fits: (candidate: number) => boolean): number {
  let best = low;
  let from = low;
  let to = high;
  while (from <= to) {
    const middle = Math.floor((from + to) / 2);
    if (fits(middle)) {
      best = middle;
      from = middle + 1;
    } else {
      to = middle - 1;
    }
  }
  return best;
}
