/**
 * The component's configuration keys: the one definition that the recipe's DefaultConfiguration,
 * the README table, the agent's parser and the operator scripts' merge documents all come from.
 *
 * Values are written as strings in DefaultConfiguration because Greengrass turns JSON numbers
 * into floats on the way through the nucleus; the parser accepts both forms.
 */
import { metricNameProblem } from './names';
import { quoteValue } from './quote';
import { type Behavior, MAX_BEHAVIORS, parseBehaviors } from './behaviors';
import * as detect from './detection';
import type { ReportFormat } from '../component/definition';
import {
  absolutePath,
  autoOrInteger,
  boolean,
  InvalidValue,
  integer,
  jsonObject,
  type LowMemorySetting,
  lowMemorySetting,
  lowerCaseFields,
  oneOf,
  type ParseContext,
  thingName,
  type ValueParser,
} from './values';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type IpcClientSetting = 'auto' | 'sdk' | 'portable';

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
  /** Device Defender behaviors evaluated on the device (CreateSecurityProfile's `behaviors`). */
  behaviors: Behavior[];
  securityProfileName: string;
  /** Empty: no alarms to AWS IoT Core. May hold {iot:thingName}. */
  alarmTopic: string;
  /** Empty: no alarms on local publish/subscribe. */
  localAlarmTopic: string;
  /** Empty: reports go to Device Defender only. */
  metricsSinkTopic: string;
  metricsSinkMode: detect.MetricsSinkMode;
  /** Undefined: no drill (the default). */
  drill: detect.DrillConfig | undefined;
  maxListedPorts: number;
  maxListedConnections: number;
  /** `auto`: as much as the runtime's IPC message holds, at most CLASSIC_REPORT_BYTES (src/agent/report-budget.ts). */
  maxReportBytes: number | 'auto';
  networkStatsIncludeLoopback: boolean;
  procfsRoot: string;
  logLevel: LogLevel;
  /** Read at process start from the lifecycle environment (src/ipc/select-client.ts); here so a deployment can set and validate it. */
  ipcClient: IpcClientSetting;
  /** Read at process start by the recipe's Run script, which chooses node's flags from it; here so a deployment can set and validate it. */
  lowMemory: LowMemorySetting;
}

/** Device Defender throttles a thing to one report every 5 minutes. */
export const MIN_PRODUCTION_INTERVAL_SECONDS = 300;
/** Floor when allowFastIntervalForDevelopment is on (local core only). */
export const MIN_DEVELOPMENT_INTERVAL_SECONDS = 5;
/** AWS IoT Core rejects MQTT payloads above 128 KB; stay well below it. */
const MAX_REPORT_BYTES_LIMIT = 120_000;
const MIN_REPORT_BYTES = 4_096;

/**
 * Most custom metrics one core sends. Device Defender publishes no per-report limit; every metric
 * costs a read per cycle and bytes in a report capped at 128 KB, so a deployment asking for more is
 * refused at validation rather than slowing every cycle.
 */
export const MAX_CUSTOM_METRICS = 100;

/** A drive-absolute Windows path: `C:\`, `D:\data`, `e:/`. */
const WINDOWS_DRIVE_PATH = /^[A-Za-z]:[\\/]/;
/** The drive diskUsed reads on Windows when no mountPoint is given (src/collect/windows/custom-metrics.ts reads it). */
export const DEFAULT_WINDOWS_MOUNT_POINT = 'C:\\';

/** Why a source cannot be read on `platform`, if so: refused at configuration, rather than a metric that never comes. */
export function customMetricSourceProblem(source: CustomMetricSource, platform: NodeJS.Platform | undefined): string | undefined {
  if (platform === 'win32' && source === 'loadAverage') {
    return 'source loadAverage does not exist on Windows: Windows has no load average (os.loadavg() is always 0, 0, 0 there)';
  }
  return undefined;
}

/** Why `mountPoint` is no path statfs can read on `platform`, if so. */
function mountPointProblem(mountPoint: unknown, platform: NodeJS.Platform | undefined): string | undefined {
  const posix = typeof mountPoint === 'string' && mountPoint.startsWith('/');
  const drive = typeof mountPoint === 'string' && WINDOWS_DRIVE_PATH.test(mountPoint);
  if (platform === 'win32')
    return drive ? undefined : `mountPoint must be a drive path on Windows, such as C:\\ (got ${quoteValue(mountPoint)})`;
  if (platform !== undefined || !drive) return posix ? undefined : `mountPoint must be an absolute path (got ${quoteValue(mountPoint)})`;
  return undefined;
}

