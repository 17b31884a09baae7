/**
 * Keeps one connection to the nucleus. A connection counts only once its setup is done
 * (configuration read, subscriptions made): the backoff resets then and only then, so a setup call
 * that keeps failing backs off like a refused connect instead of reconnecting in a tight loop. A connection that
 * stays open but stops answering counts as lost too (liveness.ts).
 */
import type { IpcConnection, IpcConnector } from '../ipc/ipc';
import type { Logger } from '../log/logger';
import { describeError } from '../util/describe-error';
import { backoffDelayMs, type Clock } from './clock';
import { watchLiveness } from './liveness';

const RECONNECT_BASE_MS = 1_000;
const RECONNECT_MAX_MS = 60_000;

export interface ConnectionSupervisorDeps {
  connector: IpcConnector;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** Makes the connection usable; a rejection closes it and retries later. */
  setup: (connection: IpcConnection) => Promise<void>;
  /** The ready connection is gone (the parts that used it drop what they held on it). */
  onLost: () => void;
}

export class ConnectionSupervisor {
  private ready: IpcConnection | undefined;
  private attempt = 0;
  private connecting = false;
  private stopped = false;
  private cancelRetry: (() => void) | undefined;

  constructor(private readonly deps: ConnectionSupervisorDeps) {}

  /** The connection, once its setup is done. */
  get connection(): IpcConnection | undefined {
    return this.ready;
  }

  /** Resolves after the first attempt, successful or not; later attempts run on their own. */
  start(): Promise<void> {
    return this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    const connection = this.ready;
    this.ready = undefined;
    await connection?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting || this.ready) return;
    this.connecting = true;
    let connection: IpcConnection | undefined;
    let stage = 'connect';
    try {
      let lostDuringSetup: string | undefined;
      const lost = (reason: string): void => {
        if (this.ready === opened) this.handleLost(opened, reason);
        else lostDuringSetup ??= reason;
      };
      const opened = watchLiveness(await this.deps.connector.connect(), lost);
      connection = opened;
      if (this.stopped) {
        await opened.close();
        return;
      }
      opened.onDisconnect(lost);
      stage = 'setup';
      await this.deps.setup(opened);
      if (lostDuringSetup !== undefined) throw new Error(`the connection closed during setup (${lostDuringSetup})`);
      if (this.stopped) {
        await opened.close();
        return;
      }
      if (this.attempt > 0) this.deps.logger.info(`connected to the Greengrass nucleus after ${this.attempt} failed attempt(s)`);
      this.attempt = 0;
      this.ready = opened;
    } catch (error) {
      await connection?.close().catch(() => undefined);
      this.retryLater(
        stage === 'connect' ? `cannot reach the Greengrass nucleus over IPC` : `connected, but setting up failed`,
        describeError(error),
      );
    } finally {
      this.connecting = false;
    }
  }

  private handleLost(connection: IpcConnection, reason: string): void {
    if (this.stopped) return;
    this.ready = undefined;
    this.deps.onLost();
    void connection.close().catch(() => undefined);
    this.deps.logger.warn(
      `lost the connection to the Greengrass nucleus (${reason}); reconnecting (the nucleus restarts during deployments)`,
    );
    this.retryLater(undefined, undefined);
  }

  private retryLater(what: string | undefined, why: string | undefined): void {
    if (this.stopped) return;
    const delay = backoffDelayMs(this.attempt, RECONNECT_BASE_MS, RECONNECT_MAX_MS, this.deps.random);
    this.attempt += 1;
    if (what !== undefined) this.deps.logger.warn(`${what} (attempt ${this.attempt}): ${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    this.cancelRetry?.();
    this.cancelRetry = this.deps.clock.setTimer(delay, () => {
      this.cancelRetry = undefined;
      void this.connect();
    });
  }
}
