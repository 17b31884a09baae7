import { nextReportId } from '../../src/state/report-id';

describe('nextReportId', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);

  it('is the epoch second when the clock is ahead of the last id', () => {
    expect(nextReportId(undefined, now)).toBe(now / 1000);
    expect(nextReportId(now / 1000 - 300, now + 999)).toBe(now / 1000);
  });

  it('keeps increasing when the clock steps back or stands still', () => {
    const first = nextReportId(undefined, now);
    const afterStepBack = nextReportId(first, now - 3_600_000);
    const sameSecond = nextReportId(afterStepBack, now - 3_600_000);
    expect(afterStepBack).toBe(first + 1);
    expect(sameSecond).toBe(first + 2);
  });

  it('keeps increasing across a restart on a board whose clock starts at 1970', () => {
    const beforeRestart = nextReportId(undefined, now);
    expect(nextReportId(beforeRestart, 5_000)).toBe(beforeRestart + 1);
  });

  it('is a positive integer even with no history and a clock at zero or broken', () => {
    expect(nextReportId(undefined, 0)).toBe(1);
    expect(nextReportId(undefined, Number.NaN)).toBe(1);
    expect(nextReportId(41, Number.NaN)).toBe(42);
  });
});
