import { backoffDelayMs } from '../../src/agent/clock';

describe('backoffDelayMs', () => {
  it('grows exponentially up to the cap, with jitter between half the base and the ceiling', () => {
    expect(backoffDelayMs(0, 1_000, 60_000, () => 0)).toBe(500);
    expect(backoffDelayMs(0, 1_000, 60_000, () => 1)).toBe(1_000);
    expect(backoffDelayMs(3, 1_000, 60_000, () => 1)).toBe(8_000);
    expect(backoffDelayMs(10, 1_000, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelayMs(1_000, 1_000, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelayMs(10, 1_000, 60_000, () => 0)).toBe(500);
  });
});
