/**
 * The fault suite at the agent's own boundary (fake nucleus, fake clock, scripted device): every
 * fault of issue 8 that concerns the agent process, replayed as an attacker or a bad day would.
 * Invariants checked throughout: every byte sent shows up in exactly one report, no report comes
 * sooner than the interval after the previous one, report ids only increase, nothing is silent.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent';
import { IpcError } from '../../src/ipc/ipc';
import { createLogger } from '../../src/log/logger';
import { createFileStateStore } from '../../src/state/state-store';
import { CBOR_TOPIC, type Harness, harness, JSON_TOPIC, logged, reports, ScriptedCollector, THING } from '../support/agent-harness';
import { FakeClock } from '../support/fake-clock';
import { FakeNucleus } from '../support/fake-ipc';
import { waitFor } from '../support/wait-for';

const INTERVAL = 300_000;
const MB = 1_000_000n;

/** Publish moments on the monotonic clock, for the "never early, never a burst" checks. */
function recordPublishTimes(h: Harness): number[] {
  const times: number[] = [];
  const previous = h.nucleus.onPublish;
  h.nucleus.onPublish = async (message) => {
    times.push(h.clock.monotonic());
    await previous?.(message);
  };
  return times;
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - (times[i] as number));
}

const bytesOutReported = (h: Harness): bigint =>
  reports(h.nucleus).reduce((sum, r) => sum + BigInt(r.document.metrics.network_stats?.bytes_out ?? 0), 0n);

const reportIds = (h: Harness): number[] => reports(h.nucleus).map((r) => r.document.header.report_id as number);

const timeout = () => new IpcError('timeout', 'PublishToIoTCore', 'PublishToIoTCore got no answer within 10000 ms');

describe('traffic accounting: skipped cycles carry their traffic', () => {
  it('reports every byte of 12 MB sent over 3 skipped (disconnected) and 2 denied cycles', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0); // first report: the baseline
    let sent = 0n;
    const send = (bytes: bigint) => {
      h.collector.send(bytes);
      sent += bytes;
    };

    h.nucleus.failConnects = 1_000;
    h.nucleus.dropConnection();
    for (let i = 0; i < 3; i += 1) {
      send(2n * MB);
      await h.clock.advance(INTERVAL);
    }
    expect(logged(h, /report skipped: not connected/)).toHaveLength(3);
    h.nucleus.failConnects = 0;
    await h.clock.advance(61_000);
    h.nucleus.deniedTopics.add(JSON_TOPIC);
    for (let i = 0; i < 2; i += 1) {
      send(2n * MB);
      await h.clock.advance(INTERVAL);
    }
    expect(logged(h, /not sent: aws\.greengrass#PublishToIoTCore .* denied/)).toHaveLength(2);
    h.nucleus.deniedTopics.clear();
    send(2n * MB);
    await h.clock.advance(INTERVAL);

    expect(sent).toBe(12n * MB);
    expect(h.nucleus.published).toHaveLength(2);
    expect(bytesOutReported(h)).toBe(12n * MB);
    expect(reports(h.nucleus)[1]!.document.metrics.network_stats.bytes_out).toBe(12_000_000);
    await h.agent.stop();
  });

  it('takes the first reading as the baseline even when the first publish times out: its report carried no traffic', async () => {
    const h = harness();
    h.nucleus.onPublish = async () => {
      throw timeout();
    };
    await h.agent.start();
    await h.clock.advance(0);
    expect(reports(h.nucleus)[0]!.document.metrics.network_stats).toBeUndefined();
    h.nucleus.onPublish = undefined;
    h.collector.send(3n * MB);
    await h.clock.advance(INTERVAL);
    expect(reports(h.nucleus)[1]!.document.metrics.network_stats?.bytes_out).toBe(3_000_000);
    await h.agent.stop();
  });

  it('keeps the baseline when a publish times out (outcome unknown), says so, and does not follow it with a burst', async () => {
    const h = harness();
    const times = recordPublishTimes(h);
    await h.agent.start();
    await h.clock.advance(0);
    h.collector.send(3n * MB);
    h.nucleus.onPublish = async () => {
      times.push(h.clock.monotonic());
      throw timeout();
    };
    await h.clock.advance(INTERVAL);
    expect(logged(h, /WARN .*report \d+: outcome unknown: the nucleus did not answer the publish in time/)).toHaveLength(1);
    expect(logged(h, /report \d+ not sent/)).toHaveLength(0);
    h.nucleus.onPublish = async () => void times.push(h.clock.monotonic());
    h.collector.send(1n * MB);
    await h.clock.advance(INTERVAL * 2);
    expect(gaps(times).every((gap) => gap >= INTERVAL)).toBe(true);
    expect(times).toHaveLength(4);
    // Its reply never came: not a policy problem, and not counted as a report without reply.
    expect(logged(h, /report \d+ got no reply within 60 s after its publish timed out: most likely it never went out/)).toHaveLength(1);
    const timedOutId = reportIds(h)[1]!;
    expect(logged(h, new RegExp(`report ${timedOutId} got no reply from Device Defender`))).toHaveLength(0);
    // The report after the timeout counts from the last confirmed one: 4 MB, none lost.
    expect(reports(h.nucleus)[2]!.document.metrics.network_stats.bytes_out).toBe(4_000_000);
    await h.agent.stop();
  });

  it('leaves the traffic of a cycle cut short by SIGTERM to the next run', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);
    const baseline = structuredClone(h.store.saved!.network);
    h.collector.send(5n * MB);
    let release!: () => void;
    h.collector.gate = new Promise((resolve) => {
      release = resolve;
    });
    await h.clock.advance(INTERVAL); // the cycle is collecting now
    const stopped = h.agent.stop();
    release();
    await stopped;
    expect(h.nucleus.published).toHaveLength(1);
    expect(logged(h, /report \d+ not sent: stopping; the next run's first report carries its network traffic/)).toHaveLength(1);
    expect(h.store.saved!.network).toEqual(baseline);
  });
});

