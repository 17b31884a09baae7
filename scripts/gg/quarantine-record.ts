/**
 * The quarantine record of one thing: `quarantine release` clears the named shadow the isolation function wrote and
 * notes the release time in a thing attribute (which the device cannot write, unlike its shadow), so that a late or
 * repeated delivery of an alarm from before the release isolates nothing; `quarantine status --thing T` shows
 * membership, the shadow and the alarm that caused it.
 */
import { DescribeThingCommand, ListThingGroupsForThingCommand, UpdateThingCommand } from '@aws-sdk/client-iot';
import { GetThingShadowCommand, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { RELEASED_AT_ATTRIBUTE } from '../../cloud/isolation/isolate';
import { clearedDocument, DEFAULT_QUARANTINE_SHADOW, readShadowDocument } from '../../cloud/isolation/shadow';
import { COMMON_HELP, COMMON_OPTIONS, nameFlag, parseFlags } from './args';
import { isNotFound } from './aws';
import type { CliDeps } from './deps';
import { UsageError } from './errors';
import { allPages } from './paginate';
import { openSession, outcome, type Session } from './session';
import { neutralized } from './terminal-text';

export const QUARANTINE_STATUS_HELP = `Usage: npm run gg -- quarantine status --thing T [--group-name G] [--shadow-name N]

Whether thing T is in the quarantine group, what its ${DEFAULT_QUARANTINE_SHADOW} shadow records (the behavior, the
violation id and time of the alarm that isolated it, and when), and when it was last released.
${COMMON_HELP}`;

export async function clearQuarantineRecord(session: Session, thingName: string, shadowName: string): Promise<void> {
  const releasedAt = session.now().getTime();
  await session.aws.iot(
    new UpdateThingCommand({ thingName, attributePayload: { attributes: { [RELEASED_AT_ATTRIBUTE]: String(releasedAt) }, merge: true } }),
  );
  await session.aws.iotData(
    new UpdateThingShadowCommand({ thingName, shadowName, payload: Buffer.from(clearedDocument(releasedAt), 'utf8') }),
  );
  session.out.info(
    outcome(
      session,
      `cleared shadow ${shadowName} of ${thingName}; alarms from before ${new Date(releasedAt).toISOString()} no longer isolate it (thing attribute ${RELEASED_AT_ATTRIBUTE})`,
      `clear shadow ${shadowName} of ${thingName} so that alarms from before ${new Date(releasedAt).toISOString()} no longer isolate it (thing attribute ${RELEASED_AT_ATTRIBUTE})`,
    ),
  );
}

/** A time from the shadow; a value no Date can hold shows as it is. */
const time = (ms: number): string => (Number.isFinite(new Date(ms).getTime()) ? new Date(ms).toISOString() : String(ms));

export async function quarantineStatusCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('quarantine status', argv, {
    ...COMMON_OPTIONS,
    thing: { type: 'string' },
    'group-name': { type: 'string' },
    'shadow-name': { type: 'string' },
  });
  const thingName = nameFlag('thing', flags.thing);
  if (!thingName) throw new UsageError('quarantine status needs --thing');
  const group = nameFlag('group-name', flags['group-name']) ?? 'defender-quarantine';
  const shadowName = flags['shadow-name'] ?? DEFAULT_QUARANTINE_SHADOW;
  const session = await openSession(deps, flags);
  const { aws, out } = session;
  const groups = await allPages(
    (nextToken) => aws.iot(new ListThingGroupsForThingCommand({ thingName, nextToken })),
    (page) => page.thingGroups,
  );
  const member = groups.some((g) => g.groupName === group);
  let shadow = readShadowDocument(undefined);
  try {
    shadow = readShadowDocument((await aws.iotData(new GetThingShadowCommand({ thingName, shadowName }))).payload);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  let releasedAt: number | undefined;
  try {
    const thing = await aws.iot(new DescribeThingCommand({ thingName }));
    const value = Number(thing.attributes?.[RELEASED_AT_ATTRIBUTE]);
    releasedAt = Number.isFinite(value) && value > 0 ? value : undefined;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (aws.dryRun) return 0;
  out.info(`${thingName}: ${member ? `IN quarantine group ${group}` : `not in ${group}`}`);
  const record = shadow.record;
  out.info(
    record
      ? // The shadow is as writable as the core's IoT policy lets it be: its text is shown, never obeyed.
        `  shadow ${shadowName}: isolated ${time(record.isolatedAt)} for behavior ${neutralized(record.behavior)}, violation ${neutralized(record.violationId)} at ${time(record.violationEventTime)}${record.securityProfileName ? ` (profile ${neutralized(record.securityProfileName)})` : ''}, from ${neutralized(record.source || '?')}`
      : `  shadow ${shadowName}: no quarantine record`,
  );
  if (releasedAt !== undefined) out.info(`  last released ${time(releasedAt)}`);
  if (member !== Boolean(record)) {
    out.info(
      member
        ? '  in the group without a record: isolated by hand or by a mitigation action, not by the quarantine function'
        : '  a record without membership: removed from the group by hand; release it to clear the record',
    );
  }
  return 0;
}
