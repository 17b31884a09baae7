/**
 * Fault theme "agent" for one IPC client (issue 19, "The agent stops working without saying so"), through the built
 * bundle under the local core, with a proxy in front of the core (test/support/ipc-proxy.ts) to turn the connection
 * into a dead or hostile nucleus: a nucleus that stops answering, a broken log pipe, a flood of large Pings from a
 * nucleus that reads nothing, and a reply subscription the nucleus ends. CPU time and memory are the process's own,
 * read from /proc/<pid>/stat and /proc/<pid>/status, never wall time. Registered by
 * faults-agent.<client>.integration.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FaultRun, INTERVAL_SECONDS, METRICS_TOPIC } from '../support/fault-run';
import { IpcProxy } from '../support/ipc-proxy';
import { waitFor } from '../support/wait-for';

const MB = 1_000_000;
/** The agent's deadline of every IPC call (IPC_OPERATION_TIMEOUT_MS in src/main.ts). */
const IPC_OPERATION_TIMEOUT_MS = 10_000;
const INTERVAL_MS = INTERVAL_SECONDS * 1000;
/** The agent's shutdown budget (SHUTDOWN_BUDGET_MS in src/main.ts) and the launcher's stop timeout after it. */
const SHUTDOWN_MS = 5_000;
/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ). */
const TICK_MS = 10;
/**
 * CPU the agent may spend from a broken log pipe to its exit: its last cycle and a stop (closing IPC, saving the
 * state). A loop on the log stream spends a whole core; the watch ends when this much is used.
 */
const STOP_CPU_MS = 500;
const PING_COUNT = 24;
const PING_BYTES = 16 * 1024 * 1024;
/** Largest eventstream frame a peer may send (aws-c-event-stream's limit, MAX_MESSAGE_LENGTH in src/ipc/eventstream.ts). */
const MAX_FRAME_BYTES = 24 * 1024 * 1024;
/**
 * Peak resident memory a Ping flood may add, per client. The SDK's client (aws-c-event-stream) reads frames one at a
 * time and holds, per frame, the chunks read so far, the frame they are joined into and the payload decoded from it
 * (three of the largest frame), and the last frame's until the collector runs (three more). Echoing the Pings into a
 * socket nobody reads grows with their number instead (24 of 16 MiB: hundreds of MiB).
 * The portable client drops a Ping's payload as it streams in (src/ipc/portable/rpc-client.ts): the flood adds only
 * socket reads waiting for the garbage collector and the cycles that run meanwhile. Its bound is below what holding
 * even one of these Pings whole would add on top of that (its chunks, the joined frame and its payload: three times
 * PING_BYTES), so a client that buffers Pings again fails here.
 */
const FLOOD_PEAK_GROWTH_BYTES = { sdk: 6 * MAX_FRAME_BYTES, portable: 64 * 1024 * 1024 };

/** The process's own CPU time (user + system), in ms; undefined once it is gone. */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, utime field 14 and stime field 15 of the whole line.
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** A /proc/<pid>/status size in bytes (VmRSS, VmHWM: its peak). */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

