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
  // One build, read only (sharedBuild); every test starts its own core and component from it, so no test depends on
  // another's order.
  let run: BuiltComponent;
  const reports = () => run.reports;
  const log = (): string => run.log();

  beforeEach(async () => {
    run = await BuiltComponent.start({
      tempPrefix: 'e2e-',
      thingName: THING,
      intervalSeconds: INTERVAL_SECONDS,
      ...(platform ? { platform } : {}),
    });
    await waitFor(() => reports().length >= 1, 60_000, 'the first report');
  }, 120_000);

  afterEach(async () => {
    await run?.stop();
  });

  it("gets its manifest's artifacts and says once which IPC client it uses", async () => {
    const installed = path.join(run.root, 'gg', 'packages', 'artifacts', run.name, run.build.local.version);
    expect(fs.readdirSync(installed).sort()).toEqual(artifacts);
    await waitFor(() => reports().length >= 1, 60_000);
    const choices = log()
      .split('\n')
      .filter((line) => line.includes('IPC client:'));
    expect(choices).toHaveLength(1);
    expect(choices[0]).toMatch(choice);
  });

  it('publishes a report that Device Defender accepts, and logs it', async () => {
    await waitFor(() => reports().some((r) => r.status === 'ACCEPTED'), 30_000);
    const first = reports()[0]!;
    expect(first).toMatchObject({ thingName: THING, format: 'json', status: 'ACCEPTED', errors: [], tooSoon: false });
    await waitFor(() => /report \d+ ACCEPTED by Device Defender/.test(log()), 10_000);
    expect(log()).toMatch(/started on linux\/\w+ node v\d+.*thing E2eThing, topic \$aws\/things\/E2eThing\/defender\/metrics\/json/);
    expect(log()).toMatch(/allowFastIntervalForDevelopment is on/);
  });

  it('switches to CBOR with short names live, accepted, and never sooner than the interval', async () => {
    const before = reports().length;
    await expect(run.core.deployConfiguration(run.name, { merge: { format: 'cbor', shortNames: 'true' } })).resolves.toMatchObject({
      status: 'APPLIED',
    });
    await waitFor(
      () =>
        reports()
          .slice(before)
          .some((r) => r.format === 'cbor'),
      30_000,
    );
    const cbor = reports()
      .slice(before)
      .find((r) => r.format === 'cbor')!;
    expect(cbor).toMatchObject({ status: 'ACCEPTED', tooSoon: false, topic: `$aws/things/${THING}/defender/metrics/cbor` });
    expect(reports().every((r) => !r.tooSoon)).toBe(true);
    await waitFor(
      () => /report \d+ published to \$aws\/things\/E2eThing\/defender\/metrics\/cbor: \d+ bytes CBOR short names/.test(log()),
      10_000,
    );
  });

  it('rejects an invalid configuration during the deployment, naming the key', async () => {
    const result = await run.core.deployConfiguration(run.name, { merge: { intervalSeconds: 'soon' } });
    expect(result.status).toBe('REJECTED');
    expect(result.message).toContain('intervalSeconds: must be a whole number');
  });

  it('explains a removed publish permission precisely and stays alive', async () => {
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
    await waitFor(() => log().includes(`aws.greengrass#PublishToIoTCore on "${topic}" was denied`), 10_000);
    expect(log()).toContain(`"resources":["${topic}"]`);
    expect(run.component.running).toBe(true);

    const before = reports().length;
    await run.core.deployConfiguration(run.name, {
      merge: {
        accessControl: {
          [MQTT_PROXY_SERVICE]: {
            [publishPolicyId(run.name)]: { operations: ['aws.greengrass#PublishToIoTCore'], resources: [topic] },
          },
        },
      },
    });
    await waitFor(() => reports().length > before, 30_000);
  });

  it('reconnects after the nucleus restarts and reports again', async () => {
    const startAgain = await run.stopCore();
    await waitFor(() => log().includes('lost the connection to the Greengrass nucleus'), 10_000);
    await startAgain();
    const before = reports().length;
    await waitFor(() => reports().length > before, 60_000);
    expect(reports()[reports().length - 1]!.status).toBe('ACCEPTED');
    expect(run.component.running).toBe(true);
  });

  it('exits cleanly within 5 s of SIGTERM, saving its state', async () => {
    const stopped = await run.component.stop(5_000);
    expect(stopped).toMatchObject({ code: 0, forced: false });
    expect(stopped.elapsedMs).toBeLessThan(5_000);
    expect(log()).toMatch(/SIGTERM received: stopping/);
    expect(log()).toMatch(/stopped: state saved \(last report id \d+\)/);
    const state = JSON.parse(fs.readFileSync(path.join(run.component.workPath, 'defender-agent-state.json'), 'utf8'));
    expect(state.lastReportId).toBe(reports()[reports().length - 1]!.reportId);
  });
});
