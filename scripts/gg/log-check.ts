/** The `doctor` check for log upload: when the log manager runs on the core, this component's lines must reach CloudWatch Logs. */
import { ListInstalledComponentsCommand, type InstalledComponent } from '@aws-sdk/client-greengrassv2';
import { CliError } from './errors';
import { LOG_MANAGER, LOG_UPLOAD_ACTIONS } from './log-manager';
import { LogReader } from './log-reader';
import type { Session } from './session';

/** The agent logs every report, so a working upload shows lines well within this window at any upload period up to 30 min. */
const RECENT_WINDOW_MS = 30 * 60_000;

export interface LogUploadCheck {
  name: string;
  ok: boolean;
  detail: string;
  remedy?: string;
}

async function installedLogManager(session: Session, thingName: string): Promise<InstalledComponent | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await session.aws.greengrass(
      new ListInstalledComponentsCommand({ coreDeviceThingName: thingName, topologyFilter: 'ALL', nextToken }),
    );
    const found = (page.installedComponents ?? []).find((c) => c.componentName === LOG_MANAGER);
    if (found) return found;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** Undefined when the log manager is not installed: uploading logs is optional. */
export async function checkLogUpload(session: Session, thingName: string): Promise<LogUploadCheck | undefined> {
  const logManager = await installedLogManager(session, thingName);
  if (!logManager) return undefined;
  const name = 'logs reach CloudWatch Logs';
  const component = session.identity.name;
  const reader = new LogReader(session, [thingName]);
  const sinceMs = session.now().getTime() - RECENT_WINDOW_MS;
  const remedy =
    `make sure ${LOG_MANAGER}'s configuration lists ${component} (npm run gg -- deploy --thing ${thingName} --upload-logs), ` +
    `that the core's token exchange role allows ${LOG_UPLOAD_ACTIONS.join(', ')} on ${reader.logGroupName}, ` +
    `and read /greengrass/v2/logs/greengrass.log on the core (the log manager logs there)`;
  let newest: number | undefined;
  try {
    const { events } = await reader.read(sinceMs, 10_000, () => true);
    newest = events.at(-1)?.timestampMs;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return { name, ok: false, detail: `${LOG_MANAGER} ${logManager.componentVersion} is installed but ${error.message}`, remedy };
  }
  if (newest === undefined) {
    return {
      name,
      ok: false,
      detail: `${LOG_MANAGER} ${logManager.componentVersion} is installed but no line of ${component} from ${thingName} reached ${reader.logGroupName} in the last ${RECENT_WINDOW_MS / 60_000} minutes`,
      remedy,
    };
  }
  return { name, ok: true, detail: `newest line from ${new Date(newest).toISOString()} in ${reader.logGroupName}` };
}
