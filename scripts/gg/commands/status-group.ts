/** `status --group G`: follow the group's deployment on its cores, then the fleet summary. */
import { ListDeploymentsCommand } from '@aws-sdk/client-greengrassv2';
import { DEFAULT_ALARM_LOG_GROUP, logGroupProblem } from '../edge-history';
import { CliError, UsageError } from '../errors';
import { quotedInput } from '../terminal-text';
import { exitCodeOf } from '../exit-codes';
import { printFleetSummary } from '../fleet-summary';
import type { Session } from '../session';

const DEFAULT_NAMESPACE = 'DeviceDefenderAgent';
const NAMESPACE = /^[A-Za-z0-9 ._\-/#:]{1,255}$/;

type FollowGroup = (
  session: Session,
  group: string,
  deploymentId: string,
  deadlineAt: number,
  pollMs: number,
) => Promise<Parameters<typeof exitCodeOf>[0]>;

export async function groupStatus(
  session: Session,
  groupName: string,
  options: {
    'deployment-id'?: string | undefined;
    'metric-namespace'?: string | undefined;
    'alarm-log-group'?: string | undefined;
    deadlineAt: number;
    pollMs: number;
  },
  followGroup: FollowGroup,
): Promise<number> {
  const namespace = options['metric-namespace'] ?? DEFAULT_NAMESPACE;
  if (!NAMESPACE.test(namespace)) throw new UsageError(`--metric-namespace ${quotedInput(namespace)} is not a CloudWatch namespace`);
  const alarmLogGroup = options['alarm-log-group'] ?? DEFAULT_ALARM_LOG_GROUP;
  const problem = logGroupProblem(alarmLogGroup);
  if (problem) throw new UsageError(`--alarm-log-group ${quotedInput(alarmLogGroup)}: ${problem}`);
  const arns = await session.arns();
  let deploymentId = options['deployment-id'];
  if (deploymentId === undefined) {
    const page = await session.aws.greengrass(
      new ListDeploymentsCommand({ targetArn: arns.thingGroup(groupName), historyFilter: 'LATEST_ONLY' }),
    );
    deploymentId = page?.deployments?.[0]?.deploymentId;
  }
  let code = 0;
  if (deploymentId === undefined) {
    if (!session.aws.dryRun) {
      throw new CliError(`thing group ${groupName} has no deployment`, `deploy first: npm run gg -- deploy --group ${groupName}`);
    }
  } else {
    code = exitCodeOf(await followGroup(session, groupName, deploymentId, options.deadlineAt, options.pollMs));
  }
  await printFleetSummary(session, groupName, { namespace, alarmLogGroup });
  return code;
}
