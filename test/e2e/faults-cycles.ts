/**
 * Fault theme "cycles" for one IPC client, through the built bundle under the local core: denied publishes, a state
 * file at the edge of the report ids, and SIGTERM. Each in a run of its own, so they run at once. Registered by
 * faults.<client>.integration.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MQTT_PROXY_SERVICE, publishPolicyId } from '../../src/component/definition';
import { INTERVAL_SECONDS, inItsOwnRun, METRICS_TOPIC } from '../support/fault-run';
import { waitFor } from '../support/wait-for';

const MB = 1_000_000;

export function cycleFaults(ipcClient: 'sdk' | 'portable'): void {
  it.concurrent(
    'cycles: carries the traffic of 2 denied cycles into the next report',
    () =>
      inItsOwnRun({ ipcClient }, async (run) => {
        const allow = (resources: string[]) =>
          run.core.deployConfiguration(run.run.name, {
            merge: {
              accessControl: {
                [MQTT_PROXY_SERVICE]: {
                  [publishPolicyId(run.run.name)]: { operations: ['aws.greengrass#PublishToIoTCore'], resources },
                },
              },
            },
          });
        let denied = 0;
        const onDenied = () => {
          denied += 1;
        };
        run.core.on('denied', onDenied);
        await allow(['$aws/things/SomeoneElse/defender/metrics/json']);
        run.send(MB);
        await waitFor(() => denied >= 1, 4 * INTERVAL_SECONDS * 1000, 'a denied publish');
        run.send(MB);
        await waitFor(() => denied >= 2, 4 * INTERVAL_SECONDS * 1000, 'a second denied publish');
        run.core.off('denied', onDenied);
        await allow([METRICS_TOPIC]);
        await run.nextAccepted('after the denials');
        await run.settle();
        const problems = [...run.problems(), ...(run.component.running ? [] : ['the component is not running'])];
        run.book(`${ipcClient} 2 denied publishes`, problems);
        expect(problems).toEqual([]);
      }),
    180_000,
  );

  it.concurrent(
    'cycles: keeps reporting after a restart on a state file whose lastReportId is 2^53 - 1, with one warning',
    () =>
      inItsOwnRun({ ipcClient }, async (run) => {
        await run.component.stop(5_000);
        const statePath = path.join(run.component.workPath, 'defender-agent-state.json');
        const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
        fs.writeFileSync(statePath, JSON.stringify({ ...state, lastReportId: 2 ** 53 - 1 }));
        run.send(MB);
        const logBefore = run.log().length;
        await run.component.start();
        await run.nextAccepted('after the restart');
        await run.settle();
        const problems = run.problems();
        run.book(`${ipcClient} state file at 2^53 - 1`, problems);
        expect(problems).toEqual([]);
        expect(
          run
            .log()
            .slice(logBefore)
            .match(/lastReportId 9007199254740991 is implausible/g),
        ).toHaveLength(1);
      }),
    180_000,
  );

  it.concurrent(
    'cycles: stops cleanly on SIGTERM, never logging "not sent" for a report it then logs as ACCEPTED',
    () =>
      inItsOwnRun({ ipcClient }, async (run) => {
        await run.nextAccepted('before the SIGTERM');
        const stopped = await run.component.stop(5_000);
        const problems: string[] = [];
        if (stopped.forced) problems.push('ignored SIGTERM and was killed after 5 s');
        else if (stopped.code !== 0) problems.push(`exited with ${stopped.code ?? stopped.signal} on SIGTERM`);
        const lines = run.log().split('\n');
        for (const match of run.log().matchAll(/report (\d+) not sent/g)) {
          if (lines.some((l) => l.includes(`report ${match[1]} ACCEPTED`)))
            problems.push(`report ${match[1]} logged "not sent" and ACCEPTED`);
        }
        run.book(`${ipcClient} SIGTERM`, problems);
        expect(problems).toEqual([]);
      }),
    120_000,
  );
}