function customMetrics(value: unknown, context: ParseContext = {}): Record<string, CustomMetricSpec> {
  const document = jsonObject(value, '{ "<metric name>": { "source": "<source>" } }');
  const names = Object.keys(document);
  if (names.length > MAX_CUSTOM_METRICS) {
    throw new InvalidValue(`has ${names.length} metrics; at most ${MAX_CUSTOM_METRICS} are allowed`);
  }
  const sources = Object.keys(CUSTOM_METRIC_SOURCES) as CustomMetricSource[];
  const result: Record<string, CustomMetricSpec> = Object.create(null);
  for (const name of names) {
    const problem = metricNameProblem(name);
    if (problem) throw new InvalidValue(`metric name ${quoteValue(name)} is not valid: ${problem}`);
    const fields = lowerCaseFields(document[name]);
    const given = fields.get('source');
    const source = sources.find((s) => typeof given === 'string' && s.toLowerCase() === given.toLowerCase());
    if (!source)
      throw new InvalidValue(`metric ${quoteValue(name)}: source must be one of ${sources.join(', ')} (got ${quoteValue(given)})`);
    const unavailable = customMetricSourceProblem(source, context.platform);
    if (unavailable !== undefined) throw new InvalidValue(`metric ${quoteValue(name)}: ${unavailable}`);
    const mountPoint = fields.get('mountpoint');
    if (source !== 'diskUsed') {
      if (mountPoint !== undefined) throw new InvalidValue(`metric ${quoteValue(name)}: mountPoint is only for diskUsed`);
      result[name] = { source };
      continue;
    }
    const pathProblem = mountPoint === undefined ? undefined : mountPointProblem(mountPoint, context.platform);
    if (pathProblem !== undefined) throw new InvalidValue(`metric ${quoteValue(name)}: ${pathProblem}`);
    const defaultMountPoint = context.platform === 'win32' ? DEFAULT_WINDOWS_MOUNT_POINT : '/';
    result[name] = { source, mountPoint: (mountPoint as string | undefined) ?? defaultMountPoint };
  }
  return result;
}

interface ConfigKeyDefinition<K extends keyof AgentConfig> {
  key: K;
  /** The value as it stands in the recipe's DefaultConfiguration. */
  recipeDefault: unknown;
  description: string;
  parse: ValueParser<AgentConfig[K]>;
}

export type ConfigKeyDoc = { [K in keyof AgentConfig]: ConfigKeyDefinition<K> }[keyof AgentConfig];

/**
 * The one table of configuration rules: the agent's parser, the recipe's DefaultConfiguration, the
 * README table and the operator tool's checks all read it. The production interval floor is applied
 * after all keys are read, because it depends on allowFastIntervalForDevelopment.
 */
