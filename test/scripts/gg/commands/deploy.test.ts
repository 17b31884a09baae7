import {
  CreateDeploymentCommand,
  DescribeComponentCommand,
  GetDeploymentCommand,
  ListCoreDevicesCommand,
  ListDeploymentsCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
} from '@aws-sdk/client-greengrassv2';
import { ListThingsInThingGroupCommand } from '@aws-sdk/client-iot';
import { accessControlFor, THING_NAME_VARIABLE } from '../../../../src/component/definition';
import { run } from '../../../../scripts/gg/cli';
import { latestDeployment, published, sentDeployment } from '../deployments';
import { ACCOUNT, COMPONENT, harness, inputsOf, makeProject, mocks, notFound, totalCalls, VERSION } from '../helpers';

const THING_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:thing/core-1`;
const GROUP_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/fleet`;
const OTHER = { componentVersion: '2.1.0', configurationUpdate: { merge: '{"a":"1"}' } };

function currentDeployment(targetArn: string): void {
  latestDeployment(targetArn, {
    deploymentName: 'fleet baseline',
    components: {
      'aws.greengrass.Nucleus': { componentVersion: '2.12.0' },
      'com.example.Other': OTHER,
      [COMPONENT]: {
        componentVersion: '1.0.0',
        configurationUpdate: { merge: '{"intervalSeconds":"900","accessControl":{"old":{}}}' },
        runWith: { posixUser: 'ggc_user:ggc_group' },
      },
    },
    deploymentPolicies: {
      failureHandlingPolicy: 'DO_NOTHING',
      componentUpdatePolicy: { action: 'NOTIFY_COMPONENTS', timeoutInSeconds: 120 },
      configurationValidationPolicy: { timeoutInSeconds: 45 },
    },
    iotJobConfiguration: { timeoutConfig: { inProgressTimeoutInMinutes: 30 } },
    tags: { team: 'iot' },
  });
}

