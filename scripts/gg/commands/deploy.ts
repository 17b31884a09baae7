/** `deploy`: put the component (gdk-config version) on a core device or thing group, keeping everything else deployed there. */
import {
  DescribeComponentCommand,
  type ComponentDeploymentSpecification,
  type DeploymentIoTJobConfiguration,
  type DeploymentPolicies,
} from '@aws-sdk/client-greengrassv2';
import { REPORT_FORMATS, THING_NAME_VARIABLE } from '../../../src/component/definition';
import {
  ACCESS_CONTROL_KEY,
  assertDeviceAccepts,
  buildConfigurationMerge,
  parseCustomMetricFlag,
  settingsFromConfigJson,
  settingsFromMerge,
  type AgentSettings,
} from '../agent-config';
import { isNotFound } from '../aws';
import { choiceFlag, COMMON_HELP, COMMON_OPTIONS, exactlyOne, integerFlag, nameFlag, numberFlag, parseFlags } from '../args';
import { describeEdgeBehaviors, readBehaviorsFile } from '../behaviors-file';
import { checkInterval, MAX_JOB_TIMEOUT_MINUTES, MAX_UPDATE_TIMEOUT_SECONDS, resetPlan } from '../deploy-checks';
import { createRevision, describeKept, readCurrentDeployment } from '../deployment';
import { explainFeaturePermissions, staleAccessControlReset } from '../edge-permissions';
import {
  LOG_MANAGER,
  LOG_UPLOAD_HELP,
  LOG_UPLOAD_OPTIONS,
  logManagerEntry,
  logUploadPermissionsNote,
  parseLogUploadFlags,
} from '../log-manager';
import type { CliDeps } from '../deps';
import { CliError, UsageError } from '../errors';
import { requireFixedVersion } from '../project';
import { EXIT_CODES_HELP, exitCodeOf } from '../exit-codes';
import { FAILURES_NAMED } from '../fleet-wait';
import { openSession, type Session } from '../session';
import { DEFAULT_DEADLINE_SECONDS, DEFAULT_POLL_SECONDS, followCoreDevice, followThingGroup } from './status';

