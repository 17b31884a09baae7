/** `setup-defender`: custom metrics + security profile(s) + attachment, without which Device Defender ignores the reports. */
import {
  AttachSecurityProfileCommand,
  CreateSecurityProfileCommand,
  DescribeSecurityProfileCommand,
  UpdateSecurityProfileCommand,
  type Behavior,
  type ConfidenceLevel,
  type MetricToRetain,
} from '@aws-sdk/client-iot';
import { customMetricsFromFlags } from '../agent-config';
import { isConflict, isNotFound } from '../aws';
import {
  choiceFlag,
  COMMON_HELP,
  COMMON_OPTIONS,
  exactlyOne,
  integerFlag,
  nameFlag,
  numberFlag,
  parseFlags,
  roleArnFlag,
  snsTopicArnFlag,
} from '../args';
import { registerCustomMetrics } from '../custom-metrics';
import type { CliDeps } from '../deps';
import { UsageError } from '../errors';
import { quotedInput } from '../terminal-text';
import {
  behaviorNameProblems,
  CONFIDENCE_LEVELS,
  cloudSideBehaviors,
  DEFAULT_CLOUD_THRESHOLDS,
  DEFAULT_THRESHOLDS,
  defaultProfileName,
  ML_CLOUD_SIDE_METRICS,
  ML_DEVICE_SIDE_METRICS,
  ML_SOURCE,
  MlMetricError,
  mlBehaviors,
  mlProfileName,
  retainedMetrics,
  ruleBehaviors,
  snsAlertTargets,
  STATISTICS,
  suppressAlerts,
  type CloudThresholds,
  type Thresholds,
} from '../security-profile';
import { openSession, outcome, type Session } from '../session';
import { createSnsAlerts, SNS_NAME } from '../sns-alerts';
import { type ProfileBehaviors, profileBehaviors, readBehaviorsFile } from '../behaviors-file';

export const SETUP_DEFENDER_HELP = `Usage: npm run gg -- setup-defender (--group G | --all-things) [flags]

Without a security profile attached to the device, Device Defender ignores the reports. This
registers the custom metrics the agent is configured to send, creates or updates a rules security
profile (and with --ml an ML Detect profile), and attaches them to the group or to all registered things.
Re-running it updates the profiles to the flags given (their behaviors are replaced).
  --group G | --all-things       where to attach
  --behaviors-file F             the profile's behaviors from a file (CreateSecurityProfile's shape, the same
                                 file deploy --behaviors-file takes) instead of the threshold flags below;
                                 its mlDetectionConfig behaviors go to the ML profile N-ml
  --profile-name N               default: <component name>-metrics (ML profile: N-ml)
  --custom-metric name=source[:mountPoint]   repeatable; same as deploy
  --config-json '{...}'          or take customMetrics from the same JSON given to deploy
  --sns-topic-arn A --sns-role-arn R         send alarms to SNS (role lets IoT publish)
  --create-sns NAME              create SNS topic NAME and the role Device Defender assumes to publish to it
                                 (role NAME-defender-alerts), and send alarms there (instead of the two ARNs)
  --cloud-side                   also the cloud-side behaviors AWS IoT measures itself (as in AWS's Device
                                 Defender workshops): authorization-failures, messages-sent, message-size, disconnects
  --max-authorization-failures N (default ${DEFAULT_CLOUD_THRESHOLDS.authorizationFailures} per 5 minutes)
  --max-messages-sent N          (default ${DEFAULT_CLOUD_THRESHOLDS.messagesSent} per 5 minutes)
  --max-message-bytes N          (default ${DEFAULT_CLOUD_THRESHOLDS.messageBytes}, per message)
  --max-disconnects N            (default ${DEFAULT_CLOUD_THRESHOLDS.disconnects} per 5 minutes)
  --suppress-alerts BEHAVIOR     repeatable: still evaluated and listed by \`violations\`, but no SNS alert
  --ml                           also an ML Detect profile (trains on 25,000 datapoints per metric over the trailing 14 days)
  --ml-confidence LOW|MEDIUM|HIGH             (default HIGH)
  --ml-metric M                  repeatable: the metrics ML Detect watches (default: all it supports of those configured)
ML Detect supports only (${ML_SOURCE}):
  device-side: ${ML_DEVICE_SIDE_METRICS.join(', ')}
  cloud-side:  ${ML_CLOUD_SIDE_METRICS.join(', ')}
  custom metrics of type number (cpuUsage, memoryUsed, diskUsed, uptime, processCount), not list types.
  Any other --ml-metric fails before anything is created.
Thresholds (rules profile):
  --statistic S                  traffic statistic when no fixed value is given: ${STATISTICS.join(', ')} (default p99)
  --bytes-out N --bytes-in N --packets-out N --packets-in N   fixed per-${300 / 60}-minute limits instead of the statistic
  --max-listening-tcp-ports N    (default ${DEFAULT_THRESHOLDS.listeningTcpPorts})
  --max-listening-udp-ports N    (default ${DEFAULT_THRESHOLDS.listeningUdpPorts})
  --max-established-tcp-connections N   (default ${DEFAULT_THRESHOLDS.establishedTcpConnections})
  --cpu-threshold P              custom metrics of source cpuUsage, % (default ${DEFAULT_THRESHOLDS.cpuPercent})
  --memory-threshold P           custom metrics of source memoryUsed, % (default ${DEFAULT_THRESHOLDS.memoryPercent})
${COMMON_HELP}`;

