/** `violations`: the active Device Defender alarms of a thing or a security profile. */
import { ListActiveViolationsCommand, type ActiveViolation, type MetricValue } from '@aws-sdk/client-iot';
import { COMMON_HELP, COMMON_OPTIONS, exactlyOne, nameFlag, parseFlags } from '../args';
import type { CliDeps } from '../deps';
import { openSession } from '../session';

export const VIOLATIONS_HELP = `Usage: npm run gg -- violations (--thing T | --profile P)

Lists the active Device Defender violations (alarms) of a thing or of a security profile.
  --thing T      one thing
  --profile P    one security profile
${COMMON_HELP}`;

function formatMetricValue(value: MetricValue | undefined): string {
  if (!value) return '(no value)';
  if (value.count !== undefined) return String(value.count);
  if (value.number !== undefined) return String(value.number);
  if (value.numbers) return `[${value.numbers.join(', ')}]`;
  if (value.ports) return `ports ${value.ports.join(', ')}`;
  if (value.cidrs) return `addresses ${value.cidrs.join(', ')}`;
  if (value.strings) return value.strings.join(', ');
  return JSON.stringify(value);
}

function formatViolation(v: ActiveViolation): string {
  const behavior = v.behavior;
  const confidence = v.violationEventAdditionalInfo?.confidenceLevel;
  const parts = [
    `${v.thingName ?? '?'}: ${v.securityProfileName ?? '?'} / ${behavior?.name ?? '?'} (${behavior?.metric ?? 'no metric'})`,
    `value ${formatMetricValue(v.lastViolationValue)}`,
    `since ${v.violationStartTime?.toISOString() ?? '?'}`,
    `last ${v.lastViolationTime?.toISOString() ?? '?'}`,
  ];
  if (confidence) parts.push(`ML confidence ${confidence}`);
  if (v.verificationState) parts.push(`verification ${v.verificationState}`);
  return parts.join(', ');
}

export async function violationsCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('violations', argv, { ...COMMON_OPTIONS, thing: { type: 'string' }, profile: { type: 'string' } });
  exactlyOne('violations', { thing: flags.thing, profile: flags.profile });
  const thingName = nameFlag('thing', flags.thing);
  const profileName = nameFlag('profile', flags.profile);
  const session = await openSession(deps, flags);
  const violations: ActiveViolation[] = [];
  let nextToken: string | undefined;
  do {
    const page = await session.aws.iot(
      new ListActiveViolationsCommand({ ...(thingName ? { thingName } : { securityProfileName: profileName }), nextToken }),
    );
    violations.push(...(page.activeViolations ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  if (session.aws.dryRun) return 0;
  if (violations.length === 0) {
    session.out.info(`no active violations for ${thingName ? `thing ${thingName}` : `profile ${profileName}`}`);
    return 0;
  }
  session.out.info(`${violations.length} active violation(s):`);
  for (const violation of violations) session.out.info(`  ${formatViolation(violation)}`);
  return 0;
}
