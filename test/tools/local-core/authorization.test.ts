import { accessControlFor, MQTT_PROXY_SERVICE, PUBLISH_OPERATION, SUBSCRIBE_OPERATION } from '../../../src/component/definition';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  interpolateThingName,
  isAuthorized,
  lookupStyleOf,
  PolicyTable,
  parseServicePolicies,
  resourceAllows,
} from '../../../tools/local-core/authorization';
import { javaHashSetOrder, resourceRefusal } from '../../../tools/local-core/wildcard-trie';
import { PUBLISH_TO_TOPIC_OPERATION, PUBSUB_SERVICE } from '../../../src/detect/permissions';

interface NucleusCase {
  category: string;
  resources: string[];
  topic: string;
  allowed: boolean;
  refusedResources: string[];
}

// Answered by the nucleus's own WildcardTrie and AuthorizationModule; provenance in fixtures/README.md.
const NUCLEUS_CASES = (
  JSON.parse(readFileSync(join(__dirname, 'fixtures', 'nucleus-authz-cases.json'), 'utf8')) as { cases: NucleusCase[] }
).cases;

/**
 * The table records no refusal for the two cases whose only resource is "" although it records "" as refused next to
 * "a" and " " as refused alone: the driver could not tell [""] from an empty list there (see fixtures/README.md).
 * The nucleus refuses every blank resource (AuthorizationModule.validateResource), so "" is expected refused.
 */
function expectedRefusals(testCase: NucleusCase): string[] {
  const onlyEmpty = testCase.resources.length === 1 && testCase.resources[0] === '';
  return onlyEmpty ? [''] : testCase.refusedResources;
}

describe('agreement with the nucleus (fixtures/nucleus-authz-cases.json)', () => {
  it('holds the whole table', () => expect(NUCLEUS_CASES).toHaveLength(501));

  it.each(NUCLEUS_CASES.map((c, i) => [i, c.category, JSON.stringify(c.resources), JSON.stringify(c.topic), c] as const))(
    'case %i (%s): %s with topic %s',
    (_index, _category, _resources, _topic, testCase) => {
      const table = new PolicyTable();
      for (const resource of testCase.resources) table.allow('p', PUBLISH_OPERATION, resource);
      expect(table.refused.map((refusal) => refusal.resource)).toEqual(expectedRefusals(testCase));
      expect(table.isAuthorized(PUBLISH_OPERATION, testCase.topic)).toBe(testCase.allowed);
    },
  );
});

interface NucleusLookupCase extends NucleusCase {
  lookup: 'standard' | 'mqtt';
  order: 'list' | 'hashset';
}

// Answered by the nucleus's own classes through fixtures/nucleus-driver; provenance in fixtures/README.md.
const LOOKUP_CASES = (
  JSON.parse(readFileSync(join(__dirname, 'fixtures', 'nucleus-authz-pubsub-cases.json'), 'utf8')) as { cases: NucleusLookupCase[] }
).cases;

describe('agreement with the nucleus in both lookup styles and in its policy order (fixtures/nucleus-authz-pubsub-cases.json)', () => {
  it('holds the whole table, with cases where the order of a policy changes the answer', () => {
    expect(LOOKUP_CASES).toHaveLength(3189);
    expect(LOOKUP_CASES.filter((c) => c.category.endsWith('differs-from-list-order')).length).toBeGreaterThan(100);
  });

  it.each(LOOKUP_CASES.map((c, i) => [i, c.category, JSON.stringify(c.resources), JSON.stringify(c.topic), c] as const))(
    'case %i (%s): %s with topic %s',
    (_index, _category, _resources, _topic, testCase) => {
      const service = testCase.lookup === 'mqtt' ? MQTT_PROXY_SERVICE : PUBSUB_SERVICE;
      let table: PolicyTable;
      if (testCase.order === 'list') {
        table = new PolicyTable(lookupStyleOf(service));
        for (const resource of testCase.resources) table.allow('p', PUBLISH_OPERATION, resource);
      } else {
        // A deployment's accessControl, read as the local core reads a component's configuration.
        const parsed = parseServicePolicies(
          { [service]: { p: { operations: [PUBLISH_OPERATION], resources: testCase.resources } } },
          service,
        );
        expect(parsed.problem).toBeUndefined();
        table = parsed.policies;
      }
      expect(table.refused.map((refusal) => refusal.resource)).toEqual(testCase.refusedResources);
      expect(table.isAuthorized(PUBLISH_OPERATION, testCase.topic)).toBe(testCase.allowed);
    },
  );
});

