/**
 * The component's configuration keys: the one definition that the recipe's DefaultConfiguration,
 * the README table, the agent's parser and the operator scripts' merge documents all come from.
 *
 * Values are written as strings in DefaultConfiguration because Greengrass turns JSON numbers
 * into floats on the way through the nucleus; the parser accepts both forms.
 */

export type ReportFormat = 'json' | 'cbor';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where a custom metric's value comes from. Each source has one fixed Device Defender metric type. */
export const CUSTOM_METRIC_SOURCES = {
  cpuUsage: { type: 'number', description: 'CPU busy % over the last interval, all cores (/proc/stat)' },
  memoryUsed: { type: 'number', description: 'memory used % = 1 - MemAvailable/MemTotal (/proc/meminfo)' },
  diskUsed: { type: 'number', description: 'used % of the file system at `mountPoint` (statfs)' },
  uptime: { type: 'number', description: 'seconds since boot (/proc/uptime)' },
  processCount: { type: 'number', description: 'number of processes (/proc)' },
  loadAverage: { type: 'number-list', description: '1, 5 and 15 minute load averages (/proc/loadavg)' },
  ipAddresses: { type: 'ip-address-list', description: "the core's IPv4 and IPv6 addresses, loopback excluded" },
  interfaceNames: { type: 'string-list', description: 'names of the network interfaces that are up, loopback excluded' },
} as const;

export type CustomMetricSource = keyof typeof CUSTOM_METRIC_SOURCES;

export interface CustomMetricSpec {
  source: CustomMetricSource;
  /** Only for `diskUsed`. */
  mountPoint?: string;
}

export interface AgentConfig {
  intervalSeconds: number;
  allowFastIntervalForDevelopment: boolean;
  format: ReportFormat;
  shortNames: boolean;
  /** Empty: the core device's own thing (AWS_IOT_THING_NAME). */
  thingName: string;
  /** Keyed by the metric name registered with CreateCustomMetric. */
  customMetrics: Record<string, CustomMetricSpec>;
  maxListedPorts: number;
  maxListedConnections: number;
  maxReportBytes: number;
  networkStatsIncludeLoopback: boolean;
  procfsRoot: string;
  logLevel: LogLevel;
}

/** Device Defender throttles a thing to one report every 5 minutes. */
export const MIN_PRODUCTION_INTERVAL_SECONDS = 300;
/** Floor when allowFastIntervalForDevelopment is on (local core only). */
export const MIN_DEVELOPMENT_INTERVAL_SECONDS = 5;
/** AWS IoT Core rejects MQTT payloads above 128 KB; stay well below it. */
export const MAX_REPORT_BYTES_LIMIT = 120_000;
export const MIN_REPORT_BYTES = 4_096;

export interface ConfigKeyDoc {
  key: keyof AgentConfig;
  /** The value as it stands in the recipe's DefaultConfiguration. */
  recipeDefault: unknown;
  description: string;
}

export const CONFIG_KEYS: readonly ConfigKeyDoc[] = [
  {
    key: 'intervalSeconds',
    recipeDefault: '300',
    description: `Seconds between reports. At least ${MIN_PRODUCTION_INTERVAL_SECONDS} (Device Defender throttles faster reporting).`,
  },
  {
    key: 'allowFastIntervalForDevelopment',
    recipeDefault: 'false',
    description: `Local development only: allows intervals down to ${MIN_DEVELOPMENT_INTERVAL_SECONDS} s and logs a warning on every start. Never set it on a fleet.`,
  },
  { key: 'format', recipeDefault: 'json', description: '`json` or `cbor`: the report encoding and the topic suffix.' },
  { key: 'shortNames', recipeDefault: 'false', description: 'Use the short key names (`hed`, `met`, `tp`, ...) instead of the long ones.' },
  { key: 'thingName', recipeDefault: '', description: "Thing the reports are attributed to. Empty: the core device's own thing." },
  {
    key: 'customMetrics',
    recipeDefault: {},
    description:
      'Opt-in custom metrics: `{ "<metric name>": { "source": "<source>", "mountPoint": "/" } }`. Sources: ' +
      Object.keys(CUSTOM_METRIC_SOURCES).join(', ') +
      '.',
  },
  {
    key: 'maxListedPorts',
    recipeDefault: '200',
    description: 'Most ports listed per listening_tcp_ports / listening_udp_ports block; `total` stays the true count.',
  },
  { key: 'maxListedConnections', recipeDefault: '500', description: 'Most established connections listed; `total` stays the true count.' },
  {
    key: 'maxReportBytes',
    recipeDefault: '64000',
    description: `Byte budget of one encoded report (${MIN_REPORT_BYTES}..${MAX_REPORT_BYTES_LIMIT}); lists are trimmed to fit, totals never.`,
  },
  { key: 'networkStatsIncludeLoopback', recipeDefault: 'false', description: 'Count traffic on `lo` in network_stats.' },
  { key: 'procfsRoot', recipeDefault: '/proc', description: 'Where procfs is mounted (for example `/host/proc` in a container).' },
  { key: 'logLevel', recipeDefault: 'info', description: '`debug`, `info`, `warn` or `error`.' },
];

/** The DefaultConfiguration keys other than accessControl, as the recipe carries them. */
export function recipeDefaultConfiguration(): Record<string, unknown> {
  return Object.fromEntries(CONFIG_KEYS.map((doc) => [doc.key, doc.recipeDefault]));
}