export const CONFIG_KEYS: readonly ConfigKeyDoc[] = [
  {
    key: 'intervalSeconds',
    recipeDefault: '300',
    description: `Seconds between reports. At least ${MIN_PRODUCTION_INTERVAL_SECONDS} (Device Defender throttles faster reporting).`,
    parse: integer(MIN_DEVELOPMENT_INTERVAL_SECONDS, 86_400),
  },
  {
    key: 'allowFastIntervalForDevelopment',
    recipeDefault: 'false',
    description: `Local development only: allows intervals down to ${MIN_DEVELOPMENT_INTERVAL_SECONDS} s and logs a warning on every start. Never set it on a fleet.`,
    parse: boolean,
  },
  {
    key: 'format',
    recipeDefault: 'json',
    description: '`json` or `cbor`: the report encoding and the topic suffix.',
    parse: oneOf(['json', 'cbor'] as const),
  },
  {
    key: 'shortNames',
    recipeDefault: 'false',
    description: 'Use the short key names (`hed`, `met`, `tp`, ...) instead of the long ones.',
    parse: boolean,
  },
  {
    key: 'thingName',
    recipeDefault: '',
    description: "Thing the reports are attributed to. Empty: the core device's own thing.",
    parse: thingName,
  },
  {
    key: 'customMetrics',
    recipeDefault: {},
    description: `Opt-in custom metrics (at most ${MAX_CUSTOM_METRICS}): \`{ "<metric name>": { "source": "<source>", "mountPoint": "/" } }\`. Sources: ${Object.keys(CUSTOM_METRIC_SOURCES).join(', ')}.`,
    parse: customMetrics,
  },
  {
    key: 'behaviors',
    recipeDefault: [],
    description: `Device Defender behaviors evaluated on the device at every sample, in the shape of CreateSecurityProfile's \`behaviors\` (at most ${MAX_BEHAVIORS}): the ten device-side \`aws:\` metrics and the custom metrics above, static values only. See [Detection at the edge](#detection-at-the-edge).`,
    parse: parseBehaviors,
  },
  {
    key: 'securityProfileName',
    recipeDefault: detect.DEFAULT_SECURITY_PROFILE_NAME,
    description: 'The `securityProfileName` the alarms carry.',
    parse: detect.profileName,
  },
  {
    key: 'alarmTopic',
    recipeDefault: detect.DEFAULT_ALARM_TOPIC,
    description:
      'AWS IoT Core topic of the alarms (`{iot:thingName}` is replaced by the thing; never under `$aws/`). Empty: none. Needs the extra permission `deploy` merges.',
    parse: detect.cloudTopic,
  },
  {
    key: 'localAlarmTopic',
    recipeDefault: detect.DEFAULT_LOCAL_ALARM_TOPIC,
    description: 'Greengrass local publish/subscribe topic of the alarms, for components on the core (works offline). Empty: none.',
    parse: detect.localTopic,
  },
  {
    key: 'metricsSinkTopic',
    recipeDefault: '',
    description: 'AWS IoT Core topic (not under `$aws/`) that also receives every report, same encoding, for IoT rules. Empty: none.',
    parse: detect.cloudTopic,
  },
  {
    key: 'metricsSinkMode',
    recipeDefault: 'also',
    description:
      '`also`: reports go to Device Defender and to `metricsSinkTopic`; `only`: to `metricsSinkTopic` alone (accounts without Detect).',
    parse: oneOf(['also', 'only'] as const),
  },
  {
    key: 'drill',
    recipeDefault: {},
    description: `A bounded attack drill: \`{ "kind": "listening-port", "durationSeconds": 120 }\`; kinds \`listening-port\`, \`connections\`, \`bytes-out\`; at most ${detect.DRILL_LIMITS.maxDurationSeconds} s, optional \`expiresAt\`. \`{}\`: off.`,
    parse: detect.drill,
  },
  {
    key: 'maxListedPorts',
    recipeDefault: '200',
    description: 'Most ports listed per listening_tcp_ports / listening_udp_ports block; `total` stays the true count.',
    parse: integer(1, 10_000),
  },
  {
    key: 'maxListedConnections',
    recipeDefault: '500',
    description: 'Most established connections listed; `total` stays the true count.',
    parse: integer(1, 100_000),
  },
  {
    key: 'maxReportBytes',
    recipeDefault: 'auto',
    description:
      `Byte budget of one encoded report: \`auto\` or ${MIN_REPORT_BYTES}..${MAX_REPORT_BYTES_LIMIT}; lists are trimmed to fit, totals never. ` +
      '`auto` is 64000 on the classic nucleus and, on nucleus lite, the most its 10,000-byte IPC message holds for the report topics ' +
      '(about 7,300); there a larger value is refused with that figure.',
    parse: autoOrInteger(MIN_REPORT_BYTES, MAX_REPORT_BYTES_LIMIT),
  },
  {
    key: 'networkStatsIncludeLoopback',
    recipeDefault: 'false',
    description: 'Count traffic on `lo` in network_stats.',
    parse: boolean,
  },
  {
    key: 'procfsRoot',
    recipeDefault: '/proc',
    description: 'Where procfs is mounted (for example `/host/proc` in a container).',
    parse: absolutePath,
  },
  {
    key: 'logLevel',
    recipeDefault: 'info',
    description: '`debug`, `info`, `warn` or `error`.',
    parse: oneOf(['debug', 'info', 'warn', 'error'] as const),
  },
  {
    key: 'ipcClient',
    recipeDefault: 'auto',
    description:
      '`auto`, `sdk` or `portable`: the Greengrass IPC client. `auto` uses the AWS SDK where its native addon loads (glibc amd64 and aarch64) and the portable TypeScript client elsewhere. Read at process start through the lifecycle environment; a change restarts the component.',
    parse: oneOf(['auto', 'sdk', 'portable'] as const),
  },
  {
    key: 'lowMemory',
    recipeDefault: 'auto',
    description:
      "Which of V8's compilers node runs, fixed at start by the recipe's Run script. `auto` is `true` unless the core has more than 1,000 TCP sockets when the agent starts, then `false`; `true` runs V8's interpreter alone with full garbage collections (less memory, several times the CPU for a sample of thousands of connections); `false` is V8's default (`npm run bench` prints what each costs). Read at process start through the lifecycle environment; a change restarts the component.",
    parse: lowMemorySetting,
  },
];

/** The DefaultConfiguration keys other than accessControl, as the recipe carries them. */
export function recipeDefaultConfiguration(): Record<string, unknown> {
  return Object.fromEntries(CONFIG_KEYS.map((doc) => [doc.key, doc.recipeDefault]));
}
