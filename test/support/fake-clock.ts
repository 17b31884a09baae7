import type { Clock } from '../../src/agent/clock';

/**
 * A clock whose time only moves when the test says so. `advance` moves both clocks (real time
 * passing); `stepWall` moves only the wall clock, as NTP or an RTC-less boot does.
 */
export class FakeClock implements Clock {
  private timers: Array<{ at: number; callback: () => void; id: number }> = [];
  private nextId = 0;
  private monotonicMs: number;
  private wallOffsetMs = 0;

  /** `monotonicStart` lets a test model a restart within one boot, where the monotonic clock keeps counting. */
  constructor(wallStart = Date.UTC(2026, 10, 22, 12, 0, 0), monotonicStart = 1_000_000) {
    this.monotonicMs = monotonicStart;
    this.wallOffsetMs = wallStart - monotonicStart;
  }

  now(): number {
    return this.monotonicMs + this.wallOffsetMs;
  }

  monotonic(): number {
    return this.monotonicMs;
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.monotonicMs + Math.max(0, delayMs), callback, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }

  /** Steps the wall clock by `deltaMs` (negative: backwards); timers and the monotonic clock are unaffected. */
  stepWall(deltaMs: number): void {
    this.wallOffsetMs += deltaMs;
  }

  get pendingTimers(): number[] {
    return this.timers.map((t) => t.at - this.monotonicMs).sort((a, b) => a - b);
  }

  /** Moves time forward, firing due timers in order and letting the promises they start settle. */
  async advance(ms: number): Promise<void> {
    const end = this.monotonicMs + ms;
    for (;;) {
      await flushPromises();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.monotonicMs = Math.max(this.monotonicMs, due.at);
      due.callback();
    }
    this.monotonicMs = end;
    await flushPromises();
  }
}

async function flushPromises(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
