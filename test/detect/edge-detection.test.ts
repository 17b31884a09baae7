import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/parse';
import { parseBehaviors } from '../../src/config/behaviors';
import { EdgeDetection, type DetectionSettings, type ObservedSample } from '../../src/detect/edge-detection';
import { createDetectionStateFile } from '../../src/detect/state-file';
import type { IpcConnection } from '../../src/ipc/ipc';
import { createLogger } from '../../src/log/logger';
import { createCollector } from '../../src/collect/collector';
import { createProcfs } from '../../src/procfs/procfs';
import { GENERATED_INTERFACES, writeGeneratedProc } from '../fixtures/proc/generate';
import { FakeNucleus } from '../support/fake-ipc';

const THING = 'Core1';
const BOOT = '0f0e0d0c-0b0a-0908-0706-050403020100';

function settings(overrides: Partial<DetectionSettings> = {}): DetectionSettings {
  const config = defaultConfig();
  return {
    behaviors: parseBehaviors([
      { name: 'allowed-tcp', metric: 'aws:listening-tcp-ports', criteria: { comparisonOperator: 'in-port-set', value: { ports: [22] } } },
    ]),
    securityProfileName: config.securityProfileName,
    alarmTopic: config.alarmTopic,
    localAlarmTopic: config.localAlarmTopic,
    customMetrics: {},
    ...overrides,
  };
}

const listening = (...ports: number[]): ObservedSample => ({ listeningTcpPorts: ports.map((port) => ({ port })), customMetrics: {} });

