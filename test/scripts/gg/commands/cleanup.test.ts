import {
  CreateDeploymentCommand,
  DeleteComponentCommand,
  GetDeploymentCommand,
  ListComponentVersionsCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-greengrassv2';
import {
  DeleteCustomMetricCommand,
  DeleteSecurityProfileCommand,
  DescribeSecurityProfileCommand,
  DetachSecurityProfileCommand,
  ListTargetsForSecurityProfileCommand,
} from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { ACCOUNT, awsError, COMPONENT, harness, inputsOf, makeProject, mocks, notFound, totalCalls } from '../helpers';

const GROUP_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/fleet`;
const PROFILE = 'com-example-TestAgent-metrics';
const versionArn = (v: string) => `arn:aws:greengrass:eu-west-1:${ACCOUNT}:components:${COMPONENT}:versions:${v}`;

const OTHER_THING_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/core-9`;

function account(): void {
  // Per target: the current deployment. Across the account: the new revision (without us) and another
  // target that still runs 1.2.2.
  mocks.greengrass.on(ListDeploymentsCommand).callsFake((input: { targetArn?: string }) =>
    input.targetArn
      ? { deployments: [{ deploymentId: 'cur', targetArn: input.targetArn, isLatestForTarget: true }] }
      : {
          deployments: [
            { deploymentId: 'next', targetArn: GROUP_ARN, isLatestForTarget: true },
            { deploymentId: 'other', targetArn: OTHER_THING_ARN, isLatestForTarget: true },
          ],
        },
  );
  mocks.greengrass.on(GetDeploymentCommand, { deploymentId: 'cur' }).resolves({
    deploymentName: 'fleet',
    components: { [COMPONENT]: { componentVersion: '1.2.3' }, 'com.example.Other': { componentVersion: '3.0.0' } },
    deploymentPolicies: { failureHandlingPolicy: 'ROLLBACK' },
    iotJobConfiguration: { timeoutConfig: { inProgressTimeoutInMinutes: 15 } },
    // An untagged target: GetDeployment says {}, which CreateDeployment (1-200 tags) would reject.
    tags: {},
  });
  mocks.greengrass
    .on(GetDeploymentCommand, { deploymentId: 'next' })
    .resolves({ targetArn: GROUP_ARN, components: { 'com.example.Other': { componentVersion: '3.0.0' } } });
  mocks.greengrass
    .on(GetDeploymentCommand, { deploymentId: 'other' })
    .resolves({ targetArn: OTHER_THING_ARN, components: { [COMPONENT]: { componentVersion: '1.2.2' } } });
  mocks.greengrass.on(CreateDeploymentCommand).resolves({ deploymentId: 'next' });
  mocks.greengrass.on(ListComponentVersionsCommand).resolves({
    componentVersions: [
      { componentVersion: '1.2.3', arn: versionArn('1.2.3') },
      { componentVersion: '1.2.2', arn: versionArn('1.2.2') },
    ],
  });
  mocks.greengrass.on(DeleteComponentCommand).resolves({});
  mocks.iot.on(DescribeSecurityProfileCommand).rejects(notFound('nope'));
  mocks.iot.on(DescribeSecurityProfileCommand, { securityProfileName: PROFILE }).resolves({ securityProfileName: PROFILE });
  mocks.iot.on(ListTargetsForSecurityProfileCommand).resolves({ securityProfileTargets: [{ arn: GROUP_ARN }] });
  mocks.iot.on(DetachSecurityProfileCommand).resolves({});
  mocks.iot.on(DeleteSecurityProfileCommand).resolves({});
  mocks.iot.on(DeleteCustomMetricCommand).resolves({});
}

describe('cleanup', () => {
  it('refuses without a terminal and without --force, touching nothing', async () => {
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet'], h.deps)).toBe(1);
    expect(h.errors).toEqual([
      'error: cleanup deletes resources and there is no terminal to confirm on',
      'next: run it again with --force if you mean it',
    ]);
    expect(totalCalls()).toBe(0);
  });

  it('does nothing when the operator says no', async () => {
    const questions: string[] = [];
    const h = harness(makeProject(), {
      confirm: async (q) => {
        questions.push(q);
        return false;
      },
    });
    expect(await run(['cleanup', '--group', 'fleet'], h.deps)).toBe(1);
    expect(questions).toEqual(['Proceed? [y/N] ']);
    expect(h.lines).toContain(
      `  - detach security profiles ${PROFILE} and ${PROFILE}-ml from this target; delete them if nothing else uses them`,
    );
    expect(h.text()).not.toContain('versions');
    expect(totalCalls()).toBe(0);
  });

  it('removes the component from the deployment, deletes unused versions with --delete-versions, the profiles and metrics', async () => {
    account();
    const h = harness(makeProject(), { confirm: async () => true });
    const argv = ['cleanup', '--group', 'fleet', '--delete-versions', '--custom-metric', 'cpu=cpuUsage', '--custom-metric', 'ips'];
    expect(await run(argv, h.deps)).toBe(0);

    expect(inputsOf(mocks.greengrass, CreateDeploymentCommand)[0]!).toEqual({
      targetArn: GROUP_ARN,
      deploymentName: 'fleet',
      components: { 'com.example.Other': { componentVersion: '3.0.0' } },
      deploymentPolicies: { failureHandlingPolicy: 'ROLLBACK' },
      iotJobConfiguration: { timeoutConfig: { inProgressTimeoutInMinutes: 15 } },
    });
    // 1.2.2 still runs on core-9: only 1.2.3 goes.
    expect(inputsOf(mocks.greengrass, DeleteComponentCommand)).toEqual([{ arn: versionArn('1.2.3') }]);
    expect(h.text()).toContain(`kept ${COMPONENT} 1.2.2: still deployed to ${OTHER_THING_ARN}`);
    expect(inputsOf(mocks.iot, DetachSecurityProfileCommand)).toEqual([
      { securityProfileName: PROFILE, securityProfileTargetArn: GROUP_ARN },
    ]);
    expect(inputsOf(mocks.iot, DeleteSecurityProfileCommand)).toEqual([{ securityProfileName: PROFILE }]);
    expect(inputsOf(mocks.iot, DeleteCustomMetricCommand)).toEqual([{ metricName: 'cpu' }, { metricName: 'ips' }]);
    expect(h.text()).toContain(`security profile ${PROFILE}-ml does not exist`);
  });

  it('--force skips the question; a version still in use is kept and reported', async () => {
    account();
    mocks.greengrass
      .on(DeleteComponentCommand, { arn: versionArn('1.2.2') })
      .rejects(awsError('ConflictException', 'in use by deployment', 409));
    mocks.greengrass
      .on(GetDeploymentCommand, { deploymentId: 'other' })
      .resolves({ targetArn: OTHER_THING_ARN, components: { 'com.example.Other': { componentVersion: '3.0.0' } } });
    const h = harness(makeProject());
    expect(await run(['cleanup', '--thing', 'core-1', '--force', '--delete-versions'], h.deps)).toBe(1);
    expect(inputsOf(mocks.greengrass, ListDeploymentsCommand)[0]!.targetArn).toBe(`arn:aws:iot:eu-west-1:${ACCOUNT}:thing/core-1`);
    expect(h.errors).toContain(`kept ${COMPONENT} 1.2.2: in use by deployment (another deployment may still use it)`);
  });

  it('--dry-run sends nothing and asks nothing', async () => {
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet', '--dry-run', '--delete-versions'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    expect(h.text()).toContain('[dry-run] greengrass ListComponentVersions');
  });

  it('without --delete-versions leaves every component version alone', async () => {
    account();
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet', '--force'], h.deps)).toBe(0);
    expect(mocks.greengrass.commandCalls(ListComponentVersionsCommand)).toHaveLength(0);
    expect(mocks.greengrass.commandCalls(DeleteComponentCommand)).toHaveLength(0);
  });

  it('detaches the profiles from the named group only and keeps a profile other targets still use', async () => {
    account();
    const otherGroup = `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/lab`;
    mocks.iot.on(ListTargetsForSecurityProfileCommand).resolves({ securityProfileTargets: [{ arn: GROUP_ARN }, { arn: otherGroup }] });
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet', '--force'], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, DetachSecurityProfileCommand)).toEqual([
      { securityProfileName: PROFILE, securityProfileTargetArn: GROUP_ARN },
    ]);
    expect(mocks.iot.commandCalls(DeleteSecurityProfileCommand)).toHaveLength(0);
    expect(h.text()).toContain(`kept security profile ${PROFILE}: still attached to ${otherGroup}`);
  });

  it("takes the component's log upload entry off the log manager, keeping the log manager and its other settings", async () => {
    account();
    const logManager = {
      componentVersion: '2.3.7',
      configurationUpdate: {
        merge: JSON.stringify({
          logsUploaderConfiguration: {
            systemLogsConfiguration: { uploadToCloudWatch: 'true' },
            componentLogsConfigurationMap: { [COMPONENT]: { minimumLogLevel: 'INFO' }, 'com.example.Other': { minimumLogLevel: 'WARN' } },
          },
          periodicUploadIntervalSec: '60',
        }),
      },
    };
    mocks.greengrass.on(GetDeploymentCommand, { deploymentId: 'cur' }).resolves({
      deploymentName: 'fleet',
      components: { [COMPONENT]: { componentVersion: '1.2.3' }, 'aws.greengrass.LogManager': logManager },
    });
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet', '--force'], h.deps)).toBe(0);
    const components = inputsOf(mocks.greengrass, CreateDeploymentCommand)[0]!.components!;
    expect(Object.keys(components)).toEqual(['aws.greengrass.LogManager']);
    const kept = components['aws.greengrass.LogManager']!;
    expect(kept.componentVersion).toBe('2.3.7');
    expect(JSON.parse(kept.configurationUpdate!.merge!)).toEqual({
      logsUploaderConfiguration: {
        systemLogsConfiguration: { uploadToCloudWatch: 'true' },
        componentLogsConfigurationMap: { 'com.example.Other': { minimumLogLevel: 'WARN' } },
      },
      periodicUploadIntervalSec: '60',
    });
    // A merge only adds: the entry the core already holds goes by reset.
    expect(kept.configurationUpdate!.reset).toEqual([`/logsUploaderConfiguration/componentLogsConfigurationMap/${COMPONENT}`]);
  });

  it('the older list form of the log manager settings loses the entry in the list the merge replaces', async () => {
    account();
    const merge = JSON.stringify({
      logsUploaderConfiguration: {
        componentLogsConfiguration: [
          { componentName: COMPONENT, minimumLogLevel: 'INFO' },
          { componentName: 'com.example.Other', minimumLogLevel: 'WARN' },
        ],
      },
    });
    mocks.greengrass.on(GetDeploymentCommand, { deploymentId: 'cur' }).resolves({
      deploymentName: 'fleet',
      components: {
        [COMPONENT]: { componentVersion: '1.2.3' },
        'aws.greengrass.LogManager': { componentVersion: '2.3.7', configurationUpdate: { merge } },
      },
    });
    const h = harness(makeProject());
    expect(await run(['cleanup', '--group', 'fleet', '--force'], h.deps)).toBe(0);
    const kept = inputsOf(mocks.greengrass, CreateDeploymentCommand)[0]!.components!['aws.greengrass.LogManager']!;
    expect(JSON.parse(kept.configurationUpdate!.merge!).logsUploaderConfiguration.componentLogsConfiguration).toEqual([
      { componentName: 'com.example.Other', minimumLogLevel: 'WARN' },
    ]);
    expect(kept.configurationUpdate!.reset).toBeUndefined();
  });

  it('--thing detaches nothing: profiles attach to groups, and other things may use them', async () => {
    account();
    const h = harness(makeProject());
    expect(await run(['cleanup', '--thing', 'core-1', '--force'], h.deps)).toBe(0);
    expect(mocks.iot.commandCalls(DetachSecurityProfileCommand)).toHaveLength(0);
    expect(mocks.iot.commandCalls(DeleteSecurityProfileCommand)).toHaveLength(0);
    expect(h.text()).toContain(`kept security profile ${PROFILE}: still attached to ${GROUP_ARN}`);
  });
});
