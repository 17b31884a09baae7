import { parseConfig } from '../../src/config/parse';
import { InvalidValue } from '../../src/config/values';
import { cloudTopic, drill, localTopic, resolveTopic } from '../../src/config/detection';

function refusal(parse: (value: unknown) => unknown, value: unknown): string {
  try {
    parse(value);
  } catch (error) {
    if (error instanceof InvalidValue) return error.message;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('alarm and sink topics', () => {
  it('takes plain topics with {iot:thingName}, and empty to turn the feature off', () => {
    expect(cloudTopic('defender-agent/{iot:thingName}/alarms')).toBe('defender-agent/{iot:thingName}/alarms');
    expect(resolveTopic('defender-agent/{iot:thingName}/alarms', 'Core1')).toBe('defender-agent/Core1/alarms');
    expect(cloudTopic('')).toBe('');
    expect(localTopic('local/alarms')).toBe('local/alarms');
  });

  it('refuses $aws/ (any case), wildcards, policy globs and what AWS IoT Core refuses', () => {
    expect(refusal(cloudTopic, '$aws/things/x/alarms')).toMatch(/reserves/);
    expect(refusal(cloudTopic, '$AWS/rules/x')).toMatch(/reserves/);
    expect(refusal(localTopic, '$aws/x')).toMatch(/reserves/);
    expect(refusal(cloudTopic, 'alarms/#')).toMatch(/not a plain topic/);
    expect(refusal(cloudTopic, 'alarms/+/x')).toMatch(/not a plain topic/);
    expect(refusal(cloudTopic, 'alarms/*')).toMatch(/not a plain topic/);
    expect(refusal(cloudTopic, 'a//b')).toMatch(/not a plain topic/);
    expect(refusal(cloudTopic, 'a/b/c/d/e/f/g/h/i')).toMatch(/more than 7/);
    expect(refusal(cloudTopic, `${'a'.repeat(130)}/{iot:thingName}`)).toMatch(/too long/);
    expect(refusal(cloudTopic, 5)).toMatch(/topic string/);
  });
});

describe('drill', () => {
  it('is off by default and for {}', () => {
    expect(parseConfig({}).config.drill).toBeUndefined();
    expect(drill({})).toBeUndefined();
  });

  it('has defaults and hard caps', () => {
    expect(drill({ kind: 'connections' })).toEqual({
      kind: 'connections',
      durationSeconds: 120,
      connections: 100,
      bytes: 1024 * 1024,
      topic: 'defender-agent/{iot:thingName}/drill',
    });
    expect(refusal(drill, { kind: 'listening-port', durationSeconds: 901 })).toMatch(
      /durationSeconds must be a whole number from 1 to 900/,
    );
    expect(refusal(drill, { kind: 'connections', connections: 1001 })).toMatch(/from 1 to 1000/);
    expect(refusal(drill, { kind: 'bytes-out', bytes: 10 * 1024 * 1024 + 1 })).toMatch(/bytes must/);
    expect(refusal(drill, { kind: 'bytes-out', topic: '$aws/things/x/shadow/update' })).toMatch(/reserves/);
    expect(refusal(drill, { kind: 'fork-bomb' })).toMatch(/kind must be one of listening-port, connections, bytes-out/);
    expect(refusal(drill, { kind: 'connections', forever: true })).toMatch(/unknown field/);
  });

  it('takes expiresAt as ISO 8601 or epoch seconds', () => {
    expect(drill({ kind: 'listening-port', expiresAt: '2026-12-01T12:00:00Z' })?.expiresAtMs).toBe(Date.UTC(2026, 11, 1, 12));
    expect(drill({ kind: 'listening-port', expiresAt: 1_800_000_000 })?.expiresAtMs).toBe(1_800_000_000_000);
    expect(refusal(drill, { kind: 'listening-port', expiresAt: 'tomorrow' })).toMatch(/expiresAt/);
    for (const expiresAt of [true, [1], -5, '2', '-5', 1_800_000_000_000, '2026-13-45', ' ', '0x6b49d200']) {
      expect(refusal(drill, { kind: 'listening-port', expiresAt })).toMatch(
        /^expiresAt must be an ISO 8601 time .* between 2020 and 2100 \(got /,
      );
    }
    expect(drill({ kind: 'listening-port', expiresAt: '1800000000' })?.expiresAtMs).toBe(1_800_000_000_000);
  });
});

describe('the detection keys in the configuration', () => {
  it('a deployment with a statistical threshold is rejected with the reason', () => {
    const { errors } = parseConfig({
      behaviors: [
        {
          name: 'b',
          metric: 'aws:all-bytes-out',
          criteria: { comparisonOperator: 'less-than', statisticalThreshold: { statistic: 'p90' } },
        },
      ],
    });
    expect(errors).toEqual([
      { key: 'behaviors', message: expect.stringMatching(/statisticalThreshold .*only Device Defender in the cloud has/) },
    ]);
  });

  it('defaults: no behaviors, alarm topics under defender-agent/, no sink, no drill', () => {
    const { config, errors } = parseConfig({});
    expect(errors).toEqual([]);
    expect(config).toMatchObject({
      behaviors: [],
      alarmTopic: 'defender-agent/{iot:thingName}/alarms',
      localAlarmTopic: 'defender-agent/alarms',
      metricsSinkTopic: '',
      metricsSinkMode: 'also',
    });
  });
});
