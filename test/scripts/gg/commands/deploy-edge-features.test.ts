import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ComponentDeploymentSpecification, CreateDeploymentCommand, ListDeploymentsCommand } from '@aws-sdk/client-greengrassv2';
import { run } from '../../../../scripts/gg/cli';
import { accessControlFor } from '../../../../src/component/definition';
import { latestDeployment, published, sentMerge } from '../deployments';
import { ACCOUNT, COMPONENT, harness, inputsOf, makeProject, mocks, resetMocks, totalCalls } from '../helpers';

const PROFILE = join(__dirname, '..', 'fixtures', 'behaviors-profile.json');
const THING_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/core-1`;

/** The thing's latest deployment, which the next deploy merges into, holds these components. */
function deployedBefore(components: Record<string, ComponentDeploymentSpecification>): void {
  latestDeployment(THING_ARN, { components });
}

describe('deploy --behaviors-file', () => {
  it('refuses behaviors on custom metrics the device would not collect, and takes them with the metric configured', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const project = makeProject();
    const file = join(project, 'cpu-profile.json');
    writeFileSync(
      file,
      JSON.stringify([{ name: 'cpu-high', metric: 'cpu', criteria: { comparisonOperator: 'greater-than', value: { number: 90 } } }]),
    );
    const refused = harness(project);
    expect(await run(['deploy', '--thing', 'core-1', '--behaviors-file', file], refused.deps)).toBe(2);
    expect(refused.text()).toContain('watches custom metric "cpu", which is not in customMetrics');
    expect(mocks.greengrass.commandCalls(CreateDeploymentCommand)).toHaveLength(0);

    const taken = harness(project);
    expect(await run(['deploy', '--thing', 'core-1', '--behaviors-file', file, '--custom-metric', 'cpu=cpuUsage'], taken.deps)).toBe(0);
    expect((sentMerge().behaviors as Array<{ name: string }>).map((b) => b.name)).toEqual(['cpu-high']);
  });

  it('puts the static behaviors on the device and merges exactly the alarm permissions', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--behaviors-file', PROFILE], h.deps)).toBe(0);

    const merge = sentMerge();
    expect((merge.behaviors as Array<{ name: string }>).map((b) => b.name)).toEqual(['listening-ports', 'unexpected-port']);
    const base = accessControlFor(COMPONENT, 'core-1');
    expect(merge.accessControl).toEqual({
      'aws.greengrass.ipc.mqttproxy': {
        ...base['aws.greengrass.ipc.mqttproxy'],
        [`${COMPONENT}:mqttproxy:publish-alarms`]: {
          policyDescription: 'Publish Device Defender agent alarms',
          operations: ['aws.greengrass#PublishToIoTCore'],
          resources: ['defender-agent/core-1/alarms'],
        },
      },
      'aws.greengrass.ipc.pubsub': {
        [`${COMPONENT}:pubsub:publish-alarms`]: {
          policyDescription: 'Publish Device Defender agent alarms on local publish/subscribe',
          operations: ['aws.greengrass#PublishToTopic'],
          resources: ['defender-agent/alarms'],
        },
      },
    });
    const text = h.text();
    expect(text).toContain(
      'left out, evaluated in the cloud only (they compare against the fleet or watch what AWS IoT measures): bytes-out-p99 (statisticalThreshold)',
    );
    expect(text).toContain(`"Resource":["arn:aws:iot:eu-west-1:${ACCOUNT}:topic/defender-agent/core-1/alarms"]`);
  });

  it('keeps the deployed behaviors and their permissions on a later deploy without the file', async () => {
    published();
    const behaviors = [
      { name: 'ports', metric: 'aws:num-listening-tcp-ports', criteria: { comparisonOperator: 'greater-than', value: { count: 5 } } },
    ];
    deployedBefore({
      [COMPONENT]: { componentVersion: '1.0.0', configurationUpdate: { merge: JSON.stringify({ behaviors, alarmTopic: '' }) } },
    });
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--interval', '600'], h.deps)).toBe(0);
    const merge = sentMerge();
    expect(merge.behaviors).toEqual(behaviors);
    const access = merge.accessControl as Record<string, Record<string, unknown>>;
    expect(Object.keys(access['aws.greengrass.ipc.mqttproxy']!)).not.toContain(`${COMPONENT}:mqttproxy:publish-alarms`);
    expect(Object.keys(access['aws.greengrass.ipc.pubsub']!)).toEqual([`${COMPONENT}:pubsub:publish-alarms`]);
  });

  it('resets accessControl before the merge when a feature is turned off, so its permission does not linger', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const first = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--behaviors-file', PROFILE], first.deps)).toBe(0);
    const withAlarms = inputsOf(mocks.greengrass, CreateDeploymentCommand)[0]!.components![COMPONENT]!;
    expect(withAlarms.configurationUpdate!.reset).toBeUndefined();

    resetMocks();
    published();
    deployedBefore({ [COMPONENT]: withAlarms });
    const off = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--config-json', '{"behaviors":[]}'], off.deps)).toBe(0);
    const sent = inputsOf(mocks.greengrass, CreateDeploymentCommand)[0]!.components![COMPONENT]!;
    expect(sent.configurationUpdate!.reset).toEqual(['/accessControl']);
    expect(JSON.parse(sent.configurationUpdate!.merge!).accessControl).toEqual(accessControlFor(COMPONENT, 'core-1'));

    resetMocks();
    published();
    deployedBefore({ [COMPONENT]: withAlarms });
    const same = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--interval', '600'], same.deps)).toBe(0);
    expect(inputsOf(mocks.greengrass, CreateDeploymentCommand)[0]!.components![COMPONENT]!.configurationUpdate!.reset).toBeUndefined();
  });

  it('merges the metrics sink permission for a group with the thing variable', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const h = harness(makeProject());
    const argv = [
      'deploy',
      '--group',
      'fleet',
      '--config-json',
      '{"metricsSinkTopic":"fleet/{iot:thingName}/metrics","metricsSinkMode":"only"}',
    ];
    expect(await run(argv, h.deps)).toBe(0);
    const access = sentMerge().accessControl as Record<string, Record<string, { resources: string[] }>>;
    expect(access['aws.greengrass.ipc.mqttproxy']![`${COMPONENT}:mqttproxy:publish-metrics-sink`]!.resources).toEqual([
      'fleet/{iot:thingName}/metrics',
    ]);
    expect(access['aws.greengrass.ipc.pubsub']).toBeUndefined();
    expect(h.text()).toContain('topic/fleet/${iot:Connection.Thing.ThingName}/metrics');
  });

  it('refuses a file the device would refuse before calling AWS', async () => {
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--behaviors-file', join(__dirname, 'nowhere.json')], h.deps)).toBe(2);
    expect(h.errors[0]).toMatch(/^error: --behaviors-file .*nowhere\.json cannot be read/);
    expect(totalCalls()).toBe(0);
  });
});
