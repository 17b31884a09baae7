import { ListThingPrincipalsCommand, TestAuthorizationCommand } from '@aws-sdk/client-iot';
import { checkEdgePublish } from '../../../scripts/gg/edge-check';
import { openSession } from '../../../scripts/gg/session';
import { ACCOUNT, harness, inputsOf, makeProject, mocks } from './helpers';

const CERT = `arn:aws:iot:eu-west-1:${ACCOUNT}:cert/abc`;
const ALARM = {
  name: 'ports',
  metric: 'aws:num-listening-tcp-ports',
  criteria: { comparisonOperator: 'greater-than', value: { count: 5 } },
};
const topicArn = (topic: string) => `arn:aws:iot:eu-west-1:${ACCOUNT}:topic/${topic}`;

async function check(settings: object) {
  const h = harness(makeProject());
  const session = await openSession(h.deps, {});
  return checkEdgePublish(session, await session.arns(), 'core-1', settings);
}

function decide(decision: (topic: string) => string): void {
  mocks.iot.on(ListThingPrincipalsCommand).resolves({ principals: [CERT] });
  mocks.iot.on(TestAuthorizationCommand).callsFake((input: { authInfos: Array<{ actionType: string; resources: string[] }> }) => ({
    authResults: input.authInfos.flatMap((info) =>
      info.resources.map((resource) => ({
        authInfo: { actionType: info.actionType, resources: [resource] },
        authDecision: decision(resource),
      })),
    ),
  }));
}

describe('checkEdgePublish (doctor)', () => {
  it('is silent when no feature publishes to AWS IoT Core', async () => {
    expect(await check({})).toBeUndefined();
    expect(await check({ behaviors: [ALARM], alarmTopic: '' })).toBeUndefined();
    expect(mocks.iot.calls()).toHaveLength(0);
  });

  it("tests the alarm and sink topics with the core's certificate", async () => {
    decide(() => 'ALLOWED');
    const result = await check({ behaviors: [ALARM], metricsSinkTopic: 'fleet/{iot:thingName}/metrics' });
    expect(result).toEqual({
      name: 'certificate may publish alarms and the metrics sink',
      ok: true,
      detail: 'publish defender-agent/core-1/alarms, fleet/core-1/metrics',
    });
    expect(inputsOf(mocks.iot, TestAuthorizationCommand)[0]!).toEqual({
      principal: CERT,
      clientId: 'core-1',
      authInfos: [{ actionType: 'PUBLISH', resources: [topicArn('defender-agent/core-1/alarms'), topicArn('fleet/core-1/metrics')] }],
    });
  });

  it('fails with the statement to add when the policy denies a topic', async () => {
    decide((resource) => (resource.endsWith('/alarms') ? 'IMPLICIT_DENY' : 'ALLOWED'));
    const result = await check({ behaviors: [ALARM] });
    expect(result?.ok).toBe(false);
    expect(result?.detail).toBe(`denied: PUBLISH ${topicArn('defender-agent/core-1/alarms')} (IMPLICIT_DENY)`);
    expect(result?.remedy).toContain(
      `{"Effect":"Allow","Action":"iot:Publish","Resource":["${topicArn('defender-agent/core-1/alarms')}"]}`,
    );
  });
});
