import { FilterLogEventsCommand, type FilterLogEventsCommandInput } from '@aws-sdk/client-cloudwatch-logs';
import { GetCoreDeviceCommand, ListEffectiveDeploymentsCommand, ListInstalledComponentsCommand } from '@aws-sdk/client-greengrassv2';
import {
  ListSecurityProfilesForTargetCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  TestAuthorizationCommand,
} from '@aws-sdk/client-iot';
import { run } from '../../../scripts/gg/cli';
import { checkLogUpload } from '../../../scripts/gg/log-check';
import { openSession } from '../../../scripts/gg/session';
import { FakeLogGroup, type StoredLogEvent } from '../../support/fake-cloudwatch-logs';
import { ACCOUNT, awsError, COMPONENT, harness, makeProject, mocks, VERSION } from './helpers';

const GROUP = `/aws/greengrass/UserComponent/eu-west-1/${COMPONENT}`;
const NOW = Date.parse('2025-01-01T00:00:00Z');

function installed(withLogManager: boolean): void {
  mocks.greengrass.on(ListInstalledComponentsCommand).resolves({
    installedComponents: [
      { componentName: COMPONENT, componentVersion: VERSION, lifecycleState: 'RUNNING' },
      ...(withLogManager
        ? [{ componentName: 'aws.greengrass.LogManager', componentVersion: '2.3.7', lifecycleState: 'RUNNING' as const }]
        : []),
    ],
  });
}

function uploaded(events: StoredLogEvent[]): FakeLogGroup {
  const group = new FakeLogGroup(GROUP, events, () => NOW);
  mocks.logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => group.filterLogEvents(input));
  return group;
}

function line(stream: string, isoTime: string): StoredLogEvent {
  const timestamp = Date.parse(isoTime);
  return {
    logStreamName: stream,
    timestamp,
    message: `${isoTime} [INFO] (Copier) ${COMPONENT}: stdout. x.`,
    ingestionTime: timestamp,
    eventId: String(timestamp),
  };
}

async function check() {
  const h = harness(makeProject());
  return checkLogUpload(await openSession(h.deps, {}), 'core-1');
}

describe('checkLogUpload (doctor)', () => {
  it('is silent when the log manager is not installed: uploading logs is optional', async () => {
    installed(false);
    expect(await check()).toBeUndefined();
    expect(mocks.logs.calls()).toHaveLength(0);
  });

  it("passes with the newest line of the last 30 minutes, across midnight, from this core's stream only", async () => {
    installed(true);
    const group = uploaded([
      line('/2024/12/31/thing/core-1', '2024-12-31T23:50:00.000Z'),
      line('/2024/12/31/thing/core-10', '2024-12-31T23:59:00.000Z'),
    ]);
    expect(await check()).toEqual({
      name: 'logs reach CloudWatch Logs',
      ok: true,
      detail: `newest line from 2024-12-31T23:50:00.000Z in ${GROUP}`,
    });
    expect(group.requests.map((r) => [r.logStreamNamePrefix, r.startTime])).toEqual([
      ['/2024/12/31/thing/core-1', NOW - 30 * 60_000],
      ['/2025/01/01/thing/core-1', NOW - 30 * 60_000],
    ]);
  });

  it('fails with what to check when no recent line arrived', async () => {
    installed(true);
    uploaded([line('/2024/12/31/thing/core-1', '2024-12-31T23:00:00.000Z')]);
    const result = await check();
    expect(result?.ok).toBe(false);
    expect(result?.detail).toBe(
      `aws.greengrass.LogManager 2.3.7 is installed but no line of ${COMPONENT} from core-1 reached ${GROUP} in the last 30 minutes`,
    );
    expect(result?.remedy).toContain('npm run gg -- deploy --thing core-1 --upload-logs');
    expect(result?.remedy).toContain('logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogStreams');
  });

  it('fails when the log group was never created', async () => {
    installed(true);
    mocks.logs.on(FilterLogEventsCommand).rejects(awsError('ResourceNotFoundException', 'The specified log group does not exist.'));
    const result = await check();
    expect(result?.ok).toBe(false);
    expect(result?.detail).toContain(`is installed but log group ${GROUP} does not exist in eu-west-1`);
  });

  it('is one more line of doctor, counted in its verdict', async () => {
    mocks.greengrass.on(GetCoreDeviceCommand).resolves({ status: 'HEALTHY', coreVersion: '2.12.0' });
    installed(true);
    mocks.greengrass.on(ListEffectiveDeploymentsCommand).resolves({ effectiveDeployments: [] });
    mocks.iot.on(ListThingPrincipalsCommand).resolves({ principals: [`arn:aws:iot:eu-west-1:${ACCOUNT}:cert/abc`] });
    mocks.iot.on(TestAuthorizationCommand).callsFake((input: { authInfos: unknown[] }) => ({
      authResults: input.authInfos.map((authInfo) => ({ authInfo, authDecision: 'ALLOWED' })),
    }));
    mocks.iot.on(ListThingGroupsForThingCommand).resolves({ thingGroups: [] });
    mocks.iot
      .on(ListSecurityProfilesForTargetCommand)
      .resolves({ securityProfileTargetMappings: [{ securityProfileIdentifier: { name: 'p', arn: 'arn:p' } }] });
    uploaded([]);
    const h = harness(makeProject());
    expect(await run(['doctor', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(h.text()).toContain('[FAIL] logs reach CloudWatch Logs: aws.greengrass.LogManager 2.3.7 is installed but no line');
    expect(h.lines.at(-1)).toBe('1 check(s) failed');
  });
});
