/**
 * Component authorization policies, matched the way the nucleus's AuthorizationHandler and
 * WildcardTrie.matchesMQTT do for aws.greengrass.ipc.mqttproxy.
 */
import { THING_NAME_VARIABLE } from '../../src/component/definition';

export interface CompiledPolicy {
  policyId: string;
  operations: ReadonlySet<string>;
  /** One matcher per loadable resource; resources the nucleus rejects at load time are absent. */
  resources: RegExp[];
}

export interface ParsedPolicies {
  policies: CompiledPolicy[];
  /** Set when the structure did not deserialize: the nucleus then drops every policy of the component. */
  problem?: string;
}

const ANY_OPERATION = '*';
const MATCH_EVERYTHING = /^[\s\S]*$/;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Translates one policy resource to an anchored regex (see the IPC notes, A7): `*` is a glob that
 * crosses `/`; a trailing `/#` and a `+` filling a whole level are MQTT wildcards; `${*}` `${$}`
 * `${?}` are escapes. Returns undefined for a resource with a bare `?`, which the nucleus refuses
 * to load. Known divergence: the nucleus trie lets `${*}` followed by a real `*` in one level
 * match more than this regex does.
 */
export function compileResource(resource: string): RegExp | undefined {
  if (resource === '*' || resource === '#') return MATCH_EVERYTHING;
  let pattern = '';
  for (let i = 0; i < resource.length; ) {
    const escaped = /^\$\{([*$?])\}/.exec(resource.slice(i));
    if (escaped) {
      pattern += escapeRegex(escaped[1]!);
      i += escaped[0].length;
      continue;
    }
    const c = resource[i]!;
    if (c === '?') return undefined;
    if (c === '/' && i === resource.length - 2 && resource[i + 1] === '#') {
      pattern += '(?:/[\\s\\S]*)?';
      break;
    }
    const fillsLevel = (i === 0 || resource[i - 1] === '/') && (i === resource.length - 1 || resource[i + 1] === '/');
    if (c === '*') pattern += '[\\s\\S]*';
    else if (c === '+' && fillsLevel) pattern += '[^/]*';
    else pattern += escapeRegex(c);
    i += 1;
  }
  return new RegExp(`^${pattern}$`);
}

/** The requested topic is a literal string here: wildcards in a subscribe request are just characters. */
export function resourceAllows(resource: string, topic: string): boolean {
  return compileResource(resource)?.test(topic) ?? false;
}

export function isAuthorized(policies: readonly CompiledPolicy[], operation: string, topic: string): boolean {
  return policies.some(
    (policy) =>
      (policy.operations.has(operation) || policy.operations.has(ANY_OPERATION)) && policy.resources.some((matcher) => matcher.test(topic)),
  );
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
 * holding one). A policy without operations or resources loads but can never match.
 */
export function parseServicePolicies(accessControl: unknown, service: string): ParsedPolicies {
  if (accessControl === undefined || accessControl === null) return { policies: [] };
  let document: unknown = accessControl;
  if (typeof document === 'string') {
    try {
      document = JSON.parse(document) as unknown;
    } catch (error) {
      return { policies: [], problem: `accessControl is not valid JSON: ${(error as Error).message}` };
    }
  }
  if (!isPlainObject(document)) return { policies: [], problem: 'accessControl must be an object' };
  const servicePolicies = document[service];
  if (servicePolicies === undefined) return { policies: [] };
  if (!isPlainObject(servicePolicies)) return { policies: [], problem: `accessControl.${service} must be an object of policies` };
  try {
    const policies = Object.entries(servicePolicies).map(([policyId, policy]): CompiledPolicy => {
      if (!isPlainObject(policy)) throw new MalformedPolicy(`policy "${policyId}" must be an object`);
      const operations = stringArray(propertyIgnoringCase(policy, 'operations'), 'operations', policyId);
      const resources = stringArray(propertyIgnoringCase(policy, 'resources'), 'resources', policyId);
      return {
        policyId,
        operations: new Set(operations),
        resources: resources.map(compileResource).filter((matcher): matcher is RegExp => matcher !== undefined),
      };
    });
    return { policies };
  } catch (error) {
    if (error instanceof MalformedPolicy) return { policies: [], problem: error.message };
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
