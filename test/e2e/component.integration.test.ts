/**
 * End to end through the built bundle, once per IPC client: the component is built, started from its recipe by the
 * local core as the nucleus would, and driven through configuration changes, a permission removal, a nucleus restart
 * and SIGTERM. The SDK client runs from this machine's manifest (both bundles + aws-crt addon); the portable client from
 * the manifest for any other Linux architecture (the agent's bundle alone), where `ipcClient: auto` must find no SDK and
 * say so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MQTT_PROXY_SERVICE, publishPolicyId } from '../../src/component/definition';
import { BuiltComponent } from '../support/built-component';
import { waitFor } from '../support/wait-for';

const THING = 'E2eThing';
const INTERVAL_SECONDS = 5;

describe.each([
  {
    client: 'sdk',
    platform: undefined,
    artifacts: [`aws-crt-nodejs-linux-${process.arch}.node`, 'defender-agent-sdk.js', 'defender-agent.js'],
    choice: /INFO {2}IPC client: sdk \(ipcClient=auto\)/,
  },
  {
    client: 'portable',
    platform: { os: 'linux', architecture: 'arm' },
    artifacts: ['defender-agent.js'],
    choice: /INFO {2}IPC client: portable \(the AWS SDK client is not in this platform's download/,
  },
])('the built component against the local core, $client IPC client', ({ platform, artifacts, choice }) => {
  /**
   * `test` on a core and component of its own, started from the shared build (read only) with its first report seen and
   * stopped after it, also when it fails: no test depends on another's order or outcome, so they run at once.
   */
  async function withRun(test: (run: BuiltComponent) => Promise<void>): Promise<void> {
    const run = await BuiltComponent.start({
      tempPrefix: 'e2e-',
      thingName: THING,
      intervalSeconds: INTERVAL_SECONDS,
      // Arrival times at the core carry fsync and socket delays a busy machine stretches; the exact early check, on the
      // publish marks the agent saves, is the fault suite's (test/support/fault-run.ts), with the same half window.
      throttleSeconds: INTERVAL_SECONDS / 2,
      ...(platform ? { platform } : {}),
    });
    try {
      await waitFor(() => run.reports.length >= 1, 60_000, 'the first report');
      await test(run);
    } finally {
      await run.stop();
    }
  }

  it.concurrent(
    "gets its manifest's artifacts and says once which IPC client it uses",
    () =>
      withRun(async (run) => {
        const installed = path.join(run.root, 'gg', 'packages', 'artifacts', run.name, run.build.local.version);
        expect(fs.readdirSync(installed).sort()).toEqual(artifacts);
        await waitFor(() => run.reports.length >= 1, 60_000);
        const choices = run
          .log()
          .split('\n')
          .filter((line) => line.includes('IPC client:'));
        expect(choices).toHaveLength(1);
        expect(choices[0]).toMatch(choice);
      }),
    120_000,
  );

  it.concurrent(
    'publishes a report that Device Defender accepts, and logs it',
    () =>
      withRun(async (run) => {
        await waitFor(() => run.reports.some((r) => r.status === 'ACCEPTED'), 30_000);
        const first = run.reports[0]!;
        expect(first).toMatchObject({ thingName: THING, format: 'json', status: 'ACCEPTED', errors: [], tooSoon: false });
        await waitFor(() => /report \d+ ACCEPTED by Device Defender/.test(run.log()), 10_000);
        expect(run.log()).toMatch(
          /started on linux\/\w+ node v\d+.*thing E2eThing, topic \$aws\/things\/E2eThing\/defender\/metrics\/json/,
        );
        expect(run.log()).toMatch(/allowFastIntervalForDevelopment is on/);
      }),
    120_000,
  );

  it.concurrent(
    'switches to CBOR with short names live, accepted, and never within half the interval',
    () =>
      withRun(async (run) => {
        const before = run.reports.length;
        await expect(run.core.deployConfiguration(run.name, { merge: { format: 'cbor', shortNames: 'true' } })).resolves.toMatchObject({
          status: 'APPLIED',
        });
        await waitFor(() => run.reports.slice(before).some((r) => r.format === 'cbor'), 30_000);
        const cbor = run.reports.slice(before).find((r) => r.format === 'cbor')!;
        expect(cbor).toMatchObject({ status: 'ACCEPTED', tooSoon: false, topic: `$aws/things/${THING}/defender/metrics/cbor` });
        expect(run.reports.every((r) => !r.tooSoon)).toBe(true);
        await waitFor(
          () => /report \d+ published to \$aws\/things\/E2eThing\/defender\/metrics\/cbor: \d+ bytes CBOR short names/.test(run.log()),
          10_000,
        );
      }),
    120_000,
  );

  it.concurrent(
    'rejects an invalid configuration during the deployment, naming the key',
    () =>
      withRun(async (run) => {
        const result = await run.core.deployConfiguration(run.name, { merge: { intervalSeconds: 'soon' } });
        expect(result.status).toBe('REJECTED');
        expect(result.message).toContain('intervalSeconds: must be a whole number');
      }),
    120_000,
  );

  it.concurrent(
    'explains a removed publish permission precisely and stays alive',
    () =>
      withRun(async (run) => {
        const topic = `$aws/things/${THING}/defender/metrics/json`;
        const denied = new Promise<{ resource: string }>((resolve) => run.core.once('denied', resolve));
        await run.core.deployConfiguration(run.name, {
          merge: {
            accessControl: {
              [MQTT_PROXY_SERVICE]: {
                [publishPolicyId(run.name)]: {
                  operations: ['aws.greengrass#PublishToIoTCore'],
                  resources: ['$aws/things/SomeoneElse/defender/metrics/json'],
                },
              },
            },
          },
        });
        expect((await denied).resource).toBe(topic);
        await waitFor(() => run.log().includes(`aws.greengrass#PublishToIoTCore on "${topic}" was denied`), 10_000);
        expect(run.log()).toContain(`"resources":["${topic}"]`);
        expect(run.component.running).toBe(true);

        const before = run.reports.length;
        await run.core.deployConfiguration(run.name, {
          merge: {
            accessControl: {
              [MQTT_PROXY_SERVICE]: {
                [publishPolicyId(run.name)]: { operations: ['aws.greengrass#PublishToIoTCore'], resources: [topic] },
              },
            },
          },
        });
        await waitFor(() => run.reports.length > before, 30_000);
      }),
    120_000,
  );

  it.concurrent(
    'reconnects after the nucleus restarts and reports again',
    () =>
      withRun(async (run) => {
        const startAgain = await run.stopCore();
        await waitFor(() => run.log().includes('lost the connection to the Greengrass nucleus'), 10_000);
        await startAgain();
        const before = run.reports.length;
        await waitFor(() => run.reports.length > before, 60_000);
        expect(run.reports[run.reports.length - 1]!.status).toBe('ACCEPTED');
        expect(run.component.running).toBe(true);
      }),
    120_000,
  );

  it.concurrent(
    'exits cleanly within 5 s of SIGTERM, saving its state',
    () =>
      withRun(async (run) => {
        const stopped = await run.component.stop(5_000);
        expect(stopped).toMatchObject({ code: 0, forced: false });
        expect(stopped.elapsedMs).toBeLessThan(5_000);
        expect(run.log()).toMatch(/SIGTERM received: stopping/);
        expect(run.log()).toMatch(/stopped: state saved \(last report id \d+\)/);
        const state = JSON.parse(fs.readFileSync(path.join(run.component.workPath, 'defender-agent-state.json'), 'utf8'));
        expect(state.lastReportId).toBe(run.reports[run.reports.length - 1]!.reportId);
      }),
    120_000,
  );
});
