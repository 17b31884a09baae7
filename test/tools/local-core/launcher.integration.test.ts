import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LocalCore } from '../../../tools/local-core/core';
import {
  launchComponent,
  type ComponentHost,
  type ComponentProcess,
  type LaunchOptions,
  type OutputLine,
} from '../../../tools/local-core/launcher';

const NAME = 'com.example.Fake';
const VERSION = '1.2.3';

class FakeHost implements ComponentHost {
  readonly socketPath = '/tmp/fake-core.sock';
  readonly registrations: Array<{ name: string; version: string; configuration: Record<string, unknown> }> = [];
  registerComponent(registration: { name: string; version: string; configuration: Record<string, unknown> }): { svcuid: string } {
    this.registrations.push(registration);
    return { svcuid: 'svc-0001' };
  }
  getConfiguration(componentName: string): Record<string, unknown> {
    return this.registrations.find((r) => r.name === componentName)?.configuration ?? {};
  }
}

let dir: string;
let host: FakeHost;
const launched: ComponentProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'launch-'));
  host = new FakeHost();
  const artifacts = join(dir, 'artifacts', NAME, VERSION);
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, 'tool.sh'), 'echo "tool ran from $(dirname "$0")"\n');
});

afterEach(async () => {
  await Promise.all(launched.splice(0).map((component) => component.stop(1000)));
  rmSync(dir, { recursive: true, force: true });
});

const DEFAULT_CONFIGURATION = { greeting: 'hello', interval: '300', nested: { a: 1 } };

function writeRecipe(lifecycle: Record<string, unknown>, defaultConfiguration: Record<string, unknown> = DEFAULT_CONFIGURATION): string {
  const recipe = {
    RecipeFormatVersion: '2020-01-25',
    ComponentName: NAME,
    ComponentVersion: VERSION,
    ComponentConfiguration: { DefaultConfiguration: defaultConfiguration },
    Manifests: [
      { Platform: { os: 'windows' }, Lifecycle: { Run: 'echo wrong manifest' } },
      {
        Platform: { os: 'linux', architecture: '/amd64|aarch64/' },
        Artifacts: [{ URI: 's3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/tool.sh', Permission: { Read: 'OWNER', Execute: 'OWNER' } }],
        Lifecycle: lifecycle,
      },
    ],
  };
  const file = join(dir, 'recipe.yaml');
  writeFileSync(file, stringify(recipe));
  return file;
}

function launch(lifecycle: Record<string, unknown>, extra: Partial<LaunchOptions> = {}): ComponentProcess {
  const component = launchComponent({
    core: host,
    rootDir: join(dir, 'root'),
    recipeFile: writeRecipe(lifecycle),
    artifactsDir: join(dir, 'artifacts'),
    thingName: 'TestThing',
    region: 'eu-west-1',
    platform: { os: 'linux', architecture: 'aarch64' },
    ...extra,
  });
  launched.push(component);
  return component;
}

/** Collects Run lines of one stream until a line equal to `last` arrives. */
function linesUntil(component: ComponentProcess, last: string, stream: OutputLine['stream'] = 'stdout'): Promise<string[]> {
  const lines: string[] = [];
  return new Promise((resolve) => {
    const onLine = (line: OutputLine): void => {
      if (line.step !== 'Run' || line.stream !== stream) return;
      lines.push(line.text);
      if (line.text === last) {
        component.off('line', onLine);
        resolve(lines);
      }
    };
    component.on('line', onLine);
  });
}

/** A killed process nobody has reaped yet (a zombie) counts as gone. */
const isAlive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

const REPORTING_RUN = {
  Setenv: { OVERRIDDEN: 'step' },
  Script: [
    'echo "artifacts={artifacts:path} work={work:path} root={kernel:rootPath} thing={iot:thingName}"',
    "echo 'greeting={configuration:/greeting} interval={configuration:/interval} nested={configuration:/nested} missing={configuration:/nope}'",
    'echo "svcuid=$SVCUID token=$AWS_CONTAINER_AUTHORIZATION_TOKEN socket=$AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT"',
    'echo "thing=$AWS_IOT_THING_NAME region=$AWS_REGION/$AWS_DEFAULT_REGION ggc=$GGC_VERSION ca=$GG_ROOT_CA_PATH"',
    'echo "lifecycle=$FROM_LIFECYCLE overridden=$OVERRIDDEN cwd=$(pwd)"',
    'sh {artifacts:path}/tool.sh',
    'echo oops >&2',
    'echo ready',
    'exec sleep 30',
  ].join('\n'),
};

