import { Agent } from '../../src/agent/agent';
import { EdgeFeatures } from '../../src/agent/edge-features';
import { DestinationTable } from '../../src/metrics/destinations';
import type { DetectionState, DetectionStateStore } from '../../src/detect/state-file';
import { createLogger } from '../../src/log/logger';
import { JSON_TOPIC, MemoryStateStore, ScriptedCollector, THING } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { FakeNucleus } from '../support/fake-ipc';
import { waitFor } from '../support/wait-for';

const ALARM_TOPIC = `defender-agent/${THING}/alarms`;
/** ScriptedCollector listens on 22 and 8883: a profile allowing only 22 is violated by every sample. */
const ONLY_SSH = [
  { name: 'only-ssh', metric: 'aws:listening-tcp-ports', criteria: { comparisonOperator: 'in-port-set', value: { ports: [22] } } },
];

class MemoryDetectionStore implements DetectionStateStore {
  saved: DetectionState | undefined;
  async load() {
    return this.saved ? { state: structuredClone(this.saved) } : {};
  }
  async save(state: DetectionState) {
    this.saved = structuredClone(state);
    return 0;
  }
}

function agentWithEdge(configuration: Record<string, unknown>) {
  const nucleus = new FakeNucleus();
  nucleus.configuration = { allowFastIntervalForDevelopment: 'true', ...configuration };
  const clock = new FakeClock();
  const lines: string[] = [];
  const logger = createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }, 'info', () => new Date(clock.now()));
  const collector = new ScriptedCollector();
  const agent = new Agent({
    identity: { componentName: 'com.example.Agent', componentVersion: '1.0.0', coreThingName: THING, platform: 'linux/x64' },
    ipc: nucleus,
    createCollector: () => collector,
    stateStore: new MemoryStateStore(),
    clock,
    logger,
    bootId: async () => 'boot-1',
    random: () => 0.5,
    createEdgeFeatures: (connection) =>
      new EdgeFeatures({
        store: new MemoryDetectionStore(),
        connection,
        componentName: 'com.example.Agent',
        logger,
        now: () => clock.now(),
        setTimer: (ms, callback) => clock.setTimer(ms, callback),
      }),
  });
  const topics = () => nucleus.published.map((m) => m.topic);
  return { agent, nucleus, clock, lines, collector, topics };
}

