/** What the operator must change when the nucleus denies one of the agent's calls, in terms of the runtime it runs on. */
import { MQTT_PROXY_SERVICE, PUBLISH_OPERATION, publishPolicyId, subscribePolicyId } from '../component/definition';
import type { NucleusRuntime } from './nucleus-runtime';

export function deniedCallMessage(
  componentName: string,
  operation: 'PublishToIoTCore' | 'SubscribeToIoTCore',
  topic: string,
  runtime: NucleusRuntime = 'classic',
): string {
  const fullOperation = operation === 'PublishToIoTCore' ? PUBLISH_OPERATION : `aws.greengrass#${operation}`;
  const policyId = operation === 'PublishToIoTCore' ? publishPolicyId(componentName) : subscribePolicyId(componentName);
  const entry = {
    accessControl: { [MQTT_PROXY_SERVICE]: { [policyId]: { operations: [fullOperation], resources: [topic] } } },
  };
  const denied = `${fullOperation} on "${topic}" was denied by the nucleus (UnauthorizedError): the component's accessControl does not allow it. `;
  if (runtime === 'lite') {
    // ggl-cli deploy takes no configuration merge, and lite substitutes {iot:thingName} in policies itself.
    return (
      denied +
      `Fix: deploy ${componentName} from the cloud with this configuration merge (or run: npm run gg -- deploy --thing <thing>): ${JSON.stringify(entry)}; ` +
      `a local ggl-cli deploy takes no configuration merge, so there the entry has to be in the recipe's DefaultConfiguration. ` +
      `Nucleus lite substitutes {iot:thingName} in accessControl itself: a policy written for another thing is denied.`
    );
  }
  return (
    denied +
    `Fix: deploy ${componentName} with this configuration merge (or run: npm run gg -- deploy --thing <thing>): ${JSON.stringify(entry)}. ` +
    `If the policy uses {iot:thingName}, the nucleus needs version >= 2.6.0 with interpolateComponentConfiguration: true, otherwise the variable is taken literally.`
  );
}
