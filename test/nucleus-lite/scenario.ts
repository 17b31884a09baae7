/**
 * The reference run against the real nucleus lite, inside a private network and mount namespace (main.ts enters it):
 * mosquitto as AWS IoT Core with a Device Defender responder on it, the lite daemons, a local deployment of the
 * rendered recipe unchanged, its install phase, then its run phase once per IPC client with the checks of issue 18
 * item 5. Every check's verdict names what was wrong, with what nucleus lite logged about it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { MQTT_PROXY_SERVICE, publishPolicyId } from '../../src/component/definition';
import { drillDemo } from '../../tools/local-core/drill-demo';
import { writeGeneratedProc } from '../fixtures/proc/generate';
import { Broker } from './broker';
import { makeCertificates } from './certificates';
import { CheckFailure, type Checks, expectThat, waitUntil } from './checks';
import { POSIX_USER } from './component-access';
import { type BusValue, type CoreBusSubscription, coreBusSubscribe, deleteConfig, readConfig, writeConfig } from './core-bus';
import { DataPlaneStandIn } from './data-plane';
import { DefenderResponder } from './defender-responder';
import { CORE_BUS_DIR, LiteCore, type PhaseRun, parseUnitFile, sleep } from './lite-core';
import { RunState } from './run-state';
import { describeError } from '../../src/util/describe-error';

const THING = 'LiteReferenceThing';
const INTERVAL_SECONDS = 5;
const BUSY_CONNECTIONS = 4000;
const CLIENTS = ['sdk', 'portable'] as const;
type Client = (typeof CLIENTS)[number];

interface ClientFigures {
  published: number;
  notSent: number;
  acceptedInLog: number;
  acceptedByResponder: number;
  rejectedByResponder: number;
  largestDeliveredBytes: number;
}

export interface ScenarioOutput {
  figures: Partial<Record<Client, ClientFigures>>;
}

interface Component {
  name: string;
  version: string;
  recipeDir: string;
  artifactsDir: string;
}

function renderedComponent(repoRoot: string): Component {
  const recipeDir = path.join(repoRoot, 'recipes');
  const files = fs.existsSync(recipeDir) ? fs.readdirSync(recipeDir).filter((f) => f.endsWith('.yaml')) : [];
  if (files.length !== 1) throw new Error(`expected one rendered recipe in ${recipeDir} (npm run build), found ${files.length}`);
  const recipe = parse(fs.readFileSync(path.join(recipeDir, files[0]!), 'utf8')) as { ComponentName: string; ComponentVersion: string };
  return { name: recipe.ComponentName, version: recipe.ComponentVersion, recipeDir, artifactsDir: path.join(repoRoot, 'artifacts') };
}

/** What a daemon logged at error or warning level since `from` (its log's length then), without the noise of a core without gghealthd. */
function liteComplaints(text: string, limit = 6): string {
  const noise =
    /gg_health|gghealthd|Server responded with an error|gg_fleet_status|fleet status|aws_iot_tes|TES credentials|systemctl|describe job|Timed out waiting for a response|Sending error on client/;
  const seen = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!/^[EW]\[/.test(line) || noise.test(line)) continue;
    const key = line.replace(/\d+/g, '#');
    if (!seen.has(key)) seen.set(key, line);
  }
  return [...seen.values()].slice(-limit).join(' | ');
}

function agentComplaints(text: string, limit = 4): string {
  const lines = [
    ...new Set(
      text
        .split('\n')
        .filter((l) => / (WARN|ERROR) /.test(l))
        .map((l) => l.replace(/^\S+ /, '')),
    ),
  ];
  return lines.slice(-limit).join(' | ');
}

/** What ggpubsubd delivered: ggipcd hands a binary PublishToTopic message on still base64-encoded, with type base64. */
function localPayload(message: BusValue): string {
  if (typeof message !== 'object' || message === null || Array.isArray(message) || Buffer.isBuffer(message)) return '';
  const { type, message: body } = message as { type?: BusValue; message?: BusValue };
  if (type === 'base64' && typeof body === 'string') return Buffer.from(body, 'base64').toString('utf8');
  return JSON.stringify(body ?? null);
}

