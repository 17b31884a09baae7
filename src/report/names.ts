/**
 * The report's key names in both naming modes (docs/device-defender-report.md, section 1). A report uses one mode
 * throughout: whether the service accepts a mix is unconfirmed, so we never send one.
 * Custom metric names are the names registered with CreateCustomMetric and are never shortened.
 */

export const LONG_TO_SHORT = {
  header: 'hed',
  report_id: 'rid',
  version: 'v',
  metrics: 'met',
  custom_metrics: 'cmet',
  listening_tcp_ports: 'tp',
  listening_udp_ports: 'up',
  ports: 'pts',
  port: 'pt',
  interface: 'if',
  total: 't',
  network_stats: 'ns',
  bytes_in: 'bi',
  bytes_out: 'bo',
  packets_in: 'pi',
  packets_out: 'po',
  tcp_connections: 'tc',
  established_connections: 'ec',
  connections: 'cs',
  remote_addr: 'rad',
  local_port: 'lp',
  local_interface: 'li',
} as const;

export type LongName = keyof typeof LONG_TO_SHORT;
export type ShortName = (typeof LONG_TO_SHORT)[LongName];

export const SHORT_TO_LONG: Readonly<Record<ShortName, LongName>> = Object.fromEntries(
  Object.entries(LONG_TO_SHORT).map(([long, short]) => [short, long]),
) as Record<ShortName, LongName>;

/** The value keys inside a custom metric's one-element array; the same in both naming modes. */
export const CUSTOM_VALUE_KEYS = ['number', 'number_list', 'string_list', 'ip_list'] as const;
export type CustomValueKey = (typeof CUSTOM_VALUE_KEYS)[number];

export type KeyNames = Readonly<Record<LongName, string>>;

const LONG_NAMES: KeyNames = Object.fromEntries(Object.keys(LONG_TO_SHORT).map((long) => [long, long])) as Record<LongName, string>;

/** The wire name of every report key in the chosen mode: `keyNames(true).header === 'hed'`. */
export function keyNames(shortNames: boolean): KeyNames {
  return shortNames ? LONG_TO_SHORT : LONG_NAMES;
}
