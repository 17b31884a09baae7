import { parseConfig } from '../../../src/config/parse';
import { drillDemo, drillDurationSeconds, type StartProgress, startVerdict } from '../../../tools/local-core/drill-demo';
import { parseStartOptions } from '../../../tools/local-core/main';

describe('npm start -- --drill', () => {
  it('takes the three drill kinds and refuses others', () => {
    expect(parseStartOptions(['--drill', 'listening-port'], {})).toMatchObject({ drill: 'listening-port' });
    expect(parseStartOptions([], {})).not.toHaveProperty('drill');
    expect(() => parseStartOptions(['--drill', 'ddos'], {})).toThrow(/--drill must be one of listening-port, connections, bytes-out/);
  });

  it('runs the drill through the second report and ends it before the last', () => {
    expect(drillDurationSeconds(5, 3)).toBe(8);
    expect(drillDurationSeconds(10, 5)).toBe(35);
    expect(drillDurationSeconds(5, undefined)).toBe(15);
    expect(drillDurationSeconds(600, undefined)).toBe(900);
  });

  it('listening-port: a behavior forbidding one free port, the drill on that port, and exactly the permissions the alarms need', async () => {
    const demo = await drillDemo('listening-port', { intervalSeconds: 5, reports: 3, thingName: 'Core1', componentName: 'com.example.A' });
    const { accessControl, ...rest } = demo.configurationMerge;
    const { config, errors } = parseConfig(rest);
    expect(errors).toEqual([]);
    const port = config.drill?.port;
    expect(config.behaviors).toEqual([
      {
        name: demo.behaviorName,
        metric: 'aws:listening-tcp-ports',
        criteria: { comparisonOperator: 'not-in-port-set', value: { ports: [port] } },
      },
    ]);
    expect(config.drill).toMatchObject({ kind: 'listening-port', durationSeconds: 8 });
    expect(accessControl).toEqual({
      'aws.greengrass.ipc.mqttproxy': {
        'com.example.A:mqttproxy:publish-alarms': expect.objectContaining({ resources: ['defender-agent/Core1/alarms'] }),
      },
      'aws.greengrass.ipc.pubsub': {
        'com.example.A:pubsub:publish-alarms': expect.objectContaining({ resources: ['defender-agent/alarms'] }),
      },
    });
  });

  it('bytes-out: also grants the drill topic', async () => {
    const demo = await drillDemo('bytes-out', { intervalSeconds: 5, thingName: 'Core1', componentName: 'com.example.A' });
    expect(JSON.stringify(demo.configurationMerge.accessControl)).toContain('"resources":["defender-agent/Core1/drill"]');
    expect(demo.note).toMatch(/no aws:all-bytes-out alarm is expected/);
  });

  it('bytes-out with --reports: exits 0 once every report was accepted and the padding reached the core, with no alarm', async () => {
    const demo = await drillDemo('bytes-out', { intervalSeconds: 5, reports: 3, thingName: 'Core1', componentName: 'com.example.A' });
    expect(demo.evidence).toEqual({ kind: 'published', topic: 'defender-agent/Core1/drill', bytes: 256 * 1024 });
    const progress: StartProgress = { reports: 3, rejected: 0, alarmRaised: false, alarmCleared: false, drillBytes: 256 * 1024 };
    expect(startVerdict(3, demo, progress)).toBe(0);
    expect(startVerdict(3, demo, { ...progress, drillBytes: 200 * 1024 })).toBeUndefined();
    expect(startVerdict(3, demo, { ...progress, reports: 2 })).toBeUndefined();
    expect(startVerdict(3, demo, { ...progress, rejected: 1 })).toBe(1);
  });

  it('an alarm drill with --reports waits for the alarm to clear, and fails when it was never raised', async () => {
    const demo = await drillDemo('listening-port', { intervalSeconds: 5, reports: 3, thingName: 'Core1', componentName: 'com.example.A' });
    const progress: StartProgress = { reports: 3, rejected: 0, alarmRaised: true, alarmCleared: false, drillBytes: 0 };
    expect(startVerdict(3, demo, progress)).toBeUndefined();
    expect(startVerdict(3, demo, { ...progress, alarmCleared: true })).toBe(0);
    expect(startVerdict(3, undefined, { ...progress, alarmRaised: false })).toBe(0);
    expect(startVerdict(undefined, undefined, progress)).toBeUndefined();
  });
});