describe('write-ahead: a kill in the publish window', () => {
  it('after a SIGKILL between the publish and the state save, restarts without an early report or a reused id', async () => {
    const first = harness();
    await first.agent.start();
    await first.clock.advance(0);
    let onDisk: typeof first.store.saved;
    first.nucleus.onPublish = () => {
      // SIGKILL here: the publish reached the nucleus; what is on disk is all the next run gets.
      onDisk = structuredClone(first.store.saved);
    };
    await first.clock.advance(INTERVAL);
    const killedId = reportIds(first)[1]!;
    expect(onDisk!.lastReportId).toBe(killedId);
    expect(onDisk!.publishingReportId).toBe(killedId);

    // Restarted by the nucleus 0.5 s later, in the same boot.
    const clock = new FakeClock(first.clock.now() + 500, first.clock.monotonic() + 500);
    const second = harness({ state: onDisk!, clock });
    const times = recordPublishTimes(second);
    await second.agent.start();
    expect(
      logged(second, /WARN .*previous run stopped while handing report \d+ to the nucleus: whether it went out is unknown/),
    ).toHaveLength(1);
    await second.clock.advance(INTERVAL - 501);
    expect(second.nucleus.published).toHaveLength(0);
    await second.clock.advance(1);
    expect(times).toEqual([clock.monotonic()]);
    expect(reportIds(second)[0]).toBeGreaterThan(killedId);
    await second.agent.stop();
  });

  it('does the same when the restart is a reboot (only the wall clock spans it)', async () => {
    const first = harness();
    await first.agent.start();
    let onDisk: typeof first.store.saved;
    first.nucleus.onPublish = () => {
      onDisk = structuredClone(first.store.saved);
    };
    await first.clock.advance(0);
    const clock = new FakeClock(first.clock.now() + 20_000, 3_000);
    const collector = new ScriptedCollector();
    collector.bootId = 'boot-2';
    const second = harness({ state: onDisk!, clock, collector, bootId: 'boot-2' });
    await second.agent.start();
    await second.clock.advance(INTERVAL - 20_001);
    expect(second.nucleus.published).toHaveLength(0);
    await second.clock.advance(1);
    expect(second.nucleus.published).toHaveLength(1);
    expect(reportIds(second)[0]).toBeGreaterThan(reportIds(first)[0]!);
    await second.agent.stop();
  });
});