const NO_PROFILE_WARNING =
  'Device Defender evaluates (and keeps) reports only of devices covered by a security profile: without one the reports are ignored.';

const OPTIONS = {
  ...COMMON_OPTIONS,
  group: { type: 'string' },
  'all-things': { type: 'boolean' },
  'profile-name': { type: 'string' },
  'custom-metric': { type: 'string', multiple: true },
  'config-json': { type: 'string' },
  'sns-topic-arn': { type: 'string' },
  'sns-role-arn': { type: 'string' },
  'create-sns': { type: 'string' },
  'cloud-side': { type: 'boolean' },
  'max-authorization-failures': { type: 'string' },
  'max-messages-sent': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  'max-disconnects': { type: 'string' },
  'suppress-alerts': { type: 'string', multiple: true },
  ml: { type: 'boolean' },
  'ml-confidence': { type: 'string' },
  'ml-metric': { type: 'string', multiple: true },
  statistic: { type: 'string' },
  'bytes-out': { type: 'string' },
  'bytes-in': { type: 'string' },
  'packets-out': { type: 'string' },
  'packets-in': { type: 'string' },
  'max-listening-tcp-ports': { type: 'string' },
  'max-listening-udp-ports': { type: 'string' },
  'max-established-tcp-connections': { type: 'string' },
  'cpu-threshold': { type: 'string' },
  'memory-threshold': { type: 'string' },
  'behaviors-file': { type: 'string' },
} as const;

type SetupFlags = ReturnType<typeof parseFlags<typeof OPTIONS>>;

const THRESHOLD_FLAGS = [
  'statistic',
  'bytes-out',
  'bytes-in',
  'packets-out',
  'packets-in',
  'max-listening-tcp-ports',
  'max-listening-udp-ports',
  'max-established-tcp-connections',
  'cpu-threshold',
  'memory-threshold',
  'ml',
] as const;

/** With --behaviors-file the file is the profile: the flags that generate behaviors would be ignored, so they are refused. */
function behaviorsFromFile(flags: SetupFlags, customMetrics: readonly string[]): ProfileBehaviors | undefined {
  const path = flags['behaviors-file'];
  if (path === undefined) return undefined;
  const clash = THRESHOLD_FLAGS.find((flag) => flags[flag] !== undefined);
  if (clash) throw new UsageError(`--${clash} does not apply with --behaviors-file: the file defines the behaviors`);
  return profileBehaviors(readBehaviorsFile(path), customMetrics);
}

function thresholdsFromFlags(flags: SetupFlags): Thresholds {
  const count = (flag: keyof SetupFlags & string): number | undefined => integerFlag(flag, flags[flag] as string | undefined, 0);
  const percent = (flag: keyof SetupFlags & string): number | undefined => numberFlag(flag, flags[flag] as string | undefined, 0, 100);
  const d = DEFAULT_THRESHOLDS;
  return {
    statistic: choiceFlag('statistic', flags.statistic, STATISTICS) ?? d.statistic,
    bytesOut: count('bytes-out'),
    bytesIn: count('bytes-in'),
    packetsOut: count('packets-out'),
    packetsIn: count('packets-in'),
    listeningTcpPorts: count('max-listening-tcp-ports') ?? d.listeningTcpPorts,
    listeningUdpPorts: count('max-listening-udp-ports') ?? d.listeningUdpPorts,
    establishedTcpConnections: count('max-established-tcp-connections') ?? d.establishedTcpConnections,
    cpuPercent: percent('cpu-threshold') ?? d.cpuPercent,
    memoryPercent: percent('memory-threshold') ?? d.memoryPercent,
  };
}

