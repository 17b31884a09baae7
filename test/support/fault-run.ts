/**
 * One fault run of the built bundle under the local core, for the fault suite (test/e2e/faults-*.integration.test.ts):
 * a device whose traffic only the test moves, the core, the component started from its recipe, and the books of
 * what was sent and what the reports carried. Each test starts its own run, so no test depends on another's order or
 * outcome.
 *
 * Verdicts name what was wrong: `problems()` lists each report that came early (by the agent's own publish marks, see
 * below) or reused an id, each byte lost or invented, with the report ids involved.
 *
 * Early is judged on what the agent controls. Before each publish the agent saves the report's id and publish time in
 * its state file (write-ahead), and it schedules the next report a whole interval after that mark. The core's arrival
 * times add the state file's fsync and the socket's delays, which a loaded machine stretches at will; so the core's
 * throttle window here is half the interval (it still catches a report sent at once after a restart), and the exact
 * check compares the marks the agent saved, read from its state file when each publish reaches the core.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LocalCore } from '../../tools/local-core/core';
import { BuiltComponent } from './built-component';
import { waitFor } from './wait-for';

const FAULT_THING = 'FaultThing';
export const INTERVAL_SECONDS = 5;
export const METRICS_TOPIC = `$aws/things/${FAULT_THING}/defender/metrics/json`;
const BOOT_ID = '84f5e1b8-3ef3-490a-92c9-9246ac25b461';
const STATE_FILE = 'defender-agent-state.json';
/** Node timers can fire up to a millisecond early; the wall clock reads in whole milliseconds. */
const TIMER_TOLERANCE_MS = 2;

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

interface PublishSeen {
  reportId: number;
  bytesOut: number | undefined;
  /** The publish time the agent saved for this report before publishing it (wall clock, ms). */
  markMs: number | undefined;
}

export interface FaultRunOptions {
  ipcClient: string;
  /** The socket the component connects to, when a proxy stands in front of the core. */
  componentSocketPath?: string;
}

export class FaultRun {
  readonly published: PublishSeen[] = [];
  /** Bytes sent since the first report (its baseline). */
  private sent = 0;
  /** What the reports published as the agent was killed carried: their outcome is unknown, so the next run carries them again. */
  private carriedByKilledReports = 0;
  private killOnNextPublish = false;

  run!: BuiltComponent;

  private constructor(
    private readonly device: FakeDevice,
    private readonly deviceRoot: string,
  ) {}

  static async start(options: FaultRunOptions): Promise<FaultRun> {
    const deviceRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-proc-'));
    const fault = new FaultRun(new FakeDevice(deviceRoot), deviceRoot);
    try {
      fault.run = await BuiltComponent.start({
        tempPrefix: 'faults-',
        thingName: FAULT_THING,
        intervalSeconds: INTERVAL_SECONDS,
        throttleSeconds: INTERVAL_SECONDS / 2,
        persistCoreState: true,
        onCoreStarted: (core) => fault.watchPublishes(core),
        configurationMerge: { procfsRoot: deviceRoot, ipcClient: options.ipcClient },
        ...(options.componentSocketPath ? { componentSocketPath: options.componentSocketPath } : {}),
      });
    } catch (error) {
      fs.rmSync(deviceRoot, { recursive: true, force: true });
      throw error;
    }
    return fault;
  }

  /** The first report, which every fault starts from (its traffic is the baseline). */
  async firstReport(): Promise<void> {
    await waitFor(() => this.accepted() >= 1, 6 * INTERVAL_SECONDS * 1000, 'the first report');
  }

  get core(): LocalCore {
    return this.run.core;
  }

  get component() {
    return this.run.component;
  }

  log(): string {
    return this.run.log();
  }

  send(bytes: number): void {
    this.device.send(bytes);
    this.sent += bytes;
  }

  accepted(): number {
    return this.run.reports.filter((v) => v.status === 'ACCEPTED').length;
  }

  async nextAccepted(what: string, timeoutMs = 6 * INTERVAL_SECONDS * 1000): Promise<void> {
    const count = this.accepted();
    await waitFor(() => this.accepted() > count, timeoutMs, `${what}: an accepted report`);
  }

  /** The next publish to reach the core kills the agent with SIGKILL, before it hears back or saves anything. */
  killAtNextPublish(): void {
    this.killOnNextPublish = true;
  }

