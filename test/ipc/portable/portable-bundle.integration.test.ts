/**
 * The portable client end to end through the built bundle: the local core launches the component from its recipe as
 * a 32-bit ARM core would (the any-architecture manifest, so the bundle alone), with the default ipcClient (auto). The
 * agent must find no aws-crt addon, say once that it uses the portable client, and then do everything over it:
 * reports accepted, a live configuration change, a rejected deployment, a nucleus restart, SIGTERM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildComponent, type BuildResult } from '../../../scripts/build/build';
import { type DefenderReportEvent, LocalCore } from '../../../tools/local-core/core';
import { type ComponentProcess, launchComponent } from '../../../tools/local-core/launcher';
import { waitFor } from '../../support/wait-for';

const THING = 'PortableThing';
const INTERVAL_SECONDS = 5;

describe('the built bundle alone on an architecture without an aws-crt addon', () => {
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
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pbundle-'));
    build = await buildComponent({ outputRoot: path.join(root, 'build') });
    core = await startCore();
    component = launchComponent({
      core,
      rootDir: path.join(root, 'gg'),
      recipeFile: build.local.recipeFile,
      artifactsDir: build.local.artifactsDir,
      thingName: THING,
      platform: { os: 'linux', architecture: 'arm' },
      configurationMerge: { allowFastIntervalForDevelopment: 'true', intervalSeconds: String(INTERVAL_SECONDS) },
    });
    await component.start();
  }, 120_000);

  afterAll(async () => {
    if (component?.running) await component.stop(5_000);
    await core?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('gets the bundle alone and chooses the portable client with one INFO line', async () => {
    const artifacts = path.join(root, 'gg', 'packages', 'artifacts', build.identity.name, build.local.version);
    expect(fs.readdirSync(artifacts)).toEqual(['defender-agent.js']);
    await waitFor(() => reports.length >= 1, 60_000);
    const choices = log()
      .split('\n')
      .filter((line) => line.includes('IPC client'));
    expect(choices).toHaveLength(1);
    expect(choices[0]).toMatch(/INFO {2}IPC client: portable \(the aws-crt native addon for linux\/\w+ is missing or does not load/);
    expect(reports[0]!.status).toBe('ACCEPTED');
  });

  it('applies a configuration change live and rejects an invalid one during the deployment', async () => {
    await expect(core.deployConfiguration(build.identity.name, { merge: { format: 'xml' } })).resolves.toMatchObject({
      status: 'REJECTED',
      message: expect.stringContaining('format'),
    });
    await expect(core.deployConfiguration(build.identity.name, { merge: { format: 'cbor' } })).resolves.toMatchObject({
      status: 'APPLIED',
    });
    await waitFor(() => reports.some((r) => r.format === 'cbor'), 60_000);
    expect(reports.filter((r) => r.format === 'cbor').every((r) => r.status === 'ACCEPTED')).toBe(true);
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

  it('exits cleanly on SIGTERM', async () => {
    const stopped = await component.stop(5_000);
    expect(stopped).toMatchObject({ code: 0, forced: false });
  });
});
