/**
 * The fault suite through the built bundle under the local core: nucleus restarts, SIGKILL in the
 * publish window, denied cycles, a state file at 2^53 and SIGTERM, each tried several times. The
 * device is a procfs folder whose net/dev this test writes, so every byte "sent" is known and the
 * bytes the reports carry can be compared with it: lost bytes fail the suite; bytes reported twice
 * (a report whose publish reached the nucleus as the agent was killed) are counted and shown.
 * Clock steps are covered by test/agent/faults.test.ts: the bundle has no way to step its clock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MQTT_PROXY_SERVICE, publishPolicyId } from '../../src/component/definition';
import type { LocalCore } from '../../tools/local-core/core';
import { BuiltComponent, buildOnce } from '../support/built-component';
import { waitFor } from '../support/wait-for';

const THING = 'FaultThing';
const INTERVAL_SECONDS = 5;
const TOPIC = `$aws/things/${THING}/defender/metrics/json`;
const BOOT_ID = '84f5e1b8-3ef3-490a-92c9-9246ac25b461';
const MB = 1_000_000;

interface FaultOutcome {
  fault: string;
  survived: boolean;
  lostBytes: number;
  /** Bytes of a report whose publish reached the nucleus as the agent was killed: its outcome is unknown, so the next run carries them again. */
  bytesReportedTwice: number;
  /** Bytes reported beyond what was sent and the above. */
  inventedBytes: number;
}

/** A device whose eth0 counters only this test moves. */
class FakeDevice {
  bytesOut = 500;
  bytesIn = 1_000;
  constructor(readonly root: string) {
    const captured = path.join(__dirname, '..', 'fixtures', 'proc', 'captured');
    fs.mkdirSync(path.join(root, 'net'), { recursive: true });
    fs.mkdirSync(path.join(root, 'sys', 'kernel', 'random'), { recursive: true });
    for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) fs.copyFileSync(path.join(captured, 'net', table), path.join(root, 'net', table));
    fs.writeFileSync(path.join(root, 'sys', 'kernel', 'random', 'boot_id'), `${BOOT_ID}\n`);
    this.write();
  }
  send(bytes: number): void {
    this.bytesOut += bytes;
    this.write();
  }
  private write(): void {
    const text =
      'Inter-|   Receive                                                |  Transmit\n' +
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
      `  eth0: ${this.bytesIn} 10 0 0 0 0 0 0 ${this.bytesOut} 5 0 0 0 0 0 0\n`;
    const temporary = path.join(this.root, 'net', 'dev.tmp');
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, path.join(this.root, 'net', 'dev'));
  }
}

