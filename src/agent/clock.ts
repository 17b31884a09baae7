/** Time as the agent sees it: wall clock for report ids and timers for scheduling, replaceable in tests. */
export interface Clock {
  now(): number;
  setTimer(delayMs: number, callback: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
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
