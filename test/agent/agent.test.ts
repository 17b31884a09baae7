import { validateReport } from '../../src/report/validate';
import { FakeClock } from '../support/fake-clock';
import { CBOR_TOPIC, harness, JSON_TOPIC, logged, reports, THING } from '../support/agent-harness';

describe('Agent', () => {
  it('subscribes to the replies, then publishes a valid first report at once, without network_stats', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);

    expect([...h.nucleus.subscriptions.keys()].sort()).toEqual([`${JSON_TOPIC}/accepted`, `${JSON_TOPIC}/rejected`]);
    const [first] = reports(h.nucleus);
    expect(first?.topic).toBe(JSON_TOPIC);
    expect(h.nucleus.published[0]?.qos).toBe('1');
    expect(validateReport(first!.document)).toEqual([]);
    expect(first!.document.metrics.network_stats).toBeUndefined();
    expect(first!.document.metrics.listening_tcp_ports.total).toBe(2);
    expect(
      logged(
        h,
        /INFO .*com\.example\.Agent 1\.2\.3 started on linux\/x64 under the classic Greengrass nucleus \(it serves configuration validation\): thing CoreThing, topic \$aws\/things\/CoreThing\/defender\/metrics\/json, every 300 s/,
      ),
    ).toHaveLength(1);
    expect(logged(h, /network_stats left out of this report: .*baseline/i)).toHaveLength(1);
    expect(
      logged(h, /report \d+ published to .*metrics\/json: \d+ bytes JSON, tcp ports 2, udp ports 1, connections 1, network stats omitted/),
    ).toHaveLength(1);
    await h.agent.stop();
  });

  it('names where the sample comes from at start: procfs on Linux, the IP Helper API on Windows', async () => {
    const linux = harness({ configuration: { procfsRoot: '/host/proc' } });
    await linux.agent.start();
    await linux.clock.advance(0);
    expect(logged(linux, /started on linux\/x64 .*, procfs \/host\/proc$/)).toHaveLength(1);
    await linux.agent.stop();

    const windows = harness({ platform: 'win32' });
    await windows.agent.start();
    await windows.clock.advance(0);
    expect(logged(windows, /started on win32\/x64 .*, sockets and traffic from the IP Helper API$/)).toHaveLength(1);
    expect(logged(windows, /procfs/)).toEqual([]);
    await windows.agent.stop();
  });

  it('builds connection entries only for what a report lists, also when a behavior watches every peer address', async () => {
    const capped = harness({ configuration: { maxListedConnections: '7' } });
    await capped.agent.start();
    await capped.clock.advance(0);
    expect(capped.collector.options[0]?.maxListedConnections).toBe(7);
    await capped.agent.stop();

    // The destination table carries every peer (test/agent/edge-features.test.ts): no cycle collects uncapped.
    const watching = harness({
      configuration: {
        maxListedConnections: '7',
        behaviors: [
          {
            name: 'known-peers',
            metric: 'aws:destination-ip-addresses',
            criteria: { comparisonOperator: 'in-cidr-set', value: { cidrs: ['192.0.2.0/24'] } },
          },
        ],
      },
    });
    await watching.agent.start();
    await watching.clock.advance(0);
    expect(watching.collector.options.length).toBeGreaterThan(0);
    expect(watching.collector.options.every((o) => o.maxListedConnections === 7)).toBe(true);
    await watching.agent.stop();
  });

  it('reports once per interval, never sooner, with non-negative deltas from the second report on', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);
    h.collector.totals = { bytesIn: 1600n, bytesOut: 700n, packetsIn: 16n, packetsOut: 7n };
    await h.clock.advance(299_000);
    expect(h.nucleus.published).toHaveLength(1);
    await h.clock.advance(1_000);
    expect(h.nucleus.published).toHaveLength(2);
    const second = reports(h.nucleus)[1]!.document;
    expect(second.metrics.network_stats).toEqual({ bytes_in: 600, bytes_out: 200, packets_in: 6, packets_out: 2 });
    expect(second.header.report_id).toBeGreaterThan(reports(h.nucleus)[0]!.document.header.report_id);
    await h.agent.stop();
  });

  it("logs a report's published line before its ACCEPTED, also when the reply comes before the publish call resolves", async () => {
    const h = harness();
    // A loaded nucleus: Device Defender's answer arrives before the PublishToIoTCore response.
    h.nucleus.onPublish = (message) => {
      const { header } = JSON.parse(message.payload.toString('utf8')) as { header: { report_id: number } };
      h.nucleus.reply(`${JSON_TOPIC}/accepted`, { thingName: THING, reportId: header.report_id, status: 'ACCEPTED', timestamp: 1 });
    };
    await h.agent.start();
    await h.clock.advance(0);
    const id = reports(h.nucleus)[0]!.document.header.report_id as number;
    expect(logged(h, new RegExp(`report ${id} (published|ACCEPTED)`)).map((l) => /published|ACCEPTED/.exec(l)?.[0])).toEqual([
      'published',
      'ACCEPTED',
    ]);
    await h.agent.stop();
  });

  it('logs ACCEPTED at info, REJECTED at warn with the error code and message, and counts reports without a reply', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);
    const firstId = reports(h.nucleus)[0]!.document.header.report_id as number;
    h.nucleus.reply(`${JSON_TOPIC}/accepted`, { thingName: THING, reportId: firstId, status: 'ACCEPTED', timestamp: 1 });
    expect(logged(h, new RegExp(`INFO .*report ${firstId} ACCEPTED by Device Defender after 0 ms`))).toHaveLength(1);

    await h.clock.advance(300_000);
    const secondId = reports(h.nucleus)[1]!.document.header.report_id as number;
    h.nucleus.reply(`${JSON_TOPIC}/rejected`, {
      thingName: THING,
      reportId: secondId,
      status: 'REJECTED',
      statusDetails: { ErrorCode: 'InvalidPayload', ErrorMessage: 'Malformed metrics report' },
    });
    expect(
      logged(h, new RegExp(`WARN .*report ${secondId} REJECTED by Device Defender after 0 ms: InvalidPayload: Malformed metrics report`)),
    ).toHaveLength(1);

    await h.clock.advance(300_000); // third report, never answered
    await h.clock.advance(300_000); // fourth cycle expires it
    expect(h.agent.unansweredReports).toBe(1);
    expect(logged(h, /WARN .*got no reply from Device Defender within 60 s \(1 without reply so far\)/)).toHaveLength(1);
    await h.agent.stop();
  });

  it('explains a denied publish with the accessControl entry that would allow it, and keeps reporting', async () => {
    const h = harness();
    h.nucleus.deniedTopics.add(JSON_TOPIC);
    await h.agent.start();
    await h.clock.advance(0);
    expect(h.nucleus.published).toHaveLength(0);
    const [line] = logged(
      h,
      /ERROR .*not sent: aws\.greengrass#PublishToIoTCore on "\$aws\/things\/CoreThing\/defender\/metrics\/json" was denied/,
    );
    expect(line).toContain(
      '"accessControl":{"aws.greengrass.ipc.mqttproxy":{"com.example.Agent:mqttproxy:publish-reports":{"operations":["aws.greengrass#PublishToIoTCore"],"resources":["$aws/things/CoreThing/defender/metrics/json"]}}}',
    );

    h.nucleus.deniedTopics.clear();
    await h.clock.advance(300_000);
    expect(h.nucleus.published).toHaveLength(1);
    await h.agent.stop();
  });

  it('on a nucleus without configuration validation: names nucleus lite at start, reports at once, and writes remedies for lite', async () => {
    const h = harness();
    h.nucleus.servesValidation = false;
    h.nucleus.deniedTopics.add(`${JSON_TOPIC}/accepted`);
    await h.agent.start();
    await h.clock.advance(0);
    expect(h.agent.runtime).toBe('lite');
    expect(
      logged(h, /INFO .*started on linux\/x64 under nucleus lite \(it does not serve configuration validation\): thing CoreThing/),
    ).toHaveLength(1);
    expect(reports(h.nucleus)).toHaveLength(1);
    const [remedy] = logged(h, /ERROR .*SubscribeToIoTCore on ".*json\/accepted" was denied/);
    expect(remedy).toContain('a local ggl-cli deploy takes no configuration merge');
    expect(remedy).not.toContain('interpolateComponentConfiguration');
    await h.clock.advance(300_000);
    expect(reports(h.nucleus)).toHaveLength(2);
    expect(h.nucleus.connects).toBe(1);
    await h.agent.stop();
  });

  it('says so when the reply topics are denied, and still publishes', async () => {
    const h = harness();
    h.nucleus.deniedTopics.add(`${JSON_TOPIC}/accepted`);
    await h.agent.start();
    await h.clock.advance(0);
    expect(
      logged(h, /ERROR .*SubscribeToIoTCore on ".*json\/accepted" was denied.*outcome is not logged until this is allowed/),
    ).toHaveLength(1);
    expect(h.nucleus.published).toHaveLength(1);

    h.nucleus.deniedTopics.clear();
    await h.clock.advance(300_000);
    expect([...h.nucleus.subscriptions.keys()].sort()).toEqual([`${JSON_TOPIC}/accepted`, `${JSON_TOPIC}/rejected`]);
    await h.agent.stop();
  });

  it('applies a live change to CBOR and short names at the next interval, not sooner', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);
    await h.clock.advance(100_000);
    h.nucleus.changeConfiguration({ format: 'cbor', shortNames: 'true' });
    await h.clock.advance(1_000);
    expect(logged(h, /configuration updated: format "json" -> "cbor", shortNames false -> true/)).toHaveLength(1);
    // The JSON report still awaits its reply: its topics stay subscribed until it is answered.
    expect([...h.nucleus.subscriptions.keys()].sort()).toEqual([
      `${CBOR_TOPIC}/accepted`,
      `${CBOR_TOPIC}/rejected`,
      `${JSON_TOPIC}/accepted`,
      `${JSON_TOPIC}/rejected`,
    ]);
    const firstId = reports(h.nucleus)[0]!.document.header.report_id as number;
    h.nucleus.reply(`${JSON_TOPIC}/accepted`, { thingName: THING, reportId: firstId, status: 'ACCEPTED', timestamp: 1 });
    await h.clock.advance(0);
    expect(logged(h, new RegExp(`report ${firstId} ACCEPTED by Device Defender after 101000 ms`))).toHaveLength(1);
    expect([...h.nucleus.subscriptions.keys()].sort()).toEqual([`${CBOR_TOPIC}/accepted`, `${CBOR_TOPIC}/rejected`]);
    expect(h.nucleus.published).toHaveLength(1);
    await h.clock.advance(198_000);
    expect(h.nucleus.published).toHaveLength(1);
    await h.clock.advance(1_000);
    const second = reports(h.nucleus)[1]!;
    expect(second.topic).toBe(CBOR_TOPIC);
    expect(Object.keys(second.document).sort()).toEqual(['hed', 'met']);
    expect(validateReport(second.document)).toEqual([]);
    await h.agent.stop();
  });

  it('keeps the last good configuration when an update is invalid', async () => {
    const h = harness({ configuration: { format: 'cbor' } });
    await h.agent.start();
    h.nucleus.changeConfiguration({ format: 'xml', intervalSeconds: '600' });
    await h.clock.advance(1_000);
    expect(h.agent.currentConfig.format).toBe('cbor');
    expect(h.agent.currentConfig.intervalSeconds).toBe(300);
    expect(
      logged(
        h,
        /ERROR .*configuration update rejected: format: must be one of json, cbor \(got "xml"\)\. Keeping the previous configuration/,
      ),
    ).toHaveLength(1);
    await h.agent.stop();
  });

  it('answers deployment validation: rejects with the bad key and why, accepts a good configuration', async () => {
    const h = harness();
    await h.agent.start();
    h.nucleus.proposeConfiguration('deployment-1', { intervalSeconds: '30' });
    h.nucleus.proposeConfiguration('deployment-2', { intervalSeconds: '900', format: 'cbor' });
    await h.clock.advance(0);
    expect(h.nucleus.validityReports).toEqual([
      {
        deploymentId: 'deployment-1',
        accepted: false,
        message: expect.stringMatching(/^invalid configuration for com\.example\.Agent: intervalSeconds: 30 is below 300/),
      },
      { deploymentId: 'deployment-2', accepted: true },
    ]);
    await h.agent.stop();
  });

  it('uses 300 s when the starting configuration asks for less, and says why', async () => {
    const h = harness({ configuration: { intervalSeconds: 10 } });
    await h.agent.start();
    expect(h.agent.currentConfig.intervalSeconds).toBe(300);
    expect(logged(h, /ERROR .*configuration has errors: intervalSeconds: 10 is below 300/)).toHaveLength(1);
    await h.agent.stop();
  });

  it('retries the connection with backoff, reconnects after the nucleus drops, and never replays a skipped report', async () => {
    const h = harness();
    h.nucleus.failConnects = 2;
    await h.agent.start();
    expect(logged(h, /WARN .*cannot reach the Greengrass nucleus over IPC \(attempt 1\): connection refused; retrying in/)).toHaveLength(1);
    await h.clock.advance(5_000);
    expect(h.nucleus.connected).toBe(true);
    expect(logged(h, /connected to the Greengrass nucleus after 2 failed attempt\(s\)/)).toHaveLength(1);
    expect(h.nucleus.published).toHaveLength(1);

    h.nucleus.failConnects = 1000;
    h.nucleus.dropConnection();
    expect(logged(h, /WARN .*lost the connection to the Greengrass nucleus/)).toHaveLength(1);
    await h.clock.advance(300_000);
    expect(logged(h, /report skipped: not connected .* carries the network traffic of this interval too/)).toHaveLength(1);
    h.nucleus.failConnects = 0;
    await h.clock.advance(60_000);
    expect(h.nucleus.connected).toBe(true);
    expect(h.nucleus.published).toHaveLength(1);
    await h.clock.advance(240_000);
    expect(h.nucleus.published).toHaveLength(2);
    await h.agent.stop();
  });

  it('after a restart keeps the baseline (no spike), keeps report ids increasing despite a clock step back, and counts the interval on the monotonic clock', async () => {
    const first = harness();
    await first.agent.start();
    await first.clock.advance(0);
    const firstId = reports(first.nucleus)[0]!.document.header.report_id as number;
    await first.agent.stop();
    const persisted = first.store.saved!;
    expect(persisted.lastReportId).toBe(firstId);

    // Restarted 120 s later in the same boot, while the wall clock stepped back an hour.
    const clock = new FakeClock(first.clock.now() - 3_600_000 + 120_000, first.clock.monotonic() + 120_000);
    const second = harness({ state: persisted, clock });
    second.collector.totals = { bytesIn: 1100n, bytesOut: 550n, packetsIn: 11n, packetsOut: 6n };
    await second.agent.start();
    await second.clock.advance(179_000);
    expect(second.nucleus.published).toHaveLength(0);
    await second.clock.advance(1_000);
    expect(second.nucleus.published).toHaveLength(1);
    const report = reports(second.nucleus)[0]!.document;
    expect(report.header.report_id).toBe(firstId + 1);
    expect(report.metrics.network_stats).toEqual({ bytes_in: 100, bytes_out: 50, packets_in: 1, packets_out: 1 });
    await second.agent.stop();
  });

  it('does not report sooner than the interval after a quick restart', async () => {
    const first = harness();
    await first.agent.start();
    await first.clock.advance(0);
    await first.agent.stop();
    const clock = new FakeClock(first.clock.now() + 10_000, first.clock.monotonic() + 10_000);
    const second = harness({ state: first.store.saved!, clock });
    await second.agent.start();
    await second.clock.advance(289_000);
    expect(second.nucleus.published).toHaveLength(0);
    await second.clock.advance(1_000);
    expect(second.nucleus.published).toHaveLength(1);
    await second.agent.stop();
  });

  it('omits network_stats after a reboot; a counter that went down restarts that interface alone, with a note', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);
    h.collector.bootId = 'boot-2';
    await h.clock.advance(300_000);
    h.collector.totals = { ...h.collector.totals, bytesOut: 1n };
    await h.clock.advance(300_000);
    const documents = reports(h.nucleus).map((r) => r.document);
    expect(documents).toHaveLength(3);
    expect(documents.slice(0, 2).every((d) => d.metrics.network_stats === undefined)).toBe(true);
    expect(documents[2]?.metrics.network_stats).toBeDefined();
    expect(logged(h, /network_stats left out of this report: .*reboot/i)).toHaveLength(1);
    expect(logged(h, /network_stats: interface eth0 bytes_out went down/i)).toHaveLength(1);
    await h.agent.stop();
  });

  it('on stop closes IPC, saves state and schedules nothing more', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);
    await h.agent.stop();
    expect(h.nucleus.connected).toBe(false);
    expect(h.store.saved?.lastReportId).toBeGreaterThan(0);
    await h.clock.advance(3_600_000);
    expect(h.nucleus.published).toHaveLength(1);
    expect(logged(h, /INFO .*stopped: state saved/)).toHaveLength(1);
  });
});
