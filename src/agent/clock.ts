/**
 * Time as the agent sees it, replaceable in tests. Two clocks, because the wall clock steps: devices
 * without an RTC boot at 1970 and jump at NTP sync, and NTP corrects backwards too. Every interval,
 * delay and timeout is measured on the monotonic clock; wall time is only for report ids and for the
 * publish time kept across restarts.
 */
export interface Clock {
  /** Wall time, epoch ms. */
  now(): number;
  /** Milliseconds on a clock that never steps. */
  monotonic(): number;
  /** Calls `callback` after `delayMs` of monotonic time. */
  setTimer(delayMs: number, callback: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // CLOCK_MONOTONIC on Linux: shared by every process of one boot, so a restarted agent can compare it with the last run's.
  monotonic: () => Number(process.hrtime.bigint() / 1_000_000n),
  setTimer: (delayMs, callback) => {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    return () => clearTimeout(timer);
  },
};

/**
 * Exponential backoff with full jitter: spreads the reconnects of a fleet whose nucleus restarted
 * at the same moment (after a deployment) instead of having them all retry in step.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(baseMs / 2 + random() * (ceiling - baseMs / 2));
}
