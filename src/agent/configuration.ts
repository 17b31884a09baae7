/**
 * The component configuration: read at every (re)connect, followed live, and checked for the
 * nucleus before a deployment applies it. A failed read is a failed setup (the connection is
 * retried with backoff): the agent never runs silently on defaults. Every rejection, also an
 * unexpected throw of the parser, is answered with a validity report, never left unanswered.
 * A nucleus that does not serve validation (nucleus lite) stores values unchecked: then each value
 * is checked when it arrives, and a bad one is refused with the last good configuration kept.
 */
import type { AgentConfig } from '../config/definition';
import { defaultConfig, describeConfigErrors, parseConfig } from '../config/parse';
import { quoteValue } from '../config/quote';
import { type IpcConnection, IpcError, type ValidationRequest } from '../ipc/ipc';
import type { Logger } from '../log/logger';
import { describeError } from '../util/describe-error';
import type { Clock } from './clock';
import { reportBytesProblem } from './report-budget';

/** The nucleus sends one update event per changed key; read the configuration once per burst. */
const CONFIG_SETTLE_MS = 250;

export interface ConfigurationDeps {
  componentName: string;
  clock: Clock;
  logger: Logger;
  /** Called after a change was applied, with the configuration before it. */
  onChange: (next: AgentConfig, previous: AgentConfig) => void;
  /** The most report bytes the nucleus's IPC message carries for a configuration's topics (undefined: no limit). */
  reportCapacity?: (config: AgentConfig) => number | undefined;
  /** The core's platform: what a value may be depends on it (a Windows core has drives and no load average). */
  platform?: NodeJS.Platform;
}

export class Configuration {
  private config: AgentConfig = defaultConfig();
  private readOnce = false;
  private cancelSettle: (() => void) | undefined;
  private connection: IpcConnection | undefined;
  private stopped = false;
  private validation: boolean | undefined;

  constructor(private readonly deps: ConfigurationDeps) {}

  get current(): AgentConfig {
    return this.config;
  }

  /** Whether the nucleus of the last attach serves configuration validation; undefined before the first attach. */
  get validationServed(): boolean | undefined {
    return this.validation;
  }

  /** Setup step of every connection: subscribe to updates and validations, then read. Throws when the read fails. */
  async attach(connection: IpcConnection): Promise<void> {
    this.connection = connection;
    await connection.subscribeToConfigurationUpdate(() => this.updateSignalled(connection));
    await this.subscribeToValidation(connection);
    let raw: unknown;
    try {
      raw = await connection.getConfiguration([]);
    } catch (error) {
      throw new Error(`cannot read the component configuration (${describeError(error)}); no report is sent before it is read`);
    }
    this.apply(raw);
  }

  /**
   * A nucleus without the operation answers with a ServiceError (nucleus lite: with an empty message); anything else
   * (the connection lost, no answer in time) fails the setup as before.
   */
  private async subscribeToValidation(connection: IpcConnection): Promise<void> {
    try {
      await connection.subscribeToValidateConfigurationUpdates((request) => void this.validate(connection, request));
      this.validation = true;
    } catch (error) {
      if (!(error instanceof IpcError) || error.kind !== 'service') throw error;
      if (this.validation !== false) {
        this.deps.logger.info(
          `the nucleus does not serve configuration validation (${describeError(error)}), as on nucleus lite: a deployment stores ` +
            'new values without the agent checking them first. Each value is checked when it arrives instead, and a bad one is ' +
            'refused with the last good configuration kept (the deployment itself still succeeds)',
        );
      }
      this.validation = false;
    }
  }

  detach(): void {
    this.connection = undefined;
    this.cancelSettle?.();
    this.cancelSettle = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.detach();
  }

  private updateSignalled(connection: IpcConnection): void {
    this.cancelSettle?.();
    this.cancelSettle = this.deps.clock.setTimer(CONFIG_SETTLE_MS, () => {
      this.cancelSettle = undefined;
      void this.reread(connection);
    });
  }

  private async reread(connection: IpcConnection): Promise<void> {
    if (this.stopped || this.connection !== connection) return;
    try {
      this.apply(await connection.getConfiguration([]));
    } catch (error) {
      this.deps.logger.warn(
        `cannot read the updated configuration (${describeError(error)}); keeping the current one until the next update or reconnect`,
      );
    }
  }

  private apply(raw: unknown): void {
    const previous = this.config;
    let parsed: ReturnType<typeof parseConfig>;
    try {
      parsed = parseConfig(raw ?? {}, previous, { platform: this.deps.platform });
    } catch (error) {
      this.deps.logger.error(
        `configuration cannot be parsed (${describeError(error)}); keeping the ${this.readOnce ? 'current configuration' : 'defaults'}`,
      );
      this.readOnce = true;
      return;
    }
    const budgetProblem = reportBytesProblem(parsed.config.maxReportBytes, this.deps.reportCapacity?.(parsed.config));
    if (budgetProblem !== undefined) {
      parsed.errors.push({ key: 'maxReportBytes', message: budgetProblem });
      parsed.config.maxReportBytes = previous.maxReportBytes;
    }
    if (parsed.errors.length > 0) {
      if (!this.readOnce) {
        this.deps.logger.error(
          `configuration has errors: ${describeConfigErrors(parsed.errors)}. Using the defaults for those keys; fix them with a deployment configuration merge`,
        );
      } else {
        this.deps.logger.error(`configuration update rejected: ${describeConfigErrors(parsed.errors)}. Keeping the previous configuration`);
        return;
      }
    }
    const first = !this.readOnce;
    this.readOnce = true;
    this.config = parsed.config;
    this.deps.logger.setLevel(parsed.config.logLevel);
    const changes = describeChanges(previous, parsed.config);
    if (!first && changes.length > 0) this.deps.logger.info(`configuration updated: ${changes.join(', ')}`);
    if (parsed.config.allowFastIntervalForDevelopment && (first || !previous.allowFastIntervalForDevelopment)) {
      this.deps.logger.warn(
        `allowFastIntervalForDevelopment is on: reports every ${parsed.config.intervalSeconds} s. For a local development core only; ` +
          'Device Defender throttles a thing to one report every 300 s',
      );
    }
    if (first || changes.length > 0) this.deps.onChange(parsed.config, previous);
  }

  private async validate(connection: IpcConnection, request: ValidationRequest): Promise<void> {
    const deployment = quoteValue(request.deploymentId);
    let problem: string | undefined;
    try {
      const { errors } = parseConfig(request.configuration, this.config, { platform: this.deps.platform });
      if (errors.length > 0) problem = describeConfigErrors(errors);
    } catch (error) {
      problem = `cannot be parsed: ${quoteValue(describeError(error))}`;
    }
    if (problem === undefined) this.deps.logger.info(`deployment ${deployment}: proposed configuration is valid`);
    else this.deps.logger.error(`deployment ${deployment}: rejecting the proposed configuration: ${problem}`);
    try {
      await connection.sendConfigurationValidityReport(
        request.deploymentId,
        problem === undefined,
        problem === undefined ? undefined : `invalid configuration for ${this.deps.componentName}: ${problem}`,
      );
    } catch (error) {
      this.deps.logger.warn(`could not send the configuration validity report for deployment ${deployment}: ${describeError(error)}`);
    }
  }
}

function describeChanges(previous: AgentConfig, next: AgentConfig): string[] {
  const changes: string[] = [];
  for (const key of Object.keys(next) as Array<keyof AgentConfig>) {
    const before = quoteValue(previous[key]);
    const after = quoteValue(next[key]);
    if (before !== after) changes.push(`${key} ${before} -> ${after}`);
  }
  return changes;
}