describe('deploy to a thing', () => {
  it('revises the current deployment: keeps other components, policies, job settings and tags', async () => {
    published();
    currentDeployment(THING_ARN);
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--interval', '600', '--custom-metric', 'cpu=cpuUsage'], h.deps)).toBe(0);

    expect(inputsOf(mocks.greengrass, DescribeComponentCommand)[0]!).toEqual({
      arn: `arn:aws:greengrass:eu-west-1:${ACCOUNT}:components:${COMPONENT}:versions:${VERSION}`,
    });
    expect(inputsOf(mocks.greengrass, ListDeploymentsCommand)[0]!).toEqual({
      targetArn: THING_ARN,
      historyFilter: 'LATEST_ONLY',
    });
    expect(inputsOf(mocks.greengrass, GetDeploymentCommand)[0]!).toEqual({ deploymentId: 'old-dep' });

    const input = sentDeployment();
    expect(input.targetArn).toBe(THING_ARN);
    expect(input.deploymentName).toBe('fleet baseline');
    expect(Object.keys(input.components!).sort()).toEqual(['aws.greengrass.Nucleus', COMPONENT, 'com.example.Other'].sort());
    expect(input.components!['aws.greengrass.Nucleus']).toEqual({ componentVersion: '2.12.0' });
    expect(input.components!['com.example.Other']).toEqual(OTHER);
    const own = input.components![COMPONENT]!;
    expect(own.componentVersion).toBe(VERSION);
    expect(own.runWith).toEqual({ posixUser: 'ggc_user:ggc_group' });
    expect(JSON.parse(own.configurationUpdate!.merge!)).toEqual({
      intervalSeconds: '600',
      customMetrics: { cpu: { source: 'cpuUsage' } },
      accessControl: accessControlFor(COMPONENT, 'core-1'),
    });
    expect(own.configurationUpdate!.reset).toBeUndefined();
    expect(input.deploymentPolicies).toEqual({
      failureHandlingPolicy: 'DO_NOTHING',
      componentUpdatePolicy: { action: 'NOTIFY_COMPONENTS', timeoutInSeconds: 120 },
      configurationValidationPolicy: { timeoutInSeconds: 45 },
    });
    expect(input.iotJobConfiguration).toEqual({ timeoutConfig: { inProgressTimeoutInMinutes: 30 } });
    expect(input.tags).toEqual({ team: 'iot' });
    expect(h.text()).toContain('keeping aws.greengrass.Nucleus 2.12.0, com.example.Other 2.1.0');
    expect(h.text()).toContain('npm run gg -- status --thing core-1 --deployment-id new-dep');
  });

  it('keeps agent keys of the previous revision it was not given', async () => {
    published();
    currentDeployment(THING_ARN);
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--format', 'cbor'], h.deps)).toBe(0);
    expect(JSON.parse(sentDeployment().components![COMPONENT]!.configurationUpdate!.merge!)).toEqual({
      intervalSeconds: '900',
      format: 'cbor',
      accessControl: accessControlFor(COMPONENT, 'core-1'),
    });
  });

  it('starts a new deployment with ROLLBACK when the target has none, and applies policy flags', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({ deployments: [] });
    const h = harness(makeProject());
    const argv = [
      'deploy',
      '--thing',
      'core-1',
      '--component-update-action',
      'SKIP_NOTIFY_COMPONENTS',
      '--component-update-timeout',
      '30',
      '--config-validation-timeout',
      '20',
    ];
    expect(await run(argv, h.deps)).toBe(0);
    const input = sentDeployment();
    expect(input.deploymentName).toBe(`${COMPONENT} on thing core-1`);
    expect(Object.keys(input.components!)).toEqual([COMPONENT]);
    expect(input.deploymentPolicies).toEqual({
      failureHandlingPolicy: 'ROLLBACK',
      componentUpdatePolicy: { action: 'SKIP_NOTIFY_COMPONENTS', timeoutInSeconds: 30 },
      configurationValidationPolicy: { timeoutInSeconds: 20 },
    });
    expect(input.iotJobConfiguration).toBeUndefined();
    expect('tags' in input).toBe(false);
  });

  it('omits the empty tags map GetDeployment returns for an untagged target (CreateDeployment needs 1-200 tags)', async () => {
    published();
    mocks.greengrass
      .on(ListDeploymentsCommand)
      .resolves({ deployments: [{ deploymentId: 'old-dep', targetArn: THING_ARN, isLatestForTarget: true }] });
    mocks.greengrass.on(GetDeploymentCommand).resolves({
      components: { [COMPONENT]: { componentVersion: '1.0.0' } },
      tags: {},
      iotJobConfiguration: {},
    });
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1'], h.deps)).toBe(0);
    const input = sentDeployment();
    expect('tags' in input).toBe(false);
    expect('iotJobConfiguration' in input).toBe(false);
  });

  it('builds China-partition ARNs', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--region', 'cn-north-1'], h.deps)).toBe(0);
    expect(sentDeployment().targetArn).toBe(`arn:aws-cn:iot:cn-north-1:${ACCOUNT}:thing/core-1`);
  });

  it('asks to publish first when the version does not exist', async () => {
    mocks.greengrass
      .on(DescribeComponentCommand)
      .rejects(Object.assign(new Error('nope'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } }));
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(h.errors).toEqual([
      `error: ${COMPONENT} ${VERSION} is not published in eu-west-1`,
      'next: run `npm run gg -- publish` first (or set the published version in gdk-config.json)',
    ]);
    expect(mocks.greengrass.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  it('--wait follows the deployment to RUNNING', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const created = new Date('2025-01-01T00:00:00Z');
    mocks.greengrass
      .on(ListEffectiveDeploymentsCommand)
      .resolvesOnce({
        effectiveDeployments: [
          {
            deploymentId: 'new-dep',
            deploymentName: 'x',
            targetArn: THING_ARN,
            coreDeviceExecutionStatus: 'IN_PROGRESS',
            creationTimestamp: created,
            modifiedTimestamp: created,
          },
        ],
      })
      .resolves({
        effectiveDeployments: [
          {
            deploymentId: 'new-dep',
            deploymentName: 'x',
            targetArn: THING_ARN,
            coreDeviceExecutionStatus: 'COMPLETED',
            creationTimestamp: created,
            modifiedTimestamp: created,
          },
        ],
      });
    mocks.greengrass
      .on(GetDeploymentCommand, { deploymentId: 'new-dep' })
      .resolves({ components: { [COMPONENT]: { componentVersion: VERSION } } });
    mocks.greengrass.on(ListInstalledComponentsCommand).resolves({
      installedComponents: [
        {
          componentName: COMPONENT,
          componentVersion: VERSION,
          lifecycleState: 'RUNNING',
          lastReportedTimestamp: new Date('2025-01-01T00:00:30Z'),
        },
      ],
    });
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--wait', '--poll-seconds', '5'], h.deps)).toBe(0);
    expect(inputsOf(mocks.greengrass, ListInstalledComponentsCommand)[0]!).toEqual({
      coreDeviceThingName: 'core-1',
      topologyFilter: 'ALL',
    });
    expect(h.sleeps).toEqual([5000]);
    expect(h.text()).toContain('core-1: deployment new-dep IN_PROGRESS (0 s)');
    expect(h.text()).toContain('core-1: deployment new-dep COMPLETED (5 s)');
    expect(h.text()).toContain(`core-1: ${COMPONENT} ${VERSION} RUNNING`);
  });

  it('--dry-run prints the requests and sends none', async () => {
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--dry-run', '--wait'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    expect(h.text()).toContain('[dry-run] greengrass CreateDeployment');
    expect(h.text()).toContain('[dry-run] greengrass ListEffectiveDeployments');
  });
});

