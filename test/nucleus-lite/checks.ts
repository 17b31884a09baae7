import { describeError } from '../../src/util/describe-error';

/** The test's verdicts: each check passes or fails with what was wrong; the counts make the last line of the run. */
export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
  seconds: number;
}

export class CheckFailure extends Error {}

export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

export class Checks {
  readonly results: CheckResult[] = [];

  constructor(private readonly print: (line: string) => void) {}

  /** Runs one check; a thrown error fails it with its message. Returns whether it passed. */
  async run(name: string, body: () => Promise<string | undefined>): Promise<boolean> {
    const started = Date.now();
    let result: CheckResult;
    try {
      const detail = (await body()) ?? '';
      result = { name, passed: true, detail, seconds: (Date.now() - started) / 1000 };
    } catch (error) {
      result = { name, passed: false, detail: describeError(error), seconds: (Date.now() - started) / 1000 };
    }
    this.record(result);
    return result.passed;
  }

  /** A check that could not run because an earlier step failed: it counts as failed, with the reason. */
  notReached(name: string, reason: string): void {
    this.record({ name, passed: false, detail: `not reached: ${reason}`, seconds: 0 });
  }

  record(result: CheckResult): void {
    this.results.push(result);
    const detail = result.detail ? `: ${result.detail}` : '';
    this.print(`${result.passed ? 'PASS' : 'FAIL'} ${result.name} (${result.seconds.toFixed(1)} s)${detail}`);
  }
}

/** Polls `condition`; on timeout fails with `what()`, which describes the state at the end of the wait. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new CheckFailure(`${what()} (waited ${timeoutMs / 1000} s)`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
