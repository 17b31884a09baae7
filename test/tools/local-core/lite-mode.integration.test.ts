/**
 * The local core in lite mode (tools/local-core/core.ts `runtime: 'lite'`), the model of nucleus lite that the ordinary
 * `npm test` runs against: both real IPC clients over a Unix socket, and the built component launched from its recipe.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { accessControlFor, metricsTopics } from '../../../src/component/definition';
import { LITE_IPC_FRAME_LIMIT_BYTES, maxPayloadBytes, publishFrameBytes } from '../../../src/ipc/frame-size';
import { createGreengrassIpcConnector } from '../../../src/ipc/greengrass-ipc';
import type { IpcConnection } from '../../../src/ipc/ipc';
import { createPortableIpcConnector } from '../../../src/ipc/portable/portable-ipc';
import { LocalCore } from '../../../tools/local-core/core';
import { readRecipe } from '../../../tools/local-core/recipe-plan';
import { BuiltComponent, sharedBuild } from '../../support/built-component';
import { waitFor } from '../../support/wait-for';

const COMPONENT = 'com.example.Agent';
const THING = 'LiteThing';
const topic = metricsTopics(THING, 'json').publish;

describe.each([
  ['the SDK client', createGreengrassIpcConnector],
  ['the portable client', createPortableIpcConnector],
])('lite-mode local core, %s', (_name, createConnector) => {
  let dir: string;
  let core: LocalCore;
  let connection: IpcConnection;
  const closedFrames: number[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lite-'));
    core = new LocalCore({ socketPath: path.join(dir, 's'), thingName: THING, defenderMinIntervalSeconds: 0, runtime: 'lite' });
    core.on('frame-too-large', ({ bytes }) => closedFrames.push(bytes));
    await core.start();
    // Lite substitutes the thing in accessControl itself, without interpolateComponentConfiguration.
    const { svcuid } = core.registerComponent({
      name: COMPONENT,
      version: '1.0.0',
      configuration: { intervalSeconds: '300', accessControl: accessControlFor(COMPONENT, '{iot:thingName}') },
    });
    connection = await createConnector({ socketPath: core.socketPath, authToken: svcuid, operationTimeoutMs: 5_000 }).connect();
    closedFrames.length = 0;
  });

  afterEach(async () => {
    await connection.close();
    await core.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers the validation operations with ServiceError, as ggipcd does', async () => {
    await expect(connection.subscribeToValidateConfigurationUpdates(() => undefined)).rejects.toMatchObject({ kind: 'service' });
    await expect(connection.sendConfigurationValidityReport('d1', true)).rejects.toMatchObject({ kind: 'service' });
    expect(await connection.getConfiguration([])).toMatchObject({ intervalSeconds: '300' });
  });

  it('takes the largest publish whose frame ggipcd’s buffer holds, and closes the connection on one byte more', async () => {
    const published: number[] = [];
    core.on('publish', ({ payload }) => published.push(payload.length));
    // The agent keeps the whole frame within 10,000 bytes; ggipcd counts the bytes after the 12-byte prelude.
    const agentMost = maxPayloadBytes('PublishToIoTCore', topic, LITE_IPC_FRAME_LIMIT_BYTES);
    const most = maxPayloadBytes('PublishToIoTCore', topic, LITE_IPC_FRAME_LIMIT_BYTES + 12);
    expect(most).toBeGreaterThan(agentMost);
    await connection.publishToIoTCore(topic, Buffer.alloc(agentMost, 0x7b), '1');
    await connection.publishToIoTCore(topic, Buffer.alloc(most, 0x7b), '1');
    expect(published).toEqual([agentMost, most]);

    const lost = new Promise<string>((resolve) => connection.onDisconnect(resolve));
    await expect(connection.publishToIoTCore(topic, Buffer.alloc(most + 1, 0x7b), '1')).rejects.toMatchObject({ kind: 'disconnected' });
    await lost;
    // The frame the client wrote is the one the agent's arithmetic predicts.
    expect(closedFrames).toEqual([publishFrameBytes('PublishToIoTCore', topic, most + 1)]);
    expect(closedFrames[0]! - 12).toBeGreaterThan(LITE_IPC_FRAME_LIMIT_BYTES);
  });
});

describe('lite-mode launcher: the recipe rules nucleus lite enforces', () => {
  let recipeFile: string;
  beforeAll(async () => {
    recipeFile = (await sharedBuild()).local.recipeFile;
  }, 120_000);

  const recipeText = (): string => fs.readFileSync(recipeFile, 'utf8');
  const platform = { os: 'linux', architecture: 'amd64' };

  it('selects the rendered recipe’s manifest as lite does', () => {
    expect(
      readRecipe(recipeText(), 'r.yaml', platform, {}, 'lite')
        .artifacts.map((a) => a.file)
        .sort(),
    ).toEqual(['aws-crt-nodejs-linux-x64.node', 'defender-agent-sdk.js', 'defender-agent.js']);
    expect(readRecipe(recipeText(), 'r.yaml', { os: 'linux', architecture: 'riscv64' }, {}, 'lite').artifacts.map((a) => a.file)).toEqual([
      'defender-agent.js',
    ]);
  });

  it('refuses what lite refuses: no runtime key, an upper-case step, a brace group', () => {
    const recipe = parse(recipeText(), { version: '1.1' }) as { Manifests: Array<Record<string, any>> };
    const withChange = (change: (manifest: Record<string, any>) => void): string => {
      const copy = structuredClone(recipe);
      for (const manifest of copy.Manifests) change(manifest);
      return JSON.stringify(copy);
    };
    const read = (text: string) => () => readRecipe(text, 'r.json', platform, {}, 'lite');
    expect(read(withChange((m) => delete m.Platform.runtime))).toThrow(/nucleus lite on amd64: no manifest is selected/);
    const upperCaseRun = (m: Record<string, any>): void => {
      m.Lifecycle.Run = m.Lifecycle.run;
      delete m.Lifecycle.run;
    };
    expect(read(withChange(upperCaseRun))).toThrow(/Lifecycle\.Run: nucleus lite looks it up as "run" exactly/);
    const braceGroup = (m: Record<string, any>): void => {
      m.Lifecycle.install.Script = 'command -v node || { exit 1; }';
    };
    expect(read(withChange(braceGroup))).toThrow(/"\{ exit 1; }" is not a recipe variable/);
    // The classic reading of the same recipes is unchanged.
    expect(() =>
      readRecipe(
        withChange((m) => delete m.Platform.runtime),
        'r.json',
        platform,
      ),
    ).not.toThrow();
  });
});

describe('the built component on the lite-mode local core', () => {
  // Each client on a core and component of its own, both at once.
  it.concurrent.each([
    { client: 'sdk', platform: undefined },
    { client: 'portable', platform: { os: 'linux', architecture: 'arm' } },
  ])(
    '$client IPC client: reports ACCEPTED, says once what a nucleus without validation means, and refuses a budget lite cannot carry',
    async ({ client, platform }) => {
      const frames: number[] = [];
      const run = await BuiltComponent.start({
        tempPrefix: 'lite-e2e-',
        thingName: THING,
        intervalSeconds: 5,
        runtime: 'lite',
        ...(platform ? { platform } : {}),
        onCoreStarted: (core) => core.on('frame-too-large', ({ bytes }) => frames.push(bytes)),
      });
      try {
        await waitFor(() => run.reports.filter((r) => r.status === 'ACCEPTED').length >= 2, 60_000, 'two accepted reports');
        const log = run.log();
        expect(log).toContain(`IPC client: ${client}`);
        expect(log.match(/INFO {2}the nucleus does not serve configuration validation/g)).toHaveLength(1);
        expect(log).toMatch(/started on linux\/\w+ node v\d+\S* \(V8 [^)]*\) under nucleus lite/);

        const result = await run.core.deployConfiguration(run.name, { merge: { maxReportBytes: '20000' } });
        expect(result.status).toBe('APPLIED'); // nothing validates on lite: the value is stored, the agent refuses it
        await waitFor(
          () => /configuration update rejected: maxReportBytes: 20000 does not fit nucleus lite's 10000-byte IPC message/.test(run.log()),
          10_000,
        );
        const before = run.reports.length;
        await waitFor(() => run.reports.length > before, 30_000, 'a report after the refusal');
        expect(frames).toEqual([]);
      } finally {
        await run.stop();
      }
    },
    150_000,
  );
});
