import { type ComponentDeploymentSpecification, ListComponentVersionsCommand, ListDeploymentsCommand } from '@aws-sdk/client-greengrassv2';
import { run } from '../../../../scripts/gg/cli';
import { latestDeployment, published, sentDeployment } from '../deployments';
import { ACCOUNT, COMPONENT, harness, inputsOf, makeProject, mocks, totalCalls, VERSION } from '../helpers';

const THING_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/core-1`;
const LOG_MANAGER = 'aws.greengrass.LogManager';
const OTHER = { componentVersion: '2.1.0', configurationUpdate: { merge: '{"a":"1"}' } };
const OTHERS_LOGS = {
  logsUploaderConfiguration: {
    systemLogsConfiguration: { uploadToCloudWatch: 'true' },
    componentLogsConfigurationMap: { 'com.example.Other': { minimumLogLevel: 'DEBUG' } },
  },
  periodicUploadIntervalSec: '300',
};

function currentDeployment(components: Record<string, ComponentDeploymentSpecification>): void {
  latestDeployment(THING_ARN, { deploymentName: 'baseline', components });
}

describe('deploy --upload-logs', () => {
  it("updates the deployed log manager: keeps its version and other components' log settings, and every other component", async () => {
    published();
    currentDeployment({
      'aws.greengrass.Nucleus': { componentVersion: '2.12.0' },
      'com.example.Other': OTHER,
      [LOG_MANAGER]: { componentVersion: '2.3.1', configurationUpdate: { merge: JSON.stringify(OTHERS_LOGS) } },
    });
    const h = harness(makeProject());
    const argv = ['deploy', '--thing', 'core-1', '--upload-logs', '--log-upload-level', 'warn'];
    expect(await run(argv, h.deps)).toBe(0);

    const components = sentDeployment().components!;
    expect(Object.keys(components).sort()).toEqual(['aws.greengrass.Nucleus', COMPONENT, LOG_MANAGER, 'com.example.Other'].sort());
    expect(components['com.example.Other']).toEqual(OTHER);
    expect(components[COMPONENT]!.componentVersion).toBe(VERSION);
    expect(components[LOG_MANAGER]!.componentVersion).toBe('2.3.1');
    expect(JSON.parse(components[LOG_MANAGER]!.configurationUpdate!.merge!)).toEqual({
      logsUploaderConfiguration: {
        systemLogsConfiguration: { uploadToCloudWatch: 'true' },
        componentLogsConfigurationMap: { 'com.example.Other': { minimumLogLevel: 'DEBUG' }, [COMPONENT]: { minimumLogLevel: 'WARN' } },
      },
      periodicUploadIntervalSec: '300',
    });
    expect(mocks.greengrass.commandCalls(ListComponentVersionsCommand)).toHaveLength(0);
    const text = h.text();
    expect(text).toContain('keeping aws.greengrass.Nucleus 2.12.0, com.example.Other 2.1.0, aws.greengrass.LogManager 2.3.1');
    expect(text).toContain(
      `updating ${LOG_MANAGER} 2.3.1: upload ${COMPONENT}'s log to /aws/greengrass/UserComponent/eu-west-1/${COMPONENT}`,
    );
    expect(text).toContain('needs logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogStreams');
  });

  it('adds the newest public log manager when there is none, with the period given', async () => {
    published();
    currentDeployment({ 'com.example.Other': OTHER });
    mocks.greengrass
      .on(ListComponentVersionsCommand)
      .resolvesOnce({
        componentVersions: [
          { componentName: LOG_MANAGER, componentVersion: '2.3.9' },
          { componentName: LOG_MANAGER, componentVersion: '2.3.10' },
        ],
        nextToken: 'more',
      })
      .resolves({ componentVersions: [{ componentName: LOG_MANAGER, componentVersion: '2.2.8' }] });
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--upload-logs', '--log-upload-seconds', '120'], h.deps)).toBe(0);

    expect(inputsOf(mocks.greengrass, ListComponentVersionsCommand)).toEqual([
      { arn: 'arn:aws:greengrass:eu-west-1:aws:components:aws.greengrass.LogManager', nextToken: undefined },
      { arn: 'arn:aws:greengrass:eu-west-1:aws:components:aws.greengrass.LogManager', nextToken: 'more' },
    ]);
    const components = sentDeployment().components!;
    expect(components['com.example.Other']).toEqual(OTHER);
    expect(components[LOG_MANAGER]).toEqual({
      componentVersion: '2.3.10',
      configurationUpdate: {
        merge: JSON.stringify({
          logsUploaderConfiguration: { componentLogsConfigurationMap: { [COMPONENT]: { minimumLogLevel: 'INFO' } } },
          periodicUploadIntervalSec: '120',
        }),
      },
    });
  });

  it('--log-manager-version pins a new log manager without looking versions up', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--upload-logs', '--log-manager-version', '2.3.7'], h.deps)).toBe(0);
    expect(sentDeployment().components![LOG_MANAGER]!.componentVersion).toBe('2.3.7');
    expect(mocks.greengrass.commandCalls(ListComponentVersionsCommand)).toHaveLength(0);
  });

  it('leaves the log manager alone without --upload-logs', async () => {
    published();
    const deployed = { componentVersion: '2.3.1', configurationUpdate: { merge: JSON.stringify(OTHERS_LOGS) } };
    currentDeployment({ [LOG_MANAGER]: deployed });
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(sentDeployment().components![LOG_MANAGER]).toEqual(deployed);
    expect(h.text()).not.toContain('logs:CreateLogGroup');
  });

  it('--dry-run shows the log manager merge beside this component and sends nothing', async () => {
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--upload-logs', '--dry-run'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    const text = h.text();
    expect(text).toContain('[dry-run] greengrass ListComponentVersions');
    const plan = text.slice(text.indexOf('[dry-run] greengrass CreateDeployment'));
    expect(plan).toContain(`"${COMPONENT}": {`);
    expect(plan).toContain(`"${LOG_MANAGER}": {`);
    expect(plan).toContain('"componentVersion": "<newest public version>"');
    expect(plan).toContain('\\"componentLogsConfigurationMap\\":{\\"com.example.TestAgent\\":{\\"minimumLogLevel\\":\\"INFO\\"}}');
  });

  it('refuses log flags without --upload-logs before calling AWS', async () => {
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--log-upload-level', 'warn'], h.deps)).toBe(2);
    expect(h.errors[0]).toBe('error: --log-upload-level only applies with --upload-logs');
    expect(totalCalls()).toBe(0);
  });
});
