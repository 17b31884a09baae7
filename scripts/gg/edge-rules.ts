/**
 * The AWS IoT topic rules `setup-edge` creates for detection at the edge: the agent's alarm topic to an SNS topic
 * (the payload unchanged, so a consumer of Device Defender's SNS alerts reads the same violation fields), and
 * optionally the metrics sink to CloudWatch metrics. SQL version 2016-03-23; rule actions and their substitution
 * templates as https://docs.aws.amazon.com/iot/latest/developerguide/iot-rule-actions.html documents them
 * (sns-rule-action.html, cloudwatch-metrics-rule-action.html).
 */
import type { TopicRulePayload } from '@aws-sdk/client-iot';
import { THING_NAME_VARIABLE } from '../../src/component/definition';
import { keyNames, type LongName } from '../../src/report/names';

const SQL_VERSION = '2016-03-23';

/** Rule names allow letters, digits and `_` only (IoT model, RuleName). */
export function ruleNameFor(componentName: string, purpose: 'alarms' | 'metrics'): string {
  return `${componentName.replace(/[^A-Za-z0-9_]/g, '_')}_${purpose}`.slice(0, 128);
}

/**
 * IAM role names allow 64 characters. IAM is global but the role trusts one region's AWS IoT and may publish to one
 * region's topic: each region gets its own role, so setting up a second region leaves the first one's alarms flowing.
 */
export function ruleRoleNameFor(componentName: string, region: string): string {
  return `${componentName.replace(/[^A-Za-z0-9_+=,.@-]/g, '-').slice(0, 36)}-edge-rules-${region}`;
}

/** The topic filter a rule listens on: every thing's topic when the topic names `{iot:thingName}`. */
export function topicFilterOf(topic: string): string {
  return topic.split(THING_NAME_VARIABLE).join('+');
}

/**
 * How the rule names the reporting thing: the topic level that holds `{iot:thingName}`, else the MQTT client id
 * (the Greengrass core connects with its thing name).
 */
export function thingExpression(topic: string): string {
  const level = topic.split('/').indexOf(THING_NAME_VARIABLE);
  return level >= 0 ? `topic(${level + 1})` : 'clientid()';
}

export function alarmRulePayload(alarmTopic: string, snsTopicArn: string, roleArn: string): TopicRulePayload {
  return {
    sql: `SELECT * FROM '${topicFilterOf(alarmTopic)}'`,
    awsIotSqlVersion: SQL_VERSION,
    description: 'Device Defender agent alarms (violation events raised on the core) to SNS',
    ruleDisabled: false,
    // RAW: the SNS message is the violation event itself, as a consumer of Device Defender's alerts expects.
    actions: [{ sns: { targetArn: snsTopicArn, roleArn, messageFormat: 'RAW' } }],
  };
}

interface ReportMetric {
  name: string;
  path: readonly LongName[];
  unit: string;
}

/** Report fields by their long names; the short ones come from the agent's own table (src/report/names.ts). */
const REPORT_METRICS: readonly ReportMetric[] = [
  { name: 'ListeningTcpPorts', path: ['metrics', 'listening_tcp_ports', 'total'], unit: 'Count' },
  { name: 'ListeningUdpPorts', path: ['metrics', 'listening_udp_ports', 'total'], unit: 'Count' },
  { name: 'EstablishedTcpConnections', path: ['metrics', 'tcp_connections', 'established_connections', 'total'], unit: 'Count' },
  { name: 'BytesIn', path: ['metrics', 'network_stats', 'bytes_in'], unit: 'Bytes' },
  { name: 'BytesOut', path: ['metrics', 'network_stats', 'bytes_out'], unit: 'Bytes' },
  { name: 'PacketsIn', path: ['metrics', 'network_stats', 'packets_in'], unit: 'Count' },
  { name: 'PacketsOut', path: ['metrics', 'network_stats', 'packets_out'], unit: 'Count' },
];

/** The CloudWatch metric names of the metrics rule, without the `<thing>.` prefix. */
export const REPORT_METRIC_NAMES: readonly string[] = REPORT_METRICS.map((m) => m.name);

/**
 * One CloudWatch metric per report field and thing (the action has no dimensions, so the thing is in the metric
 * name: `<thing>.<Metric>`). The sink must carry JSON reports: rules read neither CBOR nor binary payloads.
 * network_stats is absent from a report after a restart; its four metrics then have no value that time.
 */
export function metricsRulePayload(sinkTopic: string, shortNames: boolean, namespace: string, roleArn: string): TopicRulePayload {
  const names = keyNames(shortNames);
  const fields = REPORT_METRICS.map((m) => `${m.path.map((key) => names[key]).join('.')} AS ${m.name}`);
  return {
    sql: `SELECT ${thingExpression(sinkTopic)} AS thing, ${fields.join(', ')} FROM '${topicFilterOf(sinkTopic)}'`,
    awsIotSqlVersion: SQL_VERSION,
    description: 'Device Defender agent reports from the metrics sink topic to CloudWatch metrics',
    ruleDisabled: false,
    actions: REPORT_METRICS.map((m) => ({
      cloudwatchMetric: {
        roleArn,
        metricNamespace: namespace,
        metricName: `\${thing}.${m.name}`,
        metricValue: `\${${m.name}}`,
        metricUnit: m.unit,
      },
    })),
  };
}

/** What the rules' role may do: publish to this SNS topic; put metrics in this namespace only. */
export function ruleRolePolicy(snsTopicArn: string, metricsNamespace: string | undefined): object {
  const statements: object[] = [{ Effect: 'Allow', Action: 'sns:Publish', Resource: snsTopicArn }];
  if (metricsNamespace !== undefined) {
    // PutMetricData has no resource type; the namespace condition is how IAM narrows it.
    statements.push({
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': metricsNamespace } },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}
