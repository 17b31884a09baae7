/**
 * The Device Defender security profiles this tool manages: one rules profile (static and
 * statistical thresholds) and, with --ml, one ML Detect profile, because a profile holds one kind.
 */
import type { AlertTarget, Behavior, ConfidenceLevel, MetricToRetain } from '@aws-sdk/client-iot';
import { CUSTOM_METRIC_SOURCES, type CustomMetricSource, type CustomMetricSpec } from '../../src/config/definition';
import { isIotName } from '../../src/config/names';

/** Device Defender evaluates delta metrics over one of a few fixed windows; one report interval is the shortest. */
const DURATION_SECONDS = 300;
export const STATISTICS = ['p0', 'p0.1', 'p0.01', 'p1', 'p10', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'p100'] as const;
export const CONFIDENCE_LEVELS: readonly ConfidenceLevel[] = ['LOW', 'MEDIUM', 'HIGH'];

export interface Thresholds {
  /** Statistic the traffic behaviors compare against when no fixed value is given. */
  statistic: string;
  bytesOut: number | undefined;
  bytesIn: number | undefined;
  packetsOut: number | undefined;
  packetsIn: number | undefined;
  listeningTcpPorts: number;
  listeningUdpPorts: number;
  establishedTcpConnections: number;
  cpuPercent: number;
  memoryPercent: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  statistic: 'p99',
  bytesOut: undefined,
  bytesIn: undefined,
  packetsOut: undefined,
  packetsIn: undefined,
  listeningTcpPorts: 32,
  listeningUdpPorts: 32,
  establishedTcpConnections: 100,
  cpuPercent: 90,
  memoryPercent: 90,
};

const TRAFFIC = [
  { behavior: 'bytes-out', metric: 'aws:all-bytes-out', key: 'bytesOut' },
  { behavior: 'bytes-in', metric: 'aws:all-bytes-in', key: 'bytesIn' },
  { behavior: 'packets-out', metric: 'aws:all-packets-out', key: 'packetsOut' },
  { behavior: 'packets-in', metric: 'aws:all-packets-in', key: 'packetsIn' },
] as const;

const COUNTS = [
  { behavior: 'listening-tcp-ports', metric: 'aws:num-listening-tcp-ports', key: 'listeningTcpPorts' },
  { behavior: 'listening-udp-ports', metric: 'aws:num-listening-udp-ports', key: 'listeningUdpPorts' },
  { behavior: 'established-tcp-connections', metric: 'aws:num-established-tcp-connections', key: 'establishedTcpConnections' },
] as const;

/** Custom metric sources that get a "too high" rule, with the threshold that applies. */
const CUSTOM_RULES: Partial<Record<CustomMetricSource, keyof Thresholds>> = { cpuUsage: 'cpuPercent', memoryUsed: 'memoryPercent' };

/** Lists kept for investigation (the console shows them on a violation) though no rule watches them. */
const RETAINED_LISTS: MetricToRetain[] = [
  { metric: 'aws:listening-tcp-ports' },
  { metric: 'aws:listening-udp-ports' },
  { metric: 'aws:destination-ip-addresses' },
];

/**
 * Device Defender keeps the data of a metric only when a behavior watches it or it is listed in
 * additionalMetricsToRetainV2: every configured custom metric without a rule is retained, so its values are there.
 */
export function retainedMetrics(behaviors: readonly Behavior[], customMetrics: Record<string, CustomMetricSpec>): MetricToRetain[] {
  const watched = new Set(behaviors.map((behavior) => behavior.metric));
  const custom = Object.keys(customMetrics)
    .filter((name) => !watched.has(name))
    .map((metric) => ({ metric }));
  return [...RETAINED_LISTS, ...custom];
}

/** Cloud-side behaviors (metrics AWS IoT measures itself, no agent involved), as AWS's Device Defender workshops set them. */
export interface CloudThresholds {
  authorizationFailures: number;
  messagesSent: number;
  messageBytes: number;
  disconnects: number;
}

export const DEFAULT_CLOUD_THRESHOLDS: CloudThresholds = {
  authorizationFailures: 5,
  messagesSent: 100,
  messageBytes: 5120,
  disconnects: 5,
};

const CLOUD_SIDE = [
  { behavior: 'authorization-failures', metric: 'aws:num-authorization-failures', key: 'authorizationFailures', windowed: true },
  { behavior: 'messages-sent', metric: 'aws:num-messages-sent', key: 'messagesSent', windowed: true },
  { behavior: 'message-size', metric: 'aws:message-byte-size', key: 'messageBytes', windowed: false },
  { behavior: 'disconnects', metric: 'aws:num-disconnects', key: 'disconnects', windowed: true },
] as const;

export function cloudSideBehaviors(thresholds: CloudThresholds): Behavior[] {
  return CLOUD_SIDE.map(({ behavior, metric, key, windowed }) => ({
    name: behavior,
    metric,
    criteria: {
      comparisonOperator: 'greater-than',
      value: { count: thresholds[key] },
      // Message size is judged per message; the counts over a five-minute window.
      ...(windowed ? { durationSeconds: DURATION_SECONDS } : {}),
      consecutiveDatapointsToAlarm: 1,
      consecutiveDatapointsToClear: 1,
    },
  }));
}

/**
 * The metrics ML Detect takes, from https://docs.aws.amazon.com/iot-device-defender/latest/devguide/dd-detect-ml.html:
 * the seven device-side count and traffic metrics, six cloud-side ones, and custom metrics of type number.
 */
