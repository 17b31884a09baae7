/**
 * Fault theme "restarts" for one IPC client, through the built bundle under the local core: nucleus restarts with
 * cycles skipped while it is down, and SIGKILL in the publish window. Each fault is tried 3 times in a run of its own,
 * so the faults run at once. Lost bytes fail the fault; bytes reported twice (a report whose publish reached the
 * nucleus as the agent was killed) are counted and shown. Registered by faults.<client>.integration.test.ts.
 */
import { inItsOwnRun } from '../support/fault-run';
import { waitFor } from '../support/wait-for';

const MB = 1_000_000;
const ROUNDS = 3;

export function restartFaults(ipcClient: 'sdk' | 'portable'): void {
  it.concurrent(
    `restarts: carries the traffic of the cycles skipped while the nucleus is down, across ${ROUNDS} nucleus restarts`,
    () =>
      inItsOwnRun({ ipcClient }, async (run) => {
        const problems: string[] = [];
        for (let round = 1; round <= ROUNDS; round += 1) {
          run.send(MB);
          const skippedBefore = countOf(run.log(), /report skipped: not connected to the Greengrass nucleus/g);
          const startAgain = await run.run.stopCore();
          await waitFor(
            () => run.log().includes('lost the connection to the Greengrass nucleus'),
            10_000,
            `restart ${round}: the loss logged`,
          );
          // Down until the agent has skipped a cycle: what is tried is a report due while the nucleus is gone.
          await waitFor(
            () => countOf(run.log(), /report skipped: not connected to the Greengrass nucleus/g) > skippedBefore,
            4 * 5_000,
            `restart ${round}: a skipped cycle`,
          );
          run.send(MB);
          await startAgain();
          await run.nextAccepted(`restart ${round}`);
          await run.settle();
          const found = [...run.problems(), ...(run.component.running ? [] : ['the component is not running'])];
          run.book(`${ipcClient} nucleus restart ${round}`, found);
          problems.push(...found.map((p) => `round ${round}: ${p}`));
        }
        expect(run.log()).not.toContain('[object Object]');
        expect(problems).toEqual([]);
      }),
    300_000,
  );

  it.concurrent(
    `restarts: neither reports early nor reuses an id after a SIGKILL in the publish window, ${ROUNDS} times`,
    () =>
      inItsOwnRun({ ipcClient }, async (run) => {
        const problems: string[] = [];
        for (let round = 1; round <= ROUNDS; round += 1) {
          run.send(MB);
          const publishedBefore = run.published.length;
          run.killAtNextPublish();
          await waitFor(() => run.published.length > publishedBefore, 4 * 5_000, `SIGKILL ${round}: the publish to kill in`);
          await run.component.exited;
          await run.component.start();
          await run.nextAccepted(`SIGKILL ${round}`);
          run.send(MB);
          await run.settle();
          const found = run.problems();
          run.book(`${ipcClient} SIGKILL in the publish window ${round}`, found);
          problems.push(...found.map((p) => `round ${round}: ${p}`));
        }
        expect(run.log()).toMatch(/previous run stopped while handing report \d+ to the nucleus: whether it went out is unknown/);
        expect(problems).toEqual([]);
      }),
    300_000,
  );
}

function countOf(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}