describe('local publish/subscribe (aws.greengrass.ipc.pubsub) matching', () => {
  const pubsub = (resources: string[]) =>
    parseServicePolicies({ [PUBSUB_SERVICE]: { p: { operations: [PUBLISH_TO_TOPIC_OPERATION], resources } } }, PUBSUB_SERVICE).policies;

  it('reads + and # literally and only * as a wildcard, as a real core does', () => {
    expect(pubsub(['defender-agent/+/alarms']).isAuthorized(PUBLISH_TO_TOPIC_OPERATION, 'defender-agent/T1/alarms')).toBe(false);
    expect(pubsub(['defender-agent/+/alarms']).isAuthorized(PUBLISH_TO_TOPIC_OPERATION, 'defender-agent/+/alarms')).toBe(true);
    expect(pubsub(['defender-agent/#']).isAuthorized(PUBLISH_TO_TOPIC_OPERATION, 'defender-agent/alarms')).toBe(false);
    expect(pubsub(['defender-agent/*']).isAuthorized(PUBLISH_TO_TOPIC_OPERATION, 'defender-agent/T1/alarms')).toBe(true);
  });
});

describe('javaHashSetOrder', () => {
  it('iterates as java.util.HashSet does: by hash bin, not by insertion, without duplicates', () => {
    // jshell: new HashSet<>(Arrays.asList("b", "a", "ab", "b")) prints [a, ab, b] ("a" and "ab" share bin 1, "b" is in 2).
    expect(javaHashSetOrder(['b', 'a', 'ab', 'b'])).toEqual(['a', 'ab', 'b']);
  });
});

// Hand-picked rows of docs/nucleus-authorization.md; the nucleus-answered table below covers them all.
const TABLE: Array<{ resource: string; allowed: string[]; denied: string[] }> = [
  { resource: 'a/b', allowed: ['a/b'], denied: ['a/+'] },
  { resource: 'a/+', allowed: ['a/b', 'a/+', 'a/', 'a/#'], denied: ['a/b/c'] },
  { resource: 'a/#', allowed: ['a', 'a/b/c', 'a/+/c'], denied: ['ab'] },
  { resource: 'a#', allowed: ['a#'], denied: ['a/b'] },
  { resource: '*', allowed: ['anything/at/all'], denied: [] },
  { resource: 'a/*', allowed: ['a/b/c'], denied: [] },
  { resource: 'a*', allowed: ['ab/c'], denied: [] },
  { resource: '+/b', allowed: ['x/b'], denied: [] },
  { resource: 'sensors/+/temp/#', allowed: ['sensors/s1/temp'], denied: ['sensors/s1/x/temp'] },
  { resource: 'a/+b', allowed: ['a/+b'], denied: ['a/xb'] },
  { resource: 'things/{iot:thingName}/x', allowed: ['things/{iot:thingName}/x'], denied: ['things/T1/x'] },
  { resource: 'a/${*}', allowed: ['a/*'], denied: ['a/b'] },
];

describe('policy resource matching (documented rows)', () => {
  for (const row of TABLE) {
    for (const topic of row.allowed) it(`${row.resource} allows ${topic}`, () => expect(resourceAllows(row.resource, topic)).toBe(true));
    for (const topic of row.denied) it(`${row.resource} denies ${topic}`, () => expect(resourceAllows(row.resource, topic)).toBe(false));
  }

  it('treats ${$} and ${?} as literal characters', () => {
    expect(resourceAllows('cost/${$}/q${?}', 'cost/$/q?')).toBe(true);
    expect(resourceAllows('cost/${$}/q${?}', 'cost/x/qy')).toBe(false);
  });

  it('refuses to load a resource with a bare ?, an escape of another character, or an unfinished escape', () => {
    expect(resourceRefusal('a/?')).toMatch(/invalid character/);
    expect(resourceRefusal('a/${c}')).toMatch(/invalid escape sequence: \$\{c\}/);
    expect(resourceRefusal('a/${')).toMatch(/invalid escape sequence/);
    expect(resourceRefusal('a/$b')).toBeUndefined();
    expect(resourceAllows('a/${c}', 'a/${c}')).toBe(false);
    expect(resourceAllows('a/${', 'a/${')).toBe(false);
    expect(resourceAllows('a/?', 'a/?')).toBe(false);
  });

  it('lets # alone allow everything, and a/# allow a/ too', () => {
    expect(resourceAllows('#', '$aws/things/T1/shadow')).toBe(true);
    expect(resourceAllows('a/#', 'a/')).toBe(true);
  });
});

function policies(accessControl: unknown) {
  return parseServicePolicies(accessControl, MQTT_PROXY_SERVICE);
}