describe.each(['sdk', 'portable'])('fault suite: the built component under the local core, %s IPC client', (ipcClient) => {
  let run: BuiltComponent;
  let deviceRoot: string;
  let device: FakeDevice;
  const outcomes: FaultOutcome[] = [];
  const verdicts = () => run.reports;
  const published: Array<{ reportId: number; bytesOut: number | undefined }> = [];
  /** Bytes sent since the first report (its baseline), and carried by the reports. */
  let sent = 0;
  const reported = () => published.reduce((sum, p) => sum + (p.bytesOut ?? 0), 0);
  let killOnNextPublish = false;
  /** What the reports published as the agent was killed carried. */
  let carriedByKilledReports = 0;

  const watchPublishes = (core: LocalCore): void => {
    core.on('publish', (event) => {
      if (event.topic !== TOPIC) return;
      const document = JSON.parse(event.payload.toString('utf8'));
      published.push({ reportId: document.header.report_id, bytesOut: document.metrics.network_stats?.bytes_out });
      if (killOnNextPublish && run.component.pid !== undefined) {
        killOnNextPublish = false;
        carriedByKilledReports += document.metrics.network_stats?.bytes_out ?? 0;
        // The publish reached the nucleus; the agent dies before it hears back or saves anything.
        process.kill(run.component.pid, 'SIGKILL');
      }
    });
  };
  const core = () => run.core;
  const component = () => run.component;

  const log = (): string => run.log();
  const accepted = () => verdicts().filter((v) => v.status === 'ACCEPTED').length;
  const nothingEarlyOrReused = (): boolean => {
    const ids = published.map((p) => p.reportId);
    return verdicts().every((v) => !v.tooSoon) && ids.every((id, i) => i === 0 || id > ids[i - 1]!);
  };

  const expected = () => sent + carriedByKilledReports;
  const balance = () => ({
    lost: Math.max(0, expected() - reported()),
    invented: Math.max(0, reported() - expected()),
    twice: carriedByKilledReports,
  });
  /** Waits until the reports carry every byte sent (or the time is up), then books the fault. */
  const settle = async (fault: string, survived: () => boolean, before: ReturnType<typeof balance>) => {
    await waitFor(() => reported() >= expected(), 40_000, `${fault}: the reports to carry all bytes`).catch(() => undefined);
    const after = balance();
    outcomes.push({
      fault,
      survived: survived(),
      lostBytes: after.lost - before.lost,
      bytesReportedTwice: after.twice - before.twice,
      inventedBytes: after.invented - before.invented,
    });
  };
  const send = (bytes: number) => {
    device.send(bytes);
    sent += bytes;
  };
  const nextAccepted = async (timeoutMs = 30_000) => {
    const count = accepted();
    await waitFor(() => accepted() > count, timeoutMs, 'an accepted report');
  };

  let built: Awaited<ReturnType<typeof buildOnce>>;
  /** Every byte sent over all the faults, for the summary. */
  let sentInAll = 0;

  beforeAll(async () => {
    built = await buildOnce();
  }, 120_000);

  // Each fault gets its own device, core and component from the one build, so no test depends on another's order.
  beforeEach(async () => {
    published.length = 0;
    sent = 0;
    carriedByKilledReports = 0;
    killOnNextPublish = false;
    deviceRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-proc-'));
    device = new FakeDevice(deviceRoot);
    run = await BuiltComponent.start({
      tempPrefix: 'faults-',
      thingName: THING,
      intervalSeconds: INTERVAL_SECONDS,
      build: built.build,
      throttleSeconds: INTERVAL_SECONDS - 0.1,
      persistCoreState: true,
      onCoreStarted: watchPublishes,
      configurationMerge: { procfsRoot: device.root, ipcClient },
    });
    await waitFor(() => accepted() >= 1, 30_000, 'the first report');
  }, 120_000);

  afterEach(async () => {
    sentInAll += sent;
    await run?.stop();
    fs.rmSync(deviceRoot, { recursive: true, force: true });
  });

  afterAll(() => {
    built?.remove();
    const lines = outcomes.map(
      (o) =>
        `${o.fault.padEnd(36)} ${o.survived ? 'survived' : 'FAILED  '} lost ${o.lostBytes} B, ` +
        `reported twice ${o.bytesReportedTwice} B, invented ${o.inventedBytes} B`,
    );
    const total = (key: 'lostBytes' | 'bytesReportedTwice' | 'inventedBytes') => outcomes.reduce((sum, o) => sum + o[key], 0);
    process.stdout.write(
      `\nfault suite on the built bundle, ${ipcClient} IPC client: ${outcomes.length} faults tried, ${outcomes.filter((o) => o.survived).length} survived, ` +
        `${total('lostBytes')} bytes lost, ${total('bytesReportedTwice')} bytes reported twice (killed in the publish window), ` +
        `${total('inventedBytes')} bytes invented, of ${sentInAll} sent\n${lines.join('\n')}\n`,
    );
  });

  it('carries the traffic of the cycles skipped while the nucleus is down, across 3 nucleus restarts', async () => {
    for (let round = 1; round <= 3; round += 1) {
      const before = balance();
      send(MB);
      const startAgain = await run.stopCore();
      await waitFor(() => log().includes('lost the connection to the Greengrass nucleus'), 10_000);
      await new Promise((resolve) => setTimeout(resolve, INTERVAL_SECONDS * 2_000));
      send(MB);
      await startAgain();
      await nextAccepted(60_000);
      await settle(`nucleus restart ${round}`, () => component().running && nothingEarlyOrReused(), before);
    }
    expect(log()).toMatch(/report skipped: not connected to the Greengrass nucleus/);
    expect(log()).not.toContain('[object Object]');
    expect(outcomes.every((o) => o.survived && o.lostBytes === 0)).toBe(true);
  }, 240_000);

  it('neither reports early nor reuses an id after a SIGKILL in the publish window, 3 times', async () => {
    for (let round = 1; round <= 3; round += 1) {
      const before = balance();
      send(MB);
      const killedBefore = published.length;
      killOnNextPublish = true;
      await waitFor(() => published.length > killedBefore, 20_000, 'the publish to kill in');
      await component().exited;
      await component().start();
      await nextAccepted();
      send(MB);
      await settle(`SIGKILL in the publish window ${round}`, nothingEarlyOrReused, before);
    }
    expect(log()).toMatch(/previous run stopped while handing report \d+ to the nucleus: whether it went out is unknown/);
    expect(outcomes.filter((o) => o.fault.startsWith('SIGKILL')).every((o) => o.survived && o.lostBytes === 0)).toBe(true);
  }, 240_000);

  it('carries the traffic of 2 denied cycles into the next report', async () => {
    const before = balance();
    const allow = (resources: string[]) =>
      core().deployConfiguration(run.name, {
        merge: {
          accessControl: {
            [MQTT_PROXY_SERVICE]: {
              [publishPolicyId(run.name)]: { operations: ['aws.greengrass#PublishToIoTCore'], resources },
            },
          },
        },
      });
    let denied = 0;
    const onDenied = () => {
      denied += 1;
    };
    core().on('denied', onDenied);
    await allow(['$aws/things/SomeoneElse/defender/metrics/json']);
    send(MB);
    await waitFor(() => denied >= 1, 20_000, 'a denied publish');
    send(MB);
    await waitFor(() => denied >= 2, 20_000, 'a second denied publish');
    core().off('denied', onDenied);
    await allow([TOPIC]);
    await nextAccepted();
    await settle('2 denied publishes', () => component().running && nothingEarlyOrReused(), before);
    expect(outcomes.at(-1)).toMatchObject({ survived: true, lostBytes: 0, bytesReportedTwice: 0, inventedBytes: 0 });
  }, 120_000);

  it('keeps reporting after a restart on a state file whose lastReportId is 2^53 - 1, with one warning', async () => {
    const before = balance();
    await component().stop(5_000);
    const statePath = path.join(component().workPath, 'defender-agent-state.json');
    const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
    fs.writeFileSync(statePath, JSON.stringify({ ...state, lastReportId: 2 ** 53 - 1 }));
    send(MB);
    const logBefore = log().length;
    await component().start();
    await nextAccepted();
    await settle('state file at 2^53 - 1', nothingEarlyOrReused, before);
    expect(
      log()
        .slice(logBefore)
        .match(/lastReportId 9007199254740991 is implausible/g),
    ).toHaveLength(1);
    expect(outcomes.at(-1)).toMatchObject({ survived: true, lostBytes: 0 });
  }, 120_000);

  it('stops cleanly on SIGTERM, never logging "not sent" for a report it then logs as ACCEPTED', async () => {
    await nextAccepted();
    const stopped = await component().stop(5_000);
    const survived = stopped.code === 0 && !stopped.forced;
    outcomes.push({ fault: 'SIGTERM', survived, lostBytes: 0, bytesReportedTwice: 0, inventedBytes: 0 });
    expect(survived).toBe(true);
    const lines = log().split('\n');
    for (const match of log().matchAll(/report (\d+) not sent/g)) {
      expect(lines.filter((l) => l.includes(`report ${match[1]} ACCEPTED`))).toEqual([]);
    }
    expect(outcomes.every((o) => o.survived && o.lostBytes === 0 && o.inventedBytes === 0)).toBe(true);
  }, 60_000);
});
