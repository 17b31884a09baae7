import { ReportSchedule } from '../../src/agent/report-schedule';
import { FakeClock } from '../support/fake-clock';

function schedule(clock: FakeClock, intervalMs: () => number, cycle: () => Promise<void> = async () => undefined) {
  const starts: number[] = [];
  const part = new ReportSchedule({
    clock,
    intervalMs,
    runCycle: async () => {
      starts.push(clock.monotonic());
      await cycle();
    },
  });
  return { part, starts };
}

describe('ReportSchedule', () => {
  it('runs at once without an anchor, then every interval on the monotonic clock whatever the wall clock does', async () => {
    const clock = new FakeClock();
    const { part, starts } = schedule(clock, () => 300_000);
    part.start(undefined);
    await clock.advance(0);
    clock.stepWall(-86_400_000);
    await clock.advance(299_999);
    clock.stepWall(10 * 86_400_000);
    await clock.advance(1);
    expect(starts.map((t) => t - 1_000_000)).toEqual([0, 300_000]);
    await part.stop();
  });

  it('counts the next interval from the publish moment, not from the cycle start (a slow collection is no reason to be early)', async () => {
    const clock = new FakeClock();
    let release!: () => void;
    const { part, starts } = schedule(
      clock,
      () => 300_000,
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    part.start(undefined);
    await clock.advance(8_000);
    part.markPublishing();
    release();
    await clock.advance(299_999);
    expect(starts).toHaveLength(1);
    await clock.advance(1);
    expect(starts).toHaveLength(2);
    release();
    await part.stop();
  });

  it('starts from a restored anchor and moves a pending report when the interval changes, never before anchor + interval', async () => {
    const clock = new FakeClock();
    let interval = 300_000;
    const { part, starts } = schedule(clock, () => interval);
    part.start(clock.monotonic() - 100_000);
    await clock.advance(100_000);
    interval = 600_000;
    part.reschedule();
    await clock.advance(399_999);
    expect(starts).toHaveLength(0);
    await clock.advance(1);
    expect(starts).toHaveLength(1);
    await part.stop();
  });

  it('runs one cycle at a time and arms the next only when it finished; stop waits for the running one', async () => {
    const clock = new FakeClock();
    let release!: () => void;
    const { part, starts } = schedule(
      clock,
      () => 1_000,
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    );
    part.start(undefined);
    await clock.advance(10_000);
    expect(starts).toHaveLength(1);
    let stopped = false;
    const stopping = part.stop().then(() => {
      stopped = true;
    });
    await clock.advance(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    await clock.advance(10_000);
    expect(starts).toHaveLength(1);
  });
});