  /** What is wrong so far, each naming its report ids or bytes; empty when nothing is. */
  problems(): string[] {
    const problems: string[] = [];
    for (const verdict of this.run.reports) {
      if (verdict.tooSoon) problems.push(`report ${verdict.reportId ?? '(no id)'} reached Device Defender within its throttle window`);
    }
    for (let i = 1; i < this.published.length; i += 1) {
      const previous = this.published[i - 1]!;
      const current = this.published[i]!;
      if (current.reportId <= previous.reportId)
        problems.push(`report id ${current.reportId} published after report id ${previous.reportId}: reused or not increasing`);
      if (current.markMs !== undefined && previous.markMs !== undefined) {
        const gap = current.markMs - previous.markMs;
        if (gap < INTERVAL_SECONDS * 1000 - TIMER_TOLERANCE_MS)
          problems.push(
            `report ${current.reportId} published ${gap} ms after report ${previous.reportId}, less than the ${INTERVAL_SECONDS} s interval`,
          );
      }
    }
    const { lost, invented } = this.balance();
    if (lost > 0) problems.push(`${lost} bytes sent are in no report (${this.sent} sent, ${this.reported()} reported)`);
    if (invented > 0) problems.push(`${invented} bytes reported that were never sent (${this.sent} sent, ${this.reported()} reported)`);
    return problems;
  }

  /** Waits until the reports carry every byte sent, up to a few intervals; the caller checks `problems()`. */
  async settle(): Promise<void> {
    await waitFor(() => this.reported() >= this.expected(), 6 * INTERVAL_SECONDS * 1000, 'the reports to carry all bytes').catch(
      () => undefined,
    );
  }

  /** Prints one line of the fault table: tried, survived or not, and what was wrong. */
  book(fault: string, problems: string[]): void {
    const { lost, invented } = this.balance();
    process.stdout.write(
      `fault ${fault}: ${problems.length === 0 ? 'survived' : 'WRONG'}; lost ${lost} B, reported twice ${this.carriedByKilledReports} B ` +
        `(killed in the publish window), invented ${invented} B, of ${this.sent} B sent in this run so far` +
        (problems.length > 0 ? `\n  ${problems.join('\n  ')}\n  the agent's log, last 40 lines:\n${this.logTail(40)}` : '') +
        '\n',
    );
  }

  private logTail(lines: number): string {
    try {
      return this.log().trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(): Promise<void> {
    try {
      await this.run?.stop();
    } finally {
      fs.rmSync(this.deviceRoot, { recursive: true, force: true });
    }
  }

  private reported(): number {
    return this.published.reduce((sum, p) => sum + (p.bytesOut ?? 0), 0);
  }

  private expected(): number {
    return this.sent + this.carriedByKilledReports;
  }

  private balance(): { lost: number; invented: number } {
    return { lost: Math.max(0, this.expected() - this.reported()), invented: Math.max(0, this.reported() - this.expected()) };
  }

  private watchPublishes(core: LocalCore): void {
    core.on('publish', (event) => {
      if (event.topic !== METRICS_TOPIC) return;
      const document = JSON.parse(event.payload.toString('utf8'));
      const reportId: number = document.header.report_id;
      const bytesOut: number | undefined = document.metrics.network_stats?.bytes_out;
      this.published.push({ reportId, bytesOut, markMs: this.savedMark(reportId) });
      if (this.killOnNextPublish && this.component.pid !== undefined) {
        this.killOnNextPublish = false;
        this.carriedByKilledReports += bytesOut ?? 0;
        // The publish reached the nucleus; the agent dies before it hears back or saves anything.
        process.kill(this.component.pid, 'SIGKILL');
      }
    });
  }

  /** The publish time the agent wrote ahead for `reportId`, if its state file holds it now. */
  private savedMark(reportId: number): number | undefined {
    try {
      const state = JSON.parse(fs.readFileSync(path.join(this.component.workPath, STATE_FILE), 'utf8'));
      return state.lastReportId === reportId && typeof state.lastPublishedAtMs === 'number' ? state.lastPublishedAtMs : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Inside a describe: for each test a run of its own with its first report seen, so that no test inherits another's
 * state. Returns the current test's run.
 */
export function eachTestInItsOwnRun(ipcClient: 'sdk' | 'portable'): () => FaultRun {
  let fault: FaultRun | undefined;
  beforeEach(async () => {
    fault = await FaultRun.start({ ipcClient });
    await fault.firstReport();
  }, 120_000);
  afterEach(async () => {
    await fault?.stop();
    fault = undefined;
  });
  return () => {
    if (fault === undefined) throw new Error('no fault run: the test has not started, or its run failed to start');
    return fault;
  };
}
