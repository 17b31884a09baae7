/**
 * Least privilege for the optional features: the recipe grants the Device Defender topics only; these are the exact
 * extra accessControl entries a deployment needs for what its configuration turns on (alarms to AWS IoT Core and to
 * local publish/subscribe, the metrics sink, the bytes-out drill), and nothing when they are off. Each feature has its
 * own policy id, so merging one never replaces the report policy's resources.
 */
import type { AgentConfig } from '../config/definition';
import { MQTT_PROXY_SERVICE, PUBLISH_OPERATION } from '../component/definition';
import { resolveTopic } from '../config/detection';

export const PUBSUB_SERVICE = 'aws.greengrass.ipc.pubsub';
export const PUBLISH_TO_TOPIC_OPERATION = 'aws.greengrass#PublishToTopic';

export type Feature = 'alarms' | 'metrics sink' | 'drill';

interface Policy {
  policyDescription: string;
  operations: string[];
  resources: string[];
}

export type FeatureAccessControl = Record<string, Record<string, Policy>>;

type FeatureConfig = Pick<AgentConfig, 'behaviors' | 'alarmTopic' | 'localAlarmTopic' | 'metricsSinkTopic' | 'drill'>;

function policyId(componentName: string, operation: 'PublishToIoTCore' | 'PublishToTopic', feature: Feature): string {
  const service = operation === 'PublishToIoTCore' ? 'mqttproxy' : 'pubsub';
  return `${componentName}:${service}:publish-${feature.replace(' ', '-')}`;
}

function entry(
  componentName: string,
  operation: 'PublishToIoTCore' | 'PublishToTopic',
  feature: Feature,
  topic: string,
): FeatureAccessControl {
  const local = operation === 'PublishToTopic';
  return {
    [local ? PUBSUB_SERVICE : MQTT_PROXY_SERVICE]: {
      [policyId(componentName, operation, feature)]: {
        policyDescription: `Publish Device Defender agent ${feature}${local ? ' on local publish/subscribe' : ''}`,
        operations: [local ? PUBLISH_TO_TOPIC_OPERATION : PUBLISH_OPERATION],
        resources: [topic],
      },
    },
  };
}

/**
 * The accessControl entries to merge (next to the recipe's) for the features `config` turns on, by IPC service.
 * `thingName` replaces `{iot:thingName}`; pass the variable itself to keep it for the nucleus to interpolate.
 */
export function featureAccessControl(config: FeatureConfig, componentName: string, thingName: string): FeatureAccessControl {
  const result: FeatureAccessControl = {};
  const add = (part: FeatureAccessControl) => {
    for (const [service, policies] of Object.entries(part)) result[service] = { ...result[service], ...policies };
  };
  const alarms = config.behaviors.some((b) => b.criteria !== undefined);
  if (alarms && config.alarmTopic) add(entry(componentName, 'PublishToIoTCore', 'alarms', resolveTopic(config.alarmTopic, thingName)));
  if (alarms && config.localAlarmTopic) add(entry(componentName, 'PublishToTopic', 'alarms', config.localAlarmTopic));
  if (config.metricsSinkTopic)
    add(entry(componentName, 'PublishToIoTCore', 'metrics sink', resolveTopic(config.metricsSinkTopic, thingName)));
  if (config.drill?.kind === 'bytes-out')
    add(entry(componentName, 'PublishToIoTCore', 'drill', resolveTopic(config.drill.topic, thingName)));
  return result;
}

/** The log line for a denied call of one of these features: what was denied and the exact entry to merge. */
export function deniedFeatureCallMessage(
  componentName: string,
  operation: 'PublishToIoTCore' | 'PublishToTopic',
  topic: string,
  feature: Feature,
): string {
  const fix = { accessControl: entry(componentName, operation, feature, topic) };
  const full = operation === 'PublishToIoTCore' ? PUBLISH_OPERATION : PUBLISH_TO_TOPIC_OPERATION;
  return (
    `${full} on "${topic}" (${feature}) was denied by the nucleus (UnauthorizedError): the recipe grants the Device Defender topics only. ` +
    `Fix: deploy ${componentName} with this configuration merge (npm run gg -- deploy --thing <thing> merges it when ${feature} are configured): ` +
    JSON.stringify(fix)
  );
}
