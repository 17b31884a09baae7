/**
 * Greengrass's log manager (`aws.greengrass.LogManager`) uploads component logs to CloudWatch Logs. This
 * file holds what the operator tool needs to know about it: the configuration merge that adds this
 * component's log, the log group and stream names it writes, and the permissions the core needs.
 *
 * Source: "Log manager" in the AWS IoT Greengrass V2 Developer Guide,
 * https://docs.aws.amazon.com/greengrass/v2/developerguide/log-manager-component.html
 * (sections Requirements, Configuration and Usage), and the component's source,
 * https://github.com/aws-greengrass/aws-greengrass-log-manager (CloudWatchAttemptLogsProcessor.java).
 */
import { ListComponentVersionsCommand, type ComponentDeploymentSpecification } from '@aws-sdk/client-greengrassv2';
import { choiceFlag, integerFlag } from './args';
import { type Arns, partitionFor } from './aws';
import { CliError, UsageError } from './errors';
import { quotedInput } from './terminal-text';
import type { Session } from './session';
import { describeError } from '../../src/util/describe-error';

export const LOG_MANAGER = 'aws.greengrass.LogManager';

/**
 * Levels in the documented order. The filter applies only to lines in Greengrass's JSON log format, i.e. when
 * the nucleus runs with `logging.format: JSON` (it then writes stdout lines at INFO and stderr lines at WARN);
 * text lines are uploaded whatever this says.
 */
const LOG_MANAGER_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
type LogManagerLevel = (typeof LOG_MANAGER_LEVELS)[number];

/** The log manager's own default is 300 s; a minute keeps `gg logs --follow` close to the core at one PutLogEvents a minute. */
const DEFAULT_UPLOAD_PERIOD_SECONDS = 60;
const DEFAULT_MINIMUM_LEVEL: LogManagerLevel = 'INFO';

