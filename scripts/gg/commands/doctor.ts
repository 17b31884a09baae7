/** `doctor`: checks, one by one, everything a core device needs for its reports to reach Device Defender. */
import {
  GetCoreDeviceCommand,
  GetDeploymentCommand,
  ListEffectiveDeploymentsCommand,
  ListInstalledComponentsCommand,
} from '@aws-sdk/client-greengrassv2';
import {
  DescribeSecurityProfileCommand,
  GetBehaviorModelTrainingSummariesCommand,
  ListSecurityProfilesForTargetCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  TestAuthorizationCommand,
  type AuthInfo,
} from '@aws-sdk/client-iot';
import { metricsTopics } from '../../../src/component/definition';
import {
  customMetricsOf,
  policyThingName,
  reportFormatOf,
  settingsFromConfigJson,
  settingsFromMerge,
  type AgentSettings,
} from '../agent-config';
import { isNotFound, type Arns } from '../aws';
import { COMMON_HELP, COMMON_OPTIONS, nameFlag, parseFlags } from '../args';
import { checkCustomMetric } from '../custom-metrics';
import type { CliDeps } from '../deps';
import { UsageError } from '../errors';
import { checkEdgePublish } from '../edge-check';
import { checkLogUpload } from '../log-check';
import { allPages } from '../paginate';
import { openSession, type Session } from '../session';
import { componentLogPath } from './status';

export const DOCTOR_HELP = `Usage: npm run gg -- doctor --thing T [--config-json '{...}']

Checks that: the core device is healthy; the component runs at the gdk-config.json version; the core's
certificate may publish the reports and receive the replies (IoT TestAuthorization); a security profile
covers the thing; the custom metrics it sends are registered with the right types; and, when
aws.greengrass.LogManager runs on the core, that the component's log lines reach CloudWatch Logs; and,
when alarms or the metrics sink are configured, that the certificate may publish on their topics. Each
failure comes with what to do. Exits non-zero if any check fails.
  --thing T             core device (thing name)
  --config-json '{...}' the agent configuration to check against (default: read from its deployment)
${COMMON_HELP}`;

interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  remedy?: string;
}

async function checkCoreDevice(session: Session, thingName: string): Promise<CheckResult> {
  const name = 'core device';
  try {
    const core = await session.aws.greengrass(new GetCoreDeviceCommand({ coreDeviceThingName: thingName }));
    const healthy = core.status === 'HEALTHY';
    return {
      name,
      ok: healthy,
      detail: `${thingName} is ${core.status ?? 'UNKNOWN'} (nucleus ${core.coreVersion ?? '?'}, last report ${core.lastStatusUpdateTimestamp?.toISOString() ?? 'never'})`,
      ...(healthy ? {} : { remedy: 'a component is BROKEN or ERRORED: read /greengrass/v2/logs/greengrass.log on the core' }),
    };
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return {
      name,
      ok: false,
      detail: `${thingName} is not a Greengrass core device in ${session.aws.region}`,
      remedy: 'check the thing name and --region',
    };
  }
}

