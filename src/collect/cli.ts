/**
 * `npm run collect`, and `node <bundle> --collect-once` on a core: the one-shot collector (like the Python agent's
 * `collector.py -n 1 -s 1`). Prints reports instead of publishing them, so an operator can see exactly what would be
 * sent; `--sample` prints the whole sample instead (every entry, the cumulative counters), for comparing with `ss` and
 * /proc/net/dev or netstat. In the bundle so that it runs where the agent runs, with the same collector.
 */
import { reportBudget } from '../agent/report-budget';
import { validateReport } from '../report/validate';
import { parseArgs } from 'node:util';
import { decode as decodeCbor } from 'cbor-x';
import { type PreparedReport, prepareReport } from '../agent/report-pipeline';
import type { CollectedSample, Collector } from './collector';
import { CUSTOM_METRIC_SOURCES, type CustomMetricSource, type CustomMetricSpec, customMetricSourceProblem } from '../config/definition';
import type { ReportFormat } from '../component/definition';
import { defaultConfig, describeConfigErrors, parseConfig } from '../config/parse';
import type { NetworkTotals } from '../metrics/types';
import type { NetworkBaseline } from '../state/network-delta';
import { describeError } from '../util/describe-error';

export const COLLECT_HELP = `Usage: npm run collect -- [options]
       node <bundle> --collect-once [options]    (on a core, with the agent's own bundle)

Collects device-side metrics (from /proc on Linux, the IP Helper API on Windows) and prints the
Device Defender report that the agent would publish. Nothing is sent anywhere.

Options:
  -n, --count N            number of reports to print (default 1)
  -s, --seconds S          seconds between reports (default 1); network_stats are deltas, so they
                           appear from the second report on
      --names long|short   key names (default long)
      --format json|cbor   encoding; cbor prints the encoded size and the decoded report (default json)
      --custom-metrics L   custom metrics to include: "all" (every source under its default name) or a
                           comma-separated list of name=source[:mountPoint], for example
                           cpu_usage=cpuUsage,disk_root=diskUsed:/  Sources: ${Object.keys(CUSTOM_METRIC_SOURCES).join(', ')}
      --procfs-root DIR    where procfs is mounted (default /proc)
      --include-loopback   count traffic on lo in network_stats
      --max-report-bytes N byte budget of one encoded report (default ${defaultConfig().maxReportBytes})
      --sample             print the collected sample as JSON instead of the report: every listening
                           port, every connection entry and the established total (no list limit,
                           no byte budget), each interface's cumulative counters, custom metrics,
                           problems and dropped rows
  -h, --help               show this help

Exit codes: 0 reports printed; 1 a report does not conform to the schema, or nothing could be read
(a wrong --procfs-root); 2 wrong options.
`;

/** The bundle's argument that runs this command instead of the agent: `node <bundle> --collect-once [options]`. */
export const COLLECT_ONCE_FLAG = '--collect-once';

/** Default metric names for `--custom-metrics all`: snake_case, valid CreateCustomMetric names. */
const DEFAULT_CUSTOM_METRIC_NAMES: Record<CustomMetricSource, string> = {
  cpuUsage: 'cpu_usage',
  memoryUsed: 'memory_used',
  diskUsed: 'disk_used_root',
  uptime: 'uptime',
  processCount: 'process_count',
  loadAverage: 'load_average',
  ipAddresses: 'ip_addresses',
  interfaceNames: 'interface_names',
};