export const DEPLOY_HELP = `Usage: npm run gg -- deploy (--thing T | --group G) [flags]

Read-modify-write of the target's deployment: keeps every other component and the current policies,
sets this component at the gdk-config.json version, and merges the agent configuration plus the
least-privilege accessControl for the device's Device Defender topics.
Target:
  --thing T                  one core device
  --group G                  a thing group (policy uses {iot:thingName}: needs nucleus >= 2.6.0 with
                             interpolateComponentConfiguration: true, see the printed caveat)
Agent configuration (merged into the device's configuration):
  --config-json '{...}'      any of the component's configuration keys
  --interval N               intervalSeconds
  --format json|cbor         report encoding
  --short-names              shortNames: true
  --custom-metric name=source[:mountPoint]   repeatable, e.g. cpu=cpuUsage, rootfs=diskUsed:/
  (keys set by earlier deploys stay unless reset:)
  --reset KEY                put KEY (or customMetrics/NAME) back to the recipe default; repeatable
  --reset-config             reset the whole configuration: only what this deploy's flags say stays
  --behaviors-file F         behaviors (CreateSecurityProfile's shape, same file as setup-defender) evaluated on
                             the device; statisticalThreshold and ML ones are left out (cloud only). accessControl
                             for alarms, the metrics sink and the bytes-out drill is merged only when they are on
Deployment policies:
  --failure-handling ROLLBACK|DO_NOTHING     (default ROLLBACK)
  --component-update-action NOTIFY_COMPONENTS|SKIP_NOTIFY_COMPONENTS
  --component-update-timeout N               seconds components may delay the update (1 to 2147483647)
  --config-validation-timeout N              seconds components have to validate the configuration (1 to 2147483647)
IoT job rollout (thing groups; the current settings stay, a flag changes only its own field;
defaults only apply to groups without job settings):
  --rollout-base-rate N          things notified per minute at start (default 5)
  --rollout-increment-factor F   rate multiplier (default 2)
  --rollout-succeeded-things N   succeeded things before each increase (default 5)
  --rollout-max-per-minute N     ceiling (default 50)
  --abort-threshold-percent P    cancel when P% of executions fail (default 10)
  --abort-min-executed N         ...after at least N executions (default 5)
  --job-timeout-minutes M        in-progress timeout per device, 1 to 10080 (default 60)
${LOG_UPLOAD_HELP}
Waiting:
  --wait                     follow the deployment on each core device (as \`status\`)
  --deadline-seconds N       how long to wait (default ${DEFAULT_DEADLINE_SECONDS})
  --poll-seconds N           seconds between polls (default ${DEFAULT_POLL_SECONDS})
  --wait-report FILE         with --group: write every thing's final state to FILE (thing, state, detail per line);
                             the printed summary counts states and names at most ${FAILURES_NAMED} failed cores
${EXIT_CODES_HELP}
${COMMON_HELP}`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  thing: { type: 'string' },
  group: { type: 'string' },
  wait: { type: 'boolean' },
  'deadline-seconds': { type: 'string' },
  'poll-seconds': { type: 'string' },
  'wait-report': { type: 'string' },
  'config-json': { type: 'string' },
  interval: { type: 'string' },
  format: { type: 'string' },
  'short-names': { type: 'boolean' },
  'custom-metric': { type: 'string', multiple: true },
  reset: { type: 'string', multiple: true },
  'reset-config': { type: 'boolean' },
  'failure-handling': { type: 'string' },
  'component-update-action': { type: 'string' },
  'component-update-timeout': { type: 'string' },
  'config-validation-timeout': { type: 'string' },
  'rollout-base-rate': { type: 'string' },
  'rollout-increment-factor': { type: 'string' },
  'rollout-succeeded-things': { type: 'string' },
  'rollout-max-per-minute': { type: 'string' },
  'abort-threshold-percent': { type: 'string' },
  'abort-min-executed': { type: 'string' },
  'job-timeout-minutes': { type: 'string' },
  ...LOG_UPLOAD_OPTIONS,
  'behaviors-file': { type: 'string' },
} as const;

type DeployFlags = ReturnType<typeof parseFlags<typeof OPTIONS>>;

const GROUP_POLICY_CAVEAT =
  `caveat: for a thing group the accessControl names ${THING_NAME_VARIABLE}. The nucleus substitutes it only when it is >= 2.6.0 ` +
  'with interpolateComponentConfiguration: true in its configuration; otherwise the policy is literal and every publish is ' +
  'denied. Enable interpolation on the nucleus, or deploy per thing (--thing) instead.';

const DEFAULT_ROLLOUT = { baseRatePerMinute: 5, incrementFactor: 2, numberOfSucceededThings: 5, maximumPerMinute: 50 };
const DEFAULT_ABORT = { thresholdPercentage: 10, minNumberOfExecutedThings: 5 };
const DEFAULT_JOB_TIMEOUT_MINUTES = 60;

/** The agent keys of this deploy: --config-json first, then the dedicated flags on top. */
function settingsFromFlags(
  flags: Pick<DeployFlags, 'config-json' | 'interval' | 'format' | 'short-names' | 'custom-metric'>,
): AgentSettings {
  const settings = flags['config-json'] !== undefined ? settingsFromConfigJson(flags['config-json']) : {};
  const interval = integerFlag('interval', flags.interval, 1);
  if (interval !== undefined) settings.intervalSeconds = interval;
  const format = choiceFlag('format', flags.format, REPORT_FORMATS);
  if (format !== undefined) settings.format = format;
  if (flags['short-names']) settings.shortNames = true;
  if (flags['custom-metric']?.length) {
    const existing = (settings.customMetrics ?? {}) as Record<string, unknown>;
    settings.customMetrics = { ...existing, ...Object.fromEntries(flags['custom-metric'].map(parseCustomMetricFlag)) };
  }
  return settings;
}

