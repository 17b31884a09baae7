/** `status` (and `deploy --wait`): follow a deployment on core devices until it ends or the deadline passes. */
import {
  GetDeploymentCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
  type EffectiveDeployment,
  type InstalledComponent,
} from '@aws-sdk/client-greengrassv2';
import { ListThingsInThingGroupCommand } from '@aws-sdk/client-iot';
import { COMMON_HELP, COMMON_OPTIONS, integerFlag, nameFlag, parseFlags } from '../args';
import { isNotFound } from '../aws';
import { allPages } from '../paginate';
import type { CliDeps } from '../deps';
import { CliError, UsageError } from '../errors';
import { exitCodeOf, EXIT_CODES_HELP } from '../exit-codes';
import { followFleet } from '../fleet-wait';
import { openSession, type Session } from '../session';
import { neutralized } from '../terminal-text';
import { groupStatus } from './status-group';

export const STATUS_HELP = `Usage: npm run gg -- status (--thing T | --group G) [--deployment-id ID] [--deadline-seconds N] [--poll-seconds N]

Follows a deployment on core device T (default: its newest deployment) until it ends: prints progress,
then checks that the component runs at the deployed version. On failure prints the reason, the error
stack and where the logs are on the core.
  --thing T             core device (thing name)
  --deployment-id ID    deployment to follow (default: the newest one on the device)
  --deadline-seconds N  give up after N seconds (default 600)
  --poll-seconds N      seconds between polls (default 10)
  --group G             every core of thing group G (its newest deployment, or --deployment-id), then a summary of
                        the fleet: reporting, silent, in alarm (--metric-namespace NS, --alarm-log-group LG: where
                        setup-edge puts the reports and the alarms)
${EXIT_CODES_HELP}
${COMMON_HELP}`;

export const DEFAULT_DEADLINE_SECONDS = 600;
export const DEFAULT_POLL_SECONDS = 10;
const PROGRESS_EVERY_MS = 30_000;
const SUCCESS = new Set(['COMPLETED', 'SUCCEEDED']);
const FAILURE = new Set(['FAILED', 'TIMED_OUT', 'CANCELED', 'REJECTED']);
const COMPONENT_FAILED = new Set(['BROKEN', 'ERRORED']);

export type Outcome = 'succeeded' | 'failed' | 'deadline';

export interface FollowOptions {
  thingName: string;
  deploymentId: string | undefined;
  /** Epoch ms. */
  deadlineAt: number;
  pollMs: number;
}

export function componentLogPath(componentName: string): string {
  return `/greengrass/v2/logs/${componentName}.log`;
}

