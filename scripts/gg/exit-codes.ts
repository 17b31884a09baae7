/** What `npm run gg` exits with; scripts tell a deadline that passed from a deployment that failed. */
export const EXIT_OK = 0;
/** Something failed: a deployment, a component, a request. */
export const EXIT_FAILURE = 1;
/** Bad flags or arguments. */
export const EXIT_USAGE = 2;
/** The --deadline-seconds passed while a deployment was still in progress somewhere (nothing failed so far). */
export const EXIT_DEADLINE = 3;

export function exitCodeOf(outcome: 'succeeded' | 'failed' | 'deadline'): number {
  if (outcome === 'succeeded') return EXIT_OK;
  return outcome === 'failed' ? EXIT_FAILURE : EXIT_DEADLINE;
}

export const EXIT_CODES_HELP = `Exit codes: 0 success, 1 failure (a failed deployment or component, an AWS error), 2 bad flags,
3 the deadline passed while the deployment was still in progress (nothing had failed).`;
