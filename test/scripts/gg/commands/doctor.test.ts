import {
  GetCoreDeviceCommand,
  GetDeploymentCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
} from '@aws-sdk/client-greengrassv2';
import {
  DescribeCustomMetricCommand,
  DescribeSecurityProfileCommand,
  GetBehaviorModelTrainingSummariesCommand,
  ListSecurityProfilesForTargetCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  TestAuthorizationCommand,
} from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { ACCOUNT, COMPONENT, harness, inputsOf, makeProject, mocks, notFound, totalCalls, VERSION } from '../helpers';

const CERT = `arn:aws:iot:eu-west-1:${ACCOUNT}:cert/abc123`;
const GROUP_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/fleet`;
const ALL_THINGS_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:all/registered-things`;
const ALL_THINGS = `arn:aws:iot:eu-west-1:${ACCOUNT}:all/registered-things`;
const topic = (t: string) => `arn:aws:iot:eu-west-1:${ACCOUNT}:topic/${t}`;
const filter = (t: string) => `arn:aws:iot:eu-west-1:${ACCOUNT}:topicfilter/${t}`;

/** The agent's deployment as the core lists it among its effective deployments. */
const OUR_DEPLOYMENT = {
  deploymentId: 'ours',
  deploymentName: 'x',
  targetArn: 't',
  coreDeviceExecutionStatus: 'COMPLETED',
  creationTimestamp: new Date(1),
  modifiedTimestamp: new Date(1),
} as const;

function healthyDevice(): void {
  mocks.greengrass.on(GetCoreDeviceCommand).resolves({ status: 'HEALTHY', coreVersion: '2.12.0' });
  mocks.greengrass
    .on(ListInstalledComponentsCommand)
    .resolves({ installedComponents: [{ componentName: COMPONENT, componentVersion: VERSION, lifecycleState: 'RUNNING' }] });
  mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({
    effectiveDeployments: [
      {
        deploymentId: 'other',
        deploymentName: 'o',
        targetArn: GROUP_ARN,
        coreDeviceExecutionStatus: 'SUCCEEDED',
        creationTimestamp: new Date(2),
        modifiedTimestamp: new Date(2),
      },
      OUR_DEPLOYMENT,
    ],
  });
  mocks.greengrass
    .on(GetDeploymentCommand, { deploymentId: 'other' })
    .resolves({ components: { 'aws.greengrass.Nucleus': { componentVersion: '2.12.0' } } });
  mocks.greengrass.on(GetDeploymentCommand, { deploymentId: 'ours' }).resolves({
    components: {
      [COMPONENT]: {
        componentVersion: VERSION,
        configurationUpdate: { merge: '{"format":"cbor","customMetrics":{"cpu":{"source":"cpuUsage"}}}' },
      },
    },
  });
  mocks.iot.on(ListThingPrincipalsCommand).resolves({ principals: [CERT] });
  mocks.iot.on(TestAuthorizationCommand).callsFake((input: { authInfos: unknown[] }) => ({
    authResults: input.authInfos.map((authInfo) => ({ authInfo, authDecision: 'ALLOWED' })),
  }));
  mocks.iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [{ groupName: 'fleet', groupArn: GROUP_ARN }] });
  mocks.iot.on(ListSecurityProfilesForTargetCommand).resolves({ securityProfileTargetMappings: [] });
  mocks.iot.on(ListSecurityProfilesForTargetCommand, { securityProfileTargetArn: GROUP_ARN }).resolves({
    securityProfileTargetMappings: [{ securityProfileIdentifier: { name: 'fleet-rules', arn: 'arn:p' }, target: { arn: GROUP_ARN } }],
  });
  mocks.iot.on(DescribeCustomMetricCommand).resolves({ metricName: 'cpu', metricType: 'number' });
}

