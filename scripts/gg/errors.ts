/** Failures the CLI explains: what went wrong and what to do next. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly nextStep?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad flags or arguments: exit code 2 and a pointer to --help. */
export class UsageError extends CliError {
  constructor(message: string, subcommand?: string) {
    super(message, `run \`npm run gg -- ${subcommand ? `${subcommand} ` : ''}--help\` for the flags`);
    this.name = 'UsageError';
  }
}
