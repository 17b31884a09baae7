/**
 * What the component is allowed to do over IPC, and on which topics: the single source of the
 * recipe's accessControl, of the policy the operator scripts merge into a deployment, and of the
 * remedy the agent prints when a call is denied.
 */
export const MQTT_PROXY_SERVICE = 'aws.greengrass.ipc.mqttproxy';
export const PUBLISH_OPERATION = 'aws.greengrass#PublishToIoTCore';
export const SUBSCRIBE_OPERATION = 'aws.greengrass#SubscribeToIoTCore';

/** Recipe variable the nucleus substitutes when interpolateComponentConfiguration is on (nucleus >= 2.6.0). */
export const THING_NAME_VARIABLE = '{iot:thingName}';

export type ReportFormat = 'json' | 'cbor';

export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'cbor'];

export interface MetricsTopics {
  publish: string;
  accepted: string;
  rejected: string;
}

export function metricsTopics(thingName: string, format: ReportFormat): MetricsTopics {
  const publish = `$aws/things/${thingName}/defender/metrics/${format}`;
  return { publish, accepted: `${publish}/accepted`, rejected: `${publish}/rejected` };
}

interface AccessControlPolicy {
  policyDescription: string;
  operations: string[];
  resources: string[];
}

export type MqttProxyPolicies = Record<string, AccessControlPolicy>;

export function publishPolicyId(componentName: string): string {
  return `${componentName}:mqttproxy:publish-reports`;
}

export function subscribePolicyId(componentName: string): string {
  return `${componentName}:mqttproxy:receive-replies`;
}

/**
 * Least privilege: publish only on the two report topics, subscribe only on their replies.
 * Both formats are allowed because the format can be changed live by configuration.
 */
function mqttProxyPolicies(componentName: string, thingName: string): MqttProxyPolicies {
  const topics = REPORT_FORMATS.map((format) => metricsTopics(thingName, format));
  return {
    [publishPolicyId(componentName)]: {
      policyDescription: 'Publish Device Defender metrics reports',
      operations: [PUBLISH_OPERATION],
      resources: topics.map((t) => t.publish),
    },
    [subscribePolicyId(componentName)]: {
      policyDescription: 'Receive Device Defender accepted/rejected replies',
      operations: [SUBSCRIBE_OPERATION],
      resources: topics.flatMap((t) => [t.accepted, t.rejected]),
    },
  };
}

export function accessControlFor(componentName: string, thingName: string): Record<string, MqttProxyPolicies> {
  return { [MQTT_PROXY_SERVICE]: mqttProxyPolicies(componentName, thingName) };
}
