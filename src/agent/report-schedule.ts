/**
 * When the next report is due: an interval after the last report handed to the nucleus, or after the
 * last cycle when that one sent nothing, on the monotonic clock. A wall clock step, a reconnect or a
 * configuration change never makes a report early, and a skipped cycle is never made up for with a
 * burst. One cycle at a time: the next is armed only when the running one has finished.
 */
import type { Clock } from './clock';

export interface ReportScheduleDeps {
  clock: Clock;
  intervalMs: () => number;
  runCycle: () => Promise<void>;
}

export class ReportSchedule {
  /** Monotonic ms the next interval counts from; undefined: no report yet, the first is due at once. */
  private anchor: number | undefined;
  private cancelTimer: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly deps: ReportScheduleDeps) {}

  get isStarted(): boolean {
    return this.started;
  }

  /** `anchor`: when the last report went out (monotonic ms), if known from an earlier run. */
  start(anchor: number | undefined): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.anchor = anchor;
    this.arm();
  }

  /** A report is being handed over now: the next one is due a whole interval after this moment. */
  markPublishing(): void {
    this.anchor = this.deps.clock.monotonic();
  }

  /** The interval changed: the next report is due the new interval after the last one. */
  reschedule(): void {
    if (this.started && !this.running) this.arm();
  }

  /** No cycle starts any more; resolves when the running one has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.running;
  }

  private arm(): void {
    if (this.stopped) return;
    this.cancelTimer?.();
    const now = this.deps.clock.monotonic();
    const due = this.anchor === undefined ? now : this.anchor + this.deps.intervalMs();
    this.cancelTimer = this.deps.clock.setTimer(Math.max(0, due - now), () => {
      this.cancelTimer = undefined;
      this.fire();
    });
  }

  private fire(): void {
    if (this.stopped) return;
    // Counted also when this cycle sends nothing: the next try is a full interval away, never a tight loop.
    this.anchor = Math.max(this.anchor ?? -Infinity, this.deps.clock.monotonic());
    this.running = this.deps
      .runCycle()
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        this.arm();
      });
  }
}
