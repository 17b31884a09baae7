/**
 * `quarantine setup|apply|release`: the "isolate" step of AWS's Device Defender workshops. A thing group whose
 * attached IoT policy denies everything, and a mitigation action that adds a violating thing to it. An explicit
 * Deny overrides every Allow on the AWS IoT actions that policy covers (connect, publish, subscribe, receive); what it
 * does not stop is in QUARANTINE_LIMITS.
 */
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
  type ActiveViolation,
  type DetectMitigationActionsTaskTarget,
  type MitigationActionParams,
} from '@aws-sdk/client-iot';
import { randomUUID } from 'node:crypto';
import { type Arns, isConflict } from '../aws';
import { NAME_SHAPES, requireNames } from '../aws-names';
import { COMMON_HELP, COMMON_OPTIONS, nameFlag, parseFlags } from '../args';
import { createdByTags } from '../created-by';
import type { CliDeps } from '../deps';
import { UsageError } from '../errors';
import { ensureIotServiceRole } from '../iot-service-role';
import { allPages } from '../paginate';
import { defaultProfileName } from '../security-profile';
import { clearQuarantineRecord, QUARANTINE_STATUS_HELP, quarantineStatusCommand } from '../quarantine-record';
import { openSession, outcome, type Session } from '../session';
import { quotedInput } from '../terminal-text';
import { QUARANTINE_AUTO_HELP, quarantineAutoCommand } from './quarantine-auto';
import { DEFAULT_QUARANTINE_SHADOW } from '../../../cloud/isolation/shadow';

export const DEFAULT_QUARANTINE_GROUP = 'defender-quarantine';
/** StartDetectMitigationActionsTask takes at most 25 violation ids per task. */
const VIOLATIONS_PER_TASK = 25;
const MITIGATION_MANAGED_POLICY = 'service-role/AWSIoTDeviceDefenderAddThingsToThingGroupMitigationAction';

/** What the deny-all thing-group policy does not stop, said wherever quarantine is offered. */
const QUARANTINE_LIMITS = `What quarantine does not stop: Greengrass data-plane calls of a core (a thing-group policy does not
cover them), AWS credentials the core already holds from its token exchange role (valid until they
expire), and anything the device does locally or over other networks. Revoke the certificate or the
role alias for those.`;

export const QUARANTINE_HELP = `Usage: npm run gg -- quarantine setup|apply|release|status|auto [flags]

Isolates devices that Device Defender finds violating (detect -> alert -> isolate):
  setup      creates the quarantine thing group, an IoT policy that denies every action (iot:*) attached to
             it, the IAM role Device Defender assumes (AWS managed policy
             ${MITIGATION_MANAGED_POLICY}), and the mitigation
             action ADD_THINGS_TO_THING_GROUP with overrideDynamicGroups (so a thing at its 10-group limit
             through dynamic groups is still moved). Idempotent.
  apply      runs that mitigation action on the active violations of a security profile
             (StartDetectMitigationActionsTask on the profile and behavior: one task), --violation-id ones
             (at most ${VIOLATIONS_PER_TASK} per task), or with --thing
             adds one thing to the group directly.
  release    --thing T removes the thing from the quarantine group (its own policies apply again) and clears
             its quarantine shadow (--shadow-name, default ${DEFAULT_QUARANTINE_SHADOW}).
  status     --thing T: membership, the shadow and the alarm that caused it (quarantine status --help).
  auto       enable|disable|status: isolation without a human, by a Lambda function (quarantine auto --help).
Flags:
  --group-name G       quarantine thing group (default ${DEFAULT_QUARANTINE_GROUP}); the policy is G-deny-all,
                       the role G-mitigation-<region>, the mitigation action G-add-thing
                       (each checked against its AWS name rules before any request)
  --thing T            apply / release: one thing
  --profile P          apply: the security profile whose active violations to act on
                       (default: <component name>-metrics, as setup-defender names it)
  --behavior B         apply: only violations of this behavior
  --violation-id ID    apply: these violations (repeatable) instead of listing the active ones
The deny-all policy takes effect on the device's next connection or request; AWS IoT applies thing-group
policies to connections whose client ID is the thing name (Greengrass cores connect that way).
${QUARANTINE_LIMITS}
Mitigation actions: https://docs.aws.amazon.com/iot-device-defender/latest/devguide/dd-mitigation-actions.html
${COMMON_HELP}`;

export function quarantineHelpFor(rest: string[]): string | undefined {
  if (rest[0] === 'auto') return QUARANTINE_AUTO_HELP;
  if (rest[0] === 'status') return QUARANTINE_STATUS_HELP;
  return undefined;
}

const OPTIONS = {
  ...COMMON_OPTIONS,
  'group-name': { type: 'string' },
  thing: { type: 'string' },
  profile: { type: 'string' },
  behavior: { type: 'string' },
  'violation-id': { type: 'string', multiple: true },
  'shadow-name': { type: 'string' },
} as const;