async function effectiveDeployments(session: Session, thingName: string): Promise<EffectiveDeployment[]> {
  const all: EffectiveDeployment[] = [];
  let nextToken: string | undefined;
  do {
    const page = await session.aws
      .greengrass(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: thingName, nextToken }))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
        throw new CliError(
          `${thingName} is not a Greengrass core device in ${session.aws.region} (AWS IoT Greengrass does not know it)`,
          `check the thing name and the region: aws greengrassv2 list-core-devices --region ${session.aws.region} lists the core devices`,
        );
      });
    all.push(...(page.effectiveDeployments ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

async function installedComponent(session: Session, thingName: string, componentName: string): Promise<InstalledComponent | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await session.aws.greengrass(
      new ListInstalledComponentsCommand({ coreDeviceThingName: thingName, topologyFilter: 'ALL', nextToken }),
    );
    const found = (page.installedComponents ?? []).find((c) => c.componentName === componentName);
    if (found) return found;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

function newest(deployments: EffectiveDeployment[]): EffectiveDeployment | undefined {
  return [...deployments].sort((a, b) => (b.creationTimestamp?.getTime() ?? 0) - (a.creationTimestamp?.getTime() ?? 0))[0];
}

/** The core device reports the reason, the error stack and its components' details: each is shown on its own line, inert. */
function remote(text: string): string {
  return neutralized(text);
}

function reportFailure(session: Session, thingName: string, deployment: EffectiveDeployment): void {
  const { out, identity } = session;
  out.error(remote(`${thingName}: deployment ${deployment.deploymentId} ${deployment.coreDeviceExecutionStatus}`));
  out.error(`  reason: ${remote(deployment.reason ?? '(none given)')}`);
  const details = deployment.statusDetails;
  if (details?.errorTypes?.length) out.error(`  error types: ${remote(details.errorTypes.join(', '))}`);
  if (details?.errorStack?.length) out.error(`  error stack: ${remote(details.errorStack.join(' -> '))}`);
  out.error(`  logs on the core: ${componentLogPath(identity.name)} and /greengrass/v2/logs/greengrass.log`);
  out.error('  next: fix the cause above, then deploy again (the failed revision was rolled back if failureHandlingPolicy is ROLLBACK)');
}

function deadlineReached(session: Session, thingName: string, what: string): Outcome {
  session.out.error(`${thingName}: deadline reached: ${what}`);
  session.out.error(
    `  next: run \`npm run gg -- status --thing ${thingName}\` again later, or read /greengrass/v2/logs/greengrass.log on the core`,
  );
  return 'deadline';
}

/** Whether the deployment includes our component, and at which version. */
async function deployedVersion(session: Session, deploymentId: string): Promise<string | undefined> {
  const deployment = await session.aws.greengrass(new GetDeploymentCommand({ deploymentId }));
  return deployment.components?.[session.identity.name]?.componentVersion;
}

async function checkComponentRunning(
  session: Session,
  options: FollowOptions,
  version: string,
  deployedAt: Date | undefined,
): Promise<Outcome> {
  const { out, identity } = session;
  for (;;) {
    const component = await installedComponent(session, options.thingName, identity.name);
    const fresh = !deployedAt || !component?.lastReportedTimestamp || component.lastReportedTimestamp >= deployedAt;
    if (component && component.componentVersion === version && fresh) {
      if (component.lifecycleState === 'RUNNING') {
        out.info(`${options.thingName}: ${identity.name} ${version} RUNNING`);
        return 'succeeded';
      }
      if (COMPONENT_FAILED.has(component.lifecycleState ?? '')) {
        out.error(
          remote(
            `${options.thingName}: ${identity.name} ${version} is ${component.lifecycleState}: ${component.lifecycleStateDetails ?? ''}`.trimEnd(),
          ),
        );
        if (component.lifecycleStatusCodes?.length) out.error(`  status codes: ${remote(component.lifecycleStatusCodes.join(', '))}`);
        out.error(`  logs on the core: ${componentLogPath(identity.name)}`);
        return 'failed';
      }
    }
    const seen = component
      ? `${component.componentVersion} ${component.lifecycleState}${fresh ? '' : ' (reported before the deployment)'}`
      : 'not reported';
    if (session.now().getTime() >= options.deadlineAt) {
      return deadlineReached(session, options.thingName, remote(`${identity.name} is ${seen}, expected ${version} RUNNING`));
    }
    out.info(remote(`${options.thingName}: ${identity.name} is ${seen}; waiting for ${version} RUNNING`));
    await session.sleep(options.pollMs);
  }
}

export async function followCoreDevice(session: Session, options: FollowOptions): Promise<Outcome> {
  const { out, aws } = session;
  const started = session.now().getTime();
  let lastStatus = '';
  let lastPrinted = 0;
  for (;;) {
    const deployments = await effectiveDeployments(session, options.thingName);
    if (aws.dryRun) {
      out.info(`[dry-run] status would poll this every ${options.pollMs / 1000} s until the deployment ends, then ListInstalledComponents`);
      return 'succeeded';
    }
    const deployment = options.deploymentId ? deployments.find((d) => d.deploymentId === options.deploymentId) : newest(deployments);
    if (!options.deploymentId && !deployment) {
      throw new CliError(
        `core device ${options.thingName} has no deployments`,
        `deploy first: npm run gg -- deploy --thing ${options.thingName}`,
      );
    }
    const now = session.now().getTime();
    const status = deployment?.coreDeviceExecutionStatus ?? 'NOT YET RECEIVED';
    const elapsed = Math.round((now - started) / 1000);
    if (status !== lastStatus || now - lastPrinted >= PROGRESS_EVERY_MS) {
      out.info(remote(`${options.thingName}: deployment ${deployment?.deploymentId ?? options.deploymentId} ${status} (${elapsed} s)`));
      lastStatus = status;
      lastPrinted = now;
    }
    if (deployment && SUCCESS.has(status)) {
      const version = await deployedVersion(session, deployment.deploymentId!);
      if (version === undefined) return 'succeeded';
      return checkComponentRunning(session, options, version, deployment.creationTimestamp);
    }
    if (deployment && FAILURE.has(status)) {
      reportFailure(session, options.thingName, deployment);
      return 'failed';
    }
    if (now >= options.deadlineAt) {
      return deadlineReached(session, options.thingName, `deployment is still ${status} after ${elapsed} s`);
    }
    await session.sleep(options.pollMs);
  }
}

/**
 * Follows every core device of a thing group under one deadline (scripts/gg/fleet-wait.ts). The devices are the group's
 * things (ListThingsInThingGroup, nested groups included): ListCoreDevices by group only knows devices that
 * already received a deployment from it, so on a first deployment it lists none.
 */
export async function followThingGroup(
  session: Session,
  groupName: string,
  deploymentId: string,
  deadlineAt: number,
  pollMs: number,
  reportPath?: string,
): Promise<Outcome> {
  const things = await allPages(
    (nextToken) => session.aws.iot(new ListThingsInThingGroupCommand({ thingGroupName: groupName, recursive: true, nextToken })),
    (page) => page.things,
  );
  if (things.length === 0) {
    session.out.info(`thing group ${groupName} has no things yet; core devices receive the deployment when they join`);
    return 'succeeded';
  }
  return followFleet(session, groupName, things, { deploymentId, deadlineAt, pollMs, reportPath });
}

export async function statusCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('status', argv, {
    ...COMMON_OPTIONS,
    thing: { type: 'string' },
    'deployment-id': { type: 'string' },
    'deadline-seconds': { type: 'string' },
    'poll-seconds': { type: 'string' },
    group: { type: 'string' },
    'metric-namespace': { type: 'string' },
    'alarm-log-group': { type: 'string' },
  });
  const thingName = nameFlag('thing', flags.thing);
  const groupName = nameFlag('group', flags.group);
  if (!thingName === !groupName) throw new UsageError('status needs --thing or --group');
  if (thingName && (flags['metric-namespace'] ?? flags['alarm-log-group']) !== undefined)
    throw new UsageError('--metric-namespace and --alarm-log-group apply to status --group only');
  const deadlineSeconds = integerFlag('deadline-seconds', flags['deadline-seconds'], 1) ?? DEFAULT_DEADLINE_SECONDS;
  const pollSeconds = integerFlag('poll-seconds', flags['poll-seconds'], 1) ?? DEFAULT_POLL_SECONDS;
  const session = await openSession(deps, flags);
  if (groupName) {
    const deadlineAt = session.now().getTime() + deadlineSeconds * 1000;
    return groupStatus(session, groupName, { ...flags, deadlineAt, pollMs: pollSeconds * 1000 }, followThingGroup);
  }
  const outcome = await followCoreDevice(session, {
    thingName: thingName!,
    deploymentId: flags['deployment-id'],
    deadlineAt: session.now().getTime() + deadlineSeconds * 1000,
    pollMs: pollSeconds * 1000,
  });
  return exitCodeOf(outcome);
}