describe('a state file at 2^53', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['2^53 - 1', '9007199254740991'],
    ['2^53', '9007199254740992'],
    ['a year ahead of the clock', String(Math.floor(Date.UTC(2027, 10, 22) / 1000))],
  ])('treats a lastReportId of %s as corrupt with one warning and keeps reporting with clock ids', async (_label, id) => {
    const path = join(dir, 'state.json');
    await writeFile(path, `{"version":1,"lastReportId":${id}}`);
    const nucleus = new FakeNucleus();
    const clock = new FakeClock();
    const lines: string[] = [];
    const agent = new Agent({
      identity: { componentName: 'com.example.Agent', componentVersion: '1.2.3', coreThingName: THING, platform: 'linux/x64' },
      ipc: nucleus,
      createCollector: () => new ScriptedCollector(),
      stateStore: createFileStateStore(path),
      clock,
      logger: createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }, 'info', () => new Date(clock.now())),
      random: () => 0.5,
    });
    await agent.start();
    // The state file is real: its writes take real time, which the fake clock does not wait for.
    await clock.advance(0);
    await waitFor(() => nucleus.published.length === 1, 5_000, 'first report');
    await waitFor(() => clock.pendingTimers.length === 1, 5_000, 'the next cycle to be armed');
    await clock.advance(INTERVAL);
    await waitFor(() => nucleus.published.length === 2, 5_000, 'second report');
    expect(lines.filter((l) => /WARN .*lastReportId .* is implausible/.test(l))).toHaveLength(1);
    const ids = nucleus.published.map((m) => JSON.parse(m.payload.toString('utf8')).header.report_id as number);
    expect(ids).toEqual([Math.floor(Date.UTC(2026, 10, 22, 12) / 1000), Math.floor(Date.UTC(2026, 10, 22, 12, 5) / 1000)]);
    await agent.stop();
  });
});

describe('time: clock steps with reconnects, configuration changes and restarts', () => {
  it.each([
    ['forward', 3_600_000],
    ['backward', -3_600_000],
    ['forward by years (an RTC-less board at NTP sync)', 50 * 365 * 86_400_000],
  ])('a %s step followed by a reconnect and a configuration change gives no early report and no burst', async (_label, step) => {
    const h = harness();
    const times = recordPublishTimes(h);
    await h.agent.start();
    await h.clock.advance(0);
    await h.clock.advance(20_000);
    h.clock.stepWall(step);
    h.nucleus.dropConnection();
    await h.clock.advance(2_000);
    h.nucleus.changeConfiguration({ format: 'cbor' });
    await h.clock.advance(1_000);
    h.clock.stepWall(step);
    h.nucleus.changeConfiguration({ intervalSeconds: '600' });
    await h.clock.advance(1_000);
    h.nucleus.dropConnection();
    await h.clock.advance(2_000);
    await h.clock.advance(INTERVAL * 6);
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(gaps(times)[0]).toBe(600_000);
    expect(gaps(times).every((gap) => gap >= 600_000)).toBe(true);
    expect(reports(h.nucleus).at(-1)!.topic).toBe(CBOR_TOPIC);
    const ids = reportIds(h);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    await h.agent.stop();
  });

  it('repeated forward steps with reconnects never give a burst', async () => {
    const h = harness();
    const times = recordPublishTimes(h);
    await h.agent.start();
    for (let i = 0; i < 12; i += 1) {
      await h.clock.advance(5_000);
      h.clock.stepWall(600_000);
      h.nucleus.dropConnection();
      await h.clock.advance(5_000);
      h.nucleus.changeConfiguration({ shortNames: i % 2 === 0 ? 'true' : 'false' });
    }
    expect(times).toHaveLength(1);
    await h.clock.advance(INTERVAL * 3);
    expect(gaps(times).every((gap) => gap >= INTERVAL)).toBe(true);
    await h.agent.stop();
  });

  it.each([
    ['forward', 7_200_000],
    ['backward', -7_200_000],
  ])('a restart 10 s after a report, with a %s wall clock step between, waits the rest of the interval', async (_label, step) => {
    const first = harness();
    await first.agent.start();
    await first.clock.advance(0);
    await first.clock.advance(5_000);
    await first.agent.stop();
    const clock = new FakeClock(first.clock.now() + 5_000 + step, first.clock.monotonic() + 5_000);
    const second = harness({ state: first.store.saved!, clock });
    await second.agent.start();
    await second.clock.advance(INTERVAL - 10_001);
    expect(second.nucleus.published).toHaveLength(0);
    await second.clock.advance(1);
    expect(second.nucleus.published).toHaveLength(1);
    await second.agent.stop();
  });
});

