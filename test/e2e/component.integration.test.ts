/**
 * End to end through the built bundle: the component is built, started from its recipe by the
 * local core as the nucleus would, and driven through configuration changes, a permission
 * removal, a nucleus restart and SIGTERM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildComponent, type BuildResult } from '../../scripts/build/build';
import { MQTT_PROXY_SERVICE, publishPolicyId } from '../../src/component/definition';
import { type DefenderReportEvent, LocalCore } from '../../tools/local-core/core';
import { type ComponentProcess, launchComponent } from '../../tools/local-core/launcher';
import { waitFor } from '../support/wait-for';

const THING = 'E2eThing';
const INTERVAL_SECONDS = 5;

describe('the built component against the local core', () => {
  let root: string;
  let build: BuildResult;
  let core: LocalCore;
  let component: ComponentProcess;
  const reports: DefenderReportEvent[] = [];

  const startCore = async (): Promise<LocalCore> => {
    const next = new LocalCore({
      socketPath: path.join(root, 'ipc.sock'),
      thingName: THING,
      interpolateComponentConfiguration: true,
      defenderMinIntervalSeconds: INTERVAL_SECONDS - 1,
    });
    next.on('defender-report', (event) => reports.push(event));
    await next.start();
    return next;
  };

  const log = (): string => fs.readFileSync(component.logFile, 'utf8');

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-'));
    build = await buildComponent({ outputRoot: path.join(root, 'build') });
    core = await startCore();
    component = launchComponent({
      core,
      rootDir: path.join(root, 'gg'),
      recipeFile: build.local.recipeFile,
      artifactsDir: build.local.artifactsDir,
      thingName: THING,
      configurationMerge: { allowFastIntervalForDevelopment: 'true', intervalSeconds: String(INTERVAL_SECONDS) },
    });
    await component.start();
  }, 120_000);

  afterAll(async () => {
    if (component?.running) await component.stop(5_000);
    await core?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('publishes a report that Device Defender accepts, and logs it', async () => {
    await waitFor(() => reports.some((r) => r.status === 'ACCEPTED'), 30_000);
    const first = reports[0]!;
    expect(first).toMatchObject({ thingName: THING, format: 'json', status: 'ACCEPTED', errors: [], tooSoon: false });
    await waitFor(() => /report \d+ ACCEPTED by Device Defender/.test(log()), 10_000);
    expect(log()).toMatch(/started on linux\/\w+ node v\d+.*thing E2eThing, topic \$aws\/things\/E2eThing\/defender\/metrics\/json/);
    expect(log()).toMatch(/allowFastIntervalForDevelopment is on/);
  });

  it('switches to CBOR with short names live, accepted, and never sooner than the interval', async () => {
    const before = reports.length;
    await expect(core.deployConfiguration(build.identity.name, { merge: { format: 'cbor', shortNames: 'true' } })).resolves.toMatchObject({
      status: 'APPLIED',
    });
    await waitFor(() => reports.slice(before).some((r) => r.format === 'cbor'), 30_000);
    const cbor = reports.slice(before).find((r) => r.format === 'cbor')!;
    expect(cbor).toMatchObject({ status: 'ACCEPTED', tooSoon: false, topic: `$aws/things/${THING}/defender/metrics/cbor` });
    expect(reports.every((r) => !r.tooSoon)).toBe(true);
    await waitFor(
      () => /report \d+ published to \$aws\/things\/E2eThing\/defender\/metrics\/cbor: \d+ bytes CBOR short names/.test(log()),
      10_000,
    );
  });

  it('rejects an invalid configuration during the deployment, naming the key', async () => {
    const result = await core.deployConfiguration(build.identity.name, { merge: { intervalSeconds: 'soon' } });
    expect(result.status).toBe('REJECTED');
    expect(result.message).toContain('intervalSeconds: must be a whole number');
  });

  it('explains a removed publish permission precisely and stays alive', async () => {
    const topic = `$aws/things/${THING}/defender/metrics/cbor`;
    const denied = new Promise<{ resource: string }>((resolve) => core.once('denied', resolve));
    await core.deployConfiguration(build.identity.name, {
      merge: {
        accessControl: {
          [MQTT_PROXY_SERVICE]: {
            [publishPolicyId(build.identity.name)]: {
              operations: ['aws.greengrass#PublishToIoTCore'],
              resources: ['$aws/things/SomeoneElse/defender/metrics/cbor'],
            },
          },
        },
      },
    });
    expect((await denied).resource).toBe(topic);
    await waitFor(() => log().includes(`aws.greengrass#PublishToIoTCore on "${topic}" was denied`), 10_000);
    expect(log()).toContain(`"resources":["${topic}"]`);
    expect(component.running).toBe(true);

    const before = reports.length;
    await core.deployConfiguration(build.identity.name, {
      merge: {
        accessControl: {
          [MQTT_PROXY_SERVICE]: {
            [publishPolicyId(build.identity.name)]: { operations: ['aws.greengrass#PublishToIoTCore'], resources: [topic] },
          },
        },
      },
    });
    await waitFor(() => reports.length > before, 30_000);
  });

  it('reconnects after the nucleus restarts and reports again', async () => {
    const configuration = core.getConfiguration(build.identity.name);
    await core.stop();
    await waitFor(() => log().includes('lost the connection to the Greengrass nucleus'), 10_000);
    core = await startCore();
    core.registerComponent({ name: build.identity.name, version: build.local.version, configuration }, { svcuid: component.svcuid });
    const before = reports.length;
    await waitFor(() => reports.length > before, 60_000);
    expect(reports[reports.length - 1]!.status).toBe('ACCEPTED');
    expect(component.running).toBe(true);
  });

  it('exits cleanly within 5 s of SIGTERM, saving its state', async () => {
    const stopped = await component.stop(5_000);
    expect(stopped).toMatchObject({ code: 0, forced: false });
    expect(stopped.elapsedMs).toBeLessThan(5_000);
    expect(log()).toMatch(/SIGTERM received: stopping/);
    expect(log()).toMatch(/stopped: state saved \(last report id \d+\)/);
    const state = JSON.parse(fs.readFileSync(path.join(component.workPath, 'defender-agent-state.json'), 'utf8'));
    expect(state.lastReportId).toBe(reports[reports.length - 1]!.reportId);
  });
});