describe('EdgeDetection', () => {
  let dir: string;
  let nucleus: FakeNucleus;
  let connection: IpcConnection | undefined;
  let lines: string[];
  let now: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'detect-'));
    nucleus = new FakeNucleus();
    connection = await nucleus.connect();
    lines = [];
    now = Date.UTC(2026, 11, 1, 12);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Started and configured; violation ids are numbered unless `defaultIds` (the agent's own generator). */
  async function started(overrides: Partial<DetectionSettings> = {}, defaultIds = false): Promise<EdgeDetection> {
    let id = 0;
    const detection = new EdgeDetection({
      store: createDetectionStateFile(join(dir, 'detect.json')),
      connection: () => connection,
      componentName: 'com.example.Agent',
      logger: createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }),
      now: () => now,
      ...(defaultIds ? {} : { newViolationId: () => `violation-${dir.slice(-6)}-${++id}` }),
    });
    await detection.start();
    detection.configure(settings(overrides), THING);
    return detection;
  }

  const events = (messages: Array<{ topic: string; payload: Buffer }>): Array<Record<string, unknown>> =>
    messages.map((m) => ({ topic: m.topic, ...(JSON.parse(m.payload.toString()) as Record<string, unknown>) }));

  it('publishes one violation event per state change to AWS IoT Core and local publish/subscribe, and logs WARN then INFO', async () => {
    const detection = await started();
    await detection.observe(listening(22, 4444));
    now += 5_000;
    await detection.observe(listening(22, 4444));
    now += 5_000;
    await detection.observe(listening(22));
    const cloud = events(nucleus.published);
    expect(cloud.map((e) => [e.topic, e.violationEventType])).toEqual([
      ['defender-agent/Core1/alarms', 'in-alarm'],
      ['defender-agent/Core1/alarms', 'alarm-cleared'],
    ]);
    expect(cloud[0]).toEqual({
      topic: 'defender-agent/Core1/alarms',
      violationId: cloud[1]?.violationId,
      thingName: THING,
      securityProfileName: 'defender-agent-edge',
      behavior: {
        name: 'allowed-tcp',
        metric: 'aws:listening-tcp-ports',
        criteria: { comparisonOperator: 'in-port-set', value: { ports: [22] } },
      },
      metricValue: { ports: [4444, 22] },
      violationEventType: 'in-alarm',
      violationEventTime: Date.UTC(2026, 11, 1, 12),
    });
    expect(events(nucleus.localPublished).map((e) => [e.topic, e.violationEventType])).toEqual([
      ['defender-agent/alarms', 'in-alarm'],
      ['defender-agent/alarms', 'alarm-cleared'],
    ]);
    const alarmLines = lines.filter((l) => l.includes('ALARM'));
    expect(alarmLines).toHaveLength(2);
    expect(alarmLines[0]).toMatch(/ WARN {2}ALARM in-alarm: behavior allowed-tcp/);
    expect(alarmLines[1]).toMatch(/ INFO {2}ALARM alarm-cleared: behavior allowed-tcp/);
  });

  it('names a violation with a random version 4 UUID by default, which the state file restores after a restart', async () => {
    const withDefaultIds = () => started({}, true);
    const first = await withDefaultIds();
    await first.observe(listening(4444));
    await first.stop();
    const second = await withDefaultIds();
    await second.observe(listening(22));
    await second.stop();
    expect(lines.filter((l) => l.includes('detection state'))).toEqual([]);
    const ids = events(nucleus.published).map((e) => e.violationId);
    expect(events(nucleus.published).map((e) => e.violationEventType)).toEqual(['in-alarm', 'alarm-cleared']);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ids[1]).toBe(ids[0]);
  });

  it('keeps alarm state across a restart: a raised alarm is not raised again, and is cleared once', async () => {
    const first = await started();
    await first.observe(listening(4444));
    await first.stop();
    expect(nucleus.published).toHaveLength(1);

    const second = await started();
    await second.observe(listening(4444));
    expect(nucleus.published).toHaveLength(1);
    await second.observe(listening(22));
    await second.stop();
    const third = await started();
    await third.observe(listening(22));
    expect(events(nucleus.published).map((e) => e.violationEventType)).toEqual(['in-alarm', 'alarm-cleared']);
    expect(new Set(events(nucleus.published).map((e) => e.violationId)).size).toBe(1);
  });

  it('an alarm whose metric is no longer collected for more than two days is invalidated, across a restart, with one WARN line', async () => {
    const DAY = 24 * 3600 * 1000;
    const unread: ObservedSample = { customMetrics: {} };
    const first = await started({}, true);
    await first.observe(listening(4444));
    now += 5_000;
    await first.observe(unread);
    now += DAY;
    await first.observe(unread);
    await first.stop();
    const second = await started({}, true);
    now += DAY;
    await second.observe(unread);
    expect(events(nucleus.published).map((e) => e.violationEventType)).toEqual(['in-alarm']);
    now += 5_001;
    await second.observe(unread);
    now += 5_000;
    await second.observe(unread);
    await second.observe(listening(4444));
    const published = events(nucleus.published);
    expect(published.map((e) => e.violationEventType)).toEqual(['in-alarm', 'alarm-invalidated', 'in-alarm']);
    expect(published[1]?.violationId).toBe(published[0]?.violationId);
    expect(published[2]?.violationId).not.toBe(published[0]?.violationId);
    expect(events(nucleus.localPublished).map((e) => e.violationEventType)).toContain('alarm-invalidated');
    const invalidated = lines.filter((l) => /alarm-invalidated/.test(l));
    expect(invalidated).toHaveLength(1);
    expect(invalidated[0]).toMatch(
      / WARN {2}ALARM alarm-invalidated: behavior allowed-tcp .*no datapoint for its metric since 2026-12-01T12:00:05\.000Z, more than 2 days/,
    );
    await second.stop();
  });

  it('evaluates while the nucleus is unreachable and sends the alarms, in order, once it is back, also after a restart', async () => {
    const detection = await started();
    connection = undefined;
    await detection.observe(listening(4444));
    await detection.observe(listening(22));
    expect(nucleus.published).toEqual([]);
    await detection.stop();
    const restarted = await started();
    connection = await nucleus.connect();
    await restarted.flush();
    expect(events(nucleus.published).map((e) => e.violationEventType)).toEqual(['in-alarm', 'alarm-cleared']);
    await restarted.flush();
    expect(nucleus.published).toHaveLength(2);
  });

  it('a denied publish names the exact permission to merge and does not block the other destination', async () => {
    nucleus.deniedTopics.add('defender-agent/Core1/alarms');
    const detection = await started();
    await detection.observe(listening(4444));
    const denied = lines.find((l) => l.includes('denied'));
    expect(denied).toContain('"aws.greengrass.ipc.mqttproxy":{"com.example.Agent:mqttproxy:publish-alarms"');
    expect(denied).toContain('"resources":["defender-agent/Core1/alarms"]');
    expect(nucleus.localPublished).toHaveLength(1);
  });

  it('suppressAlerts: evaluated and logged, not published', async () => {
    const detection = await started({
      behaviors: parseBehaviors([
        {
          name: 'quiet',
          metric: 'aws:listening-tcp-ports',
          suppressAlerts: true,
          criteria: { comparisonOperator: 'in-port-set', value: { ports: [22] } },
        },
      ]),
    });
    await detection.observe(listening(4444));
    expect(lines.some((l) => l.includes('ALARM in-alarm: behavior quiet') && l.includes('suppressAlerts'))).toBe(true);
    expect(nucleus.published).toEqual([]);
    expect(nucleus.localPublished).toEqual([]);
  });

  it('sums traffic from its own per-sample baseline, not from what reports carried', async () => {
    const detection = await started({
      behaviors: parseBehaviors([
        { name: 'out', metric: 'aws:all-bytes-out', criteria: { comparisonOperator: 'less-than', value: { count: 1000 } } },
      ]),
    });
    const network = (bytesOut: bigint): ObservedSample => ({
      customMetrics: {},
      network: { bootId: BOOT, interfaces: { eth0: { bytesIn: 0n, bytesOut, packetsIn: 0n, packetsOut: 0n } } },
    });
    await detection.observe(network(10_000n));
    now += 300_000;
    await detection.observe(network(10_500n));
    expect(nucleus.published).toEqual([]);
    now += 300_000;
    await detection.observe(network(11_500n));
    expect(events(nucleus.published).map((e) => [e.violationEventType, e.metricValue])).toEqual([['in-alarm', { count: 1000 }]]);
  });

  it('keeps traffic sums and counts beyond 2^53 exact: in the alarm, its log line, the saved outbox, and after a restart', async () => {
    // 2^63-1 as a string of digits: exact through any nucleus and IPC client.
    const behaviors = parseBehaviors([
      {
        name: 'out',
        metric: 'aws:all-bytes-out',
        criteria: { comparisonOperator: 'less-than-equals', value: { count: '9223372036854775807' } },
      },
    ]);
    const detection = await started({ behaviors });
    const network = (bytesOut: bigint): ObservedSample => ({
      customMetrics: {},
      network: { bootId: BOOT, interfaces: { eth0: { bytesIn: 0n, bytesOut, packetsIn: 0n, packetsOut: 0n } } },
    });
    await detection.observe(network(1n));
    now += 300_000;
    // 2^63 + 1 bytes sent: one more than the count allows; a double would read both as 2^63.
    connection = undefined;
    await detection.observe(network(2n ** 63n + 2n));
    const saved = readFileSync(join(dir, 'detect.json'), 'utf8');
    expect(saved).toContain('"metricValue":{"count":9223372036854775809}');
    expect(saved).toContain('"value":{"count":9223372036854775807}');
    expect(lines.some((l) => l.includes('ALARM in-alarm: behavior out') && l.includes('measured {"count":9223372036854775809}'))).toBe(
      true,
    );

    // A restart with the alarm still undelivered: the outbox is read back exactly and sent once the nucleus is there.
    connection = await nucleus.connect();
    const restarted = await started({ behaviors });
    await restarted.observe(network(2n ** 63n + 3n));
    expect(nucleus.published).toHaveLength(1);
    const payload = nucleus.published[0]!.payload.toString();
    expect(payload).toContain('"metricValue":{"count":9223372036854775809}');
    expect(payload).toContain('"value":{"count":9223372036854775807}');
  });

  it('keeps its state file within what it reads back: the oldest undelivered alarms dropped, counted and logged', async () => {
    // Every alarm carries its behavior, here a set of 1,000 strings of 3,500 characters: about 3.5 MB an event.
    const allowed = Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(3500, 'x'));
    const detection = await started({
      behaviors: parseBehaviors([
        { name: 'names', metric: 'names', criteria: { comparisonOperator: 'in-set', value: { strings: allowed } } },
      ]),
      customMetrics: { names: { source: 'interfaceNames' } },
    });
    connection = undefined;
    const names = (value: string[]): ObservedSample => ({ customMetrics: { names: { type: 'string-list', value } } });
    // Raised and cleared in turn, nothing delivered: 6 events wait, more than 16 MiB.
    for (let i = 0; i < 6; i += 1) {
      now += 5_000;
      await detection.observe(names(i % 2 === 0 ? ['intruder'] : []));
    }
    const file = join(dir, 'detect.json');
    expect(statSync(file).size).toBeLessThanOrEqual(16 * 1024 * 1024);
    const dropped = lines.filter((l) => l.includes('undelivered alarm(s) dropped, the oldest'));
    expect(dropped.length).toBeGreaterThan(0);
    const count = dropped.reduce((sum, l) => sum + Number(/(\d+) undelivered alarm\(s\) dropped/.exec(l)?.[1]), 0);
    expect(dropped[0]).toMatch(/ERROR .*with them the detection state file would pass the 16777216 bytes the agent reads back/);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { outbox: Array<{ event: { violationEventTime: number } }> };
    expect(saved.outbox.length + count).toBe(6);
    // A log line shows the start of a large set, not megabytes.
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(2_000);

    // What the file kept is what goes out, the newest, once the nucleus is back; a restart reads the file whole.
    connection = await nucleus.connect();
    const restarted = await started({
      behaviors: parseBehaviors([
        { name: 'names', metric: 'names', criteria: { comparisonOperator: 'in-set', value: { strings: allowed } } },
      ]),
      customMetrics: { names: { source: 'interfaceNames' } },
    });
    expect(lines.some((l) => l.includes('not a valid detection state file'))).toBe(false);
    await restarted.observe(names([]));
    expect(events(nucleus.published).map((e) => e.violationEventTime)).toEqual(saved.outbox.map((e) => e.event.violationEventTime));
  });

  it('starts fresh from a damaged state file, saying so', async () => {
    writeFileSync(join(dir, 'detect.json'), '{"version":1,"behaviors":{"allowed-tcp":{"inAlarm":"yes"}}}');
    const detection = await started();
    expect(lines.some((l) => l.includes('not a valid detection state file'))).toBe(true);
    await detection.observe(listening(4444));
    expect(nucleus.published).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, 'detect.json'), 'utf8')).behaviors['allowed-tcp'].inAlarm).toBe(true);
  });

  it('a block the collector could not read never clears an alarm: the real collector on a generated /proc', async () => {
    const proc = join(dir, 'proc');
    writeGeneratedProc(proc, { established: 3, listeners: 1 });
    const behavior = (name: string, metric: string, criteria: Record<string, unknown>) => ({ name, metric, criteria });
    const detection = await started({
      behaviors: parseBehaviors([
        behavior('tcp', 'aws:listening-tcp-ports', { comparisonOperator: 'not-in-port-set', value: { ports: [20000] } }),
        behavior('tcp-count', 'aws:num-listening-tcp-ports', { comparisonOperator: 'less-than', value: { count: 1 } }),
        behavior('udp', 'aws:listening-udp-ports', { comparisonOperator: 'not-in-port-set', value: { ports: [68] } }),
        behavior('udp-count', 'aws:num-listening-udp-ports', { comparisonOperator: 'less-than', value: { count: 1 } }),
        behavior('conns', 'aws:num-established-tcp-connections', { comparisonOperator: 'less-than', value: { count: 1 } }),
        behavior('dest', 'aws:destination-ip-addresses', { comparisonOperator: 'in-cidr-set', value: { cidrs: ['192.0.2.0/32'] } }),
        behavior('mem', 'mem', { comparisonOperator: 'less-than', value: { number: 1 } }),
        behavior('ifs', 'ifs', { comparisonOperator: 'not-in-set', value: { strings: ['eth0'] } }),
      ]),
      customMetrics: { mem: { source: 'memoryUsed' }, ifs: { source: 'interfaceNames' } },
    });
    let listInterfaces = () => GENERATED_INTERFACES;
    const collector = createCollector({
      procfs: createProcfs(proc),
      interfaces: { list: () => listInterfaces() },
      statfs: { statfs: async () => ({ blocks: 1, bfree: 1, bavail: 1 }) },
      sleep: async () => undefined,
    });
    const collectOptions = {
      customMetrics: { mem: { source: 'memoryUsed' as const }, ifs: { source: 'interfaceNames' as const } },
      networkStatsIncludeLoopback: false,
    };
    const raised = () =>
      events(nucleus.published)
        .filter((e) => e.violationEventType === 'in-alarm')
        .map((e) => (e.behavior as { name: string }).name);
    await detection.observe(await collector.collect(collectOptions));
    expect(raised().sort()).toEqual(['conns', 'dest', 'ifs', 'mem', 'tcp', 'tcp-count', 'udp', 'udp-count']);

    // Every block unreadable at once: each table a directory, meminfo gone, the interface list failing.
    for (const table of ['net/tcp', 'net/udp']) {
      rmSync(join(proc, table));
      mkdirSync(join(proc, table));
    }
    rmSync(join(proc, 'meminfo'));
    listInterfaces = () => {
      throw new Error('getifaddrs failed');
    };
    const unreadable = await collector.collect(collectOptions);
    expect(unreadable.problems.map((p) => p.subject).sort()).toEqual([
      'custom_metrics.ifs',
      'custom_metrics.mem',
      'interfaces',
      'listening_tcp_ports',
      'listening_udp_ports',
      'tcp_connections',
    ]);
    await detection.observe(unreadable);
    await detection.observe(unreadable);
    expect(events(nucleus.published).map((e) => e.violationEventType)).not.toContain('alarm-cleared');
    expect(
      Object.values(JSON.parse(readFileSync(join(dir, 'detect.json'), 'utf8')).behaviors).every((b) => (b as { inAlarm: boolean }).inAlarm),
    ).toBe(true);
  });

  it('writes the state file only when it changes: a steady device with moving counters leaves it alone', async () => {
    const detection = await started();
    const file = join(dir, 'detect.json');
    const steady = (i: number): ObservedSample => ({
      ...listening(22),
      network: {
        bootId: BOOT,
        interfaces: { eth0: { bytesIn: BigInt(i * 1000), bytesOut: BigInt(i * 10), packetsIn: 0n, packetsOut: 0n } },
      },
    });
    // The conforming streak stops counting at 10, the most any criteria asks for.
    for (let i = 0; i < 10; i += 1) await detection.observe(steady(i));
    // Every write renames a new file into place: the same inode and modification time mean no write.
    const written = (): string => {
      const stat = statSync(file, { bigint: true });
      return `${stat.ino}/${stat.mtimeNs}`;
    };
    const settled = written();
    for (let i = 10; i < 30; i += 1) {
      now += 300_000;
      await detection.observe(steady(i));
    }
    expect(written()).toBe(settled);
    expect(JSON.parse(readFileSync(file, 'utf8')).network).toBeUndefined();
    await detection.observe(listening(22, 4444));
    expect(written()).not.toBe(settled);
    expect(JSON.parse(readFileSync(file, 'utf8')).behaviors['allowed-tcp'].inAlarm).toBe(true);
  });

  it('drops restored alarms whose topic the configuration could not have given, and says so', async () => {
    const event = (violationId: string) => ({
      violationId,
      thingName: THING,
      securityProfileName: 'p',
      behavior: { name: 'allowed-tcp', metric: 'aws:listening-tcp-ports' },
      metricValue: { ports: [4444] },
      violationEventType: 'in-alarm',
      violationEventTime: now,
    });
    writeFileSync(
      join(dir, 'detect.json'),
      JSON.stringify({
        version: 1,
        behaviors: {},
        outbox: [
          { event: event('v1'), cloudTopic: '$aws/things/Core1/shadow/update' },
          { event: event('v2'), cloudTopic: 'defender-agent/+/alarms' },
          { event: event('v3'), localTopic: 'defender-agent/#' },
          { event: event('v4'), cloudTopic: 'defender-agent/{iot:thingName}/alarms' },
          { event: event('v5'), cloudTopic: 'defender-agent/Core1/alarms', localTopic: 'defender-agent/alarms' },
        ],
      }),
    );
    const detection = await started();
    await detection.flush();
    expect(nucleus.published.map((m) => m.topic)).toEqual(['defender-agent/Core1/alarms']);
    expect(nucleus.localPublished.map((m) => m.topic)).toEqual(['defender-agent/alarms']);
    expect(
      lines.filter((l) => /4 undelivered alarm\(s\) dropped: their topic is not one the configuration could have given/.test(l)),
    ).toHaveLength(1);
  });

  it('refuses unread a detection state file larger than it ever writes', async () => {
    const file = join(dir, 'detect.json');
    writeFileSync(file, '');
    truncateSync(file, 200 * 1024 * 1024); // sparse: no disk used
    await started();
    expect(
      lines.filter((l) => l.includes(`${file} is not a valid detection state file (209715200 bytes, more than 16777216; not read)`)),
    ).toHaveLength(1);
  });
});