interface PolicyFlags {
  failureHandling: 'ROLLBACK' | 'DO_NOTHING' | undefined;
  updateAction: 'NOTIFY_COMPONENTS' | 'SKIP_NOTIFY_COMPONENTS' | undefined;
  updateTimeout: number | undefined;
  validationTimeout: number | undefined;
}

function parsePolicyFlags(flags: DeployFlags): PolicyFlags {
  return {
    failureHandling: choiceFlag('failure-handling', flags['failure-handling'], ['ROLLBACK', 'DO_NOTHING'] as const),
    updateAction: choiceFlag('component-update-action', flags['component-update-action'], [
      'NOTIFY_COMPONENTS',
      'SKIP_NOTIFY_COMPONENTS',
    ] as const),
    updateTimeout: integerFlag('component-update-timeout', flags['component-update-timeout'], 1, MAX_UPDATE_TIMEOUT_SECONDS),
    validationTimeout: integerFlag('config-validation-timeout', flags['config-validation-timeout'], 1, MAX_UPDATE_TIMEOUT_SECONDS),
  };
}

/** Flags win over the current deployment's policies; failure handling defaults to ROLLBACK. */
function deploymentPolicies(given: PolicyFlags, current: DeploymentPolicies | undefined): DeploymentPolicies {
  const policies: DeploymentPolicies = {
    ...current,
    failureHandlingPolicy: given.failureHandling ?? current?.failureHandlingPolicy ?? 'ROLLBACK',
  };
  if (given.updateAction !== undefined || given.updateTimeout !== undefined) {
    policies.componentUpdatePolicy = {
      ...current?.componentUpdatePolicy,
      ...(given.updateAction !== undefined ? { action: given.updateAction } : {}),
      ...(given.updateTimeout !== undefined ? { timeoutInSeconds: given.updateTimeout } : {}),
    };
  }
  if (given.validationTimeout !== undefined) policies.configurationValidationPolicy = { timeoutInSeconds: given.validationTimeout };
  return policies;
}

