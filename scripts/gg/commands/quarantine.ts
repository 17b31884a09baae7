/**
 * `quarantine setup|apply|release`: the "isolate" step of AWS's Device Defender workshops. A thing group whose
 * attached IoT policy denies everything, and a mitigation action that adds a violating thing to it. An explicit
 * Deny overrides every Allow, so a quarantined device can no longer connect, publish or subscribe.
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
  type MitigationActionParams,
} from '@aws-sdk/client-iot';
import { type Arns, isConflict } from '../aws';
import { COMMON_HELP, COMMON_OPTIONS, nameFlag, parseFlags } from '../args';
import type { CliDeps } from '../deps';
import { UsageError } from '../errors';
import { ensureIotServiceRole } from '../iot-service-role';
import { allPages } from '../paginate';
import { defaultProfileName } from '../security-profile';
import { clearQuarantineRecord, QUARANTINE_STATUS_HELP, quarantineStatusCommand } from '../quarantine-record';
import { openSession, type Session } from '../session';
import { QUARANTINE_AUTO_HELP, quarantineAutoCommand } from './quarantine-auto';
import { DEFAULT_QUARANTINE_SHADOW } from '../../../cloud/isolation/shadow';

const DEFAULT_QUARANTINE_GROUP = 'defender-quarantine';
/** StartDetectMitigationActionsTask takes at most 25 violation ids per task. */
const VIOLATIONS_PER_TASK = 25;
const MITIGATION_MANAGED_POLICY = 'service-role/AWSIoTDeviceDefenderAddThingsToThingGroupMitigationAction';

export const QUARANTINE_HELP = `Usage: npm run gg -- quarantine setup|apply|release|status|auto [flags]

Isolates devices that Device Defender finds violating (detect -> alert -> isolate):
  setup      creates the quarantine thing group, an IoT policy that denies every action (iot:*) attached to
             it, the IAM role Device Defender assumes (AWS managed policy
             ${MITIGATION_MANAGED_POLICY}), and the mitigation
             action ADD_THINGS_TO_THING_GROUP with overrideDynamicGroups (so a thing at its 10-group limit
             through dynamic groups is still moved). Idempotent.
  apply      runs that mitigation action on the active violations of a security profile
             (StartDetectMitigationActionsTask, at most ${VIOLATIONS_PER_TASK} violations per task), or with --thing
             adds one thing to the group directly.
  release    --thing T removes the thing from the quarantine group (its own policies apply again) and clears
             its quarantine shadow (--shadow-name, default ${DEFAULT_QUARANTINE_SHADOW}).
  status     --thing T: membership, the shadow and the alarm that caused it (quarantine status --help).
  auto       enable|disable|status: isolation without a human, by a Lambda function (quarantine auto --help).
Flags:
  --group-name G       quarantine thing group (default ${DEFAULT_QUARANTINE_GROUP}); the policy is G-deny-all,
                       the role G-mitigation, the mitigation action G-add-thing
  --thing T            apply / release: one thing
  --profile P          apply: the security profile whose active violations to act on
                       (default: <component name>-metrics, as setup-defender names it)
  --behavior B         apply: only violations of this behavior
  --violation-id ID    apply: these violations (repeatable) instead of listing the active ones
The deny-all policy takes effect on the device's next connection or request; AWS IoT applies thing-group
policies to connections whose client ID is the thing name (Greengrass cores connect that way).
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

interface QuarantineNames {
  group: string;
  policy: string;
  role: string;
  action: string;
}

function namesFor(group: string): QuarantineNames {
  return { group, policy: `${group}-deny-all`, role: `${group}-mitigation`, action: `${group}-add-thing` };
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
  const names = namesFor(group);
  await ignoringExisting(`thing group ${names.group}`, session, () =>
    aws.iot(
      new CreateThingGroupCommand({
        thingGroupName: names.group,
        thingGroupProperties: { thingGroupDescription: 'Devices isolated by Device Defender: an attached policy denies every action' },
      }),
    ),
  );
  await ignoringExisting(`IoT policy ${names.policy}`, session, () =>
    aws.iot(new CreatePolicyCommand({ policyName: names.policy, policyDocument: JSON.stringify(DENY_ALL_POLICY) })),
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
    aws.iot(new CreateMitigationActionCommand({ actionName: names.action, roleArn, actionParams })),
  );
  if (!created) {
    await aws.iot(new UpdateMitigationActionCommand({ actionName: names.action, roleArn, actionParams }));
    out.info(`updated mitigation action ${names.action}`);
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

async function applyToViolations(session: Session, names: QuarantineNames, violationIds: string[]): Promise<void> {
  const stamp = session
    .now()
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14);
  for (let start = 0; start < violationIds.length; start += VIOLATIONS_PER_TASK) {
    const chunk = violationIds.slice(start, start + VIOLATIONS_PER_TASK);
    const taskId = `${names.group}-${stamp}-${start / VIOLATIONS_PER_TASK + 1}`.slice(0, 128);
    await session.aws.iot(
      new StartDetectMitigationActionsTaskCommand({
        taskId,
        target: { violationIds: chunk },
        actions: [names.action],
        includeOnlyActiveViolations: true,
      }),
    );
    session.out.info(`started mitigation task ${taskId} for ${chunk.length} violation(s): ${chunk.join(', ')}`);
  }
  session.out.info(`follow it: aws iot list-detect-mitigation-actions-executions --task-id <task id>`);
}

export async function quarantineCommand(argv: string[], deps: CliDeps): Promise<number> {
  const [action, ...rest] = argv;
  if (action === 'auto') return quarantineAutoCommand(rest, deps, createQuarantineGroup);
  if (action === 'status') return quarantineStatusCommand(rest, deps);
  if (action !== 'setup' && action !== 'apply' && action !== 'release') {
    throw new UsageError(
      `quarantine needs setup, apply, release, status or auto (got ${action === undefined ? 'nothing' : `"${action}"`})`,
    );
  }
  const flags = parseFlags(`quarantine ${action}`, rest, OPTIONS);
  const names = namesFor(nameFlag('group-name', flags['group-name']) ?? DEFAULT_QUARANTINE_GROUP);
  const thing = nameFlag('thing', flags.thing);
  const violationIds = flags['violation-id'] ?? [];
  for (const id of violationIds) {
    if (!/^[a-zA-Z0-9-]{1,128}$/.test(id)) throw new UsageError(`--violation-id "${id}" is not a violation id`);
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
  const arns = await session.arns();
  if (action === 'setup') {
    await setup(session, arns, names);
    return 0;
  }
  if (action === 'release') {
    await aws.iot(new RemoveThingFromThingGroupCommand({ thingGroupName: names.group, thingName: thing! }));
    out.info(`released ${thing} from ${names.group}; its certificate's own policies apply again on its next connection`);
    await clearQuarantineRecord(session, thing!, flags['shadow-name'] ?? DEFAULT_QUARANTINE_SHADOW);
    return 0;
  }
  if (thing) {
    await aws.iot(new AddThingToThingGroupCommand({ thingGroupName: names.group, thingName: thing, overrideDynamicGroups: true }));
    out.info(`isolated ${thing}: added to ${names.group}, whose policy denies every action`);
    return 0;
  }
  const profileName = profileFlag ?? defaultProfileName(identity.name);
  const ids = violationIds.length ? violationIds : await activeViolationIds(session, profileName, behavior);
  if (ids.length === 0) {
    out.info(`no active violations of ${profileName}${behavior ? ` / ${behavior}` : ''}: nothing to isolate`);
    return 0;
  }
  await applyToViolations(session, names, ids);
  return 0;
}
