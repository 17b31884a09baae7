/** `cleanup`: undo deploy, publish and setup-defender for a target. */
import {
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
import { isConflict, isNotFound, type Arns } from '../aws';
import { COMMON_HELP, COMMON_OPTIONS, exactlyOne, nameFlag, parseFlags } from '../args';
import { createRevision, readCurrentDeployment } from '../deployment';
import type { CliDeps } from '../deps';
import { createdResourcesPlan, type CreatedResources, removeCreated } from './cleanup-created';
import { CREATED_BY_TAG } from '../created-by';
import { ruleRoleNameFor } from '../edge-rules';
import { CliError, UsageError } from '../errors';
import { LOG_MANAGER, logManagerWithout } from '../log-manager';
import { SNS_NAME } from '../sns-alerts';
import { quotedInput } from '../terminal-text';
import { DEFAULT_QUARANTINE_GROUP, quarantineNames, requireQuarantineNames } from './quarantine';
import { edgeRoleNameFlag, edgeRuleNameFlag, edgeRuleNames } from './setup-edge';
import { allPages } from '../paginate';
import { defaultProfileName, mlProfileName } from '../security-profile';
import { openSession, outcome, type Session } from '../session';
import { describeError } from '../../../src/util/describe-error';

export const CLEANUP_HELP = `Usage: npm run gg -- cleanup (--thing T | --group G) [--force] [--delete-versions] [--profile-name N] [--custom-metric NAME]...
         [--edge [--rule-name N] [--role-name N]] [--quarantine [--quarantine-group G]] [--sns-topic NAME]...

Undoes deploy and setup-defender for one target, and nothing beyond it:
  - removes the component from the target's deployment (other components stay), and its log upload entry from
    ${LOG_MANAGER} there (the log manager and its other settings stay);
  - detaches the security profiles setup-defender created (N and N-ml) from this target only (a thing
    group; a --thing has no attachment of its own), and deletes a profile only when no other target
    is left attached to it;
  - deletes the custom metrics named;
  - with --delete-versions, deletes the published versions of the component that no deployment still
    uses (every deployment the tool can list is read; versions another target runs are kept).
With the flags below, also what setup-edge, quarantine setup and --create-sns created in the region: only
resources that carry the tag ${CREATED_BY_TAG}=<component name>, which the tool puts on what it creates. One
made by hand under the same name has no such tag and is kept (so is one an older gg made before the tag).
  --edge                    setup-edge's topic rules (<component>_alarms, <component>_metrics) and its IAM role
                            <component>-edge-rules-<region>; --rule-name / --role-name if setup-edge was given them
  --quarantine              quarantine setup's mitigation action G-add-thing, IAM role G-mitigation-<region>, IoT
                            policy G-deny-all and thing group G (default ${DEFAULT_QUARANTINE_GROUP}; --quarantine-group G).
                            The group and its policy stay while a thing is in it (release it first).
                            Automatic isolation goes with: npm run gg -- quarantine auto disable
  --sns-topic NAME          an SNS topic made by --create-sns NAME (with its subscriptions) and the role
                            NAME-alerts-<region> setup-defender made for it; repeatable
Kept: the alarm log group and dashboards of setup-edge (the alarm history), and things in quarantine.
What could not be removed is listed at the end; run the same cleanup again to finish (it skips what is gone).
Asks for confirmation unless --force.
  --thing T | --group G     the deployment target to remove the component from
  --force                   do not ask (required without a terminal)
  --delete-versions         also delete the component versions no listed deployment references
  --profile-name N          default: <component name>-metrics
  --custom-metric NAME      custom metric to delete, repeatable (name or name=source as given to setup-defender)
${COMMON_HELP}`;

async function removeFromDeployment(session: Session, targetArn: string): Promise<void> {
  const { identity, out } = session;
  const current = await readCurrentDeployment(session, targetArn);
  if (!current || !(identity.name in current.components)) {
    out.info(`${identity.name} is not in the deployment of ${targetArn}`);
    return;
  }
  const { [identity.name]: _removed, ...others } = current.components;
  const logManager = others[LOG_MANAGER] && logManagerWithout(others[LOG_MANAGER], identity.name);
  if (logManager) {
    others[LOG_MANAGER] = logManager;
    out.info(`${LOG_MANAGER} keeps its other settings; ${identity.name}'s log upload entry goes (configurationUpdate.reset)`);
  }
  const deploymentId = await createRevision(session, {
    targetArn,
    deploymentName: current.deploymentName,
    components: others,
    deploymentPolicies: current.deploymentPolicies,
    iotJobConfiguration: current.iotJobConfiguration,
    tags: current.tags,
  });
  const kept = Object.keys(others);
  out.info(`deployment ${deploymentId} removes ${identity.name}${kept.length ? `; keeps ${kept.join(', ')}` : ''}`);
}

/** Versions of the component that the latest deployment of any target still names. */
async function referencedVersions(session: Session): Promise<Map<string, string[]>> {
  const { aws, identity } = session;
  const deployments = await allPages(
    (nextToken) => aws.greengrass(new ListDeploymentsCommand({ historyFilter: 'LATEST_ONLY', nextToken })),
    (page) => page.deployments,
  );
  const used = new Map<string, string[]>();
  for (const listed of deployments) {
    if (!listed.deploymentId) continue;
    const deployment = await aws.greengrass(new GetDeploymentCommand({ deploymentId: listed.deploymentId }));
    const version = deployment.components?.[identity.name]?.componentVersion;
    if (version) used.set(version, [...(used.get(version) ?? []), deployment.targetArn ?? listed.targetArn ?? listed.deploymentId]);
  }
  return used;
}

async function deleteComponentVersions(session: Session, arns: Arns): Promise<boolean> {
  const { aws, out, identity } = session;
  let complete = true;
  const versions = (
    await allPages(
      (nextToken) => aws.greengrass(new ListComponentVersionsCommand({ arn: arns.component(identity.name), nextToken })),
      (page) => page.componentVersions,
    )
  ).flatMap((v) => (v.arn ? [{ version: v.componentVersion ?? '?', arn: v.arn }] : []));
  if (versions.length === 0) {
    out.info(`no published versions of ${identity.name}`);
    return true;
  }
  const used = await referencedVersions(session);
  for (const { version, arn } of versions) {
    const users = used.get(version);
    if (users) {
      out.info(`kept ${identity.name} ${version}: still deployed to ${users.join(', ')}`);
      continue;
    }
    try {
      await aws.greengrass(new DeleteComponentCommand({ arn }));
      out.info(outcome(session, `deleted ${identity.name} ${version}`, `delete ${identity.name} ${version}`));
    } catch (error) {
      if (!isConflict(error)) throw error;
      out.error(`kept ${identity.name} ${version}: ${describeError(error)} (another deployment may still use it)`);
      complete = false;
    }
  }
  return complete;
}

/** Detaches the profile from `targetArn` only; deletes it once no target is left attached. */
async function releaseProfile(session: Session, profileName: string, targetArn: string | undefined): Promise<void> {
  const { aws, out } = session;
  try {
    await aws.iot(new DescribeSecurityProfileCommand({ securityProfileName: profileName }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    out.info(`security profile ${profileName} does not exist`);
    return;
  }
  const targets = await allPages(
    (nextToken) => aws.iot(new ListTargetsForSecurityProfileCommand({ securityProfileName: profileName, nextToken })),
    (page) => page.securityProfileTargets,
  );
  const attached = targets.flatMap((t) => (t.arn ? [t.arn] : []));
  if (targetArn && attached.includes(targetArn)) {
    await aws.iot(new DetachSecurityProfileCommand({ securityProfileName: profileName, securityProfileTargetArn: targetArn }));
    out.info(outcome(session, `detached ${profileName} from ${targetArn}`, `detach ${profileName} from ${targetArn}`));
  }
  const others = attached.filter((arn) => arn !== targetArn);
  if (others.length > 0) {
    out.info(`kept security profile ${profileName}: still attached to ${others.join(', ')}`);
    return;
  }
  await aws.iot(new DeleteSecurityProfileCommand({ securityProfileName: profileName }));
  out.info(outcome(session, `deleted security profile ${profileName}`, `delete security profile ${profileName}`));
}

async function deleteCustomMetric(session: Session, metricName: string): Promise<void> {
  try {
    await session.aws.iot(new DeleteCustomMetricCommand({ metricName }));
    session.out.info(outcome(session, `deleted custom metric ${metricName}`, `delete custom metric ${metricName}`));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    session.out.info(`custom metric ${metricName} does not exist`);
  }
}

export async function cleanupCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('cleanup', argv, {
    ...COMMON_OPTIONS,
    thing: { type: 'string' },
    group: { type: 'string' },
    force: { type: 'boolean' },
    'delete-versions': { type: 'boolean' },
    'profile-name': { type: 'string' },
    'custom-metric': { type: 'string', multiple: true },
    edge: { type: 'boolean' },
    'rule-name': { type: 'string' },
    'role-name': { type: 'string' },
    quarantine: { type: 'boolean' },
    'quarantine-group': { type: 'string' },
    'sns-topic': { type: 'string', multiple: true },
  });
  const targetKind = exactlyOne('cleanup', { thing: flags.thing, group: flags.group });
  const targetName = nameFlag(targetKind, targetKind === 'thing' ? flags.thing : flags.group)!;
  const metricNames = (flags['custom-metric'] ?? []).map((flag) => {
    const name = flag.split('=')[0]!;
    return nameFlag('custom-metric', name)!;
  });
  if (!flags.edge && (flags['rule-name'] !== undefined || flags['role-name'] !== undefined)) {
    throw new UsageError('--rule-name and --role-name only apply with --edge');
  }
  if (!flags.quarantine && flags['quarantine-group'] !== undefined)
    throw new UsageError('--quarantine-group only applies with --quarantine');
  const ruleNameFlag = edgeRuleNameFlag(flags['rule-name']);
  const roleNameFlag = edgeRoleNameFlag(flags['role-name']);
  const quarantineGroup = nameFlag('quarantine-group', flags['quarantine-group']) ?? DEFAULT_QUARANTINE_GROUP;
  const snsTopics = flags['sns-topic'] ?? [];
  for (const topic of snsTopics) {
    if (!SNS_NAME.test(topic)) throw new UsageError(`--sns-topic ${quotedInput(topic)} must be 1-40 characters of a-z A-Z 0-9 _ -`);
  }

  const session = await openSession(deps, flags);
  const { identity, out, aws } = session;
  const profileName = nameFlag('profile-name', flags['profile-name']) ?? defaultProfileName(identity.name);
  const quarantine = flags.quarantine ? quarantineNames(quarantineGroup, aws.region) : undefined;
  if (quarantine) requireQuarantineNames(quarantine);
  const created: CreatedResources = {
    edge: flags.edge
      ? {
          ruleNames: Object.values(edgeRuleNames(identity.name, ruleNameFlag)),
          roleName: roleNameFlag ?? ruleRoleNameFor(identity.name, aws.region),
        }
      : undefined,
    quarantine,
    snsTopics,
  };
  const plan = [
    `remove ${identity.name} (and its ${LOG_MANAGER} log upload entry) from the deployment of ${targetKind} ${targetName}`,
    ...(flags['delete-versions'] ? [`delete the versions of ${identity.name} in ${aws.region} that no deployment uses`] : []),
    `detach security profiles ${profileName} and ${mlProfileName(profileName)} from this target; delete them if nothing else uses them`,
    ...(metricNames.length ? [`delete custom metrics ${metricNames.join(', ')}`] : []),
    ...createdResourcesPlan(created, identity.name, aws.region),
  ];
  if (!flags.force && !aws.dryRun) {
    if (!deps.confirm) {
      throw new CliError('cleanup deletes resources and there is no terminal to confirm on', 'run it again with --force if you mean it');
    }
    out.info('cleanup will:');
    for (const step of plan) out.info(`  - ${step}`);
    if (!(await deps.confirm('Proceed? [y/N] '))) {
      out.info('nothing changed');
      return 1;
    }
  }
  const arns = await session.arns();
  await removeFromDeployment(session, targetKind === 'thing' ? arns.thing(targetName) : arns.thingGroup(targetName));
  const allVersionsDeleted = flags['delete-versions'] ? await deleteComponentVersions(session, arns) : true;
  // Security profiles attach to thing groups (or all things), never to one thing.
  const profileTarget = targetKind === 'group' ? arns.thingGroup(targetName) : undefined;
  for (const name of [profileName, mlProfileName(profileName)]) await releaseProfile(session, name, profileTarget);
  for (const metric of metricNames) await deleteCustomMetric(session, metric);
  const left = await removeCreated(session, arns, created);
  if (!allVersionsDeleted) {
    out.error('some component versions were kept: remove the component from the other deployments that use it, then run cleanup again');
  }
  for (const { what, why } of left) out.error(`left: ${what}: ${why}`);
  if (left.length) out.error(`next: fix what is named above, then run the same cleanup again: it skips what is already gone`);
  return allVersionsDeleted && left.length === 0 ? 0 : 1;
}
