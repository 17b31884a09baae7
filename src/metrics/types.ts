/**
 * The metrics model shared by collection, report building and the agent.
 * It is independent of the wire names (long or short) and of the encoding (JSON or CBOR).
 */

export interface ListeningPort {
  port: number;
  /** Interface name; absent for wildcard listeners (0.0.0.0 / ::), which listen on every interface. */
  interface?: string;
}

export interface EstablishedConnection {
  /** `ip:port`, IPv6 bracketed: `[2001:db8::1]:443`. */
  remoteAddr: string;
  localPort: number;
  localInterface?: string;
}

/** Cumulative counters as the kernel reports them; 64-bit, so BigInt. */
export interface NetworkTotals {
  bytesIn: bigint;
  bytesOut: bigint;
  packetsIn: bigint;
  packetsOut: bigint;
}

/** Per-interval deltas; never negative. BigInt so that values above 2^53 stay exact. */
export type NetworkDelta = NetworkTotals;

export type CustomMetricType = 'number' | 'number-list' | 'string-list' | 'ip-address-list';

export type CustomMetricValue =
  | { type: 'number'; value: number }
  | { type: 'number-list'; value: number[] }
  | { type: 'string-list'; value: string[] }
  | { type: 'ip-address-list'; value: string[] };

/**
 * One sample ready to become a report. A block that could not be collected is `undefined`
 * and is left out of the report (the reason goes to the log).
 */
export interface MetricsSample {
  listeningTcpPorts?: ListeningPort[];
  listeningUdpPorts?: ListeningPort[];
  establishedConnections?: EstablishedConnection[];
  /**
   * Established sockets, when more than the entries of `establishedConnections` (two sockets that differ only in their
   * local address are one entry, since the report has no local address, but two sockets).
   */
  establishedConnectionsTotal?: number;
  networkStats?: NetworkDelta;
  customMetrics: Record<string, CustomMetricValue>;
}

/** A problem met while collecting or building: the metric concerned is left out, the rest goes on. */
export interface Problem {
  /** What was affected, e.g. `listening_tcp_ports`, `custom_metrics.cpu_usage`, `network_stats`. */
  subject: string;
  message: string;
}