async function checkComponent(session: Session, thingName: string): Promise<CheckResult> {
  const { name: componentName, version } = session.identity;
  const name = 'component running';
  let nextToken: string | undefined;
  do {
    const page = await session.aws.greengrass(
      new ListInstalledComponentsCommand({ coreDeviceThingName: thingName, topologyFilter: 'ALL', nextToken }),
    );
    const component = (page.installedComponents ?? []).find((c) => c.componentName === componentName);
    if (component) {
      const detail = `${componentName} ${component.componentVersion} ${component.lifecycleState}`;
      if (component.componentVersion !== version) {
        return {
          name,
          ok: false,
          detail: `${detail}, gdk-config.json says ${version}`,
          remedy: `npm run gg -- deploy --thing ${thingName}`,
        };
      }
      if (component.lifecycleState !== 'RUNNING') {
        return {
          name,
          ok: false,
          detail: `${detail} ${component.lifecycleStateDetails ?? ''}`.trimEnd(),
          remedy: `read ${componentLogPath(componentName)} on the core`,
        };
      }
      return { name, ok: true, detail };
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return {
    name,
    ok: false,
    detail: `${componentName} is not installed on ${thingName}`,
    remedy: `npm run gg -- deploy --thing ${thingName}`,
  };
}

/** The agent configuration the device got: the newest of its deployments that carries the component. */
async function deployedSettings(session: Session, thingName: string): Promise<AgentSettings> {
  const effectiveDeployments = await allPages(
    (nextToken) => session.aws.greengrass(new ListEffectiveDeploymentsCommand({ coreDeviceThingName: thingName, nextToken })),
    (page) => page.effectiveDeployments,
  );
  const newestFirst = [...effectiveDeployments].sort(
    (a, b) => (b.creationTimestamp?.getTime() ?? 0) - (a.creationTimestamp?.getTime() ?? 0),
  );
  for (const effective of newestFirst) {
    if (!effective.deploymentId) continue;
    const deployment = await session.aws.greengrass(new GetDeploymentCommand({ deploymentId: effective.deploymentId }));
    const own = deployment.components?.[session.identity.name];
    if (own) return settingsFromMerge(own.configurationUpdate?.merge);
  }
  return {};
}

function policyRemedy(arns: Arns, topics: ReturnType<typeof metricsTopics>): string {
  const statement = [
    { Effect: 'Allow', Action: 'iot:Publish', Resource: arns.topic(topics.publish) },
    { Effect: 'Allow', Action: 'iot:Subscribe', Resource: [arns.topicFilter(topics.accepted), arns.topicFilter(topics.rejected)] },
    { Effect: 'Allow', Action: 'iot:Receive', Resource: [arns.topic(topics.accepted), arns.topic(topics.rejected)] },
  ];
  return `add to the AWS IoT policy attached to the core's certificate: ${JSON.stringify(statement)}`;
}

async function checkAuthorization(session: Session, arns: Arns, thingName: string, settings: AgentSettings): Promise<CheckResult> {
  const name = 'certificate may publish reports';
  const principals = await allPages(
    (nextToken) => session.aws.iot(new ListThingPrincipalsCommand({ thingName, nextToken })),
    (page) => page.principals,
  );
  // A dry run has no principals to read; the placeholder still shows the authorization request.
  const certificate = principals.find((p) => p.includes(':cert/')) ?? (session.aws.dryRun ? '<certificate-arn>' : undefined);
  if (!certificate) {
    return {
      name,
      ok: false,
      detail: `no certificate is attached to ${thingName}`,
      remedy: 'attach the core device certificate to the thing (aws iot attach-thing-principal)',
    };
  }
  const topics = metricsTopics(policyThingName(settings, thingName), reportFormatOf(settings));
  const authInfos: AuthInfo[] = [
    { actionType: 'PUBLISH', resources: [arns.topic(topics.publish)] },
    { actionType: 'SUBSCRIBE', resources: [arns.topicFilter(topics.accepted), arns.topicFilter(topics.rejected)] },
    { actionType: 'RECEIVE', resources: [arns.topic(topics.accepted), arns.topic(topics.rejected)] },
  ];
  const tested = await session.aws.iot(new TestAuthorizationCommand({ principal: certificate, clientId: thingName, authInfos }));
  const denied = (tested.authResults ?? [])
    .filter((r) => r.authDecision !== 'ALLOWED')
    .map((r) => `${r.authInfo?.actionType} ${(r.authInfo?.resources ?? []).join(', ')} (${r.authDecision})`);
  if (denied.length) return { name, ok: false, detail: `denied: ${denied.join('; ')}`, remedy: policyRemedy(arns, topics) };
  return { name, ok: true, detail: `publish ${topics.publish}, subscribe/receive its accepted/rejected replies` };
}

async function checkSecurityProfile(session: Session, arns: Arns, thingName: string, found: string[] = []): Promise<CheckResult> {
  const name = 'security profile covers the thing';
  const groups = await allPages(
    (nextToken) => session.aws.iot(new ListThingGroupsForThingCommand({ thingName, nextToken })),
    (page) => page.thingGroups,
  );
  const targets = [...groups.flatMap((g) => (g.groupArn ? [g.groupArn] : [])), arns.allRegisteredThings()];
  const profiles: string[] = [];
  for (const target of targets) {
    const mappings = await allPages(
      (nextToken) => session.aws.iot(new ListSecurityProfilesForTargetCommand({ securityProfileTargetArn: target, nextToken })),
      (page) => page.securityProfileTargetMappings,
    );
    for (const mapping of mappings) {
      const profile = mapping.securityProfileIdentifier?.name;
      if (profile) profiles.push(`${profile} (via ${target.split(':').pop()})`);
      if (profile && !found.includes(profile)) found.push(profile);
    }
  }
  if (profiles.length === 0) {
    return {
      name,
      ok: false,
      detail: "no security profile is attached to the thing's groups or to all registered things: Device Defender ignores its reports",
      remedy: 'npm run gg -- setup-defender --group <group> (or --all-things)',
    };
  }
  return { name, ok: true, detail: profiles.join(', ') };
}

/** Only a profile with ML Detect behaviors has models to train: a rules-only profile is not asked about them. */
async function hasMlBehaviors(session: Session, securityProfileName: string): Promise<boolean> {
  try {
    const profile = await session.aws.iot(new DescribeSecurityProfileCommand({ securityProfileName }));
    return (profile?.behaviors ?? []).some((behavior) => behavior.criteria?.mlDetectionConfig !== undefined);
  } catch (error) {
    // Detached and deleted since it was listed: nothing of it to train.
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * ML Detect's model per behavior (GetBehaviorModelTrainingSummaries): PENDING_BUILD while it collects 14 days and
 * 25,000 datapoints, ACTIVE once it alarms, EXPIRED when the data never sufficed and the model was dropped.
 */
async function checkMlTraining(session: Session, profiles: readonly string[]): Promise<CheckResult | undefined> {
  const name = 'ML Detect models trained';
  const lines: string[] = [];
  let expired = false;
  for (const securityProfileName of profiles) {
    if (!(await hasMlBehaviors(session, securityProfileName))) continue;
    const summaries = await allPages(
      (nextToken) => session.aws.iot(new GetBehaviorModelTrainingSummariesCommand({ securityProfileName, nextToken })),
      (page) => page.summaries,
    );
    for (const summary of summaries) {
      const status = summary.modelStatus ?? 'UNKNOWN';
      if (status === 'EXPIRED') expired = true;
      const collected = summary.datapointsCollectionPercentage;
      const details = [
        collected !== undefined ? `${Math.round(collected)}% of the training datapoints` : undefined,
        summary.trainingDataCollectionStartDate ? `collecting since ${summary.trainingDataCollectionStartDate.toISOString()}` : undefined,
        summary.lastModelRefreshDate ? `refreshed ${summary.lastModelRefreshDate.toISOString()}` : undefined,
      ].filter((detail) => detail !== undefined);
      lines.push(`${securityProfileName}/${summary.behaviorName ?? '?'} ${status}${details.length ? ` (${details.join(', ')})` : ''}`);
    }
  }
  if (lines.length === 0) return undefined;
  return {
    name,
    ok: !expired,
    detail: lines.join('; '),
    ...(expired
      ? {
          remedy:
            'an EXPIRED model never got 25,000 datapoints in 14 days: report more often (intervalSeconds) or cover more devices, then update the profile to train again',
        }
      : {}),
  };
}

async function checkCustomMetrics(session: Session, settings: AgentSettings): Promise<CheckResult> {
  const name = 'custom metrics registered';
  const metrics = customMetricsOf(settings);
  if (Object.keys(metrics).length === 0) return { name, ok: true, detail: 'none configured' };
  const problems: string[] = [];
  for (const [metric, spec] of Object.entries(metrics)) {
    const check = await checkCustomMetric(session, metric, spec);
    if (check.state === 'missing') problems.push(`${metric} is not registered`);
    if (check.state === 'wrong-type') problems.push(`${metric} is ${check.actual}, the agent sends ${check.expected}`);
  }
  if (problems.length) {
    return {
      name,
      ok: false,
      detail: problems.join('; '),
      remedy: 'npm run gg -- setup-defender with the same --custom-metric flags (a wrong type needs the metric deleted or renamed)',
    };
  }
  return { name, ok: true, detail: Object.keys(metrics).join(', ') };
}

export async function doctorCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('doctor', argv, { ...COMMON_OPTIONS, thing: { type: 'string' }, 'config-json': { type: 'string' } });
  const thingName = nameFlag('thing', flags.thing);
  if (!thingName) throw new UsageError('doctor needs --thing');
  const givenSettings = flags['config-json'] !== undefined ? settingsFromConfigJson(flags['config-json']) : undefined;

  const session = await openSession(deps, flags);
  const arns = await session.arns();
  const settings = givenSettings ?? (await deployedSettings(session, thingName));
  const profileNames: string[] = [];
  const results = [
    await checkCoreDevice(session, thingName),
    await checkComponent(session, thingName),
    await checkAuthorization(session, arns, thingName, settings),
    await checkSecurityProfile(session, arns, thingName, profileNames),
    await checkCustomMetrics(session, settings),
  ];
  const mlTraining = await checkMlTraining(session, profileNames);
  if (mlTraining) results.push(mlTraining);
  const edgePublish = await checkEdgePublish(session, arns, thingName, settings);
  if (edgePublish) results.push(edgePublish);
  const logUpload = await checkLogUpload(session, thingName);
  if (logUpload) results.push(logUpload);
  if (session.aws.dryRun) {
    session.out.info('[dry-run] no check was evaluated');
    return 0;
  }
  for (const result of results) {
    session.out.info(`${result.ok ? '[ok]  ' : '[FAIL]'} ${result.name}: ${result.detail}`);
    if (result.remedy) session.out.info(`       fix: ${result.remedy}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  session.out.info(failed ? `${failed} check(s) failed` : 'all checks passed');
  return failed ? 1 : 0;
}
