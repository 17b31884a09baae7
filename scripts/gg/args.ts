/** Flag parsing on top of node:util parseArgs: every mistake becomes a UsageError naming the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { thingNameProblem } from '../../src/config/names';
import { UsageError } from './errors';
import { quotedInput } from './terminal-text';
import { describeError } from '../../src/util/describe-error';

export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  'dry-run': { type: 'boolean' },
  region: { type: 'string' },
  account: { type: 'string' },
} as const;

export const COMMON_HELP = `Common flags:
  --region R    AWS region (default: AWS_REGION / the profile's region; publish: gdk-config.json publish.region)
  --dry-run     print the exact AWS requests (operation + input JSON) and send none
  --account ID  with --dry-run: print the requests as AWS CLI commands for this 12-digit account, ready to paste
  --help        this text`;

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<O extends Options>(subcommand: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${subcommand}: ${flagProblem(argv, options) ?? describeError(error)}`);
  }
}

/** What node's parser refused, naming the argument as typed only quoted and cut (its own message repeats it raw). */
function flagProblem(argv: string[], options: Options): string | undefined {
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'option' && !(token.name in options)) return `unknown flag ${quotedInput(token.rawName)}`;
    if (token.kind === 'option' && options[token.name]?.type === 'string' && token.value === undefined) {
      return `--${token.name} needs a value`;
    }
    if (token.kind === 'option' && options[token.name]?.type === 'boolean' && token.value !== undefined) {
      return `--${token.name} takes no value (got ${quotedInput(token.value)})`;
    }
    if (token.kind === 'positional') return `unexpected argument ${quotedInput(token.value)}: every value follows its --flag`;
  }
  return undefined;
}

export function integerFlag(flag: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max} (got ${quotedInput(value)})`);
  }
  return n;
}

export function numberFlag(flag: string, value: string | undefined, min: number, max = Number.MAX_VALUE): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be a number from ${min} to ${max} (got ${quotedInput(value)})`);
  }
  return n;
}

export function choiceFlag<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got ${quotedInput(value)})`);
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
  if (problem) throw new UsageError(`--${flag} ${quotedInput(value ?? '')} is not a valid name: ${problem}`);
  return value;
}

const REGION_NAME = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/;
const SNS_TOPIC_ARN = /^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const IAM_ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/([\x21-\x7E]{1,510}\/)?[\w+=,.@-]{1,64}$/;

/** A region name such as eu-west-1 (a typo would otherwise surface as a DNS error for a made-up endpoint). */
export function regionFlag(value: string | undefined): string | undefined {
  if (value !== undefined && !REGION_NAME.test(value)) {
    throw new UsageError(`--region ${quotedInput(value)} is not an AWS region name (like eu-west-1 or us-gov-west-1)`);
  }
  return value;
}

export function snsTopicArnFlag(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && !SNS_TOPIC_ARN.test(value)) {
    throw new UsageError(`--${flag} ${quotedInput(value)} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)`);
  }
  return value;
}

export function roleArnFlag(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && !IAM_ROLE_ARN.test(value)) {
    throw new UsageError(`--${flag} ${quotedInput(value)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
  }
  return value;
}

/** --account for --dry-run: the account the printed requests name instead of a placeholder. */
export function accountFlag(value: string | undefined): string | undefined {
  if (value !== undefined && !/^\d{12}$/.test(value))
    throw new UsageError(`--account ${quotedInput(value)} must be a 12-digit AWS account id`);
  return value;
}
