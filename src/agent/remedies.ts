/** What the operator must change when the nucleus denies one of the agent's calls. */
import { MQTT_PROXY_SERVICE, PUBLISH_OPERATION, publishPolicyId, subscribePolicyId } from '../component/definition';

export function deniedCallMessage(componentName: string, operation: 'PublishToIoTCore' | 'SubscribeToIoTCore', topic: string): string {
  const fullOperation = operation === 'PublishToIoTCore' ? PUBLISH_OPERATION : `aws.greengrass#${operation}`;
  const policyId = operation === 'PublishToIoTCore' ? publishPolicyId(componentName) : subscribePolicyId(componentName);
  const entry = {
    accessControl: { [MQTT_PROXY_SERVICE]: { [policyId]: { operations: [fullOperation], resources: [topic] } } },
  };
  return (
    `${fullOperation} on "${topic}" was denied by the nucleus (UnauthorizedError): the component's accessControl does not allow it. ` +
    `Fix: deploy ${componentName} with this configuration merge (or run: npm run gg -- deploy --thing <thing>): ${JSON.stringify(entry)}. ` +
    `If the policy uses {iot:thingName}, the nucleus needs version >= 2.6.0 with interpolateComponentConfiguration: true, otherwise the variable is taken literally.`
  );
}