describe('deploy to a thing group', () => {
  it('uses the group ARN, the {iot:thingName} policy with its caveat, and default rollout settings', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['deploy', '--group', 'fleet'], h.deps)).toBe(0);
    const input = sentDeployment();
    expect(input.targetArn).toBe(GROUP_ARN);
    expect(JSON.parse(input.components![COMPONENT]!.configurationUpdate!.merge!)).toEqual({
      accessControl: accessControlFor(COMPONENT, THING_NAME_VARIABLE),
    });
    expect(input.iotJobConfiguration).toEqual({
      jobExecutionsRolloutConfig: {
        exponentialRate: { baseRatePerMinute: 5, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 5 } },
        maximumPerMinute: 50,
      },
      abortConfig: { criteriaList: [{ failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 10, minNumberOfExecutedThings: 5 }] },
      timeoutConfig: { inProgressTimeoutInMinutes: 60 },
    });
    expect(h.text()).toMatch(/caveat: .*\{iot:thingName\}.*>= 2\.6\.0.*interpolateComponentConfiguration: true.*every publish is denied/);
  });

  it("applies rollout flags and keeps the group's existing job settings it was not told to change", async () => {
    published();
    currentDeployment(GROUP_ARN);
    const h = harness(makeProject());
    const argv = [
      'deploy',
      '--group',
      'fleet',
      '--rollout-base-rate',
      '2',
      '--rollout-max-per-minute',
      '20',
      '--abort-threshold-percent',
      '25',
    ];
    expect(await run(argv, h.deps)).toBe(0);
    expect(sentDeployment().iotJobConfiguration).toEqual({
      jobExecutionsRolloutConfig: {
        exponentialRate: { baseRatePerMinute: 2, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 5 } },
        maximumPerMinute: 20,
      },
      abortConfig: { criteriaList: [{ failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 25, minNumberOfExecutedThings: 5 }] },
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
    });
  });

  it('keeps the rollout, abort and timeout settings of an existing group deployment; a flag changes only its field', async () => {
    published();
    mocks.greengrass
      .on(ListDeploymentsCommand)
      .resolves({ deployments: [{ deploymentId: 'old-dep', targetArn: GROUP_ARN, isLatestForTarget: true }] });
    const failedCriterion = {
      failureType: 'FAILED' as const,
      action: 'CANCEL' as const,
      thresholdPercentage: 50,
      minNumberOfExecutedThings: 2,
    };
    mocks.greengrass.on(GetDeploymentCommand).resolves({
      components: { [COMPONENT]: { componentVersion: '1.0.0' } },
      iotJobConfiguration: {
        jobExecutionsRolloutConfig: {
          exponentialRate: { baseRatePerMinute: 10, incrementFactor: 3, rateIncreaseCriteria: { numberOfSucceededThings: 7 } },
          maximumPerMinute: 100,
        },
        abortConfig: {
          criteriaList: [failedCriterion, { failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 30, minNumberOfExecutedThings: 9 }],
        },
        timeoutConfig: { inProgressTimeoutInMinutes: 120 },
      },
    });
    const h = harness(makeProject());
    const argv = ['deploy', '--group', 'fleet', '--rollout-max-per-minute', '200', '--abort-min-executed', '3'];
    expect(await run(argv, h.deps)).toBe(0);
    expect(sentDeployment().iotJobConfiguration).toEqual({
      jobExecutionsRolloutConfig: {
        exponentialRate: { baseRatePerMinute: 10, incrementFactor: 3, rateIncreaseCriteria: { numberOfSucceededThings: 7 } },
        maximumPerMinute: 200,
      },
      abortConfig: {
        criteriaList: [failedCriterion, { failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 30, minNumberOfExecutedThings: 3 }],
      },
      timeoutConfig: { inProgressTimeoutInMinutes: 120 },
    });
  });

  it('--wait on a first deployment follows every thing of the group (ListCoreDevices knows none yet)', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    mocks.greengrass.on(ListCoreDevicesCommand).resolves({ coreDevices: [] });
    mocks.iot
      .on(ListThingsInThingGroupCommand)
      .resolvesOnce({ things: ['a'], nextToken: 't2' })
      .resolves({ things: ['b', 'sensor'] });
    mocks.greengrass.on(ListEffectiveDeploymentsCommand, { coreDeviceThingName: 'sensor' }).rejects(notFound('not a core device'));
    const at = new Date('2025-01-01T00:00:00Z');
    const effective = (status: 'SUCCEEDED' | 'FAILED') => ({
      effectiveDeployments: [
        {
          deploymentId: 'new-dep',
          deploymentName: 'x',
          targetArn: GROUP_ARN,
          coreDeviceExecutionStatus: status,
          creationTimestamp: at,
          modifiedTimestamp: at,
          reason: 'boom',
        },
      ],
    });
    mocks.greengrass.on(ListEffectiveDeploymentsCommand, { coreDeviceThingName: 'a' }).resolves(effective('SUCCEEDED'));
    mocks.greengrass.on(ListEffectiveDeploymentsCommand, { coreDeviceThingName: 'b' }).resolves(effective('FAILED'));
    mocks.greengrass.on(GetDeploymentCommand).resolves({ components: { [COMPONENT]: { componentVersion: VERSION } } });
    mocks.greengrass
      .on(ListInstalledComponentsCommand)
      .resolves({ installedComponents: [{ componentName: COMPONENT, componentVersion: VERSION, lifecycleState: 'RUNNING' }] });
    const h = harness(makeProject());
    expect(await run(['deploy', '--group', 'fleet', '--wait'], h.deps)).toBe(1);
    expect(inputsOf(mocks.iot, ListThingsInThingGroupCommand)).toEqual([
      { thingGroupName: 'fleet', recursive: true },
      { thingGroupName: 'fleet', recursive: true, nextToken: 't2' },
    ]);
    expect(h.text()).toContain('fleet: 1 of 2 core device(s) succeeded (1 succeeded, 1 failed, 1 not a core device)');
    expect(h.errors).toContain('  failed: b: FAILED: boom');
  });
});

