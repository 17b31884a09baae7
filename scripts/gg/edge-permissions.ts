/**
 * The accessControl `deploy` merges for the optional features (alarms to AWS IoT Core and to local publish/subscribe,
 * the metrics sink, the bytes-out drill): exactly the entries the agent's own rules (src/detect/permissions.ts) name
 * for the configuration the device will run, and none when those features are off. The device's configuration is
 * the agent's parser over the settings, recipe defaults included, so a default topic is granted only when the
 * feature that uses it is on.
 */
import { THING_NAME_VARIABLE } from '../../src/component/definition';
import { parseConfig } from '../../src/config/parse';
import { type FeatureAccessControl, featureAccessControl } from '../../src/detect/permissions';
import { type AgentSettings, policyThingName } from './agent-config';
import type { Arns } from './aws';
import type { OutputSink } from './deps';

export function featureAccessControlFor(componentName: string, settings: AgentSettings, policyThing: string): FeatureAccessControl {
  return featureAccessControl(parseConfig(settings).config, componentName, policyThing);
}

/** `base` with the feature entries added per IPC service; a policy id present in both takes the feature's entry. */
export function withFeatureAccessControl<T extends Record<string, object>>(
  base: T,
  features: FeatureAccessControl,
): Record<string, object> {
  const merged: Record<string, object> = { ...base };
  for (const [service, policies] of Object.entries(features)) merged[service] = { ...merged[service], ...policies };
  return merged;
}

interface PolicyEntry {
  operations: string[];
  resources: string[];
}

function entries(features: FeatureAccessControl): Array<{ service: string; entry: PolicyEntry }> {
  return Object.entries(features).flatMap(([service, policies]) => Object.values(policies).map((entry) => ({ service, entry })));
}

/** One line per extra permission, for the deploy output. */
export function describeFeaturePermissions(features: FeatureAccessControl): string[] {
  return entries(features).map(
    ({ service, entry }) => `merging accessControl ${service}: ${entry.operations.join(', ')} on ${entry.resources.join(', ')}`,
  );
}

/**
 * The AWS IoT policy statement the core's certificate needs as well: the nucleus publishes for the component with
 * the core's own MQTT connection, so IoT Core checks iot:Publish on every topic the features publish to.
 */
export function iotPublishStatement(arns: Arns, features: FeatureAccessControl): string | undefined {
  const topics = entries(features)
    .filter(({ entry }) => entry.operations.includes('aws.greengrass#PublishToIoTCore'))
    .flatMap(({ entry }) => entry.resources);
  if (topics.length === 0) return undefined;
  // In an AWS IoT policy the connected thing's name is a policy variable of its own.
  const inIotPolicy = (topic: string) => arns.topic(topic.split(THING_NAME_VARIABLE).join('${iot:Connection.Thing.ThingName}'));
  return JSON.stringify({ Effect: 'Allow', Action: 'iot:Publish', Resource: topics.map(inIotPolicy) });
}

/** Prints what `deploy` grants beyond the Device Defender topics, and what the core's AWS IoT policy needs for it. */
export function explainFeaturePermissions(
  out: OutputSink,
  arns: Arns,
  componentName: string,
  settings: AgentSettings,
  targetThing: string | undefined,
): void {
  const features = featureAccessControlFor(componentName, settings, policyThingName(settings, targetThing));
  for (const line of describeFeaturePermissions(features)) out.info(line);
  const statement = iotPublishStatement(arns, features);
  if (statement) out.info(`the AWS IoT policy attached to the core's certificate must also allow: ${statement}`);
}

function accessControlOf(merge: string | undefined): Record<string, Record<string, unknown>> {
  if (!merge) return {};
  try {
    const parsed = JSON.parse(merge) as { accessControl?: unknown };
    const access = parsed.accessControl;
    return typeof access === 'object' && access !== null ? (access as Record<string, Record<string, unknown>>) : {};
  } catch {
    return {};
  }
}

/**
 * A merge only adds and replaces keys on the device, so a permission the previous revision granted (an alarm topic
 * whose feature is now off) would stay. When the new accessControl drops a policy the previous one had, the
 * revision resets /accessControl first (Greengrass applies reset before merge), leaving exactly the new one.
 */
export function staleAccessControlReset(previousMerge: string | undefined, merge: string): string[] {
  const before = accessControlOf(previousMerge);
  const after = accessControlOf(merge);
  const dropped = Object.entries(before).some(([service, policies]) =>
    Object.keys(typeof policies === 'object' && policies !== null ? policies : {}).some((id) => after[service]?.[id] === undefined),
  );
  return dropped ? ['/accessControl'] : [];
}