describe('the agent with detection at the edge', () => {
  it('evaluates each sample and publishes the alarm next to the report', async () => {
    const h = agentWithEdge({ behaviors: ONLY_SSH });
    await h.agent.start();
    await h.clock.advance(0);
    expect(h.topics().sort()).toEqual([JSON_TOPIC, ALARM_TOPIC].sort());
    const alarm = JSON.parse(h.nucleus.published.find((m) => m.topic === ALARM_TOPIC)!.payload.toString());
    expect(alarm).toMatchObject({ thingName: THING, violationEventType: 'in-alarm', metricValue: { ports: [8883, 22] } });
    expect(h.nucleus.localPublished.map((m) => m.topic)).toEqual(['defender-agent/alarms']);
    await h.agent.stop();
  });

  it('evaluates destination addresses on every peer the sample holds, not only the connections the report lists', async () => {
    const h = agentWithEdge({
      maxListedConnections: '1',
      behaviors: [
        {
          name: 'known-peers',
          metric: 'aws:destination-ip-addresses',
          criteria: { comparisonOperator: 'in-cidr-set', value: { cidrs: ['192.0.2.0/24'] } },
        },
      ],
    });
    // The report lists 192.0.2.10 only; the sample also talks to 203.0.113.5.
    h.collector.destinations = new DestinationTable();
    h.collector.destinations.addV4('192.0.2.10', 0xc000020a);
    h.collector.destinations.addV4('203.0.113.5', 0xcb007105);
    await h.agent.start();
    await h.clock.advance(0);
    const alarm = JSON.parse(h.nucleus.published.find((m) => m.topic === ALARM_TOPIC)!.payload.toString());
    expect(alarm).toMatchObject({ violationEventType: 'in-alarm', metricValue: { cidrs: ['203.0.113.5', '192.0.2.10'] } });
    await h.agent.stop();
  });

  it('evaluates a sample whose report cannot be sent, and sends the alarm after the reconnect', async () => {
    const h = agentWithEdge({ behaviors: ONLY_SSH, intervalSeconds: '300' });
    await h.agent.start();
    await h.clock.advance(0);
    expect(h.topics().filter((t) => t === ALARM_TOPIC)).toHaveLength(1);
    // The listener on 8883 goes away while the nucleus is unreachable: the clear is detected offline.
    const collect = h.collector.collect.bind(h.collector);
    h.collector.collect = async (options) => ({ ...(await collect(options)), listeningTcpPorts: [{ port: 22 }] });
    h.nucleus.failConnects = 1000;
    h.nucleus.dropConnection();
    await h.clock.advance(300_000);
    expect(h.lines.some((l) => /report skipped: not connected/.test(l))).toBe(true);
    expect(h.lines.some((l) => /INFO {2}ALARM alarm-cleared: behavior only-ssh/.test(l))).toBe(true);
    expect(h.topics().filter((t) => t === ALARM_TOPIC)).toHaveLength(1);
    h.nucleus.failConnects = 0;
    await h.clock.advance(60_000);
    const alarms = h.nucleus.published
      .filter((m) => m.topic === ALARM_TOPIC)
      .map((m) => JSON.parse(m.payload.toString()).violationEventType);
    expect(alarms).toEqual(['in-alarm', 'alarm-cleared']);
    await h.agent.stop();
  });

  it('starts the configured drill, and ends it when the agent stops (SIGTERM)', async () => {
    const h = agentWithEdge({ behaviors: ONLY_SSH, drill: { kind: 'connections', connections: 3, durationSeconds: 600 } });
    await h.agent.start();
    await h.clock.advance(0);
    await waitFor(() => h.lines.some((l) => /WARN {2}DRILL connections started: 3 loopback TCP connections/.test(l)), 2_000, 'drill start');
    await h.agent.stop();
    expect(h.lines.some((l) => /WARN {2}DRILL connections ended: the agent is stopping/.test(l))).toBe(true);
  });

  it('metrics sink "also": the same bytes go to Device Defender and to the sink', async () => {
    const h = agentWithEdge({ metricsSinkTopic: 'fleet/{iot:thingName}/metrics' });
    await h.agent.start();
    await h.clock.advance(0);
    const [report, copy] = [JSON_TOPIC, `fleet/${THING}/metrics`].map((t) => h.nucleus.published.find((m) => m.topic === t));
    expect(copy?.payload.equals(report!.payload)).toBe(true);
    await h.agent.stop();
  });

  it('metrics sink "only": reports go to the sink alone, and no Device Defender reply is awaited', async () => {
    const h = agentWithEdge({ metricsSinkTopic: 'fleet/metrics', metricsSinkMode: 'only', intervalSeconds: '300' });
    await h.agent.start();
    await h.clock.advance(0);
    await h.clock.advance(300_000);
    await h.clock.advance(300_000);
    expect(h.topics()).toEqual(['fleet/metrics', 'fleet/metrics', 'fleet/metrics']);
    expect(h.lines.some((l) => /got no reply/.test(l))).toBe(false);
    await h.agent.stop();
  });

  it('a denied sink names the metrics-sink permission to merge', async () => {
    const h = agentWithEdge({ metricsSinkTopic: 'fleet/metrics' });
    h.nucleus.deniedTopics.add('fleet/metrics');
    await h.agent.start();
    await h.clock.advance(0);
    expect(h.topics()).toEqual([JSON_TOPIC]);
    expect(h.lines.find((l) => l.includes('metrics sink'))).toContain('com.example.Agent:mqttproxy:publish-metrics-sink');
    await h.agent.stop();
  });
});
