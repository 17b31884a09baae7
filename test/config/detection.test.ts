import { parseConfig } from '../../src/config/parse';
import { cloudTopic, drill, localTopic, profileName, resolveTopic } from '../../src/config/detection';
import { refusal } from '../support/refusal';

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

  it('refuses a topic that starts or ends with "/" (an empty level), each on its own', () => {
    expect(refusal(cloudTopic, '/alarms')).toMatch(/not a plain topic/);
    expect(refusal(cloudTopic, 'alarms/')).toMatch(/not a plain topic/);
    expect(refusal(localTopic, '/alarms')).toMatch(/not a plain topic/);
  });

  it('takes a cloud topic of exactly 256 bytes with a 128-character thing name, and refuses one byte more', () => {
    const topic = `${'a'.repeat(127)}/{iot:thingName}`;
    expect(cloudTopic(topic)).toBe(topic);
    expect(refusal(cloudTopic, `a${topic}`)).toMatch(/too long/);
  });

  it('takes exactly 7 "/" in a cloud topic (AWS IoT Core’s limit), and any number in a local one', () => {
    expect(cloudTopic('a/b/c/d/e/f/g/h')).toBe('a/b/c/d/e/f/g/h');
    expect(localTopic('a/b/c/d/e/f/g/h/i/j')).toBe('a/b/c/d/e/f/g/h/i/j');
  });
});

describe('securityProfileName', () => {
  it('takes an AWS IoT name and refuses anything else, a number included', () => {
    expect(profileName('defender-agent-edge')).toBe('defender-agent-edge');
    for (const value of ['bad name', '', 'x'.repeat(129), 5, null]) {
      expect([value, refusal(profileName, value)]).toEqual([
        value,
        expect.stringMatching(/^must be 1-128 letters, digits, ":", "_" or "-", like a security profile name \(got /),
      ]);
    }
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

  it('refuses an expiresAt that is only a time once coerced to text, or that Date.parse alone would read', () => {
    for (const expiresAt of [[1_800_000_000], ['2026-12-01T12:00:00Z'], 'December 1, 2026', 'Tue, 01 Dec 2026 12:00:00 GMT']) {
      expect([expiresAt, refusal(drill, { kind: 'listening-port', expiresAt })]).toEqual([
        expiresAt,
        expect.stringMatching(/^expiresAt must be/),
      ]);
    }
  });

  it('takes an expiresAt from the first instant of 2020 up to, not including, 2100', () => {
    expect(drill({ kind: 'listening-port', expiresAt: '2020-01-01T00:00:00Z' })?.expiresAtMs).toBe(Date.UTC(2020, 0, 1));
    expect(drill({ kind: 'listening-port', expiresAt: Date.UTC(2020, 0, 1) / 1000 })?.expiresAtMs).toBe(Date.UTC(2020, 0, 1));
    expect(refusal(drill, { kind: 'listening-port', expiresAt: '2019-12-31T23:59:59.999Z' })).toMatch(/^expiresAt must be/);
    expect(refusal(drill, { kind: 'listening-port', expiresAt: '2100-01-01T00:00:00Z' })).toMatch(/^expiresAt must be/);
    expect(drill({ kind: 'listening-port', expiresAt: '2099-12-31T23:59:59.999Z' })?.expiresAtMs).toBe(Date.UTC(2100, 0, 1) - 1);
  });

  it('takes a port for the listening-port drill, and has none unless given', () => {
    expect(drill({ kind: 'listening-port', port: 8080 })).toEqual({
      kind: 'listening-port',
      durationSeconds: 120,
      connections: 100,
      bytes: 1024 * 1024,
      topic: 'defender-agent/{iot:thingName}/drill',
      port: 8080,
    });
    expect(drill({ kind: 'listening-port' })).not.toHaveProperty('port');
    expect(refusal(drill, { kind: 'listening-port', port: 65_536 })).toMatch(/^port must be a whole number from 1 to 65535/);
  });

  it('sends bytes-out padding to the topic given, or to the drill topic when it is empty', () => {
    expect(drill({ kind: 'bytes-out', topic: 'lab/padding' })?.topic).toBe('lab/padding');
    expect(drill({ kind: 'bytes-out', topic: '' })?.topic).toBe('defender-agent/{iot:thingName}/drill');
  });

  it('refuses a drill that is not an object, naming its shape', () => {
    expect(refusal(drill, 5)).toBe(
      'must be an object of { "kind": "listening-port" | "connections" | "bytes-out", "durationSeconds": N, ... }',
    );
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
