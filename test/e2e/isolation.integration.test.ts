/**
 * Detect, alert, isolate, locally: a drill under the local core raises an alarm; the alarm, as the AWS IoT rule of
 * `quarantine auto enable` would deliver it, goes to the built isolation function, run by node as Lambda runs it
 * (the handler of index.js called with the event); the function's AWS SDK talks to a fake AWS IoT account on
 * loopback, which records the group membership and the shadow. alarm-cleared, and a duplicate, change nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_QUARANTINE_SHADOW } from '../../cloud/isolation/shadow';
import { componentIdentity } from '../../src/component/identity';
import { buildIsolationFunction, ISOLATION_HANDLER } from '../../scripts/build/isolation-function';
import { isolationRulePayload } from '../../scripts/gg/isolation-plan';
import { DEFAULT_ALARM_TOPIC } from '../../src/config/detection';
import { drillDemo } from '../../tools/local-core/drill-demo';
import { BuiltComponent } from '../support/built-component';
import { FakeIotAccount } from '../support/fake-iot-account';
import { runToExit } from '../support/run-to-exit';
import { waitFor } from '../support/wait-for';

const THING = 'Core1';
const GROUP = 'defender-quarantine';
const INTERVAL_SECONDS = 5;

interface AlarmMessage {
  topic: string;
  payload: Record<string, unknown>;
}

/**
 * The rule's SELECT applied to one MQTT message, for the one form `isolationRulePayload` writes:
 * `SELECT *, topic(N) AS field FROM 'filter' WHERE violationEventType = 'in-alarm'`. Undefined: the rule does not fire.
 */
function ruleEvent(sql: string, message: AlarmMessage, honourWhere = true): Record<string, unknown> | undefined {
  const form = /^SELECT \*, topic\((\d+)\) AS (\w+) FROM '([^']+)' WHERE violationEventType = 'in-alarm'$/.exec(sql);
  if (!form) throw new Error(`the rule's SQL changed form; teach this test its new form: ${sql}`);
  const [, level, field, filter] = form;
  const levels = message.topic.split('/');
  const filterLevels = filter!.split('/');
  const matches = levels.length === filterLevels.length && filterLevels.every((f, i) => f === '+' || f === levels[i]);
  if (!matches) return undefined;
  if (honourWhere && message.payload.violationEventType !== 'in-alarm') return undefined;
  return { ...message.payload, [field!]: levels[Number(level) - 1] };
}

describe('isolation end to end: drill -> alarm -> IoT rule -> isolation function -> fake AWS', () => {
  let run: BuiltComponent | undefined;
  let fake: FakeIotAccount;
  let server: { url: string; close: () => Promise<void> };
  let functionDir: string;
  const alarms: AlarmMessage[] = [];

  beforeAll(async () => {
    functionDir = fs.mkdtempSync(path.join(os.tmpdir(), 'isolation-fn-'));
    const pkg = await buildIsolationFunction();
    fs.writeFileSync(path.join(functionDir, 'index.js'), pkg.bundle);
    fake = new FakeIotAccount({ [THING]: {} }, [GROUP]);
    server = await fake.serve();
  });

  afterAll(async () => {
    await run?.stop();
    await server?.close();
    fs.rmSync(functionDir, { recursive: true, force: true });
  });

  /** Lambda's Node.js runtime calls the exported handler of the file named by Handler with the event. */
  async function invoke(event: unknown, behaviors: string): Promise<{ code: number | null; result: unknown; output: string }> {
    const [file, exported] = ISOLATION_HANDLER.split('.');
    const runner = `const fn = require(${JSON.stringify(path.join(functionDir, `${file}.js`))}).${exported};
let input = ''; process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => fn(JSON.parse(input)).then((r) => { console.log('RESULT ' + JSON.stringify(r)); }, (e) => { console.log('ERROR ' + e); process.exitCode = 1; }));`;
    const { code, output } = await runToExit(process.execPath, ['-e', runner], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL_IOT: server.url,
        AWS_ENDPOINT_URL_IOT_DATA_PLANE: server.url,
        QUARANTINE_GROUP: GROUP,
        QUARANTINE_SHADOW: DEFAULT_QUARANTINE_SHADOW,
        QUARANTINE_BEHAVIORS: behaviors,
      },
      input: JSON.stringify(event),
    });
    const line = output.split('\n').find((l) => l.startsWith('RESULT '));
    return { code, result: line ? JSON.parse(line.slice('RESULT '.length)) : undefined, output };
  }

  it('isolates the core on the drill alarm, once; alarm-cleared changes nothing', async () => {
    const demo = await drillDemo('listening-port', {
      intervalSeconds: INTERVAL_SECONDS,
      reports: 3,
      thingName: THING,
      componentName: componentIdentity().name,
    });
    const alarmTopic = DEFAULT_ALARM_TOPIC.replace('{iot:thingName}', THING);
    run = await BuiltComponent.start({
      tempPrefix: 'isolation-e2e-',
      thingName: THING,
      intervalSeconds: INTERVAL_SECONDS,
      configurationMerge: demo.configurationMerge,
      onCoreStarted: (core) =>
        core.on('publish', ({ topic, payload }: { topic: string; payload: Buffer }) => {
          if (topic === alarmTopic) alarms.push({ topic, payload: JSON.parse(payload.toString('utf8')) });
        }),
    });
    const cleared = (): boolean => alarms.some((a) => a.payload.violationEventType === 'alarm-cleared');
    await waitFor(cleared, 60_000, 'the drill alarm raised and cleared');
    const raised = alarms.find((a) => a.payload.violationEventType === 'in-alarm')!;
    const clearedAlarm = alarms.find((a) => a.payload.violationEventType === 'alarm-cleared')!;
    expect(raised.payload.thingName).toBe(THING);
    const behavior = (raised.payload.behavior as { name: string }).name;
    expect(behavior).toBe(demo.behaviorName);

    const sql = isolationRulePayload(DEFAULT_ALARM_TOPIC, 'arn:aws:lambda:eu-west-1:123456789012:function:f').sql!;
    expect(ruleEvent(sql, clearedAlarm)).toBeUndefined();
    const event = ruleEvent(sql, raised)!;
    expect(event.sourceThing).toBe(THING);

    const first = await invoke(event, behavior);
    expect(first.result).toEqual({ decisions: ['isolated'] });
    expect(first.output).toMatch(/ISOLATED in-alarm of behavior drill-no-listener on thing Core1 .*from edge-alarm-rule/);
    expect(fake.membersOf(GROUP)).toEqual([THING]);
    const shadow = fake.shadow(THING, DEFAULT_QUARANTINE_SHADOW);
    expect(shadow?.reported).toMatchObject({
      quarantined: true,
      behavior,
      violationId: raised.payload.violationId,
      violationEventTime: raised.payload.violationEventTime,
      source: 'edge-alarm-rule',
    });

    // The rule drops alarm-cleared; delivered anyway (a retry, a rule edited by hand), it still changes nothing.
    const afterClear = await invoke(ruleEvent(sql, clearedAlarm, false), behavior);
    expect(afterClear.result).toEqual({ decisions: ['ignored'] });
    const duplicate = await invoke(event, behavior);
    expect(duplicate.result).toEqual({ decisions: ['already-isolated'] });
    expect(fake.shadow(THING, DEFAULT_QUARANTINE_SHADOW)).toEqual(shadow);
    expect(fake.membersOf(GROUP)).toEqual([THING]);
    expect(fake.calls.filter((c) => c.startsWith('UpdateThingShadow'))).toHaveLength(1);
    expect(fake.modelViolations).toEqual([]);
  }, 120_000);
});
