import { iotCoreTopicProblem, topicMatchesFilter } from '../../../tools/local-core/topics';

describe('topicMatchesFilter (MQTT delivery)', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/+', 'a', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'x/y', true],
    ['#', '$aws/things/T/x', false],
    ['+/x', '$aws/x', false],
    ['$aws/things/+/defender/metrics/json/accepted', '$aws/things/T1/defender/metrics/json/accepted', true],
    ['$aws/things/T1/defender/metrics/json/accepted', '$aws/things/T1/defender/metrics/json/rejected', false],
    ['a/+b', 'a/xb', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatchesFilter(filter, topic)).toBe(expected);
  });
});

describe('iotCoreTopicProblem (nucleus IotCoreTopicValidator, MQTT 3)', () => {
  it('accepts the Defender topics', () => {
    expect(iotCoreTopicProblem('$aws/things/T1/defender/metrics/json', 'publish')).toBeUndefined();
    expect(iotCoreTopicProblem('$aws/things/T1/defender/metrics/cbor/rejected', 'subscribe')).toBeUndefined();
  });

  it('rejects empty topics and wildcards in publish topics only', () => {
    expect(iotCoreTopicProblem('', 'publish')).toBe('Topic must not be empty');
    expect(iotCoreTopicProblem('a/+', 'publish')).toMatch(/must not contain wildcard/);
    expect(iotCoreTopicProblem('a/#', 'publish')).toMatch(/must not contain wildcard/);
    expect(iotCoreTopicProblem('a/+', 'subscribe')).toBeUndefined();
  });

  it('allows 7 forward slashes, not 8', () => {
    expect(iotCoreTopicProblem('1/2/3/4/5/6/7/8', 'publish')).toBeUndefined();
    expect(iotCoreTopicProblem('1/2/3/4/5/6/7/8/9', 'publish')).toMatch(/no more than 7 forward slashes/);
  });

  it('limits length to 256, not counting a Basic Ingest prefix', () => {
    expect(iotCoreTopicProblem('x'.repeat(256), 'publish')).toBeUndefined();
    expect(iotCoreTopicProblem('x'.repeat(257), 'publish')).toMatch(/no larger than 256 bytes/);
    expect(iotCoreTopicProblem(`$aws/rules/myRule/${'x'.repeat(256)}`, 'publish')).toBeUndefined();
    expect(iotCoreTopicProblem('x'.repeat(257), 'subscribe')).toMatch(/Shared Subscriptions/);
  });
});
