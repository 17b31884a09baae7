/** `cleanup`: undo deploy, publish and setup-defender for a target. */
import { DeleteComponentCommand, ListComponentVersionsCommand } from '@aws-sdk/client-greengrassv2';
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
import { CliError } from '../errors';
import { defaultProfileName, mlProfileName } from '../security-profile';
import { openSession, type Session } from '../session';

export const CLEANUP_HELP = `Usage: npm run gg -- cleanup (--thing T | --group G) [--force] [--profile-name N] [--custom-metric NAME]...

Removes the component from the target's deployment (other components stay), deletes every published
version of the component, detaches and deletes the security profiles setup-defender created
(N and N-ml) and the custom metrics named. Asks for confirmation unless --force.
  --thing T | --group G     the deployment target to remove the component from
  --force                   do not ask (required without a terminal)
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

async function deleteComponentVersions(session: Session, arns: Arns): Promise<boolean> {
  const { aws, out, identity } = session;
  let complete = true;
  let nextToken: string | undefined;
  const versions: { version: string; arn: string }[] = [];
  do {
    const page = await aws.greengrass(new ListComponentVersionsCommand({ arn: arns.component(identity.name), nextToken }));
    for (const v of page.componentVersions ?? []) if (v.arn) versions.push({ version: v.componentVersion ?? '?', arn: v.arn });
    nextToken = page.nextToken;
  } while (nextToken);
  for (const { version, arn } of versions) {
    try {
      await aws.greengrass(new DeleteComponentCommand({ arn }));
      out.info(`deleted ${identity.name} ${version}`);
    } catch (error) {
      if (!isConflict(error)) throw error;
      out.error(`kept ${identity.name} ${version}: ${(error as Error).message} (another deployment may still use it)`);
      complete = false;
    }
  }
  if (versions.length === 0) out.info(`no published versions of ${identity.name}`);
  return complete;
}

async function deleteProfile(session: Session, profileName: string): Promise<void> {
  const { aws, out } = session;
  try {
    await aws.iot(new DescribeSecurityProfileCommand({ securityProfileName: profileName }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    out.info(`security profile ${profileName} does not exist`);
    return;
  }
  const targets: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aws.iot(new ListTargetsForSecurityProfileCommand({ securityProfileName: profileName, nextToken }));
    targets.push(...(page.securityProfileTargets ?? []).flatMap((t) => (t.arn ? [t.arn] : [])));
    nextToken = page.nextToken;
  } while (nextToken);
  for (const target of targets) {
    await aws.iot(new DetachSecurityProfileCommand({ securityProfileName: profileName, securityProfileTargetArn: target }));
    out.info(`detached ${profileName} from ${target}`);
  }
  await aws.iot(new DeleteSecurityProfileCommand({ securityProfileName: profileName }));
  out.info(`deleted security profile ${profileName}`);
}

async function deleteCustomMetric(session: Session, metricName: string): Promise<void> {
  try {
    await session.aws.iot(new DeleteCustomMetricCommand({ metricName }));
    session.out.info(`deleted custom metric ${metricName}`);
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
    'profile-name': { type: 'string' },
    'custom-metric': { type: 'string', multiple: true },
  });
  const targetKind = exactlyOne('cleanup', { thing: flags.thing, group: flags.group });
  const targetName = nameFlag(targetKind, targetKind === 'thing' ? flags.thing : flags.group)!;
  const metricNames = (flags['custom-metric'] ?? []).map((flag) => {
    const name = flag.split('=')[0]!;
    return nameFlag('custom-metric', name)!;
  });

  const session = await openSession(deps, flags);
  const { identity, out, aws } = session;
  const profileName = nameFlag('profile-name', flags['profile-name']) ?? defaultProfileName(identity.name);
  const plan = [
    `remove ${identity.name} from the deployment of ${targetKind} ${targetName}`,
    `delete every published version of ${identity.name} in ${aws.region}`,
    `detach and delete security profiles ${profileName} and ${mlProfileName(profileName)}`,
    ...(metricNames.length ? [`delete custom metrics ${metricNames.join(', ')}`] : []),
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
  const allVersionsDeleted = await deleteComponentVersions(session, arns);
  for (const name of [profileName, mlProfileName(profileName)]) await deleteProfile(session, name);
  for (const metric of metricNames) await deleteCustomMetric(session, metric);
  if (!allVersionsDeleted) {
    out.error('some component versions were kept: remove the component from the other deployments that use it, then run cleanup again');
    return 1;
  }
  return 0;
}
