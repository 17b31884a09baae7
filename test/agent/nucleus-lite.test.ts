/**
 * The agent on a nucleus that limits one IPC message to 10,000 bytes and closes the connection on a larger one
 * (nucleus lite, modelled by FakeNucleus.frameLimit): every report of a busy device fits, trimmed, totals true.
 */
import type { CollectedSample, CollectOptions } from '../../src/collect/collector';
import { LITE_IPC_FRAME_LIMIT_BYTES, maxPayloadBytes, publishFrameBytes } from '../../src/ipc/frame-size';
import { validateReport } from '../../src/report/validate';
import { CBOR_TOPIC, harness, JSON_TOPIC, logged, reports, ScriptedCollector } from '../support/agent-harness';

/** A busy device: `count` established connections to distinct peers, 300 listening TCP ports. */
class BusyCollector extends ScriptedCollector {
  constructor(private readonly count: number) {
    super();
  }
  override async collect(options: CollectOptions): Promise<CollectedSample> {
    const sample = await super.collect(options);
    const connections = Array.from({ length: this.count }, (_, i) => ({
      remoteAddr: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:443`,
      localPort: 30_000 + (i % 30_000),
      localInterface: 'eth0',
    }));
    return {
      ...sample,
      listeningTcpPorts: Array.from({ length: 300 }, (_, i) => ({ port: 1_000 + i, interface: 'eth0' })),
      establishedConnections: connections.slice(0, options.maxListedConnections),
      establishedConnectionsTotal: connections.length,
    };
  }
}

function liteHarness(configuration: Record<string, unknown> = {}, connections = 4_000) {
  const h = harness({ configuration: { ...configuration }, collector: new BusyCollector(connections) });
  h.nucleus.servesValidation = false;
  h.nucleus.frameLimit = LITE_IPC_FRAME_LIMIT_BYTES;
  return h;
}

describe('on nucleus lite (10,000-byte IPC messages)', () => {
  it.each([
    ['JSON', {}, JSON_TOPIC],
    ['JSON short names', { shortNames: 'true' }, JSON_TOPIC],
    ['CBOR', { format: 'cbor' }, CBOR_TOPIC],
  ])(
    '%s: a busy device’s reports are trimmed to fit, none dropped with the connection, totals true',
    async (_label, configuration, topic) => {
      const h = liteHarness(configuration);
      await h.agent.start();
      await h.clock.advance(0);
      await h.clock.advance(300_000);
      await h.clock.advance(300_000);
      expect(h.nucleus.oversizedFrames).toBe(0);
      expect(h.nucleus.connects).toBe(1);
      const sent = reports(h.nucleus);
      expect(sent).toHaveLength(3);
      const capacity = maxPayloadBytes('PublishToIoTCore', topic, LITE_IPC_FRAME_LIMIT_BYTES);
      for (const [index, message] of h.nucleus.published.entries()) {
        expect(message.topic).toBe(topic);
        expect(message.payload.length).toBeLessThanOrEqual(capacity);
        // Used well: a trimmed report is within a list entry of the budget.
        expect(message.payload.length).toBeGreaterThan(capacity - 200);
        const document = sent[index]!.document;
        if (!('shortNames' in configuration)) {
          expect(validateReport(document)).toEqual([]);
          expect(document.metrics.tcp_connections.established_connections.total).toBe(4_000);
          expect(document.metrics.listening_tcp_ports.total).toBe(300);
        }
      }
      expect(
        logged(
          h,
          /report \d+ published .*connections 4000 \(\d+ listed\).*lists trimmed to fit the report budget of \d+ bytes \(maxReportBytes auto\)/,
        ),
      ).toHaveLength(3);
      await h.agent.stop();
    },
  );

  it('without the budget the same report would have closed the connection (the model is not vacuous)', () => {
    const classicSized = 64_000;
    expect(publishFrameBytes('PublishToIoTCore', JSON_TOPIC, classicSized)).toBeGreaterThan(LITE_IPC_FRAME_LIMIT_BYTES);
  });

  it('refuses an explicit maxReportBytes the message cannot hold, with the figure that fits, and keeps reporting', async () => {
    const h = liteHarness({ maxReportBytes: '9000' });
    await h.agent.start();
    await h.clock.advance(0);
    const capacity = maxPayloadBytes('PublishToIoTCore', JSON_TOPIC, LITE_IPC_FRAME_LIMIT_BYTES);
    const [refusal] = logged(
      h,
      /ERROR .*configuration has errors: maxReportBytes: 9000 does not fit nucleus lite's 10000-byte IPC message/,
    );
    expect(refusal).toContain(`at most ${capacity} bytes of report fit`);
    expect(h.agent.currentConfig.maxReportBytes).toBe('auto');
    expect(h.nucleus.published).toHaveLength(1);

    h.nucleus.changeConfiguration({ maxReportBytes: '20000' });
    await h.clock.advance(1_000);
    expect(logged(h, /ERROR .*configuration update rejected: maxReportBytes: 20000 does not fit/)).toHaveLength(1);
    expect(h.agent.currentConfig.maxReportBytes).toBe('auto');

    h.nucleus.changeConfiguration({ maxReportBytes: '5000' });
    await h.clock.advance(1_000);
    expect(h.agent.currentConfig.maxReportBytes).toBe(5000);
    await h.clock.advance(300_000);
    expect(h.nucleus.published.at(-1)!.payload.length).toBeLessThanOrEqual(5000);
    expect(h.nucleus.oversizedFrames).toBe(0);
    await h.agent.stop();
  });

  it('fits the metrics sink’s copy too: the budget is the smaller of both topics', async () => {
    const sinkTopic = `fleet/${'s'.repeat(200)}/metrics`;
    const h = liteHarness({ metricsSinkTopic: sinkTopic });
    await h.agent.start();
    await h.clock.advance(0);
    // The copy itself is sent by the edge features with the same bytes (test/detect/edge-features.test.ts).
    const [report] = h.nucleus.published;
    const sinkCapacity = maxPayloadBytes('PublishToIoTCore', sinkTopic, LITE_IPC_FRAME_LIMIT_BYTES);
    expect(sinkCapacity).toBeLessThan(maxPayloadBytes('PublishToIoTCore', JSON_TOPIC, LITE_IPC_FRAME_LIMIT_BYTES));
    expect(report!.payload.length).toBeLessThanOrEqual(sinkCapacity);
    expect(publishFrameBytes('PublishToIoTCore', sinkTopic, report!.payload.length)).toBeLessThanOrEqual(LITE_IPC_FRAME_LIMIT_BYTES);
    expect(h.nucleus.oversizedFrames).toBe(0);
    await h.agent.stop();
  });

  it('on the classic nucleus, auto stays 64000', async () => {
    const h = harness({ collector: new BusyCollector(4_000) });
    await h.agent.start();
    await h.clock.advance(0);
    expect(h.nucleus.published[0]!.payload.length).toBeGreaterThan(LITE_IPC_FRAME_LIMIT_BYTES);
    expect(h.nucleus.published[0]!.payload.length).toBeLessThanOrEqual(64_000);
    await h.agent.stop();
  });
});
