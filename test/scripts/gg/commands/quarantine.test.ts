import { AttachRolePolicyCommand, CreateRoleCommand } from '@aws-sdk/client-iam';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreateMitigationActionCommand,
  CreatePolicyCommand,
  CreateThingGroupCommand,
  ListActiveViolationsCommand,
  RemoveThingFromThingGroupCommand,
  StartDetectMitigationActionsTaskCommand,
  UpdateMitigationActionCommand,
} from '@aws-sdk/client-iot';
import { run } from '../../../../scripts/gg/cli';
import { quarantineGroupCreatable } from '../accounts';
import { ACCOUNT, awsError, CREATED_BY, harness, inputsOf, makeProject, mocks, totalCalls } from '../helpers';

const GROUP_ARN = `arn:aws:iot:eu-west-1:${ACCOUNT}:thinggroup/defender-quarantine`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/defender-quarantine-mitigation-eu-west-1`;

beforeEach(() => {
  quarantineGroupCreatable();
  mocks.iot.on(CreateMitigationActionCommand).resolves({});
  mocks.iam.on(CreateRoleCommand).resolves({});
  mocks.iam.on(AttachRolePolicyCommand).resolves({});
});

describe('quarantine setup', () => {
  it('creates the group, the deny-all policy attached to it, the role and the mitigation action', async () => {
    const h = harness(makeProject());
    expect(await run(['quarantine', 'setup'], h.deps)).toBe(0);

    const group = inputsOf(mocks.iot, CreateThingGroupCommand)[0]!;
    expect(group.thingGroupName).toBe('defender-quarantine');
    // What the tool creates carries its tag: cleanup removes only that.
    expect(group.tags).toEqual(CREATED_BY);
    const policy = inputsOf(mocks.iot, CreatePolicyCommand)[0]!;
    expect(policy.policyName).toBe('defender-quarantine-deny-all');
    expect(policy.tags).toEqual(CREATED_BY);
    expect(JSON.parse(policy.policyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'iot:*', Resource: '*' }],
    });
    expect(inputsOf(mocks.iot, AttachPolicyCommand)[0]!).toEqual({
      policyName: 'defender-quarantine-deny-all',
      target: GROUP_ARN,
    });
    expect(inputsOf(mocks.iam, AttachRolePolicyCommand)[0]!).toEqual({
      RoleName: 'defender-quarantine-mitigation-eu-west-1',
      PolicyArn: 'arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAddThingsToThingGroupMitigationAction',
    });
    expect(inputsOf(mocks.iam, CreateRoleCommand)[0]!.Tags).toEqual(CREATED_BY);
    const trust = JSON.parse(inputsOf(mocks.iam, CreateRoleCommand)[0]!.AssumeRolePolicyDocument!);
    expect(trust.Statement[0].Principal).toEqual({ Service: 'iot.amazonaws.com' });
    expect(inputsOf(mocks.iot, CreateMitigationActionCommand)[0]!).toEqual({
      actionName: 'defender-quarantine-add-thing',
      roleArn: ROLE_ARN,
      actionParams: { addThingsToThingGroupParams: { thingGroupNames: ['defender-quarantine'], overrideDynamicGroups: true } },
      tags: CREATED_BY,
    });
  });

  it('is idempotent: existing group, policy and action are reused, the action updated', async () => {
    const exists = () => awsError('ResourceAlreadyExistsException', 'exists', 409);
    mocks.iot.on(CreateThingGroupCommand).rejects(exists());
    mocks.iot.on(CreatePolicyCommand).rejects(exists());
    mocks.iot.on(CreateMitigationActionCommand).rejects(exists());
    mocks.iot.on(UpdateMitigationActionCommand).resolves({});
    mocks.iam.on(CreateRoleCommand).rejects(awsError('EntityAlreadyExistsException', 'exists', 409));
    const h = harness(makeProject());
    expect(await run(['quarantine', 'setup', '--group-name', 'isolated'], h.deps)).toBe(0);
    expect(h.text()).toContain('thing group isolated exists');
    expect(inputsOf(mocks.iot, UpdateMitigationActionCommand)[0]!.actionName).toBe('isolated-add-thing');
    expect(mocks.iot.commandCalls(AttachPolicyCommand)).toHaveLength(1);
  });

  it('--dry-run shows the thing group, the deny-all policy and the mitigation action requests and sends none', async () => {
    const h = harness(makeProject());
    expect(await run(['quarantine', 'setup', '--dry-run'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    const text = h.text();
    for (const request of [
      'iot CreateThingGroup',
      'iot CreatePolicy',
      'iot AttachPolicy',
      'iam CreateRole',
      'iot CreateMitigationAction',
    ]) {
      expect(text).toContain(`[dry-run] ${request}`);
    }
    expect(text).toContain('\\"Effect\\":\\"Deny\\",\\"Action\\":\\"iot:*\\"');
  });

  it('--help exits 0 and explains the three steps', async () => {
    const h = harness(makeProject());
    expect(await run(['quarantine', '--help'], h.deps)).toBe(0);
    expect(h.text()).toContain('quarantine setup|apply|release');
    // A thing-group policy covers AWS IoT actions only: the help says what stays possible.
    expect(h.text()).not.toMatch(/can no longer connect, publish or subscribe/);
    expect(h.text()).toContain('What quarantine does not stop: Greengrass data-plane calls');
    expect(h.text()).toContain('AWS credentials the core already holds');
  });
});

describe('quarantine apply and release', () => {
  it("runs the mitigation action on the profile's active violations as one task, whatever their number (target form)", async () => {
    const violations = Array.from({ length: 400 }, (_, i) => ({
      violationId: `v-${i}`,
      behavior: { name: i === 399 ? 'other' : 'bytes-out' },
    }));
    mocks.iot
      .on(ListActiveViolationsCommand)
      .resolvesOnce({ activeViolations: violations.slice(0, 200), nextToken: 'page-2' })
      .resolves({ activeViolations: violations.slice(200) });
    mocks.iot.on(StartDetectMitigationActionsTaskCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['quarantine', 'apply', '--profile', 'rules', '--behavior', 'bytes-out'], h.deps)).toBe(0);

    expect(inputsOf(mocks.iot, ListActiveViolationsCommand)).toEqual([
      { securityProfileName: 'rules', nextToken: undefined },
      { securityProfileName: 'rules', nextToken: 'page-2' },
    ]);
    const tasks = inputsOf(mocks.iot, StartDetectMitigationActionsTaskCommand);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.target).toEqual({ securityProfileName: 'rules', behaviorName: 'bytes-out' });
    expect(tasks[0]!.actions).toEqual(['defender-quarantine-add-thing']);
    expect(tasks[0]!.includeOnlyActiveViolations).toBe(true);
    expect(tasks[0]!.taskId).toMatch(/^defender-quarantine-20250101000000-[0-9a-f-]{36}$/);
    expect(h.text()).toContain('for the 399 active violation(s) of rules / bytes-out');
  });

  it('--violation-id: at most 25 ids per task, and no two tasks share an id, even within one second', async () => {
    mocks.iot.on(StartDetectMitigationActionsTaskCommand).resolves({});
    const ids = Array.from({ length: 26 }, (_, i) => ['--violation-id', `v-${i}`]).flat();
    const h = harness(makeProject());
    expect(await run(['quarantine', 'apply', ...ids], h.deps)).toBe(0);
    expect(await run(['quarantine', 'apply', '--violation-id', 'v-1'], h.deps)).toBe(0);
    const tasks = inputsOf(mocks.iot, StartDetectMitigationActionsTaskCommand);
    expect(tasks.map((t) => t.target!.violationIds!.length)).toEqual([25, 1, 1]);
    expect(new Set(tasks.map((t) => t.taskId)).size).toBe(3);
    expect(new Set(tasks.map((t) => t.clientRequestToken)).size).toBe(3);
  });

  it('says so and starts nothing without active violations', async () => {
    mocks.iot.on(ListActiveViolationsCommand).resolves({ activeViolations: [] });
    const h = harness(makeProject());
    expect(await run(['quarantine', 'apply'], h.deps)).toBe(0);
    expect(h.text()).toContain('no active violations of com-example-TestAgent-metrics');
    expect(mocks.iot.commandCalls(StartDetectMitigationActionsTaskCommand)).toHaveLength(0);
  });

  it('isolates one --thing directly and releases it', async () => {
    mocks.iot.on(AddThingToThingGroupCommand).resolves({});
    mocks.iot.on(RemoveThingFromThingGroupCommand).resolves({});
    const h = harness(makeProject());
    expect(await run(['quarantine', 'apply', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, AddThingToThingGroupCommand)[0]!).toEqual({
      thingGroupName: 'defender-quarantine',
      thingName: 'core-1',
      overrideDynamicGroups: true,
    });
    expect(await run(['quarantine', 'release', '--thing', 'core-1'], h.deps)).toBe(0);
    expect(inputsOf(mocks.iot, RemoveThingFromThingGroupCommand)[0]!).toEqual({
      thingGroupName: 'defender-quarantine',
      thingName: 'core-1',
    });
  });

  it.each([
    [['quarantine'], 'quarantine needs setup, apply, release, status or auto'],
    [['quarantine', 'isolate'], 'quarantine needs setup, apply, release, status or auto (got "isolate")'],
    [['quarantine', 'release'], 'quarantine release needs --thing'],
    [['quarantine', 'apply', '--thing', 't', '--profile', 'p'], 'not both'],
    [['quarantine', 'apply', '--violation-id', 'bad id'], '--violation-id "bad id" is not a violation id'],
  ])('%j is refused before any AWS call', async (argv, message) => {
    const h = harness(makeProject());
    expect(await run(argv, h.deps)).toBe(2);
    expect(h.errors[0]).toContain(message);
    expect(totalCalls()).toBe(0);
  });
});
