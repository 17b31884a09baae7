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

/** Bad flags or arguments: exit code 2, and the CLI points at the subcommand's --help. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