describe('deploy flags', () => {
  it.each([
    [['deploy'], 'deploy needs exactly one of --thing or --group'],
    [['deploy', '--thing', 'a', '--group', 'b'], 'deploy needs exactly one of --thing or --group'],
    [['deploy', '--thing', 'a', '--format', 'xml'], '--format must be one of json, cbor (got "xml")'],
    [['deploy', '--thing', 'a', '--interval', 'soon'], '--interval must be a whole number'],
    [['deploy', '--thing', 'a', '--failure-handling', 'RETRY'], '--failure-handling must be one of ROLLBACK, DO_NOTHING'],
    [['deploy', '--thing', 'a', '--colour'], 'unknown flag "--colour"'],
    [['deploy', '--thing', 'a', '--config-json', '{"bogus":1}'], 'unknown key "bogus"'],
    [['deploy', '--thing', 'a', '--deadline-seconds', '5'], 'only apply with --wait'],
    [['deploy', '--thing', 'bad name!'], '--thing "bad name!" is not a valid name'],
    [['deploy', '--thing', 'a', '--job-timeout-minutes', '10081'], '--job-timeout-minutes must be a whole number from 1 to 10080'],
    [['deploy', '--thing', 'a', '--component-update-timeout', '2147483648'], 'from 1 to 2147483647'],
    [['deploy', '--thing', 'a', '--config-validation-timeout', '0'], 'from 1 to 2147483647'],
    [['deploy', '--thing', 'a', '--reset', 'bogus'], '--reset "bogus" is not a configuration key'],
    [['deploy', '--thing', 'a', '--reset', 'format', '--format', 'cbor'], 'contradict each other'],
    [['deploy', '--thing', 'a', '--reset-config', '--reset', 'format'], '--reset-config already resets every key'],
  ])('%j is refused before any AWS call', async (argv, message) => {
    const h = harness(makeProject());
    expect(await run(argv, h.deps)).toBe(2);
    expect(h.errors[0]).toContain(message);
    expect(h.errors[1]).toBe('next: run `npm run gg -- deploy --help` for the flags');
    expect(totalCalls()).toBe(0);
  });
});