describe('parseServicePolicies / isAuthorized', () => {
  const component = 'com.example.Agent';

  it("grants the project's least-privilege policy exactly its topics", () => {
    const { policies: parsed, problem } = policies(accessControlFor(component, 'T1'));
    expect(problem).toBeUndefined();
    expect(isAuthorized(parsed, PUBLISH_OPERATION, '$aws/things/T1/defender/metrics/json')).toBe(true);
    expect(isAuthorized(parsed, PUBLISH_OPERATION, '$aws/things/T1/defender/metrics/json/accepted')).toBe(false);
    expect(isAuthorized(parsed, SUBSCRIBE_OPERATION, '$aws/things/T1/defender/metrics/cbor/rejected')).toBe(true);
    expect(isAuthorized(parsed, SUBSCRIBE_OPERATION, '$aws/things/T1/defender/metrics/cbor')).toBe(false);
    expect(isAuthorized(parsed, PUBLISH_OPERATION, '$aws/things/T2/defender/metrics/json')).toBe(false);
  });

  it('accepts "*" as every operation, and nothing else loosely (operation names are case-sensitive)', () => {
    const any = policies({ [MQTT_PROXY_SERVICE]: { p: { operations: ['*'], resources: ['x'] } } }).policies;
    expect(isAuthorized(any, SUBSCRIBE_OPERATION, 'x')).toBe(true);
    const lower = policies({ [MQTT_PROXY_SERVICE]: { p: { operations: ['aws.greengrass#publishtoiotcore'], resources: ['x'] } } }).policies;
    expect(isAuthorized(lower, PUBLISH_OPERATION, 'x')).toBe(false);
  });

  it('reads property names case-insensitively and accepts accessControl as a JSON string', () => {
    const text = JSON.stringify({ [MQTT_PROXY_SERVICE]: { p: { Operations: [PUBLISH_OPERATION], RESOURCES: ['t/+'] } } });
    const { policies: parsed, problem } = policies(text);
    expect(problem).toBeUndefined();
    expect(isAuthorized(parsed, PUBLISH_OPERATION, 't/1')).toBe(true);
  });

  it('drops every policy of the component when one does not deserialize', () => {
    const result = policies({
      [MQTT_PROXY_SERVICE]: {
        good: { operations: [PUBLISH_OPERATION], resources: ['t/1'] },
        bad: { operations: PUBLISH_OPERATION, resources: ['t/2'] },
      },
    });
    expect(result.policies.isEmpty).toBe(true);
    expect(result.problem).toMatch(/operations must be an array/);
    expect(policies('{not json').problem).toMatch(/not valid JSON/);
    expect(policies([1]).problem).toMatch(/must be an object/);
  });

  it('loads a policy without resources, which never matches', () => {
    const { policies: parsed, problem } = policies({ [MQTT_PROXY_SERVICE]: { p: { operations: ['*'] } } });
    expect(problem).toBeUndefined();
    expect(isAuthorized(parsed, PUBLISH_OPERATION, '')).toBe(false);
  });

  it('skips a refused resource and keeps the rest of the policy', () => {
    const { policies: parsed, problem } = policies({
      [MQTT_PROXY_SERVICE]: { p: { operations: [PUBLISH_OPERATION], resources: ['#/${c}', 'a/b'] } },
    });
    expect(problem).toBeUndefined();
    expect(parsed.refused).toEqual([{ policyId: 'p', resource: '#/${c}', reason: expect.stringMatching(/\$\{c\}/) }]);
    expect(isAuthorized(parsed, PUBLISH_OPERATION, 'a/b')).toBe(true);
    expect(isAuthorized(parsed, PUBLISH_OPERATION, '#/${c}')).toBe(false);
  });

  it('ignores other IPC services', () => {
    expect(policies({ 'aws.greengrass.ipc.pubsub': { p: { operations: ['*'], resources: ['*'] } } }).policies.isEmpty).toBe(true);
  });
});

describe('interpolateThingName', () => {
  it('replaces every {iot:thingName} in string values, strings holding JSON included', () => {
    const config = {
      a: 'things/{iot:thingName}/x/{iot:thingName}',
      list: ['{iot:thingName}', 3],
      nested: { n: true },
      text: '{"r":"{iot:thingName}"}',
    };
    expect(interpolateThingName(config, 'T1')).toEqual({ a: 'things/T1/x/T1', list: ['T1', 3], nested: { n: true }, text: '{"r":"T1"}' });
  });

  it('with interpolation a {iot:thingName} policy allows the real topic; without it only the literal', () => {
    const accessControl = { [MQTT_PROXY_SERVICE]: { p: { operations: [PUBLISH_OPERATION], resources: ['things/{iot:thingName}/x'] } } };
    const literal = policies(accessControl).policies;
    const interpolated = policies(interpolateThingName(accessControl, 'T1')).policies;
    expect(isAuthorized(literal, PUBLISH_OPERATION, 'things/T1/x')).toBe(false);
    expect(isAuthorized(literal, PUBLISH_OPERATION, 'things/{iot:thingName}/x')).toBe(true);
    expect(isAuthorized(interpolated, PUBLISH_OPERATION, 'things/T1/x')).toBe(true);
  });
});