describe('replies, as a loaded nucleus delivers them', () => {
  it('handles a reply that arrives before the publish call resolves: ACCEPTED with its latency, no "no reply" later', async () => {
    const h = harness();
    h.nucleus.onPublish = async (message) => {
      const id = JSON.parse(message.payload.toString('utf8')).header.report_id;
      h.nucleus.reply(`${JSON_TOPIC}/accepted`, { thingName: THING, reportId: id, status: 'ACCEPTED', timestamp: 1 });
      // The write-completion callback comes late on a loaded core.
      for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
    };
    await h.agent.start();
    await h.clock.advance(INTERVAL * 3);
    expect(logged(h, /report \d+ ACCEPTED by Device Defender after 0 ms/)).toHaveLength(4);
    expect(logged(h, /got no reply/)).toHaveLength(0);
    expect(h.agent.unansweredReports).toBe(0);
    await h.agent.stop();
  });

  it('drops a report whose publish failed: no "no reply" warning for it', async () => {
    const h = harness();
    h.nucleus.onPublish = () => {
      throw new IpcError('service', 'PublishToIoTCore', 'PublishToIoTCore failed: ServiceError: queue full');
    };
    await h.agent.start();
    await h.clock.advance(INTERVAL * 3);
    expect(logged(h, /not sent: PublishToIoTCore failed: ServiceError: queue full/)).toHaveLength(4);
    expect(logged(h, /got no reply/)).toHaveLength(0);
    await h.agent.stop();
  });

  it('says so when a reply names a report this agent is not awaiting', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);
    h.nucleus.reply(`${JSON_TOPIC}/accepted`, { thingName: THING, reportId: 12345, status: 'ACCEPTED', timestamp: 1 });
    expect(logged(h, /report 12345 ACCEPTED by Device Defender, a report this agent is not awaiting/)).toHaveLength(1);
    await h.agent.stop();
  });

  it('explains denied reply subscriptions once, with the merge that allows them, and does not warn "no reply" per report', async () => {
    const h = harness();
    h.nucleus.deniedTopics.add(`${JSON_TOPIC}/accepted`);
    h.nucleus.deniedTopics.add(`${JSON_TOPIC}/rejected`);
    await h.agent.start();
    await h.clock.advance(INTERVAL * 5);
    expect(h.nucleus.published).toHaveLength(6);
    const explained = logged(h, /SubscribeToIoTCore on ".*json\/accepted" was denied/);
    expect(explained).toHaveLength(1);
    expect(explained[0]).toContain('"com.example.Agent:mqttproxy:receive-replies"');
    expect(logged(h, /SubscribeToIoTCore on ".*json\/rejected" was denied/)).toHaveLength(1);
    expect(logged(h, /got no reply/)).toHaveLength(0);

    h.nucleus.deniedTopics.clear();
    await h.clock.advance(INTERVAL);
    expect(logged(h, /subscribed to .*json\/accepted now: report outcomes are logged again/)).toHaveLength(1);
    await h.agent.stop();
  });
});

describe('connection supervision', () => {
  it('backs off while the setup keeps failing, never runs on defaults, and reports once the configuration is read', async () => {
    const h = harness({ configuration: { format: 'cbor' } });
    h.nucleus.failConfigurationReads = 1_000;
    await h.agent.start();
    await h.clock.advance(12_000);
    expect(h.nucleus.connects).toBeLessThanOrEqual(5);
    expect(h.nucleus.published).toHaveLength(0);
    expect(
      logged(h, /WARN .*setting up failed \(attempt \d+\): cannot read the component configuration .*no report is sent before it is read/)
        .length,
    ).toBe(h.nucleus.connects);
    h.nucleus.failConfigurationReads = 0;
    await h.clock.advance(60_000);
    expect(reports(h.nucleus).map((r) => r.topic)).toEqual([CBOR_TOPIC]);
    await h.agent.stop();
  });

  it('resets the backoff only after a completed setup', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);
    h.nucleus.failConfigurationReads = 3;
    h.nucleus.dropConnection();
    // 0.75 s, then 1.25 s, 2.25 s, 4.25 s: the failed setups do not reset the backoff.
    await h.clock.advance(749);
    expect(h.nucleus.connects).toBe(1);
    await h.clock.advance(1);
    expect(h.nucleus.connects).toBe(2);
    await h.clock.advance(1_250);
    expect(h.nucleus.connects).toBe(3);
    await h.clock.advance(2_250);
    expect(h.nucleus.connects).toBe(4);
    await h.clock.advance(4_249);
    expect(h.nucleus.connects).toBe(4);
    await h.clock.advance(1);
    expect(h.nucleus.connects).toBe(5);
    expect(h.nucleus.connected).toBe(true);
    h.nucleus.dropConnection();
    await h.clock.advance(750);
    expect(h.nucleus.connects).toBe(6);
    await h.agent.stop();
  });

  it('survives nucleus restarts in every phase of a cycle without an early report or a lost byte', async () => {
    const h = harness();
    const times = recordPublishTimes(h);
    await h.agent.start();
    await h.clock.advance(0);
    let sent = 0n;
    for (let round = 0; round < 6; round += 1) {
      h.collector.send(1n * MB);
      sent += 1n * MB;
      await h.clock.advance(round * 40_000);
      h.nucleus.dropConnection();
      await h.clock.advance(INTERVAL);
    }
    await h.clock.advance(INTERVAL * 2);
    expect(gaps(times).every((gap) => gap >= INTERVAL)).toBe(true);
    expect(bytesOutReported(h)).toBe(sent);
    await h.agent.stop();
  });
});