describe('doctor', () => {
  it('passes every check and tests the report topics of the deployed format', async () => {
    healthyDevice();
    const h = harness(makeProject());
    expect(await run(['doctor', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, TestAuthorizationCommand)[0]!).toEqual({
      principal: CERT,
      clientId: 'core-1',
      authInfos: [
        { actionType: 'PUBLISH', resources: [topic('$aws/things/core-1/defender/metrics/cbor')] },
        {
          actionType: 'SUBSCRIBE',
          resources: [
            filter('$aws/things/core-1/defender/metrics/cbor/accepted'),
            filter('$aws/things/core-1/defender/metrics/cbor/rejected'),
          ],
        },
        {
          actionType: 'RECEIVE',
          resources: [
            topic('$aws/things/core-1/defender/metrics/cbor/accepted'),
            topic('$aws/things/core-1/defender/metrics/cbor/rejected'),
          ],
        },
      ],
    });
    expect(inputsOf(mocks.iot, ListSecurityProfilesForTargetCommand)).toEqual([
      { securityProfileTargetArn: GROUP_ARN },
      { securityProfileTargetArn: ALL_THINGS },
    ]);
    expect(inputsOf(mocks.iot, DescribeCustomMetricCommand)[0]!).toEqual({ metricName: 'cpu' });
    expect(h.lines.filter((l) => l.startsWith('[ok]'))).toHaveLength(5);
    expect(h.text()).toContain('[ok]   security profile covers the thing: fleet-rules (via thinggroup/fleet)');
    expect(h.lines.at(-1)).toBe('all checks passed');
  });

  it('names each failure with its remedy', async () => {
    healthyDevice();
    mocks.greengrass
      .on(ListInstalledComponentsCommand)
      .resolves({ installedComponents: [{ componentName: COMPONENT, componentVersion: '1.0.0', lifecycleState: 'RUNNING' }] });
    mocks.iot.on(TestAuthorizationCommand).callsFake((input: { authInfos: Array<{ actionType: string }> }) => ({
      authResults: input.authInfos.map((authInfo) => ({
        authInfo,
        authDecision: authInfo.actionType === 'PUBLISH' ? 'IMPLICIT_DENY' : 'ALLOWED',
      })),
    }));
    mocks.iot.on(ListSecurityProfilesForTargetCommand, { securityProfileTargetArn: GROUP_ARN }).resolves({});
    mocks.iot.on(DescribeCustomMetricCommand).rejects(notFound('nope'));
    const h = harness(makeProject());
    expect(await run(['doctor', '--thing', 'core-1'], h.deps)).toBe(1);
    const text = h.text();
    expect(text).toContain(`[FAIL] component running: ${COMPONENT} 1.0.0 RUNNING, gdk-config.json says ${VERSION}`);
    expect(text).toContain('fix: npm run gg -- deploy --thing core-1');
    expect(text).toContain(
      `[FAIL] certificate may publish reports: denied: PUBLISH ${topic('$aws/things/core-1/defender/metrics/cbor')} (IMPLICIT_DENY)`,
    );
    expect(text).toContain(`"Action":"iot:Publish","Resource":"${topic('$aws/things/core-1/defender/metrics/cbor')}"`);
    expect(text).toContain('[FAIL] security profile covers the thing: no security profile');
    expect(text).toContain('fix: npm run gg -- setup-defender');
    expect(text).toContain('[FAIL] custom metrics registered: cpu is not registered');
    expect(h.lines.at(-1)).toBe('4 check(s) failed');
  });

  it('uses --config-json instead of the deployment and reports a missing certificate', async () => {
    healthyDevice();
    mocks.iot.on(ListThingPrincipalsCommand).resolves({ principals: [] });
    const h = harness(makeProject());
    expect(await run(['doctor', '--thing', 'core-1', '--config-json', '{}'], h.deps)).toBe(1);
    expect(mocks.greengrass.commandCalls(GetDeploymentCommand)).toHaveLength(0);
    expect(h.text()).toContain('[FAIL] certificate may publish reports: no certificate is attached to core-1');
    expect(h.text()).toContain('[ok]   custom metrics registered: none configured');
  });

  it('reports a thing that is not a core device', async () => {
    healthyDevice();
    mocks.greengrass.on(GetCoreDeviceCommand).rejects(notFound('nope'));
    const h = harness(makeProject());
    expect(await run(['doctor', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(h.text()).toContain('[FAIL] core device: core-1 is not a Greengrass core device in eu-west-1');
  });

  it('--dry-run sends nothing', async () => {
    const h = harness(makeProject());
    expect(await run(['doctor', '--thing', 'core-1', '--dry-run'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    expect(h.text()).toContain('[dry-run] iot TestAuthorization');
  });

  it('reads every page of every list call', async () => {
    healthyDevice();
    mocks.greengrass
      .on(ListEffectiveDeploymentsCommand)
      .resolvesOnce({ effectiveDeployments: [], nextToken: 'd2' })
      .resolves({
        effectiveDeployments: [OUR_DEPLOYMENT],
      });
    mocks.iot
      .on(ListThingPrincipalsCommand)
      .resolvesOnce({ principals: ['arn:aws:iam::123456789012:user/not-a-cert'], nextToken: 'p2' })
      .resolves({ principals: [CERT] });
    mocks.iot
      .on(ListThingGroupsForThingCommand)
      .resolvesOnce({ thingGroups: [], nextToken: 'g2' })
      .resolves({ thingGroups: [{ groupName: 'fleet', groupArn: GROUP_ARN }] });
    mocks.iot
      .on(ListSecurityProfilesForTargetCommand, { securityProfileTargetArn: GROUP_ARN })
      .resolvesOnce({ securityProfileTargetMappings: [], nextToken: 's2' })
      .resolves({
        securityProfileTargetMappings: [{ securityProfileIdentifier: { name: 'fleet-rules', arn: 'arn:p' }, target: { arn: GROUP_ARN } }],
      });
    const h = harness(makeProject());
    expect(await run(['doctor', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, TestAuthorizationCommand)[0]!.principal).toBe(CERT);
    expect(h.text()).toContain('[ok]   security profile covers the thing: fleet-rules (via thinggroup/fleet)');
    expect(h.text()).toContain('[ok]   custom metrics registered: cpu');
    expect(mocks.iot.commandCalls(ListThingGroupsForThingCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, 'g2']);
  });

  it('asks for ML Detect training only of profiles with ML behaviors', async () => {
    healthyDevice();
    mocks.iot.on(ListSecurityProfilesForTargetCommand, { securityProfileTargetArn: ALL_THINGS_ARN }).resolves({
      securityProfileTargetMappings: [{ securityProfileIdentifier: { name: 'fleet-ml', arn: 'arn:p2' }, target: { arn: ALL_THINGS_ARN } }],
    });
    mocks.iot.on(DescribeSecurityProfileCommand, { securityProfileName: 'fleet-rules' }).resolves({
      securityProfileName: 'fleet-rules',
      behaviors: [
        { name: 'bytes-out', metric: 'aws:all-bytes-out', criteria: { comparisonOperator: 'less-than', value: { count: 5000 } } },
      ],
    });
    mocks.iot.on(DescribeSecurityProfileCommand, { securityProfileName: 'fleet-ml' }).resolves({
      securityProfileName: 'fleet-ml',
      behaviors: [{ name: 'ml-bytes-out', metric: 'aws:all-bytes-out', criteria: { mlDetectionConfig: { confidenceLevel: 'HIGH' } } }],
    });
    mocks.iot.on(GetBehaviorModelTrainingSummariesCommand).resolves({
      summaries: [{ securityProfileName: 'fleet-ml', behaviorName: 'ml-bytes-out', modelStatus: 'ACTIVE' }],
    });
    const h = harness(makeProject());
    expect(await run(['doctor', '--thing', 'core-1'], h.deps)).toBe(0);
    const askedFor = mocks.iot.commandCalls(GetBehaviorModelTrainingSummariesCommand).map((c) => c.args[0].input.securityProfileName);
    expect(askedFor).toEqual(['fleet-ml']);
    expect(h.text()).toContain('[ok]   ML Detect models trained: fleet-ml/ml-bytes-out ACTIVE');
  });

  it('reports ML Detect training per behavior, and an expired model as a failure', async () => {
    healthyDevice();
    mocks.iot.on(DescribeSecurityProfileCommand, { securityProfileName: 'fleet-rules' }).resolves({
      securityProfileName: 'fleet-rules',
      behaviors: [{ name: 'ml-cpu', metric: 'aws:all-bytes-out', criteria: { mlDetectionConfig: { confidenceLevel: 'LOW' } } }],
    });
    mocks.iot
      .on(GetBehaviorModelTrainingSummariesCommand, { securityProfileName: 'fleet-rules' })
      .resolvesOnce({
        summaries: [
          {
            securityProfileName: 'fleet-rules',
            behaviorName: 'ml-bytes-out',
            modelStatus: 'PENDING_BUILD',
            datapointsCollectionPercentage: 42.4,
            trainingDataCollectionStartDate: new Date('2025-01-01T00:00:00Z'),
          },
        ],
        nextToken: 'm2',
      })
      .resolves({ summaries: [{ securityProfileName: 'fleet-rules', behaviorName: 'ml-cpu', modelStatus: 'EXPIRED' }] });
    const h = harness(makeProject());
    expect(await run(['doctor', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(h.text()).toContain(
      '[FAIL] ML Detect models trained: fleet-rules/ml-bytes-out PENDING_BUILD (42% of the training datapoints, collecting since 2025-01-01T00:00:00.000Z); fleet-rules/ml-cpu EXPIRED',
    );
    expect(h.text()).toContain('an EXPIRED model never got 25,000 datapoints in 14 days');
  });
});