export interface QuarantineNames {
  group: string;
  policy: string;
  role: string;
  action: string;
}

/** The role is global in IAM and trusts one region's AWS IoT: each region gets its own, so a second region's setup leaves the first one working. */
export function quarantineNames(group: string, region: string): QuarantineNames {
  return { group, policy: `${group}-deny-all`, role: `${group}-mitigation-${region}`, action: `${group}-add-thing` };
}

/** Every name --group-name gives, checked against its own AWS model shape before the first request. */
export function requireQuarantineNames(names: QuarantineNames): void {
  requireNames('group-name', [
    { shape: NAME_SHAPES.thingGroup, name: names.group },
    { shape: NAME_SHAPES.iotPolicy, name: names.policy },
    { shape: NAME_SHAPES.iamRole, name: names.role },
    { shape: NAME_SHAPES.mitigationAction, name: names.action },
    { shape: NAME_SHAPES.mitigationTaskId, name: taskIdFor(names, '20250101000000', randomUUID()) },
  ]);
}

/** Unique whatever the clock: two runs within one second (or on two workstations) never share an id. */
function taskIdFor(names: QuarantineNames, stamp: string, unique: string): string {
  return `${names.group}-${stamp}-${unique}`;
}

const DENY_ALL_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Action: 'iot:*', Resource: '*' }],
};

async function ignoringExisting(what: string, session: Session, create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    session.out.info(`${session.aws.dryRun ? '[dry-run] would create' : 'created'} ${what}`);
    return true;
  } catch (error) {
    if (!isConflict(error)) throw error;
    session.out.info(`${what} exists`);
    return false;
  }
}

/** The group and its deny-all policy, attached: what `setup` and `auto enable --create-group` create. */
async function createQuarantineGroup(session: Session, arns: Arns, group: string): Promise<void> {
  const { aws, out } = session;
  const names = quarantineNames(group, aws.region);
  requireNames('group-name', [
    { shape: NAME_SHAPES.thingGroup, name: names.group },
    { shape: NAME_SHAPES.iotPolicy, name: names.policy },
  ]);
  await ignoringExisting(`thing group ${names.group}`, session, () =>
    aws.iot(
      new CreateThingGroupCommand({
        thingGroupName: names.group,
        thingGroupProperties: { thingGroupDescription: 'Devices isolated by Device Defender: an attached policy denies every action' },
        tags: createdByTags(session.identity.name),
      }),
    ),
  );
  await ignoringExisting(`IoT policy ${names.policy}`, session, () =>
    aws.iot(
      new CreatePolicyCommand({
        policyName: names.policy,
        policyDocument: JSON.stringify(DENY_ALL_POLICY),
        tags: createdByTags(session.identity.name),
      }),
    ),
  );
  await aws.iot(new AttachPolicyCommand({ policyName: names.policy, target: arns.thingGroup(names.group) }));
  out.info(`${aws.dryRun ? '[dry-run] would attach' : 'attached'} ${names.policy} to thing group ${names.group}`);
}

async function setup(session: Session, arns: Arns, names: QuarantineNames): Promise<void> {
  const { aws, out } = session;
  await createQuarantineGroup(session, arns, names.group);
  const roleArn = await ensureIotServiceRole(session, arns, {
    roleName: names.role,
    description: `Lets AWS IoT Device Defender add violating things to thing group ${names.group}`,
    managedPolicyArn: arns.managedPolicy(MITIGATION_MANAGED_POLICY),
  });
  const actionParams: MitigationActionParams = {
    addThingsToThingGroupParams: { thingGroupNames: [names.group], overrideDynamicGroups: true },
  };
  const created = await ignoringExisting(`mitigation action ${names.action}`, session, () =>
    aws.iot(
      new CreateMitigationActionCommand({ actionName: names.action, roleArn, actionParams, tags: createdByTags(session.identity.name) }),
    ),
  );
  if (!created) {
    await aws.iot(new UpdateMitigationActionCommand({ actionName: names.action, roleArn, actionParams }));
    out.info(outcome(session, `updated mitigation action ${names.action}`, `update mitigation action ${names.action}`));
  }
  out.info(`ready: npm run gg -- quarantine apply --profile <profile> (or --thing T); release with quarantine release --thing T`);
}

async function activeViolationIds(session: Session, profileName: string, behavior: string | undefined): Promise<string[]> {
  const violations = await allPages(
    (nextToken) => session.aws.iot(new ListActiveViolationsCommand({ securityProfileName: profileName, nextToken })),
    (page) => page.activeViolations,
  );
  return violations
    .filter((v: ActiveViolation) => behavior === undefined || v.behavior?.name === behavior)
    .flatMap((v) => (v.violationId ? [v.violationId] : []));
}