describe('launchComponent', () => {
  it('runs Install then Run with recipe variables substituted and the nucleus environment', async () => {
    const component = launch(
      {
        Setenv: { FROM_LIFECYCLE: 'thing {iot:thingName}', OVERRIDDEN: 'lifecycle' },
        Install: { Script: 'echo "installing in {work:path}"', Timeout: 10 },
        Run: REPORTING_RUN,
      },
      { configurationMerge: { interval: '10' } },
    );
    const output = linesUntil(component, 'ready');
    const installLines: string[] = [];
    component.on('line', (line: OutputLine) => line.step === 'Install' && installLines.push(line.text));

    await component.start();
    const lines = await output;

    const root = join(dir, 'root');
    const artifactsPath = join(root, 'packages', 'artifacts', NAME, VERSION);
    const workPath = join(root, 'work', NAME);
    expect(installLines).toEqual([`installing in ${workPath}`]);
    expect(lines).toEqual([
      `artifacts=${artifactsPath} work=${workPath} root=${root} thing=TestThing`,
      'greeting=hello interval=10 nested={"a":1} missing={configuration:/nope}',
      'svcuid=svc-0001 token=svc-0001 socket=/tmp/fake-core.sock',
      `thing=TestThing region=eu-west-1/eu-west-1 ggc=2.14.0 ca=${join(root, 'rootCA.pem')}`,
      `lifecycle=thing TestThing overridden=step cwd=${workPath}`,
      `tool ran from ${artifactsPath}`,
      'ready',
    ]);
    expect(host.registrations).toEqual([
      { name: NAME, version: VERSION, configuration: { greeting: 'hello', interval: '10', nested: { a: 1 } } },
    ]);
    expect(statSync(join(artifactsPath, 'tool.sh')).mode & 0o777).toBe(0o500);
  });

  it('writes every output line to logs/<Name>.log in the nucleus format', async () => {
    const component = launch({ Run: REPORTING_RUN });
    const output = Promise.all([linesUntil(component, 'ready'), linesUntil(component, 'oops', 'stderr')]);
    await component.start();
    await output;

    const log = readFileSync(component.logFile, 'utf8');
    expect(component.logFile).toBe(join(dir, 'root', 'logs', `${NAME}.log`));
    expect(log).toMatch(
      /^\S+Z \[INFO\] \(Copier\) com\.example\.Fake: stdout\. ready\. \{scriptName=services\.com\.example\.Fake\.lifecycle\.Run\.Script, serviceName=com\.example\.Fake, currentState=RUNNING\}$/m,
    );
    expect(log).toMatch(/\[WARN\] \(Copier\) com\.example\.Fake: stderr\. oops\./);
    expect(log).toContain('unresolved recipe variable {configuration:/nope} left as written');
  });

  it('stops the component with SIGTERM', async () => {
    const component = launch({ Run: 'echo ready; exec sleep 30' });
    const output = linesUntil(component, 'ready');
    await component.start();
    await output;
    const pid = component.pid!;

    const result = await component.stop();

    expect(result).toMatchObject({ signal: 'SIGTERM', forced: false });
    expect(isAlive(pid)).toBe(false);
  });

  it('has copied every line its processes wrote by the time stop resolves, and copies none after', async () => {
    // A process of the component that left its group (setsid) keeps the output pipe open and writes after Run has
    // exited. A caller removes the core's root once stop resolves: a line copied after that would write into a removed
    // folder and throw in the core's process.
    const component = launch({ Run: "setsid sh -c 'echo left the group; sleep 0.5; echo late' & exec sleep 30" });
    const output = linesUntil(component, 'left the group');
    await component.start();
    await output;

    await component.stop();
    const copied = readFileSync(component.logFile, 'utf8');
    rmSync(join(dir, 'root'), { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    expect(copied).toContain('stdout. late.');
  });

  it('kills with SIGKILL, children included, a component that ignores SIGTERM', async () => {
    const component = launch({ Run: 'trap \'\' TERM; sleep 30 & echo "child=$!"; echo ready; while true; do sleep 1; done' });
    const output = linesUntil(component, 'ready');
    await component.start();
    const childPid = Number((await output)[0]!.replace('child=', ''));

    const result = await component.stop(300);

    expect(result).toMatchObject({ signal: 'SIGKILL', forced: true });
    // The group's SIGKILL reaches the orphaned child asynchronously; give the kernel a moment to finish it.
    expect(await goneWithin(childPid, 2_000)).toBe(true);
  });

  it('restarts Run without installing again', async () => {
    const component = launch({ Install: 'echo installed', Run: 'echo "run $$"; echo ready; exec sleep 30' });
    let installs = 0;
    component.on('line', (line: OutputLine) => line.step === 'Install' && installs++);
    const first = linesUntil(component, 'ready');
    await component.start();
    await first;
    const firstPid = component.pid;

    const second = linesUntil(component, 'ready');
    await component.restart();
    await second;

    expect(component.pid).not.toBe(firstPid);
    expect(component.running).toBe(true);
    expect(installs).toBe(1);
  });

  it('reports an unexpected exit of Run', async () => {
    const component = launch({ Run: 'exit 3' });
    const exit = new Promise((resolve) => component.once('exit', resolve));
    await component.start();
    expect(await exit).toEqual({ code: 3, signal: null, requested: false });
  });

  it('rejects start() with the output of a failing Install and does not run', async () => {
    const component = launch({
      Install: { Script: 'echo checking; echo "Node.js >= 20 is required" >&2; exit 1' },
      Run: 'echo should-not-run',
    });

    await expect(component.start()).rejects.toThrow(`${NAME}: Install failed with exit code 1:\nchecking\nNode.js >= 20 is required`);
    expect(component.pid).toBeUndefined();
  });

  it('kills an Install that overruns its Timeout', async () => {
    const component = launch({ Install: { Script: 'echo waiting; sleep 30', Timeout: 1 }, Run: 'echo should-not-run' });
    await expect(component.start()).rejects.toThrow(`${NAME}: Install timed out after 1 s:\nwaiting`);
  });

  it('refuses recipes it cannot run faithfully', async () => {
    expect(() => launch({ Run: 'true' }, { platform: { os: 'darwin', architecture: 'aarch64' } })).toThrow(
      /no manifest matches this platform/,
    );
    expect(() => launch({ Startup: 'true' })).toThrow(/lifecycle Startup is not supported by the local core/);
    await expect(launch({ Run: { Script: 'true', RequiresPrivilege: true } }).start()).rejects.toThrow(/runs components unprivileged only/);
    rmSync(join(dir, 'artifacts', NAME, VERSION, 'tool.sh'));
    await expect(launch({ Run: 'true' }).start()).rejects.toThrow(/artifact tool\.sh not found/);
  });
});

describe('launchComponent with the LocalCore IPC server', () => {
  let core: LocalCore;
  beforeEach(async () => {
    core = new LocalCore({ socketPath: join(dir, 'ipc.sock'), thingName: 'ProbeThing', interpolateComponentConfiguration: true });
    await core.start();
  });
  afterEach(async () => {
    await Promise.all(launched.splice(0).map((component) => component.stop(1000)));
    await core.stop();
  });

  it('gives the component what the unmodified SDK client needs to connect, authenticate and be authorized', async () => {
    // A component that uses the real greengrasscoreipc client with the environment the launcher sets.
    const sdk = require.resolve('aws-iot-device-sdk-v2');
    writeFileSync(
      join(dir, 'artifacts', NAME, VERSION, 'tool.sh'),
      `exec node -e '
const { greengrasscoreipc } = require(${JSON.stringify(sdk)});
(async () => {
  const client = greengrasscoreipc.createClient();
  await client.connect();
  console.log("connected");
  for (const topic of process.argv.slice(1)) {
    try { await client.publishToIoTCore({ topicName: topic, qos: "0", payload: "x" }); console.log("published " + topic); }
    catch (e) { console.log("denied " + topic + " " + e.serviceError?._errorCode); }
  }
  await client.close();
  console.log("done");
})().catch((e) => { console.log("failed " + e); process.exit(1); });' "$@"
`,
    );
    const accessControl = {
      'aws.greengrass.ipc.mqttproxy': {
        'probe:1': { operations: ['aws.greengrass#PublishToIoTCore'], resources: ['things/{iot:thingName}/probe'] },
      },
    };
    const recipeFile = writeRecipe(
      { Run: 'sh {artifacts:path}/tool.sh things/{iot:thingName}/probe things/Other/probe' },
      { accessControl },
    );
    const component = launchComponent({
      core,
      rootDir: join(dir, 'root'),
      recipeFile,
      artifactsDir: join(dir, 'artifacts'),
      thingName: 'ProbeThing',
      platform: { os: 'linux', architecture: 'amd64' },
    });
    launched.push(component);
    const connected = new Promise((resolve) => core.once('connect', resolve));
    const published = new Promise((resolve) => core.once('publish', ({ component: name, topic }) => resolve({ name, topic })));
    const output = linesUntil(component, 'done');

    await component.start();

    expect(await output).toEqual(['connected', 'published things/ProbeThing/probe', 'denied things/Other/probe UnauthorizedError', 'done']);
    expect(await connected).toEqual({ component: NAME });
    expect(await published).toEqual({ name: NAME, topic: 'things/ProbeThing/probe' });
  });
});