interface JobFlags {
  rollout: { baseRatePerMinute?: number; incrementFactor?: number; numberOfSucceededThings?: number; maximumPerMinute?: number };
  abort: { thresholdPercentage?: number; minNumberOfExecutedThings?: number };
  timeoutMinutes: number | undefined;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function parseJobFlags(flags: DeployFlags): JobFlags {
  return {
    rollout: definedOnly({
      baseRatePerMinute: integerFlag('rollout-base-rate', flags['rollout-base-rate'], 1, 1000),
      incrementFactor: numberFlag('rollout-increment-factor', flags['rollout-increment-factor'], 1.1, 5),
      numberOfSucceededThings: integerFlag('rollout-succeeded-things', flags['rollout-succeeded-things'], 1),
      maximumPerMinute: integerFlag('rollout-max-per-minute', flags['rollout-max-per-minute'], 1, 1000),
    }),
    abort: definedOnly({
      thresholdPercentage: numberFlag('abort-threshold-percent', flags['abort-threshold-percent'], 0, 100),
      minNumberOfExecutedThings: integerFlag('abort-min-executed', flags['abort-min-executed'], 1),
    }),
    timeoutMinutes: integerFlag('job-timeout-minutes', flags['job-timeout-minutes'], 1, MAX_JOB_TIMEOUT_MINUTES),
  };
}

/** Flags win; then the current deployment's settings; the defaults fill in only for groups. */
function iotJobConfiguration(
  given: JobFlags,
  current: DeploymentIoTJobConfiguration | undefined,
  isGroup: boolean,
): DeploymentIoTJobConfiguration | undefined {
  const result: DeploymentIoTJobConfiguration = { ...current };
  if (Object.keys(given.rollout).length || (isGroup && !current?.jobExecutionsRolloutConfig)) {
    const now = current?.jobExecutionsRolloutConfig;
    const rate = now?.exponentialRate;
    // A flag changes its own field only: the rest comes from the current deployment, then the defaults.
    const r = {
      ...DEFAULT_ROLLOUT,
      ...definedOnly({
        baseRatePerMinute: rate?.baseRatePerMinute,
        incrementFactor: rate?.incrementFactor,
        numberOfSucceededThings: rate?.rateIncreaseCriteria?.numberOfSucceededThings,
        maximumPerMinute: now?.maximumPerMinute,
      }),
      ...given.rollout,
    };
    result.jobExecutionsRolloutConfig = {
      exponentialRate: {
        baseRatePerMinute: r.baseRatePerMinute,
        incrementFactor: r.incrementFactor,
        rateIncreaseCriteria: { numberOfSucceededThings: r.numberOfSucceededThings },
      },
      maximumPerMinute: r.maximumPerMinute,
    };
  }
  if (Object.keys(given.abort).length || (isGroup && !current?.abortConfig)) {
    const criteria = current?.abortConfig?.criteriaList ?? [];
    const all = criteria.find((c) => c.failureType === 'ALL');
    const a = {
      ...DEFAULT_ABORT,
      ...definedOnly({ thresholdPercentage: all?.thresholdPercentage, minNumberOfExecutedThings: all?.minNumberOfExecutedThings }),
      ...given.abort,
    };
    // Criteria for other failure types (FAILED, REJECTED, TIMED_OUT) stay as they are.
    result.abortConfig = {
      criteriaList: [
        ...criteria.filter((c) => c.failureType !== 'ALL'),
        {
          failureType: 'ALL',
          action: 'CANCEL',
          thresholdPercentage: a.thresholdPercentage,
          minNumberOfExecutedThings: a.minNumberOfExecutedThings,
        },
      ],
    };
  }
  if (given.timeoutMinutes !== undefined || (isGroup && !current?.timeoutConfig)) {
    result.timeoutConfig = { inProgressTimeoutInMinutes: given.timeoutMinutes ?? DEFAULT_JOB_TIMEOUT_MINUTES };
  }
  return Object.keys(result).length ? result : undefined;
}

async function requireDeployable(session: Session, componentVersionArn: string): Promise<void> {
  const { name, version } = session.identity;
  try {
    const component = await session.aws.greengrass(new DescribeComponentCommand({ arn: componentVersionArn }));
    const state = component.status?.componentState;
    if (state !== 'DEPLOYABLE') {
      throw new CliError(
        `${name} ${version} is ${state ?? 'in an unknown state'}, not DEPLOYABLE`,
        'wait for publish to finish, or publish a new version',
      );
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
    if (session.aws.dryRun) return;
    throw new CliError(
      `${name} ${version} is not published in ${session.aws.region}`,
      'run `npm run gg -- publish` first (or set the published version in gdk-config.json)',
    );
  }
}

export async function deployCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('deploy', argv, OPTIONS);
  const targetKind = exactlyOne('deploy', { thing: flags.thing, group: flags.group });
  const targetName = nameFlag(targetKind, targetKind === 'thing' ? flags.thing : flags.group)!;
  const isGroup = targetKind === 'group';
  const settings = settingsFromFlags(flags);
  const reset = resetPlan(flags.reset ?? [], flags['reset-config'] === true, settings);
  const behaviors = flags['behaviors-file'] !== undefined ? readBehaviorsFile(flags['behaviors-file']) : undefined;
  if (behaviors) settings.behaviors = behaviors.edge;
  const policyFlags = parsePolicyFlags(flags);
  const jobFlags = parseJobFlags(flags);
  const logUpload = parseLogUploadFlags(flags);
  const deadlineSeconds = integerFlag('deadline-seconds', flags['deadline-seconds'], 1) ?? DEFAULT_DEADLINE_SECONDS;
  const pollSeconds = integerFlag('poll-seconds', flags['poll-seconds'], 1) ?? DEFAULT_POLL_SECONDS;
  if (
    !flags.wait &&
    (flags['deadline-seconds'] !== undefined || flags['poll-seconds'] !== undefined || flags['wait-report'] !== undefined)
  ) {
    throw new UsageError('--deadline-seconds, --poll-seconds and --wait-report only apply with --wait');
  }
  if (flags['wait-report'] !== undefined && !isGroup)
    throw new UsageError('--wait-report applies to --group (one thing prints its own state)');

  const session = await openSession(deps, flags);
  const { out, identity } = session;
  requireFixedVersion(identity);
  const arns = await session.arns();
  const targetArn = isGroup ? arns.thingGroup(targetName) : arns.thing(targetName);
  await requireDeployable(session, arns.componentVersion(identity.name, identity.version));

  const current = await readCurrentDeployment(session, targetArn);
  out.info(describeKept(current, identity.name));
  const previous = current?.components[identity.name];
  // Keys set by earlier deploys stay in the document so devices that join a group later get them too.
  const { [ACCESS_CONTROL_KEY]: _ignored, ...kept } = settingsFromMerge(previous?.configurationUpdate?.merge) as Record<string, unknown>;
  const configuration = { ...reset.keep(kept), ...settings };
  checkInterval(configuration);
  assertDeviceAccepts(configuration);
  const merge = buildConfigurationMerge(identity.name, configuration, isGroup ? undefined : targetName);
  explainFeaturePermissions(out, arns, identity.name, configuration, isGroup ? undefined : targetName);
  const resetPaths = reset.paths.includes('')
    ? reset.paths
    : [...reset.paths, ...staleAccessControlReset(previous?.configurationUpdate?.merge, merge)];
  if (isGroup && !settings.thingName) out.info(GROUP_POLICY_CAVEAT);
  if (behaviors) out.info(describeEdgeBehaviors(behaviors));
  const logManager: Record<string, ComponentDeploymentSpecification> = logUpload
    ? { [LOG_MANAGER]: await logManagerEntry(session, arns, current?.components[LOG_MANAGER], logUpload) }
    : {};

  const deploymentId = await createRevision(session, {
    targetArn,
    deploymentName: current?.deploymentName ?? `${identity.name} on ${targetKind} ${targetName}`,
    components: {
      ...current?.components,
      [identity.name]: {
        componentVersion: identity.version,
        configurationUpdate: { merge, ...(resetPaths.length ? { reset: resetPaths } : {}) },
        ...(previous?.runWith ? { runWith: previous.runWith } : {}),
      },
      ...logManager,
    },
    deploymentPolicies: deploymentPolicies(policyFlags, current?.deploymentPolicies),
    iotJobConfiguration: iotJobConfiguration(jobFlags, current?.iotJobConfiguration, isGroup),
    tags: current?.tags,
  });
  if (logUpload) out.info(logUploadPermissionsNote(arns, identity.name));
  if (session.aws.dryRun) {
    out.info('[dry-run] no deployment was created');
    if (!flags.wait) return 0;
  } else {
    out.info(`created deployment ${deploymentId}: ${identity.name} ${identity.version} on ${targetArn}`);
  }
  if (!flags.wait) {
    out.info(`follow it with: npm run gg -- status --thing ${isGroup ? '<core device>' : targetName} --deployment-id ${deploymentId}`);
    return 0;
  }
  const deadlineAt = session.now().getTime() + deadlineSeconds * 1000;
  const outcome = isGroup
    ? await followThingGroup(session, targetName, deploymentId, deadlineAt, pollSeconds * 1000, flags['wait-report'])
    : await followCoreDevice(session, { thingName: targetName, deploymentId, deadlineAt, pollMs: pollSeconds * 1000 });
  return exitCodeOf(outcome);
}
