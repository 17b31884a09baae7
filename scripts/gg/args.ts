/** Flag parsing on top of node:util parseArgs: every mistake becomes a UsageError naming the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { thingNameProblem } from '../../src/config/names';
import { UsageError } from './errors';

export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  'dry-run': { type: 'boolean' },
  region: { type: 'string' },
} as const;

export const COMMON_HELP = `Common flags:
  --region R    AWS region (default: gdk-config.json publish.region, else AWS_REGION / profile)
  --dry-run     print the exact AWS requests (operation + input JSON) and send none
  --help        this text`;

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<O extends Options>(subcommand: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${subcommand}: ${(error as Error).message}`);
  }
}

export function integerFlag(flag: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

export function numberFlag(flag: string, value: string | undefined, min: number, max = Number.MAX_VALUE): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a number from ${min} to ${max} (got "${value}")`);
  }
  return n;
}

export function choiceFlag<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

/** Exactly one of the named flags must be given; returns its name. */
export function exactlyOne(subcommand: string, given: Record<string, unknown>): string {
  const present = Object.entries(given)
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k]) => k);
  if (present.length !== 1) {
    throw new UsageError(
      `${subcommand} needs exactly one of ${Object.keys(given)
        .map((k) => `--${k}`)
        .join(' or ')}`,
    );
  }
  return present[0]!;
}

export function nameFlag(flag: string, value: string | undefined): string | undefined {
  const problem = value === undefined ? undefined : thingNameProblem(value);
  if (problem) throw new UsageError(`--${flag} "${value}" is not a valid name: ${problem}`);
  return value;
}