describe('deploy configuration checks and resets', () => {
  it.each([['60'], ['299']])('refuses --interval %s (under 300) before any AWS call', async (interval) => {
    const h = harness(makeProject());
    // The request needs the current deployment to know the final configuration, so AWS is read but nothing is created.
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    expect(await run(['deploy', '--thing', 'core-1', '--interval', interval], h.deps)).toBe(2);
    expect(h.errors[0]).toContain(`--interval ${interval} is under 300`);
    expect(mocks.greengrass.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  it('allows a fast interval with the development flag', async () => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const h = harness(makeProject());
    const argv = ['deploy', '--thing', 'core-1', '--interval', '10', '--config-json', '{"allowFastIntervalForDevelopment":true}'];
    expect(await run(argv, h.deps)).toBe(0);
    expect(JSON.parse(sentDeployment().components![COMPONENT]!.configurationUpdate!.merge!).intervalSeconds).toBe('10');
  });

  it.each([
    ['{"maxReportBytes":999999}', 'maxReportBytes'],
    ['{"logLevel":"loud"}', 'logLevel'],
  ])('--config-json %s fails on the workstation, as the device would refuse it', async (json, key) => {
    published();
    mocks.greengrass.on(ListDeploymentsCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--dry-run', '--config-json', json], h.deps)).not.toBe(0);
    expect(h.errors[0]).toContain(key);
  });

  it('--reset puts keys back to their defaults and stops carrying them over', async () => {
    published();
    mocks.greengrass
      .on(ListDeploymentsCommand)
      .resolves({ deployments: [{ deploymentId: 'old-dep', targetArn: THING_ARN, isLatestForTarget: true }] });
    mocks.greengrass.on(GetDeploymentCommand).resolves({
      components: {
        [COMPONENT]: {
          componentVersion: '1.0.0',
          configurationUpdate: {
            merge:
              '{"intervalSeconds":900,"format":"cbor","customMetrics":{"cpu":{"source":"cpuUsage"},"rootfs":{"source":"diskUsed","mountPoint":"/"}}}',
          },
        },
      },
    });
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--reset', 'intervalSeconds', '--reset', 'customMetrics/rootfs'], h.deps)).toBe(0);
    const update = sentDeployment().components![COMPONENT]!.configurationUpdate!;
    expect(update.reset).toEqual(['/intervalSeconds', '/customMetrics/rootfs']);
    const merge = JSON.parse(update.merge!);
    expect(merge.intervalSeconds).toBeUndefined();
    expect(merge.format).toBe('cbor');
    expect(Object.keys(merge.customMetrics)).toEqual(['cpu']);
  });

  it('--reset-config resets the whole configuration and keeps only what the flags say', async () => {
    published();
    currentDeployment(THING_ARN);
    const h = harness(makeProject());
    expect(await run(['deploy', '--thing', 'core-1', '--reset-config', '--format', 'cbor'], h.deps)).toBe(0);
    const update = sentDeployment().components![COMPONENT]!.configurationUpdate!;
    expect(update.reset).toEqual(['']);
    const merge = JSON.parse(update.merge!);
    expect(merge.intervalSeconds).toBeUndefined();
    expect(merge.format).toBe('cbor');
    expect(merge.accessControl).toBeDefined();
  });
});