describe('SIGTERM', () => {
  it('lets a publish in flight finish before closing IPC: never "not sent ... interrupted" then ACCEPTED', async () => {
    const h = harness();
    await h.agent.start();
    await h.clock.advance(0);
    let release!: () => void;
    h.nucleus.onPublish = (message) =>
      new Promise<void>((resolve) => {
        release = () => {
          const id = JSON.parse(message.payload.toString('utf8')).header.report_id;
          h.nucleus.reply(`${JSON_TOPIC}/accepted`, { thingName: THING, reportId: id, status: 'ACCEPTED', timestamp: 1 });
          resolve();
        };
      });
    await h.clock.advance(INTERVAL);
    const stopped = h.agent.stop();
    await h.clock.advance(0);
    expect(h.nucleus.connected).toBe(true);
    release();
    await stopped;
    const id = reportIds(h)[1]!;
    expect(logged(h, new RegExp(`report ${id} not sent`))).toHaveLength(0);
    const order = h.lines.map((l) => l.replace(/^\S+ \S+\s+/, '')).filter((l) => l.includes(`report ${id}`) || l.startsWith('stopped'));
    expect(order[0]).toMatch(new RegExp(`^report ${id} published`));
    expect(order[1]).toMatch(new RegExp(`^report ${id} ACCEPTED`));
    expect(order[2]).toMatch(/^stopped: state saved/);
    expect(h.nucleus.connected).toBe(false);
    expect(h.store.saved!.lastReportId).toBe(id);
    expect(h.store.saved!.publishingReportId).toBeUndefined();
  });
});

describe('configuration from whoever can deploy', () => {
  const deep = (depth: number): Record<string, unknown> => (depth === 0 ? {} : { a: deep(depth - 1) });
  const manyMetrics = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`m${i}`, { source: 'uptime' }]));

  it.each([
    ['a hex interval', { intervalSeconds: '0x12c' }],
    ['a __proto__ key', JSON.parse('{"__proto__": {"intervalSeconds": 10}}')],
    ['a custom metric named __proto__ with a bad source', { customMetrics: JSON.parse('{"__proto__": {"source": "x"}}') }],
    ['a thingName with a newline', { thingName: 'Thing\n2026-11-22T12:00:00.000Z INFO forged' }],
    ['a 1 MB value', { format: 'x'.repeat(1_000_000) }],
    ['nesting 10,000 deep', { customMetrics: deep(10_000) }],
    ['101 custom metrics', { customMetrics: manyMetrics }],
  ])('answers %s with a REJECTED validity report, a bounded single log line, and no unhandled rejection', async (_label, configuration) => {
    const h = harness();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await h.agent.start();
      h.nucleus.proposeConfiguration('deployment-1', configuration);
      await h.clock.advance(0);
      expect(h.nucleus.validityReports).toEqual([
        { deploymentId: 'deployment-1', accepted: false, message: expect.stringContaining('invalid configuration for com.example.Agent') },
      ]);
      expect(h.nucleus.validityReports[0]!.message).not.toMatch(/[\n\r]/);
      expect(h.lines.every((line) => !/[\n\r]/.test(line) && line.length < 4_000)).toBe(true);
      expect(logged(h, /^\S+ INFO +forged/)).toHaveLength(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      await h.agent.stop();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('quotes a core thing name that is not a valid thing name instead of echoing it', async () => {
    const h = harness({ coreThingName: 'Thing\n2026-11-22T12:00:00.000Z INFO forged' });
    await h.agent.start();
    await h.clock.advance(0);
    expect(h.lines.every((line) => !line.includes('\n'))).toBe(true);
    expect(logged(h, /ERROR .*AWS_IOT_THING_NAME "Thing\\n2026.* is not a valid thing name/)).toHaveLength(1);
    expect(h.nucleus.published).toHaveLength(0);
    await h.agent.stop();
  });
});
