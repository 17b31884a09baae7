import {
  GetDeploymentCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
  type EffectiveDeployment,
} from '@aws-sdk/client-greengrassv2';
import { run } from '../../../../scripts/gg/cli';
import { COMPONENT, harness, inputsOf, makeProject, mocks, notFound, VERSION } from '../helpers';

const CREATED = new Date('2025-01-01T00:00:00Z');

function effective(
  status: EffectiveDeployment['coreDeviceExecutionStatus'],
  extra: Partial<EffectiveDeployment> = {},
): EffectiveDeployment {
  return {
    deploymentId: 'dep-1',
    deploymentName: 'd',
    targetArn: 'arn:t',
    coreDeviceExecutionStatus: status,
    creationTimestamp: CREATED,
    modifiedTimestamp: CREATED,
    ...extra,
  };
}

beforeEach(() => {
  mocks.greengrass.on(GetDeploymentCommand).resolves({ components: { [COMPONENT]: { componentVersion: VERSION } } });
});

describe('status', () => {
  it('--thing of a thing that is not a core device: says so and what to do next, not a raw AWS exception', async () => {
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).rejects(notFound('Resource of type CoreDevice with id plain-thing not found'));
    const h = harness(makeProject());
    expect(await run(['status', '--thing', 'plain-thing'], h.deps)).toBe(1);
    expect(h.errors).toEqual([
      'error: plain-thing is not a Greengrass core device in eu-west-1 (AWS IoT Greengrass does not know it)',
      'next: check the thing name and the region: aws greengrassv2 list-core-devices --region eu-west-1 lists the core devices',
    ]);
  });

  it('reports a deployment that failed on the device with reason, error stack and log path', async () => {
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({
      effectiveDeployments: [
        effective('FAILED', {
          reason: 'COMPONENT_BROKEN',
          statusDetails: {
            errorTypes: ['COMPONENT_ERROR'],
            errorStack: ['DEPLOYMENT_FAILURE', 'COMPONENT_UPDATE_ERROR', 'COMPONENT_BROKEN'],
          },
        }),
      ],
    });
    const h = harness(makeProject());
    expect(await run(['status', '--thing', 'core-1', '--deployment-id', 'dep-1'], h.deps)).toBe(1);
    expect(inputsOf(mocks.greengrass, ListEffectiveDeploymentsCommand)[0]!).toEqual({ coreDeviceThingName: 'core-1' });
    expect(h.errors).toEqual(
      expect.arrayContaining([
        'core-1: deployment dep-1 FAILED',
        '  reason: COMPONENT_BROKEN',
        '  error types: COMPONENT_ERROR',
        '  error stack: DEPLOYMENT_FAILURE -> COMPONENT_UPDATE_ERROR -> COMPONENT_BROKEN',
        `  logs on the core: /greengrass/v2/logs/${COMPONENT}.log and /greengrass/v2/logs/greengrass.log`,
      ]),
    );
    expect(mocks.greengrass.commandCalls(ListInstalledComponentsCommand)).toHaveLength(0);
  });

  it('stops at the deadline with a clear message and exit code 3 (a failed deployment exits 1)', async () => {
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({ effectiveDeployments: [effective('IN_PROGRESS')] });
    const h = harness(makeProject());
    expect(
      await run(['status', '--thing', 'core-1', '--deployment-id', 'dep-1', '--deadline-seconds', '30', '--poll-seconds', '10'], h.deps),
    ).toBe(3);
    expect(h.sleeps).toEqual([10_000, 10_000, 10_000]);
    expect(mocks.greengrass.commandCalls(ListEffectiveDeploymentsCommand)).toHaveLength(4);
    expect(h.errors[0]).toBe('core-1: deadline reached: deployment is still IN_PROGRESS after 30 s');
    expect(h.errors[1]).toContain('npm run gg -- status --thing core-1');
  });

  it('waits for a deployment the device has not received yet', async () => {
    mocks.greengrass
      .on(ListEffectiveDeploymentsCommand)
      .resolvesOnce({ effectiveDeployments: [] })
      .resolves({ effectiveDeployments: [effective('COMPLETED')] });
    mocks.greengrass.on(ListInstalledComponentsCommand).resolves({
      installedComponents: [
        {
          componentName: COMPONENT,
          componentVersion: VERSION,
          lifecycleState: 'RUNNING',
          lastReportedTimestamp: new Date('2025-01-01T00:01:00Z'),
        },
      ],
    });
    const h = harness(makeProject());
    expect(await run(['status', '--thing', 'core-1', '--deployment-id', 'dep-1'], h.deps)).toBe(0);
    expect(h.lines[1]).toBe('core-1: deployment dep-1 NOT YET RECEIVED (0 s)');
    expect(h.lines[2]).toBe('core-1: deployment dep-1 COMPLETED (10 s)');
  });

  it('follows the newest deployment when no id is given', async () => {
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({
      effectiveDeployments: [
        effective('COMPLETED', { deploymentId: 'old', creationTimestamp: new Date('2024-01-01T00:00:00Z') }),
        effective('FAILED', { deploymentId: 'newest' }),
      ],
    });
    const h = harness(makeProject());
    expect(await run(['status', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(h.errors[0]).toBe('core-1: deployment newest FAILED');
  });

  it('fails when the component is BROKEN after a completed deployment', async () => {
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({ effectiveDeployments: [effective('COMPLETED')] });
    mocks.greengrass.on(ListInstalledComponentsCommand).resolves({
      installedComponents: [
        {
          componentName: COMPONENT,
          componentVersion: VERSION,
          lifecycleState: 'BROKEN',
          lifecycleStateDetails: 'exited 1',
          lastReportedTimestamp: new Date('2025-01-01T00:01:00Z'),
        },
      ],
    });
    const h = harness(makeProject());
    expect(await run(['status', '--thing', 'core-1', '--deployment-id', 'dep-1'], h.deps)).toBe(1);
    expect(h.errors).toContain(`core-1: ${COMPONENT} ${VERSION} is BROKEN: exited 1`);
    expect(h.errors).toContain(`  logs on the core: /greengrass/v2/logs/${COMPONENT}.log`);
  });

  it('does not trust a component state reported before the deployment', async () => {
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({ effectiveDeployments: [effective('COMPLETED')] });
    mocks.greengrass
      .on(ListInstalledComponentsCommand)
      .resolvesOnce({
        installedComponents: [
          {
            componentName: COMPONENT,
            componentVersion: VERSION,
            lifecycleState: 'RUNNING',
            lastReportedTimestamp: new Date('2024-12-31T00:00:00Z'),
          },
        ],
      })
      .resolves({
        installedComponents: [
          {
            componentName: COMPONENT,
            componentVersion: VERSION,
            lifecycleState: 'RUNNING',
            lastReportedTimestamp: new Date('2025-01-01T00:00:20Z'),
          },
        ],
      });
    const h = harness(makeProject());
    expect(await run(['status', '--thing', 'core-1', '--deployment-id', 'dep-1'], h.deps)).toBe(0);
    expect(mocks.greengrass.commandCalls(ListInstalledComponentsCommand)).toHaveLength(2);
    expect(h.text()).toContain('(reported before the deployment)');
  });

  it('needs --thing', async () => {
    const h = harness(makeProject());
    expect(await run(['status'], h.deps)).toBe(2);
    expect(h.errors[0]).toBe('error: status needs --thing or --group');
  });
});