export const ML_DEVICE_SIDE_METRICS: readonly string[] = [...TRAFFIC, ...COUNTS].map(({ metric }) => metric);
export const ML_CLOUD_SIDE_METRICS: readonly string[] = [
  'aws:num-authorization-failures',
  'aws:num-connection-attempts',
  'aws:num-disconnects',
  'aws:num-messages-sent',
  'aws:num-messages-received',
  'aws:message-byte-size',
];
export const ML_SOURCE = 'https://docs.aws.amazon.com/iot-device-defender/latest/devguide/dd-detect-ml.html';

/** Why ML Detect cannot watch `metric`, or undefined when it can. */
function mlUnsupportedReason(metric: string, customMetrics: Record<string, CustomMetricSpec>): string | undefined {
  if (ML_DEVICE_SIDE_METRICS.includes(metric) || ML_CLOUD_SIDE_METRICS.includes(metric)) return undefined;
  if (metric.startsWith('aws:')) return `${metric} is not one of the metrics ML Detect supports`;
  const spec = customMetrics[metric];
  if (!spec) return `${metric} is neither a built-in metric nor one of the configured custom metrics`;
  const type = CUSTOM_METRIC_SOURCES[spec.source].type;
  return type === 'number' ? undefined : `custom metric ${metric} is of type ${type}; ML Detect takes custom metrics of type number only`;
}

/** Problems of a profile's behaviors the service would reject: names over 128 characters or with other characters, duplicates. */
export function behaviorNameProblems(behaviors: readonly Behavior[]): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const { name } of behaviors) {
    if (!name || !isIotName(name)) problems.push(`behavior name "${name}" must be 1-128 characters of a-z A-Z 0-9 : _ -`);
    else if (seen.has(name)) problems.push(`behavior name "${name}" is used twice`);
    seen.add(name ?? '');
  }
  return problems;
}

export function defaultProfileName(componentName: string): string {
  return `${componentName.replace(/[^a-zA-Z0-9_-]/g, '-')}-metrics`;
}

export function mlProfileName(profileName: string): string {
  return `${profileName}-ml`;
}

export function ruleBehaviors(thresholds: Thresholds, customMetrics: Record<string, CustomMetricSpec>): Behavior[] {
  const alarm = { consecutiveDatapointsToAlarm: 1, consecutiveDatapointsToClear: 1 };
  const traffic: Behavior[] = TRAFFIC.map(({ behavior, metric, key }) => {
    const value = thresholds[key];
    return {
      name: behavior,
      metric,
      criteria: {
        comparisonOperator: 'greater-than',
        durationSeconds: DURATION_SECONDS,
        ...(value !== undefined ? { value: { count: value } } : { statisticalThreshold: { statistic: thresholds.statistic } }),
        ...alarm,
      },
    };
  });
  const counts: Behavior[] = COUNTS.map(({ behavior, metric, key }) => ({
    name: behavior,
    metric,
    criteria: { comparisonOperator: 'greater-than', value: { count: thresholds[key] }, ...alarm },
  }));
  // Two reports in a row, so one busy moment does not alarm.
  const custom: Behavior[] = Object.entries(customMetrics).flatMap(([name, spec]) => {
    const key = CUSTOM_RULES[spec.source];
    if (!key) return [];
    return [
      {
        name: `${name}-high`,
        metric: name,
        criteria: {
          comparisonOperator: 'greater-than',
          value: { number: thresholds[key] as number },
          consecutiveDatapointsToAlarm: 2,
          consecutiveDatapointsToClear: 2,
        },
      },
    ];
  });
  return [...traffic, ...counts, ...custom];
}

/**
 * ML Detect behaviors for `metrics` (default: the seven device-side metrics, the cloud-side ones when asked for, and
 * every custom metric of type number). Throws on a metric ML Detect does not take, so nothing is created for it.
 */
export function mlBehaviors(
  confidenceLevel: ConfidenceLevel,
  customMetrics: Record<string, CustomMetricSpec>,
  options: { metrics?: readonly string[]; cloudSide?: boolean } = {},
): Behavior[] {
  const criteria = { mlDetectionConfig: { confidenceLevel } };
  const defaults = [
    ...ML_DEVICE_SIDE_METRICS,
    ...(options.cloudSide ? CLOUD_SIDE.map(({ metric }) => metric) : []),
    ...Object.keys(customMetrics).filter((name) => CUSTOM_METRIC_SOURCES[customMetrics[name]!.source].type === 'number'),
  ];
  const metrics = options.metrics?.length ? options.metrics : defaults;
  const problems = metrics.flatMap((metric) => mlUnsupportedReason(metric, customMetrics) ?? []);
  if (problems.length > 0) throw new MlMetricError(problems);
  const shortName = (metric: string): string =>
    [...TRAFFIC, ...COUNTS, ...CLOUD_SIDE].find((known) => known.metric === metric)?.behavior ?? metric.replace(/^aws:/, '');
  return metrics.map((metric) => ({ name: `ml-${shortName(metric)}`, metric, criteria }));
}

export class MlMetricError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'MlMetricError';
  }
}

export function snsAlertTargets(
  topicArn: string | undefined,
  roleArn: string | undefined,
): Partial<Record<'SNS', AlertTarget>> | undefined {
  return topicArn && roleArn ? { SNS: { alertTargetArn: topicArn, roleArn } } : undefined;
}

/** Marks the named behaviors `suppressAlerts: true` (still evaluated and listed, no SNS alert); returns names not found. */
export function suppressAlerts(behaviors: Behavior[], names: readonly string[]): string[] {
  const missing = names.filter((name) => !behaviors.some((behavior) => behavior.name === name));
  for (const behavior of behaviors) if (behavior.name && names.includes(behavior.name)) behavior.suppressAlerts = true;
  return missing;
}