export interface LogUploadSettings {
  /** Undefined: keep the period already deployed, else the default. */
  periodSeconds: number | undefined;
  /** Undefined: keep the level already set for this component, else the default. */
  minimumLevel: LogManagerLevel | undefined;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMerge(merge: string | undefined): Json {
  if (merge === undefined || merge.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(merge);
  } catch (error) {
    throw new CliError(
      `the deployed ${LOG_MANAGER} configuration merge is not JSON (${describeError(error)})`,
      `fix or remove ${LOG_MANAGER}'s configuration in the deployment (console or CLI), then run deploy again`,
    );
  }
  if (!isRecord(parsed)) throw new CliError(`the deployed ${LOG_MANAGER} configuration merge is not a JSON object`);
  return parsed;
}

/**
 * Component log settings: the map form (log manager >= 2.2.0) unless the deployment already uses the
 * older list form, which is then kept so that one document never mixes the two.
 */
function withComponentEntry(uploader: Json, componentName: string, minimumLevel: LogManagerLevel | undefined): Json {
  const list = uploader.componentLogsConfiguration;
  if (Array.isArray(list)) {
    const index = list.findIndex((entry) => isRecord(entry) && entry.componentName === componentName);
    const previous = index >= 0 ? (list[index] as Json) : { componentName };
    const entry = { ...previous, minimumLogLevel: minimumLevel ?? previous.minimumLogLevel ?? DEFAULT_MINIMUM_LEVEL };
    const next = [...list];
    if (index >= 0) next[index] = entry;
    else next.push(entry);
    return { ...uploader, componentLogsConfiguration: next };
  }
  const map = isRecord(uploader.componentLogsConfigurationMap) ? uploader.componentLogsConfigurationMap : {};
  const previous = isRecord(map[componentName]) ? (map[componentName] as Json) : {};
  const entry = { ...previous, minimumLogLevel: minimumLevel ?? previous.minimumLogLevel ?? DEFAULT_MINIMUM_LEVEL };
  return { ...uploader, componentLogsConfigurationMap: { ...map, [componentName]: entry } };
}

/**
 * The log manager's `configurationUpdate.merge` with this component's log added: everything already there
 * (system logs, other components' entries, their levels) is kept. Values are strings, as the documented
 * examples write them.
 */
export function logManagerMerge(currentMerge: string | undefined, componentName: string, settings: LogUploadSettings): string {
  const document = parseMerge(currentMerge);
  const uploader = isRecord(document.logsUploaderConfiguration) ? document.logsUploaderConfiguration : {};
  const period = settings.periodSeconds ?? document.periodicUploadIntervalSec ?? DEFAULT_UPLOAD_PERIOD_SECONDS;
  return JSON.stringify({
    ...document,
    logsUploaderConfiguration: withComponentEntry(uploader, componentName, settings.minimumLevel),
    periodicUploadIntervalSec: String(period),
  });
}

/** The log manager entry of a deployment: its current version (or `version` when new) and the merged configuration. */
export function logManagerSpecification(
  current: ComponentDeploymentSpecification | undefined,
  version: string,
  componentName: string,
  settings: LogUploadSettings,
): ComponentDeploymentSpecification {
  return {
    ...current,
    componentVersion: current?.componentVersion ?? version,
    configurationUpdate: {
      ...current?.configurationUpdate,
      merge: logManagerMerge(current?.configurationUpdate?.merge, componentName, settings),
    },
  };
}

/** A JSON pointer segment (RFC 6901): `~` and `/` escaped. */
function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The log manager entry without this component's log: the merge loses the entry, and `reset` takes it off the core
 * too (a merge only adds; what a core already holds stays until reset). The list form is a value the merge replaces
 * whole, so the shorter list is enough. Undefined when the entry holds nothing for the component.
 */
export function logManagerWithout(
  current: ComponentDeploymentSpecification,
  componentName: string,
): ComponentDeploymentSpecification | undefined {
  const document = parseMerge(current.configurationUpdate?.merge);
  const uploader = isRecord(document.logsUploaderConfiguration) ? document.logsUploaderConfiguration : undefined;
  if (!uploader) return undefined;
  const list = uploader.componentLogsConfiguration;
  const map = uploader.componentLogsConfigurationMap;
  const inList = Array.isArray(list) && list.some((entry) => isRecord(entry) && entry.componentName === componentName);
  const inMap = isRecord(map) && componentName in map;
  if (!inList && !inMap) return undefined;
  const next: Json = { ...uploader };
  const reset = [...(current.configurationUpdate?.reset ?? [])];
  if (inList) next.componentLogsConfiguration = list.filter((entry) => !(isRecord(entry) && entry.componentName === componentName));
  if (inMap) {
    const { [componentName]: _removed, ...others } = map;
    next.componentLogsConfigurationMap = others;
    const pointer = `/logsUploaderConfiguration/componentLogsConfigurationMap/${pointerSegment(componentName)}`;
    if (!reset.includes(pointer)) reset.push(pointer);
  }
  return {
    ...current,
    configurationUpdate: {
      ...current.configurationUpdate,
      merge: JSON.stringify({ ...document, logsUploaderConfiguration: next }),
      ...(reset.length ? { reset } : {}),
    },
  };
}

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

function compareVersions(a: string, b: string): number {
  const pa = SEMVER.exec(a)!.slice(1).map(Number);
  const pb = SEMVER.exec(b)!.slice(1).map(Number);
  for (let i = 0; i < 3; i += 1) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

const DRY_RUN_LOG_MANAGER_VERSION = '<newest public version>';

/** The newest public version of the log manager in the session's region (public components belong to account `aws`). */
async function newestLogManagerVersion(session: Session, arns: Arns): Promise<string> {
  const arn = arns.component(LOG_MANAGER).replace(`:${arns.account}:`, ':aws:');
  const versions: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await session.aws.greengrass(new ListComponentVersionsCommand({ arn, nextToken }));
    for (const item of page.componentVersions ?? []) {
      if (item.componentVersion && SEMVER.test(item.componentVersion)) versions.push(item.componentVersion);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  if (session.aws.dryRun) return DRY_RUN_LOG_MANAGER_VERSION;
  const newest = versions.sort(compareVersions).at(-1);
  if (!newest) {
    throw new CliError(
      `no public version of ${LOG_MANAGER} was found in ${session.aws.region}`,
      'pass --log-manager-version with the version to deploy (see the Greengrass console, Public components)',
    );
  }
  return newest;
}

/** `/aws/greengrass/UserComponent/<region>/<component>`: generic components are user components. */
export function componentLogGroup(region: string, componentName: string): string {
  return `/aws/greengrass/UserComponent/${region}/${componentName}`;
}

/** `yyyy/MM/dd` of a UTC date, as the log manager names a day's stream. */
function streamDate(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, '/');
}

/** `/<yyyy/MM/dd>/thing/<thing>`, the day taken in UTC and `:` written as `+` (stream names may not contain `:`). */
export function thingLogStream(day: Date, thingName: string): string {
  return `${dayStreamPrefix(day)}${thingName.replace(/:/g, '+')}`;
}

/** The prefix every core's stream of that day starts with. */
export function dayStreamPrefix(day: Date): string {
  return `/${streamDate(day)}/thing/`;
}

/** The thing whose stream this is (undefined for a stream the log manager did not name). */
export function thingOfStream(streamName: string): string | undefined {
  const match = /^\/\d{4}\/\d{2}\/\d{2}\/thing\/(.+)$/.exec(streamName);
  return match ? match[1]!.replace(/\+/g, ':') : undefined;
}

const DAY_MS = 86_400_000;

/** The UTC days whose streams can hold events between the two instants, oldest first. */
export function daysBetween(startMs: number, endMs: number): Date[] {
  const days: Date[] = [];
  for (let day = Math.floor(startMs / DAY_MS) * DAY_MS; day <= endMs; day += DAY_MS) days.push(new Date(day));
  return days;
}

export const LOG_UPLOAD_ACTIONS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'];

/** The IAM statement the core's token exchange role needs for this component's log group, as one JSON line. */
export function tokenExchangeRoleStatement(arns: Arns, componentName: string): string {
  const group = `arn:${partitionFor(arns.region)}:logs:${arns.region}:${arns.account}:log-group:${componentLogGroup(arns.region, componentName)}`;
  return JSON.stringify({ Effect: 'Allow', Action: LOG_UPLOAD_ACTIONS, Resource: [group, `${group}:*`] });
}

/** `deploy` flags that add this component's log to the log manager. */
export const LOG_UPLOAD_OPTIONS = {
  'upload-logs': { type: 'boolean' },
  'log-upload-seconds': { type: 'string' },
  'log-upload-level': { type: 'string' },
  'log-manager-version': { type: 'string' },
} as const;

export const LOG_UPLOAD_HELP = `Log upload to CloudWatch Logs (read them with \`npm run gg -- logs\`):
  --upload-logs              add or update ${LOG_MANAGER} in the deployment so this component's log is uploaded
                             (its other settings and other components' log settings are kept)
  --log-upload-seconds N     periodicUploadIntervalSec (default: as deployed, else ${DEFAULT_UPLOAD_PERIOD_SECONDS})
  --log-upload-level L       minimumLogLevel for this component: ${LOG_MANAGER_LEVELS.join(', ')} (default: as deployed,
                             else ${DEFAULT_MINIMUM_LEVEL}; applies only when the nucleus logs in JSON format)
  --log-manager-version V    version when ${LOG_MANAGER} is not deployed yet (default: the newest public one)`;

interface LogUploadFlags {
  'upload-logs'?: boolean | undefined;
  'log-upload-seconds'?: string | undefined;
  'log-upload-level'?: string | undefined;
  'log-manager-version'?: string | undefined;
}

export interface LogUploadRequest extends LogUploadSettings {
  version: string | undefined;
}

/** Undefined without --upload-logs; the other log flags need it. */
export function parseLogUploadFlags(flags: LogUploadFlags): LogUploadRequest | undefined {
  const given = ['log-upload-seconds', 'log-upload-level', 'log-manager-version'] as const;
  if (!flags['upload-logs']) {
    const stray = given.find((flag) => flags[flag] !== undefined);
    if (stray) throw new UsageError(`--${stray} only applies with --upload-logs`);
    return undefined;
  }
  const version = flags['log-manager-version'];
  if (version !== undefined && !SEMVER.test(version))
    throw new UsageError(`--log-manager-version must look like 2.3.7 (got ${quotedInput(version)})`);
  return {
    periodSeconds: integerFlag('log-upload-seconds', flags['log-upload-seconds'], 1, 86_400),
    minimumLevel: choiceFlag('log-upload-level', flags['log-upload-level']?.toUpperCase(), LOG_MANAGER_LEVELS),
    version,
  };
}

/** The log manager's entry for the new revision, with what changes said on the output. */
export async function logManagerEntry(
  session: Session,
  arns: Arns,
  current: ComponentDeploymentSpecification | undefined,
  request: LogUploadRequest,
): Promise<ComponentDeploymentSpecification> {
  const version = current?.componentVersion ?? request.version ?? (await newestLogManagerVersion(session, arns));
  const entry = logManagerSpecification(current, version, session.identity.name, request);
  session.out.info(
    `${current ? 'updating' : 'adding'} ${LOG_MANAGER} ${entry.componentVersion}: upload ${session.identity.name}'s log to ` +
      `${componentLogGroup(arns.region, session.identity.name)} (merge ${entry.configurationUpdate?.merge})`,
  );
  if (current && request.version !== undefined && request.version !== current.componentVersion) {
    session.out.info(`kept the deployed ${LOG_MANAGER} ${current.componentVersion} (--log-manager-version is for new deployments only)`);
  }
  return entry;
}

/** What the core needs for the upload to work, printed after deploy --upload-logs. */
export function logUploadPermissionsNote(arns: Arns, componentName: string): string {
  return (
    `the core's token exchange role (GreengrassV2TokenExchangeRole unless you named it otherwise) needs ${LOG_UPLOAD_ACTIONS.join(', ')} ` +
    `on the log group; the role the installer creates has them. Otherwise add: ${tokenExchangeRoleStatement(arns, componentName)}`
  );
}