export interface CollectCliDeps {
  createCollector: (procfsRoot: string) => Collector;
  /** The platform collected on: which custom metric sources and mount points exist. Linux's rules unless given. */
  platform?: NodeJS.Platform;
  out: (text: string) => void;
  err: (text: string) => void;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

/** `all`: every source that exists on `platform`, under its default name, the disk at the platform's root. */
export function parseCustomMetricList(text: string, platform: NodeJS.Platform = 'linux'): Record<string, CustomMetricSpec> {
  if (text === 'all') {
    const specs: Record<string, { source: string }> = {};
    for (const source of Object.keys(DEFAULT_CUSTOM_METRIC_NAMES) as CustomMetricSource[]) {
      if (customMetricSourceProblem(source, platform) === undefined) specs[DEFAULT_CUSTOM_METRIC_NAMES[source]] = { source };
    }
    return parseCustomMetricSpecs(specs, platform);
  }
  const specs: Record<string, { source: string; mountPoint?: string }> = {};
  for (const item of text.split(',').filter((part) => part.trim() !== '')) {
    const [name, rest] = item.split('=', 2);
    if (!name || !rest) throw new Error(`--custom-metrics: "${item}" is not name=source[:mountPoint]`);
    const colon = rest.indexOf(':');
    specs[name.trim()] =
      colon < 0 ? { source: rest.trim() } : { source: rest.slice(0, colon).trim(), mountPoint: rest.slice(colon + 1).trim() };
  }
  return parseCustomMetricSpecs(specs, platform);
}

function parseCustomMetricSpecs(specs: Record<string, unknown>, platform: NodeJS.Platform): Record<string, CustomMetricSpec> {
  const { config, errors } = parseConfig({ customMetrics: specs }, undefined, { platform });
  if (errors.length > 0) throw new Error(`--custom-metrics: ${describeConfigErrors(errors)}`);
  return config.customMetrics;
}

function parseCollectFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      count: { type: 'string', short: 'n', default: '1' },
      seconds: { type: 'string', short: 's', default: '1' },
      names: { type: 'string', default: 'long' },
      format: { type: 'string', default: 'json' },
      'custom-metrics': { type: 'string', default: '' },
      'procfs-root': { type: 'string', default: '/proc' },
      'include-loopback': { type: 'boolean', default: false },
      'max-report-bytes': { type: 'string' },
      sample: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

export async function runCollect(argv: string[], deps: CollectCliDeps): Promise<number> {
  let options: ReturnType<typeof parseCollectFlags>;
  try {
    options = parseCollectFlags(argv);
  } catch (error) {
    deps.err(`${describeError(error)}\n\n${COLLECT_HELP}`);
    return 2;
  }
  if (options.help) {
    deps.out(COLLECT_HELP);
    return 0;
  }
  const count = Number(options.count);
  const seconds = Number(options.seconds);
  const problems: string[] = [];
  if (!Number.isInteger(count) || count < 1) problems.push(`--count must be a whole number >= 1 (got ${options.count})`);
  if (!Number.isFinite(seconds) || seconds < 0) problems.push(`--seconds must be a number >= 0 (got ${options.seconds})`);
  if (options.names !== 'long' && options.names !== 'short') problems.push(`--names must be long or short (got ${options.names})`);
  if (options.format !== 'json' && options.format !== 'cbor') problems.push(`--format must be json or cbor (got ${options.format})`);
  const platform = deps.platform ?? 'linux';
  const parsed = parseConfig(
    {
      procfsRoot: options['procfs-root'],
      ...(options['max-report-bytes'] !== undefined ? { maxReportBytes: options['max-report-bytes'] } : {}),
    },
    undefined,
    { platform },
  );
  problems.push(...parsed.errors.map((e) => `--${e.key === 'procfsRoot' ? 'procfs-root' : 'max-report-bytes'}: ${e.message}`));
  let customMetrics: Record<string, CustomMetricSpec> = {};
  try {
    customMetrics = parseCustomMetricList(options['custom-metrics'] ?? '', platform);
  } catch (error) {
    problems.push(describeError(error));
  }
  if (problems.length > 0) {
    deps.err(`${problems.join('\n')}\n\nRun with --help for the options.`);
    return 2;
  }

  const config = parsed.config;
  const format = options.format as ReportFormat;
  const collector = deps.createCollector(config.procfsRoot);
  let baseline: NetworkBaseline | undefined;
  let lastReportId: number | undefined;
  let exitCode = 0;
  if (options.sample) {
    for (let index = 0; index < count; index += 1) {
      if (index > 0) await deps.sleep(seconds * 1000);
      const collected = await collector.collect({ customMetrics, networkStatsIncludeLoopback: options['include-loopback'] ?? false });
      if (!sampledAnything(collected)) {
        deps.err(`error: nothing could be read (no socket table, no network counters, no custom metric): ${describeProblems(collected)}`);
        exitCode = 1;
      }
      deps.out(prettyJson(sampleDocument(collected)));
    }
    return exitCode;
  }
  for (let index = 0; index < count; index += 1) {
    if (index > 0) await deps.sleep(seconds * 1000);
    const prepared = await prepareReport({
      collector,
      collect: {
        customMetrics,
        networkStatsIncludeLoopback: options['include-loopback'] ?? false,
        maxListedConnections: config.maxListedConnections,
      },
      baseline,
      lastReportId,
      build: {
        shortNames: options.names === 'short',
        format,
        maxListedPorts: config.maxListedPorts,
        maxListedConnections: config.maxListedConnections,
        // No nucleus here: the classic budget (a collection does not know which runtime it is for).
        maxReportBytes: reportBudget(config.maxReportBytes, undefined),
      },
      wallNow: deps.now,
      monotonic: deps.now,
    });
    for (const problem of prepared.problems) deps.err(`warning: ${problem.subject} left out: ${problem.message}`);
    for (const [table, dropped] of Object.entries(prepared.droppedRows)) deps.err(`note: ${table}: ${dropped} row(s) dropped`);
    for (const note of prepared.networkNotes) deps.err(`note: network_stats: ${note}`);
    if (prepared.networkOmitted) deps.err(`note: network_stats left out: ${prepared.networkOmitted}`);
    // Printing is this command's hand-over: the next report counts from this one.
    if (prepared.networkReading) baseline = prepared.networkReading;
    lastReportId = prepared.reportId;
    if (!readAnything(prepared)) {
      deps.err(
        `error: nothing could be read under ${config.procfsRoot} (no socket table, no network counters, no custom metric): is --procfs-root a procfs?`,
      );
      exitCode = 1;
    }
    const { built } = prepared;
    const invalid = validateReport(built.document);
    if (invalid.length > 0) {
      deps.err(`report ${prepared.reportId} does not conform to the Device Defender schema:\n  ${invalid.join('\n  ')}`);
      exitCode = 1;
    }
    const shown = format === 'cbor' ? decodeCbor(built.payload) : JSON.parse(built.payload.toString('utf8'));
    if (format === 'cbor') deps.out(`CBOR report: ${built.bytes} bytes (${Buffer.byteLength(JSON.stringify(shown))} as compact JSON)`);
    deps.out(prettyJson(format === 'cbor' ? shown : built.payload.toString('utf8')));
  }
  return exitCode;
}

/** Whether any metric was read: a report of nothing (a mistyped --procfs-root) must not pass for a result. */
function readAnything(prepared: PreparedReport): boolean {
  const { sample } = prepared;
  return (
    sample.listeningTcpPorts !== undefined ||
    sample.listeningUdpPorts !== undefined ||
    sample.establishedConnections !== undefined ||
    prepared.networkReading !== undefined ||
    Object.keys(sample.customMetrics).length > 0
  );
}

function sampledAnything(sample: CollectedSample): boolean {
  return (
    sample.listeningTcpPorts !== undefined ||
    sample.listeningUdpPorts !== undefined ||
    sample.establishedConnections !== undefined ||
    sample.network !== undefined ||
    Object.keys(sample.customMetrics).length > 0
  );
}

function describeProblems(sample: CollectedSample): string {
  return sample.problems.map((p) => `${p.subject}: ${p.message}`).join('; ') || 'no problem was reported';
}

/**
 * The sample as `--sample` prints it: report names where the report has them, a block that could not be read is null
 * (the problems say why), counters as JSON integers (exact above 2^53).
 */
function sampleDocument(sample: CollectedSample): unknown {
  const interfaces = sample.network?.interfaces ?? {};
  return {
    listening_tcp_ports: sample.listeningTcpPorts ?? null,
    listening_udp_ports: sample.listeningUdpPorts ?? null,
    tcp_connections:
      sample.establishedConnections === undefined
        ? null
        : {
            established_connections: sample.establishedConnections.map((c) => ({
              remote_addr: c.remoteAddr,
              local_port: c.localPort,
              ...(c.localInterface !== undefined ? { local_interface: c.localInterface } : {}),
            })),
            total: sample.establishedConnectionsTotal ?? sample.establishedConnections.length,
          },
    network:
      sample.network === undefined
        ? null
        : {
            boot_id: sample.network.bootId,
            interfaces: Object.fromEntries(
              Object.keys(interfaces).map((name) => {
                const c = interfaces[name] as NetworkTotals;
                return [name, { bytes_in: c.bytesIn, bytes_out: c.bytesOut, packets_in: c.packetsIn, packets_out: c.packetsOut }];
              }),
            ),
          },
    custom_metrics: sample.customMetrics,
    problems: sample.problems,
    dropped_rows: sample.droppedRows,
  };
}

/** Indents the report while keeping integers above 2^53 exactly as encoded. */
function prettyJson(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  let depth = 0;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch === '{' || ch === '[') {
      depth += 1;
      out += `${ch}\n${'  '.repeat(depth)}`;
    } else if (ch === '}' || ch === ']') {
      depth -= 1;
      out += `\n${'  '.repeat(depth)}${ch}`;
    } else if (ch === ',') {
      out += `,\n${'  '.repeat(depth)}`;
    } else if (ch === ':') {
      out += ': ';
    } else {
      out += ch;
    }
  }
  return out.replace(/"(-?\d+)n"/g, '$1').replace(/([{[])\n\s*([}\]])/g, '$1$2');
}

/**
 * The command on this process's terminal, its exit code set when it ends: what `npm run collect` and the bundle's
 * `--collect-once` run.
 */
export function runCollectOnTerminal(argv: string[], createCollector: CollectCliDeps['createCollector']): void {
  runCollect(argv, {
    createCollector,
    platform: process.platform,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`collect failed: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