function establishedTotal(payload: Buffer, format: string): number | undefined {
  if (format !== 'json') return undefined;
  try {
    const doc = JSON.parse(payload.toString('utf8')) as {
      metrics?: { tcp_connections?: { established_connections?: { total?: number } } };
      met?: { tc?: { ec?: { t?: number } } };
    };
    return doc.metrics?.tcp_connections?.established_connections?.total ?? doc.met?.tc?.ec?.t;
  } catch {
    return undefined;
  }
}

export async function runScenario(options: {
  repoRoot: string;
  binDir: string;
  runDir: string;
  stateFile: string;
  print: (line: string) => void;
  checks: Checks;
  onCleanup: (cleanup: () => Promise<void>) => void;
}): Promise<ScenarioOutput> {
  const { repoRoot, runDir, print, checks } = options;
  const output: ScenarioOutput = { figures: {} };
  const state = new RunState(options.stateFile);
  const component = renderedComponent(repoRoot);
  const configPath = ['services', component.name, 'configuration'];
  const configure = (values: { [key: string]: BusValue }) => writeConfig(CORE_BUS_DIR, configPath, values);

  const certificates = makeCertificates(path.join(runDir, 'certs'), THING);
  const broker = new Broker(runDir, state);
  const dataPlane = new DataPlaneStandIn(certificates, THING);
  const responder = new DefenderResponder(certificates, 8883, (INTERVAL_SECONDS - 1) * 1000);
  const core = new LiteCore(options.binDir, runDir, state, THING);
  let pubsub: CoreBusSubscription | undefined;
  const phases: PhaseRun[] = [];

  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const phase of phases) await core.stopPhase(phase).catch(() => undefined);
    pubsub?.close();
    await responder.stop();
    await core.stop();
    await dataPlane.stop();
    await broker.stop();
    await state.cleanUp();
  };
  options.onCleanup(cleanup);

  try {
    await broker.start(certificates);
    const dataPlanePort = await dataPlane.start();
    await responder.start('defender-agent/+/alarms');
    await core.start(certificates, { posixUser: POSIX_USER, dataPlanePort });
    const alarmTopicLocal = 'defender-agent/alarms';
    pubsub = await coreBusSubscribe(CORE_BUS_DIR, 'gg_pubsub', 'subscribe', { topic_filter: alarmTopicLocal });
    print(`nucleus lite daemons up (root ${core.rootPath}); mosquitto on 127.0.0.1:8883 with mutual TLS`);

    const installUnit = core.unitFile(component.name, 'install');
    const runUnit = core.unitFile(component.name, 'run');
    const deployed = await checks.run(
      'ggl-cli deploy of the rendered recipe, unchanged: a manifest is selected, the install and run units are written',
      async () => {
        const { id, log } = await core.deploy(component.recipeDir, component.artifactsDir, component.name, component.version, 180_000);
        const noManifest = /No lifecycle was found for linux/.test(log);
        expectThat(!noManifest, `deployment ${id}: no manifest selected; ggdeploymentd: ${liteComplaints(log)}`);
        const missing = [installUnit, runUnit].filter((f) => !fs.existsSync(f)).map((f) => path.basename(f));
        expectThat(missing.length === 0, `deployment ${id}: ${missing.join(' and ')} not written; ggdeploymentd: ${liteComplaints(log)}`);
        const version = await readConfig(CORE_BUS_DIR, ['services', component.name, 'version']);
        expectThat(version === component.version, `ggconfigd has version ${JSON.stringify(version)} for ${component.name}`);
        const run = parseUnitFile(runUnit);
        expectThat(
          run.execStart.includes('run') && run.execStart.includes(component.name),
          `the run unit starts ${run.execStart.join(' ')}`,
        );
        return `deployment ${id}; units ${path.basename(installUnit)}, ${path.basename(runUnit)}; it then fails at systemctl, as expected without systemd`;
      },
    );

    let installed = false;
    if (deployed) {
      installed = await checks.run('install phase, run as its unit says, succeeds', async () => {
        const unit = parseUnitFile(installUnit);
        const logFile = path.join(core.logDir, 'install.log');
        const phase = core.startPhase(unit, logFile);
        phases.push(phase);
        const code = await Promise.race([phase.exited, sleep(60_000).then(() => 'timeout' as const)]);
        await core.stopPhase(phase);
        phases.splice(phases.indexOf(phase), 1);
        const text = fs.readFileSync(logFile, 'utf8');
        expectThat(
          code === 0,
          `recipe-runner -p install ended with ${code}: ${text
            .split('\n')
            .filter((l) => !/^[DT]\[/.test(l))
            .slice(-6)
            .join(' | ')}`,
        );
        return `as ${unit.user}:${unit.group} in ${unit.workingDirectory}`;
      });
    } else {
      checks.notReached('install phase, run as its unit says, succeeds', 'nothing was deployed');
    }

    for (const client of CLIENTS) {
      const names = [
        `${client}: at least 3 reports ACCEPTED by Device Defender, each valid against the schema`,
        `${client}: a configuration change written to ggconfigd is applied live`,
        `${client}: a drill alarm on the AWS IoT topic (at the broker) and on local pub/sub`,
        `${client}: a too-narrow accessControl gives the remedy line in the agent's log`,
        `${client}: reports of a device with ${BUSY_CONNECTIONS} established connections are delivered, none dropped`,
      ] as const;
      if (!installed) {
        for (const name of names) checks.notReached(name, deployed ? 'the install phase failed' : 'nothing was deployed');
        continue;
      }
      await configure({
        ipcClient: client,
        allowFastIntervalForDevelopment: 'true',
        intervalSeconds: String(INTERVAL_SECONDS),
        format: 'json',
        shortNames: 'false',
        procfsRoot: '/proc',
        drill: {},
        behaviors: [],
      });
      const logFile = path.join(core.logDir, `agent-${client}.log`);
      const ipcdFrom = core.log('ggipcd').length;
      const firstOutcome = responder.outcomes.length;
      const phase = core.startPhase(parseUnitFile(runUnit), logFile);
      phases.push(phase);
      const agentLog = () => fs.readFileSync(logFile, 'utf8');
      const outcomes = () => responder.outcomes.slice(firstOutcome);
      const ipcdLog = () => core.log('ggipcd').slice(ipcdFrom);
      const whyNot = () => `agent: ${agentComplaints(agentLog()) || 'no warnings'}; ggipcd: ${liteComplaints(ipcdLog()) || 'nothing'}`;

      const reporting = await checks.run(names[0], async () => {
        await waitUntil(
          () => outcomes().filter((o) => o.status === 'ACCEPTED').length >= 3,
          60_000,
          () => `fewer than 3 reports ACCEPTED (${outcomes().length} reached the broker); ${whyNot()}`,
        );
        const invalid = outcomes().filter((o) => o.errors.length > 0);
        expectThat(invalid.length === 0, `invalid reports: ${invalid.map((o) => `${o.reportId}: ${o.errors.join('; ')}`).join(' | ')}`);
        const rejected = outcomes().filter((o) => o.status !== 'ACCEPTED');
        expectThat(rejected.length === 0, `rejected reports (too soon): ${rejected.map((o) => o.reportId).join(', ')}`);
        expectThat(
          new RegExp(`IPC client: ${client}\\b`).test(agentLog()),
          `the agent does not say it uses the ${client} client: ${
            agentLog()
              .split('\n')
              .find((l) => l.includes('IPC client')) ?? 'no such line'
          }`,
        );
        await waitUntil(
          () => (agentLog().match(/ACCEPTED by Device Defender/g) ?? []).length >= 3,
          15_000,
          () => `the agent did not log 3 ACCEPTED replies; ${whyNot()}`,
        );
        return `${outcomes().length} reports at the broker, all valid and ACCEPTED`;
      });

      if (!reporting) {
        for (const name of names.slice(1)) checks.notReached(name, `no reports with the ${client} client`);
      } else {
        await checks.run(names[1], async () => {
          const from = responder.outcomes.length;
          await configure({ format: 'cbor', shortNames: 'true' });
          await waitUntil(
            () => responder.outcomes.slice(from).some((o) => o.format === 'cbor' && o.status === 'ACCEPTED'),
            30_000,
            () => `no CBOR report after format=cbor was written to ggconfigd; ${whyNot()}`,
          );
          expectThat(
            /published to \S+\/cbor: \d+ bytes CBOR short names/.test(agentLog()),
            'the agent did not log a CBOR short-names report',
          );
          const back = responder.outcomes.length;
          await configure({ format: 'json', shortNames: 'false' });
          await waitUntil(
            () => responder.outcomes.slice(back).some((o) => o.format === 'json' && o.status === 'ACCEPTED'),
            30_000,
            () => 'no JSON report after format=json',
          );
          return 'format json -> cbor short names -> json, each ACCEPTED';
        });

        await checks.run(names[2], async () => {
          const demo = await drillDemo('listening-port', {
            intervalSeconds: INTERVAL_SECONDS,
            thingName: THING,
            componentName: component.name,
          });
          const cloudFrom = responder.messages.length;
          const localFrom = pubsub!.messages.length;
          await configure(demo.configurationMerge as { [key: string]: BusValue });
          const onCloud = () =>
            responder.messages
              .slice(cloudFrom)
              .find((m) => m.topic === `defender-agent/${THING}/alarms` && m.payload.toString().includes(demo.behaviorName));
          const onLocal = () => pubsub!.messages.slice(localFrom).find((m) => localPayload(m).includes(demo.behaviorName));
          await waitUntil(
            () => onCloud() !== undefined && onLocal() !== undefined,
            45_000,
            () =>
              `alarm of ${demo.behaviorName}: ${
                onCloud()
                  ? 'at the broker'
                  : `NOT at the broker (it got ${
                      responder.messages
                        .slice(cloudFrom)
                        .filter((m) => m.topic.startsWith('defender-agent/'))
                        .map((m) => m.payload.toString().slice(0, 80))
                        .join(', ') || 'nothing'
                    } on alarm topics)`
              }, ${onLocal() ? 'on local pub/sub' : `NOT on local pub/sub (${pubsub!.messages.length - localFrom} messages)`}; ${whyNot()}`,
          );
          await deleteConfig(CORE_BUS_DIR, [...configPath, 'drill']);
          await configure({ behaviors: [] });
          return `${demo.note}; alarm on defender-agent/${THING}/alarms and ${alarmTopicLocal}`;
        });

        await checks.run(names[3], async () => {
          const resourcesPath = [...configPath, 'accessControl', MQTT_PROXY_SERVICE, publishPolicyId(component.name), 'resources'];
          const original = await readConfig(CORE_BUS_DIR, resourcesPath);
          const topic = `$aws/things/${THING}/defender/metrics/json`;
          const from = agentLog().length;
          await writeConfig(CORE_BUS_DIR, resourcesPath, ['$aws/things/SomeoneElse/defender/metrics/json']);
          const remedy = () =>
            agentLog()
              .slice(from)
              .split('\n')
              .find((l) => l.includes(`aws.greengrass#PublishToIoTCore on "${topic}" was denied`));
          try {
            await waitUntil(
              () => remedy() !== undefined,
              30_000,
              () => `no denial logged for ${topic}; ${whyNot()}`,
            );
          } finally {
            await writeConfig(CORE_BUS_DIR, resourcesPath, original);
          }
          const line = remedy()!;
          expectThat(line.includes(`"resources":["${topic}"]`), `the remedy does not give the accessControl entry for ${topic}: ${line}`);
          expectThat(
            !line.includes('interpolateComponentConfiguration'),
            `the remedy names interpolateComponentConfiguration, a classic nucleus setting that nucleus lite does not have: ${line}`,
          );
          const after = responder.outcomes.length;
          await waitUntil(
            () => responder.outcomes.slice(after).some((o) => o.status === 'ACCEPTED'),
            30_000,
            () => `no report ACCEPTED after the policy was restored; ${whyNot()}`,
          );
          return line.replace(/^\S+ /, '').slice(0, 200);
        });

        await checks.run(names[4], async () => {
          const fixture = path.join(runDir, `proc-${client}`);
          writeGeneratedProc(fixture, { established: BUSY_CONNECTIONS, listeners: 40 });
          const logFrom = agentLog().length;
          const from = responder.outcomes.length;
          await configure({ procfsRoot: fixture });
          const busy = () => responder.outcomes.slice(from).filter((o) => establishedTotal(o.payload, o.format) === BUSY_CONNECTIONS);
          await waitUntil(
            () => busy().length >= 3,
            60_000,
            () => `${busy().length} of 3 reports with ${BUSY_CONNECTIONS} connections reached the broker; ${whyNot()}`,
          );
          // Stop the agent so that every report it says it published has had its chance to arrive.
          await core.stopPhase(phase);
          phases.splice(phases.indexOf(phase), 1);
          await sleep(1_000);
          const since = agentLog().slice(logFrom);
          const published = [...since.matchAll(/report (\d+) published to (\S+): (\d+) bytes/g)].map((m) => Number(m[1]));
          const arrived = new Set(responder.outcomes.slice(from).map((o) => o.reportId));
          const lost = published.filter((id) => !arrived.has(id));
          expectThat(lost.length === 0, `reports ${lost.join(', ')} were published by the agent but never reached the broker; ${whyNot()}`);
          const drops = since.split('\n').filter((l) => l.includes('lost the connection'));
          expectThat(drops.length === 0, `the nucleus closed the connection: ${drops[0]}; ggipcd: ${liteComplaints(ipcdLog())}`);
          const notAccepted = busy().filter((o) => o.status !== 'ACCEPTED');
          expectThat(
            notAccepted.length === 0,
            `reports not ACCEPTED: ${notAccepted.map((o) => `${o.reportId} ${o.errors.join('; ')}`).join(' | ')}`,
          );
          const largest = Math.max(...busy().map((o) => o.bytes));
          return `${busy().length} reports with ${BUSY_CONNECTIONS} connections, all ACCEPTED, none lost; largest ${largest} bytes`;
        });
      }

      if (phases.includes(phase)) {
        await core.stopPhase(phase);
        phases.splice(phases.indexOf(phase), 1);
      }
      const mine = responder.outcomes.slice(firstOutcome);
      const log = agentLog();
      output.figures[client] = {
        published: (log.match(/report \d+ published to/g) ?? []).length,
        notSent: (log.match(/report \d+ not sent/g) ?? []).length,
        acceptedInLog: (log.match(/ACCEPTED by Device Defender/g) ?? []).length,
        acceptedByResponder: mine.filter((o) => o.status === 'ACCEPTED').length,
        rejectedByResponder: mine.filter((o) => o.status !== 'ACCEPTED').length,
        largestDeliveredBytes: Math.max(0, ...mine.filter((o) => o.status === 'ACCEPTED').map((o) => o.bytes)),
      };
    }
  } catch (error) {
    if (error instanceof CheckFailure) throw error;
    throw new Error(
      `${describeError(error)}; mosquitto log: ${fs.existsSync(broker.logFile) ? fs.readFileSync(broker.logFile, 'utf8').slice(-300) : 'none'}`,
    );
  } finally {
    await cleanup();
  }
  return output;
}
