/** `npm run gg -- <subcommand> [flags]`: dispatch, help, and turning every failure into "what went wrong, what next". */
import { errorName } from './aws';
import { cleanupCommand, CLEANUP_HELP } from './commands/cleanup';
import { deployCommand, DEPLOY_HELP } from './commands/deploy';
import { doctorCommand, DOCTOR_HELP } from './commands/doctor';
import { logsCommand, LOGS_HELP } from './commands/logs';
import { setupEdgeCommand, SETUP_EDGE_HELP } from './commands/setup-edge';
import { publishCommand, PUBLISH_HELP } from './commands/publish';
import { QUARANTINE_HELP, quarantineCommand, quarantineHelpFor } from './commands/quarantine';
import { setupDefenderCommand, SETUP_DEFENDER_HELP } from './commands/setup-defender';
import { statusCommand, STATUS_HELP } from './commands/status';
import { violationsCommand, VIOLATIONS_HELP } from './commands/violations';
import type { CliDeps } from './deps';
import { CliError, UsageError } from './errors';
import { EXIT_CODES_HELP, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes';
import { quotedInput, terminalSafe } from './terminal-text';
import { describeError } from '../../src/util/describe-error';

interface Subcommand {
  summary: string;
  help: string;
  /** A more precise help for the words after the subcommand (`quarantine auto --help`). */
  helpFor?(rest: string[]): string | undefined;
  run(argv: string[], deps: CliDeps): Promise<number>;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  publish: {
    summary: 'upload artifacts and create the component version (gdk-compatible bucket)',
    help: PUBLISH_HELP,
    run: publishCommand,
  },
  deploy: { summary: 'add the component to a core device or thing group deployment', help: DEPLOY_HELP, run: deployCommand },
  status: { summary: 'follow a deployment on a core device until it ends', help: STATUS_HELP, run: statusCommand },
  'setup-defender': {
    summary: 'register custom metrics, create and attach the security profile',
    help: SETUP_DEFENDER_HELP,
    run: setupDefenderCommand,
  },
  'setup-edge': {
    summary: 'route the alarms raised on the cores to SNS (and the metrics sink to CloudWatch) with IoT rules',
    help: SETUP_EDGE_HELP,
    run: setupEdgeCommand,
  },
  doctor: { summary: 'check everything a core device needs for its reports to count', help: DOCTOR_HELP, run: doctorCommand },
  violations: { summary: 'list active Device Defender violations, or their history', help: VIOLATIONS_HELP, run: violationsCommand },
  quarantine: {
    summary: 'isolate violating devices: setup | apply | release | status | auto',
    help: QUARANTINE_HELP,
    helpFor: quarantineHelpFor,
    run: quarantineCommand,
  },
  logs: { summary: "read the component's log of a core device or thing group from CloudWatch Logs", help: LOGS_HELP, run: logsCommand },
  cleanup: { summary: 'remove the component, its versions, profiles and custom metrics', help: CLEANUP_HELP, run: cleanupCommand },
};

export const MAIN_HELP = `Usage: npm run gg -- <subcommand> [flags]

Operator tool for the Device Defender metrics agent (uses your AWS credentials and region).
Subcommands:
${Object.entries(SUBCOMMANDS)
  .map(([name, s]) => `  ${name.padEnd(15)} ${s.summary}`)
  .join('\n')}

Every subcommand takes --help, --dry-run (print the AWS requests, send none) and --region.
Typical order: publish, deploy --thing T --wait, setup-defender --group G, doctor --thing T.
${EXIT_CODES_HELP}`;

const NETWORK_ERRORS = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

function isNetworkError(error: unknown): boolean {
  const { code, name } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; name?: unknown };
  return (typeof code === 'string' && NETWORK_ERRORS.has(code)) || name === 'TimeoutError' || name === 'NetworkingError';
}

/** Remedies for SDK errors that are not ours. */
function nextStepFor(error: unknown): string | undefined {
  if (isNetworkError(error)) {
    return 'AWS could not be reached: check the network, a proxy (HTTPS_PROXY) and the --region name, then run the command again';
  }
  const name = errorName(error);
  if (name === 'CredentialsProviderError' || name === 'ExpiredTokenException' || name === 'ExpiredToken') {
    return 'configure AWS credentials (aws configure, AWS_PROFILE, or aws sso login) and try again';
  }
  if (name === 'ValidationException' || name === 'InvalidRequestException')
    return 'AWS rejected the request as invalid: check the flags against --help';
  if (name === 'ServiceQuotaExceededException' || name === 'LimitExceededException')
    return 'an AWS quota is reached: delete unused resources or ask for a higher quota';
  return undefined;
}

function reportError(deps: CliDeps, subcommand: string, error: unknown): number {
  const out = terminalSafe(deps.out);
  if (error instanceof UsageError) {
    out.error(`error: ${error.message}`);
    out.error(`next: run \`npm run gg -- ${subcommand} --help\` for the flags`);
    return EXIT_USAGE;
  }
  if (error instanceof CliError) {
    out.error(`error: ${error.message}`);
    if (error.nextStep) out.error(`next: ${error.nextStep}`);
    return EXIT_FAILURE;
  }
  const name = errorName(error);
  const message = describeError(error);
  out.error(`error: ${name && !message.startsWith(name) ? `${name}: ` : ''}${message}`);
  const next = nextStepFor(error);
  if (next) out.error(`next: ${next}`);
  return EXIT_FAILURE;
}

export async function run(argv: string[], deps: CliDeps): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    deps.out.info(MAIN_HELP);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const subcommand = SUBCOMMANDS[name];
  if (!subcommand) {
    deps.out.error(`error: unknown subcommand ${quotedInput(name)}`);
    deps.out.error(`next: one of ${Object.keys(SUBCOMMANDS).join(', ')} (npm run gg -- --help)`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    deps.out.info(subcommand.helpFor?.(rest) ?? subcommand.help);
    return EXIT_OK;
  }
  try {
    return await subcommand.run(rest, deps);
  } catch (error) {
    return reportError(deps, name, error);
  }
}
