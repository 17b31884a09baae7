/**
 * Component authorization policies (aws.greengrass.ipc.mqttproxy and aws.greengrass.ipc.pubsub), loaded and matched
 * the way the nucleus's AuthorizationHandler, AuthorizationModule and WildcardTrie do (docs/nucleus-authorization.md).
 */
import { MQTT_PROXY_SERVICE, THING_NAME_VARIABLE } from '../../src/component/definition';
import { isBlank, javaHashSetOrder, resourceRefusal, WildcardTrie } from './wildcard-trie';
import { describeError } from '../../src/util/describe-error';

const ANY_OPERATION = '*';

/**
 * How the nucleus matches a service's resources: MqttProxyIPCAgent asks MQTT-style (`+` and `#` are wildcards where
 * they are whole levels); every other service, PubSubIPCEventStreamAgent among them, asks in the standard style, where
 * only `*` is a wildcard.
 */
export type LookupStyle = 'mqtt' | 'standard';

export function lookupStyleOf(service: string): LookupStyle {
  return service === MQTT_PROXY_SERVICE ? 'mqtt' : 'standard';
}

export interface RefusedResource {
  policyId: string;
  resource: string;
  reason: string;
}

/**
 * One component's mqttproxy permissions as the nucleus's AuthorizationModule holds them: one match tree per operation
 * (`*` included) with the resources of every policy naming that operation.
 */
export class PolicyTable {
  private readonly trees = new Map<string, WildcardTrie>();
  readonly refused: RefusedResource[] = [];

  constructor(private readonly lookup: LookupStyle = 'mqtt') {}

  get isEmpty(): boolean {
    return this.trees.size === 0;
  }

  /** Loads one resource for one operation; a resource the nucleus refuses is recorded and skipped. */
  allow(policyId: string, operation: string, resource: string): void {
    const reason = resourceRefusal(resource);
    if (reason !== undefined) {
      this.refused.push({ policyId, resource, reason });
      return;
    }
    let tree = this.trees.get(operation);
    if (!tree) {
      tree = new WildcardTrie();
      this.trees.set(operation, tree);
    }
    tree.add(resource);
  }

  /** AuthorizationHandler.isAuthorized: the operation's tree, then the `*` tree; a blank topic is always denied. */
  isAuthorized(operation: string, topic: string): boolean {
    if (isBlank(topic)) return false;
    return [operation, ANY_OPERATION].some((key) => {
      const tree = this.trees.get(key);
      if (!tree) return false;
      return this.lookup === 'mqtt' ? tree.matchesMqtt(topic) : tree.matchesStandard(topic);
    });
  }
}

export interface ParsedPolicies {
  policies: PolicyTable;
  /** Set when the structure did not deserialize: the nucleus then drops every policy of the component. */
  problem?: string;
}

/** Whether a policy holding only `resource` lets `topic` through (a refused resource lets nothing through). */
export function resourceAllows(resource: string, topic: string): boolean {
  const table = new PolicyTable();
  table.allow('single', ANY_OPERATION, resource);
  return table.isAuthorized(ANY_OPERATION, topic);
}

export function isAuthorized(policies: PolicyTable, operation: string, topic: string): boolean {
  return policies.isAuthorized(operation, topic);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Jackson in the nucleus is configured with ACCEPT_CASE_INSENSITIVE_PROPERTIES. */
function propertyIgnoringCase(object: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

class MalformedPolicy extends Error {}

function stringArray(value: unknown, field: string, policyId: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new MalformedPolicy(`policy "${policyId}": ${field} must be an array of strings`);
  }
  return value as string[];
}

/**
 * Reads one IPC service's policies from a component's accessControl (an object, or a JSON string
 * holding one). A policy without operations or resources loads but can never match. A policy's resources are added
 * in the order of the java.util.HashSet the nucleus deserializes them into (Jackson's Set), not in list order: with
 * `*` and `${*}` in one policy the answers depend on that order (fixtures/nucleus-authz-pubsub-cases.json, `hashset`).
 */
export function parseServicePolicies(accessControl: unknown, service: string): ParsedPolicies {
  const empty = (): PolicyTable => new PolicyTable(lookupStyleOf(service));
  if (accessControl === undefined || accessControl === null) return { policies: empty() };
  let document: unknown = accessControl;
  if (typeof document === 'string') {
    try {
      document = JSON.parse(document) as unknown;
    } catch (error) {
      return { policies: empty(), problem: `accessControl is not valid JSON: ${describeError(error)}` };
    }
  }
  if (!isPlainObject(document)) return { policies: empty(), problem: 'accessControl must be an object' };
  const servicePolicies = document[service];
  if (servicePolicies === undefined) return { policies: empty() };
  if (!isPlainObject(servicePolicies)) return { policies: empty(), problem: `accessControl.${service} must be an object of policies` };
  try {
    const checked = Object.entries(servicePolicies).map(([policyId, policy]) => {
      if (!isPlainObject(policy)) throw new MalformedPolicy(`policy "${policyId}" must be an object`);
      const operations = stringArray(propertyIgnoringCase(policy, 'operations'), 'operations', policyId);
      const resources = stringArray(propertyIgnoringCase(policy, 'resources'), 'resources', policyId);
      return { policyId, operations, resources };
    });
    const table = empty();
    for (const { policyId, operations, resources } of checked) {
      const inSetOrder = javaHashSetOrder(resources);
      for (const operation of operations) for (const resource of inSetOrder) table.allow(policyId, operation, resource);
    }
    return { policies: table };
  } catch (error) {
    if (error instanceof MalformedPolicy) return { policies: empty(), problem: error.message };
    throw error;
  }
}

/**
 * What the nucleus does to component configuration at deployment time when
 * interpolateComponentConfiguration is on: replace `{iot:thingName}` in every string value.
 */
export function interpolateThingName<T>(value: T, thingName: string): T {
  if (typeof value === 'string') return value.split(THING_NAME_VARIABLE).join(thingName) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => interpolateThingName(item, thingName)) as T;
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateThingName(item, thingName)])) as T;
  }
  return value;
}