function cloudThresholdsFromFlags(flags: SetupFlags): CloudThresholds {
  const d = DEFAULT_CLOUD_THRESHOLDS;
  const cloudFlags = ['max-authorization-failures', 'max-messages-sent', 'max-message-bytes', 'max-disconnects'] as const;
  if (!flags['cloud-side'] && cloudFlags.some((flag) => flags[flag] !== undefined)) {
    throw new UsageError(`${cloudFlags.map((flag) => `--${flag}`).join(', ')} need --cloud-side`);
  }
  return {
    authorizationFailures: integerFlag('max-authorization-failures', flags['max-authorization-failures'], 0) ?? d.authorizationFailures,
    messagesSent: integerFlag('max-messages-sent', flags['max-messages-sent'], 0) ?? d.messagesSent,
    messageBytes: integerFlag('max-message-bytes', flags['max-message-bytes'], 0) ?? d.messageBytes,
    disconnects: integerFlag('max-disconnects', flags['max-disconnects'], 0) ?? d.disconnects,
  };
}

interface ProfileSpec {
  name: string;
  description: string;
  behaviors: Behavior[];
  alertTargets: ReturnType<typeof snsAlertTargets>;
  retained: MetricToRetain[] | undefined;
}

async function upsertProfile(session: Session, spec: ProfileSpec): Promise<void> {
  const { aws, out } = session;
  const body = {
    securityProfileName: spec.name,
    securityProfileDescription: spec.description,
    behaviors: spec.behaviors,
    ...(spec.alertTargets ? { alertTargets: spec.alertTargets } : {}),
    ...(spec.retained ? { additionalMetricsToRetainV2: spec.retained } : {}),
  };
  let version: number | undefined;
  try {
    version = (await aws.iot(new DescribeSecurityProfileCommand({ securityProfileName: spec.name }))).version;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await aws.iot(new CreateSecurityProfileCommand(body));
    out.info(
      outcome(
        session,
        `created security profile ${spec.name} (${spec.behaviors.length} behaviors)`,
        `create security profile ${spec.name} (${spec.behaviors.length} behaviors)`,
      ),
    );
    return;
  }
  await aws.iot(new UpdateSecurityProfileCommand({ ...body, ...(version !== undefined ? { expectedVersion: version } : {}) }));
  out.info(
    outcome(
      session,
      `updated security profile ${spec.name} (${spec.behaviors.length} behaviors)`,
      `update security profile ${spec.name} (${spec.behaviors.length} behaviors)`,
    ),
  );
}

async function attach(session: Session, profileName: string, targetArn: string): Promise<void> {
  try {
    await session.aws.iot(new AttachSecurityProfileCommand({ securityProfileName: profileName, securityProfileTargetArn: targetArn }));
    session.out.info(outcome(session, `attached ${profileName} to ${targetArn}`, `attach ${profileName} to ${targetArn}`));
  } catch (error) {
    if (!isConflict(error)) throw error;
    session.out.info(`${profileName} was already attached to ${targetArn}`);
  }
}

