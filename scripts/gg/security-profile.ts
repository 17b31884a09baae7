/**
 * The Device Defender security profiles this tool manages: one rules profile (static and
 * statistical thresholds) and, with --ml, one ML Detect profile, because a profile holds one kind.
 */
import type { AlertTarget, Behavior, ConfidenceLevel, MetricToRetain } from '@aws-sdk/client-iot';
import { CUSTOM_METRIC_SOURCES, type CustomMetricSource, type CustomMetricSpec } from '../../src/config/definition';

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
export const RETAINED_METRICS: MetricToRetain[] = [
  { metric: 'aws:listening-tcp-ports' },
  { metric: 'aws:listening-udp-ports' },
  { metric: 'aws:destination-ip-addresses' },
];

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

/** ML Detect covers the seven device-side metrics and custom metrics of type number. */
export function mlBehaviors(confidenceLevel: ConfidenceLevel, customMetrics: Record<string, CustomMetricSpec>): Behavior[] {
  const criteria = { mlDetectionConfig: { confidenceLevel } };
  const builtIn = [...TRAFFIC, ...COUNTS].map(({ behavior, metric }) => ({ name: `ml-${behavior}`, metric, criteria }));
  const custom = Object.entries(customMetrics)
    .filter(([, spec]) => CUSTOM_METRIC_SOURCES[spec.source].type === 'number')
    .map(([name]) => ({ name: `ml-${name}`, metric: name, criteria }));
  return [...builtIn, ...custom];
}

export function snsAlertTargets(
  topicArn: string | undefined,
  roleArn: string | undefined,
): Partial<Record<'SNS', AlertTarget>> | undefined {
  return topicArn && roleArn ? { SNS: { alertTargetArn: topicArn, roleArn } } : undefined;
}