async function startTask(session: Session, names: QuarantineNames, target: DetectMitigationActionsTaskTarget): Promise<string> {
  const stamp = session
    .now()
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14);
  const unique = randomUUID();
  const taskId = taskIdFor(names, stamp, unique);
  await session.aws.iot(
    new StartDetectMitigationActionsTaskCommand({
      taskId,
      target,
      actions: [names.action],
      includeOnlyActiveViolations: true,
      clientRequestToken: unique,
    }),
  );
  return taskId;
}

/** Violations named by id: at most 25 per task (the API's limit); a profile's violations: one task whatever their number. */
async function applyToViolations(session: Session, names: QuarantineNames, violationIds: string[]): Promise<void> {
  for (let start = 0; start < violationIds.length; start += VIOLATIONS_PER_TASK) {
    const chunk = violationIds.slice(start, start + VIOLATIONS_PER_TASK);
    const taskId = await startTask(session, names, { violationIds: chunk });
    const what = `mitigation task ${taskId} for ${chunk.length} violation(s): ${chunk.join(', ')}`;
    session.out.info(outcome(session, `started ${what}`, `start ${what}`));
  }
  session.out.info(`follow it: aws iot list-detect-mitigation-actions-executions --task-id <task id>`);
}

async function applyToProfile(session: Session, names: QuarantineNames, profileName: string, behavior: string | undefined, count: number) {
  const taskId = await startTask(session, names, { securityProfileName: profileName, ...(behavior ? { behaviorName: behavior } : {}) });
  const what = `mitigation task ${taskId} for the ${count} active violation(s) of ${profileName}${behavior ? ` / ${behavior}` : ''}`;
  session.out.info(outcome(session, `started ${what}`, `start ${what}`));
  session.out.info(`follow it: aws iot list-detect-mitigation-actions-executions --task-id ${taskId}`);
}

export async function quarantineCommand(argv: string[], deps: CliDeps): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'auto') return quarantineAutoCommand(rest, deps, createQuarantineGroup);
  if (action === 'status') return quarantineStatusCommand(rest, deps);
  if (action !== 'setup' && action !== 'apply' && action !== 'release') {
    throw new UsageError(
      `quarantine needs setup, apply, release, status or auto (got ${action === undefined ? 'nothing' : quotedInput(action)})`,
    );
  }
  const flags = parseFlags(`quarantine ${action}`, rest, OPTIONS);
  const groupName = nameFlag('group-name', flags['group-name']) ?? DEFAULT_QUARANTINE_GROUP;
  const thing = nameFlag('thing', flags.thing);
  const violationIds = flags['violation-id'] ?? [];
  for (const id of violationIds) {
    if (!/^[a-zA-Z0-9-]{1,128}$/.test(id)) throw new UsageError(`--violation-id ${quotedInput(id)} is not a violation id`);
  }
  const profileFlag = nameFlag('profile', flags.profile);
  const behavior = nameFlag('behavior', flags.behavior);
  if (action === 'setup' && (thing || profileFlag || behavior || violationIds.length)) {
    throw new UsageError('quarantine setup takes only --group-name');
  }
  if (action === 'release' && !thing) throw new UsageError('quarantine release needs --thing');
  if (action === 'apply' && thing && (profileFlag || behavior || violationIds.length)) {
    throw new UsageError('quarantine apply takes --thing, or --profile/--behavior/--violation-id, not both');
  }

  const session = await openSession(deps, flags);
  const { aws, out, identity } = session;
  const names = quarantineNames(groupName, aws.region);
  requireQuarantineNames(names);
  const arns = await session.arns();
  if (action === 'setup') {
    await setup(session, arns, names);
    return 0;
  }
  if (action === 'release') {
    await aws.iot(new RemoveThingFromThingGroupCommand({ thingGroupName: names.group, thingName: thing! }));
    out.info(
      outcome(
        session,
        `released ${thing} from ${names.group}; its certificate's own policies apply again on its next connection`,
        `release ${thing} from ${names.group}`,
      ),
    );
    await clearQuarantineRecord(session, thing!, flags['shadow-name'] ?? DEFAULT_QUARANTINE_SHADOW);
    return 0;
  }
  if (thing) {
    await aws.iot(new AddThingToThingGroupCommand({ thingGroupName: names.group, thingName: thing, overrideDynamicGroups: true }));
    out.info(
      outcome(
        session,
        `isolated ${thing}: added to ${names.group}, whose policy denies every action`,
        `isolate ${thing}: add it to ${names.group}, whose policy denies every action`,
      ),
    );
    return 0;
  }
  const profileName = profileFlag ?? defaultProfileName(identity.name);
  if (violationIds.length) {
    await applyToViolations(session, names, violationIds);
    return 0;
  }
  const ids = await activeViolationIds(session, profileName, behavior);
  if (ids.length === 0 && !aws.dryRun) {
    out.info(`no active violations of ${profileName}${behavior ? ` / ${behavior}` : ''}: nothing to isolate`);
    return 0;
  }
  await applyToProfile(session, names, profileName, behavior, ids.length);
  return 0;
}