export async function setupDefenderCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('setup-defender', argv, OPTIONS);
  const targetKind = exactlyOne('setup-defender', { group: flags.group, 'all-things': flags['all-things'] });
  nameFlag('group', flags.group);
  const topicArnFlag = snsTopicArnFlag('sns-topic-arn', flags['sns-topic-arn']);
  const roleArn = roleArnFlag('sns-role-arn', flags['sns-role-arn']);
  if ((topicArnFlag === undefined) !== (roleArn === undefined)) {
    throw new UsageError('--sns-topic-arn and --sns-role-arn go together');
  }
  const createSns = flags['create-sns'];
  if (createSns !== undefined) {
    if (topicArnFlag !== undefined) throw new UsageError('--create-sns replaces --sns-topic-arn and --sns-role-arn: give one or the other');
    if (!SNS_NAME.test(createSns))
      throw new UsageError(`--create-sns ${quotedInput(createSns)} must be 1-40 characters of a-z A-Z 0-9 _ -`);
  }
  if (flags['ml-confidence'] !== undefined && !flags.ml) throw new UsageError('--ml-confidence needs --ml');
  if (flags['ml-metric'] !== undefined && !flags.ml) throw new UsageError('--ml-metric needs --ml');
  const confidence = choiceFlag('ml-confidence', flags['ml-confidence'], CONFIDENCE_LEVELS) ?? ('HIGH' as ConfidenceLevel);
  const thresholds = thresholdsFromFlags(flags);
  const cloudThresholds = cloudThresholdsFromFlags(flags);
  const customMetrics = customMetricsFromFlags(flags['config-json'], flags['custom-metric']);

  // Every profile is built and checked before the first request, so a bad flag creates nothing.
  const fromFile = behaviorsFromFile(flags, Object.keys(customMetrics));
  const rules = [
    ...(fromFile?.rules ?? ruleBehaviors(thresholds, customMetrics)),
    ...(flags['cloud-side'] ? cloudSideBehaviors(cloudThresholds) : []),
  ];
  let ml: Behavior[] = fromFile?.ml ?? [];
  if (flags.ml) {
    try {
      ml = mlBehaviors(confidence, customMetrics, { metrics: flags['ml-metric'], cloudSide: flags['cloud-side'] === true });
    } catch (error) {
      if (!(error instanceof MlMetricError)) throw error;
      throw new UsageError(`ML Detect cannot watch what was asked: ${error.problems.join('; ')} (supported: see --help, ${ML_SOURCE})`);
    }
  }
  const suppressed = flags['suppress-alerts'] ?? [];
  const unknown = suppressAlerts(rules, suppressed).filter((name) => !ml.some((behavior) => behavior.name === name));
  suppressAlerts(ml, suppressed);
  if (unknown.length) {
    throw new UsageError(
      `--suppress-alerts names no behavior of the profiles: ${unknown.join(', ')} (behaviors: ${[...rules, ...ml].map((b) => b.name).join(', ')})`,
    );
  }
  const nameProblems = [...behaviorNameProblems(rules), ...behaviorNameProblems(ml)];
  if (nameProblems.length) throw new UsageError(`${nameProblems.join('; ')}: use shorter custom metric names`);

  const session = await openSession(deps, flags);
  const { out, identity } = session;
  const profileName = nameFlag('profile-name', flags['profile-name']) ?? defaultProfileName(identity.name);
  out.info(NO_PROFILE_WARNING);
  const arns = await session.arns();
  const targetArn = targetKind === 'group' ? arns.thingGroup(flags.group!) : arns.allRegisteredThings();

  if (fromFile?.unregisteredCustomMetrics.length) {
    out.info(
      `the behaviors file watches custom metrics not given here: ${fromFile.unregisteredCustomMetrics.join(', ')}; they must be registered ` +
        'already, or give them with --custom-metric or --config-json as for deploy',
    );
  }
  if (Object.keys(customMetrics).length === 0) {
    out.info('no custom metrics given (--custom-metric / --config-json): only the built-in metrics are watched');
  }
  const sns = createSns !== undefined ? await createSnsAlerts(session, arns, createSns) : undefined;
  await registerCustomMetrics(session, customMetrics);

  const alertTargets = snsAlertTargets(sns?.topicArn ?? topicArnFlag, sns?.roleArn ?? roleArn);
  const profiles: ProfileSpec[] = [
    {
      name: profileName,
      description: `Rules for the metrics ${identity.name} reports`,
      behaviors: rules,
      alertTargets,
      retained: retainedMetrics(rules, customMetrics),
    },
  ];
  if (ml.length > 0) {
    profiles.push({
      name: mlProfileName(profileName),
      description: `ML Detect for the metrics ${identity.name} reports`,
      behaviors: ml,
      alertTargets,
      retained: undefined,
    });
  }
  for (const profile of profiles) {
    await upsertProfile(session, profile);
    await attach(session, profile.name, targetArn);
  }
  if (flags.ml)
    out.info(
      'ML Detect trains on 25,000 datapoints per metric over the trailing 14 days before it raises alarms (training status: npm run gg -- doctor)',
    );
  out.info(`done: see alarms with npm run gg -- violations --profile ${profileName}`);
  return 0;
}