export function describeAgentFaults(ipcClient: 'sdk' | 'portable'): void {
  describe(`fault suite, agent: the built component under the local core, ${ipcClient} IPC client`, () => {
    let fault: FaultRun | undefined;
    let proxy: IpcProxy | undefined;
    let proxyDir: string | undefined;

    beforeEach(async () => {
      proxyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-proxy-'));
      proxy = new IpcProxy(path.join(proxyDir, 'p.sock'), () => fault!.core.socketPath);
      await proxy.start();
      fault = await FaultRun.start({ ipcClient, componentSocketPath: proxy.socketPath });
      await fault.firstReport();
    }, 120_000);
    afterEach(async () => {
      await fault?.stop();
      await proxy?.stop();
      if (proxyDir) fs.rmSync(proxyDir, { recursive: true, force: true });
      fault = undefined;
    });

    it('drops a nucleus connection that stays open and answers nothing, reconnects and reports again', async () => {
      const run = fault!;
      run.send(MB);
      expect(proxy!.stall()).toBeGreaterThan(0);
      // The next cycle's publish runs out its deadline, then the liveness check its own.
      await waitFor(
        () => run.log().includes('the connection is open but dead'),
        INTERVAL_MS + 2 * IPC_OPERATION_TIMEOUT_MS + INTERVAL_MS,
        'the dead connection detected',
      );
      await run.nextAccepted('after the reconnect');
      run.send(MB);
      await run.settle();
      const problems = [...run.problems(), ...(proxy!.connections < 2 ? ['the agent never opened a new connection'] : [])];
      run.book(`${ipcClient} silent nucleus`, problems);
      expect(problems).toEqual([]);
      expect(run.log()).toMatch(
        /lost the connection to the Greengrass nucleus \(the nucleus answered neither \w+ nor a liveness check within their deadlines: the connection is open but dead\); reconnecting/,
      );
    }, 120_000);

    it('stops and exits 1 when its log pipe breaks, its own CPU time flat, its state saved', async () => {
      const run = fault!;
      const pid = run.component.pid!;
      const start = cpuMs(pid)!;
      let used = 0;
      let exited = false;
      void run.component.exited.then(() => {
        exited = true;
      });
      run.component.closeOutput();
      // The agent notices at its next log line (its next cycle at the latest), then stops as on SIGTERM.
      const exitBy = INTERVAL_MS + SHUTDOWN_MS + INTERVAL_MS;
      await waitFor(
        () => {
          const now = cpuMs(pid);
          if (now !== undefined) used = now - start;
          return exited || used > STOP_CPU_MS;
        },
        exitBy,
        'the exit or a spin',
      ).catch(() => undefined);
      const problems: string[] = [];
      if (used > STOP_CPU_MS) problems.push(`spun: ${used} ms of its own CPU time since its log pipe broke, still running`);
      else if (!exited) problems.push(`still running ${exitBy} ms after its log pipe broke (${used} ms of CPU since)`);
      else {
        const exit = await run.component.exited;
        if (exit.code !== 1) problems.push(`exited with ${exit.code ?? exit.signal}, not 1 (so a nucleus restarts it)`);
        const state = JSON.parse(fs.readFileSync(path.join(run.component.workPath, 'defender-agent-state.json'), 'utf8'));
        const lastAccepted = run.run.reports.filter((r) => r.status === 'ACCEPTED').at(-1)?.reportId ?? 0;
        if (!(state.lastReportId >= lastAccepted))
          problems.push(`state file's lastReportId ${state.lastReportId} is behind report ${lastAccepted}`);
      }
      run.book(`${ipcClient} broken log pipe`, problems);
      expect(problems).toEqual([]);
    }, 60_000);

    it(`keeps its memory bounded under ${PING_COUNT} Pings of 16 MiB from a nucleus that reads nothing, then reports again`, async () => {
      const run = fault!;
      const pid = run.component.pid!;
      const peakBefore = statusBytes(pid, 'VmHWM');
      run.send(MB);
      await proxy!.floodPings(PING_COUNT, PING_BYTES);
      await run.nextAccepted('after the flood', INTERVAL_MS + 2 * IPC_OPERATION_TIMEOUT_MS + 4 * INTERVAL_MS);
      await run.settle();
      const growth = statusBytes(pid, 'VmHWM') - peakBefore;
      const problems = run.problems();
      const limit = FLOOD_PEAK_GROWTH_BYTES[ipcClient];
      if (growth > limit)
        problems.push(`peak resident memory grew by ${(growth / 2 ** 20).toFixed(1)} MiB, more than ${limit / 2 ** 20} MiB`);
      process.stdout.write(`ping flood, ${ipcClient}: peak RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB\n`);
      run.book(`${ipcClient} ping flood`, problems);
      expect(problems).toEqual([]);
    }, 120_000);

    it('renews a reply subscription the nucleus ended, and logs the replies again', async () => {
      const run = fault!;
      const logBefore = run.log().length;
      expect(run.core.endIoTCoreSubscriptions(`${METRICS_TOPIC}/accepted`)).toBe(1);
      await run.nextAccepted('after the subscription ended');
      const id = run.run.reports.filter((r) => r.status === 'ACCEPTED').at(-1)!.reportId;
      await waitFor(
        () => run.log().slice(logBefore).includes(`report ${id} ACCEPTED by Device Defender`),
        INTERVAL_MS,
        `report ${id} logged ACCEPTED`,
      ).catch(() => undefined);
      const log = run.log().slice(logBefore);
      const problems = [
        ...run.problems(),
        ...(log.includes(`the nucleus ended the subscription to ${METRICS_TOPIC}/accepted`)
          ? []
          : ['the end of the subscription was not logged']),
        ...(log.includes(`report ${id} ACCEPTED by Device Defender`) ? [] : [`report ${id} was accepted but the agent did not log it`]),
      ];
      run.book(`${ipcClient} ended reply subscription`, problems);
      expect(problems).toEqual([]);
    }, 60_000);
  });
}
