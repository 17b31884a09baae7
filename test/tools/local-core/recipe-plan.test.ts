import { nucleusLayout, planLifecycle, readRecipe, type ComponentRecipe } from '../../../tools/local-core/recipe-plan';

const RECIPE = `
RecipeFormatVersion: '2020-01-25'
ComponentName: com.example.Planned
ComponentVersion: 1.2.3
ComponentConfiguration:
  DefaultConfiguration:
    Interval: '10'
    Nested: { Level: x, list: [a, b] }
Manifests:
  - Platform: { os: windows }
    Lifecycle: { Run: 'echo windows' }
  - Platform: { os: linux, architecture: /amd64|aarch64/ }
    Artifacts:
      - URI: s3://bucket/path/agent.js
        Permission: { Read: ALL, Execute: OWNER }
    Lifecycle:
      Setenv: { SHARED: lifecycle, ONLY_LIFECYCLE: '1' }
      Install:
        Script: 'install {artifacts:path}/agent.js'
        Timeout: 30
      Run:
        Script: 'run {configuration:/Interval} {configuration:/interval} {configuration:/Nested/list/1} {configuration:/Nested} {iot:thingName} {work:path} {kernel:rootPath} {other:thing}'
        Setenv: { SHARED: step }
`;

const LINUX = { os: 'linux', architecture: 'aarch64' };

function recipe(merge = {}): ComponentRecipe {
  return readRecipe(RECIPE, 'recipe.yaml', LINUX, merge);
}

function plan(merge = {}, env?: Record<string, string>) {
  const read = recipe(merge);
  return planLifecycle(read, {
    layout: nucleusLayout('/gg', read.name, read.version),
    thingName: 'T1',
    configuration: read.configuration,
    svcuid: 'TOKEN',
    socketPath: '/gg/ipc.sock',
    ...(env ? { env } : {}),
  });
}

describe('readRecipe', () => {
  it('picks the manifest for the platform and reads artifacts with their modes', () => {
    const read = recipe();
    expect(read).toMatchObject({ name: 'com.example.Planned', version: '1.2.3', artifacts: [{ file: 'agent.js', mode: 0o544 }] });
  });

  it('merges the deployment configuration the way the nucleus store does: keys ignore case, the first spelling stays', () => {
    expect(recipe({ interval: '20', nested: { level: 'y' }, extra: true }).configuration).toEqual({
      Interval: '20',
      Nested: { Level: 'y', list: ['a', 'b'] },
      extra: true,
    });
  });

  it('refuses what it cannot run faithfully', () => {
    expect(() => readRecipe(RECIPE, 'r.yaml', { os: 'darwin' })).toThrow(/no manifest matches this platform/);
    expect(() => readRecipe(RECIPE.replace('Install:\n', 'Shutdown:\n'), 'r.yaml', LINUX)).toThrow(/lifecycle Shutdown is not supported/);
    expect(() => readRecipe(RECIPE.replace('Permission:', 'Unarchive: ZIP\n        Permission:'), 'r.yaml', LINUX)).toThrow(
      /Unarchive ZIP/,
    );
  });
});

describe('planLifecycle', () => {
  it('substitutes recipe variables; configuration pointers match the stored spelling exactly, as Jackson JsonNode.at does', () => {
    const { run, install, unresolved } = plan({ interval: '20' });
    expect(install?.script).toBe('install /gg/packages/artifacts/com.example.Planned/1.2.3/agent.js');
    expect(install?.timeoutSeconds).toBe(30);
    expect(run.script).toBe(
      'run 20 {configuration:/interval} b {"Level":"x","list":["a","b"]} T1 /gg/work/com.example.Planned /gg {other:thing}',
    );
    expect(unresolved.sort()).toEqual(['{configuration:/interval}', '{other:thing}']);
  });

  it('gives each step the nucleus environment, then lifecycle Setenv, then step Setenv, then the overrides', () => {
    const { run, install } = plan({}, { OVERRIDE: 'x', ONLY_LIFECYCLE: 'overridden' });
    expect(run.env).toMatchObject({
      SVCUID: 'TOKEN',
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'TOKEN',
      AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: '/gg/ipc.sock',
      AWS_IOT_THING_NAME: 'T1',
      AWS_REGION: 'us-east-1',
      GG_ROOT_CA_PATH: '/gg/rootCA.pem',
      SHARED: 'step',
      ONLY_LIFECYCLE: 'overridden',
      OVERRIDE: 'x',
    });
    expect(install?.env.SHARED).toBe('lifecycle');
  });
});
