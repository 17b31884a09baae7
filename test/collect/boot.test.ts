import { BOOT_TIME_TOLERANCE_MS, bootTimeId, sameBoot } from '../../src/collect/boot';

const BOOT = Date.UTC(2026, 11, 7, 6, 0, 0);

describe('the boot of a reading without a boot id (Windows)', () => {
  it('is the same boot when the derived boot time jitters between readings', () => {
    const first = bootTimeId(BOOT + 3_600_000, 3600);
    // Five minutes later, the clocks read a few hundred ms apart and the uptime rounded.
    const later = bootTimeId(BOOT + 3_900_000 + 437, 3900);
    expect(first).not.toBe(later);
    expect(sameBoot(first, later)).toBe(true);
    expect(sameBoot(first, bootTimeId(BOOT + BOOT_TIME_TOLERANCE_MS, 0))).toBe(true);
  });

  it('is a reboot when the boot time moved by more than the tolerance: a reboot moves it by at least the old uptime', () => {
    const before = bootTimeId(BOOT + 120_000, 120);
    const afterReboot = bootTimeId(BOOT + 200_000, 40);
    expect(sameBoot(before, afterReboot)).toBe(false);
    expect(sameBoot(before, bootTimeId(BOOT + BOOT_TIME_TOLERANCE_MS + 1, 0))).toBe(false);
  });

  it('compares Linux boot ids as they are, and never a boot id with a boot time', () => {
    const id = '8f0c2c8e-1b7a-4c51-9a55-3d7f4b1c2e90';
    expect(sameBoot(id, id)).toBe(true);
    expect(sameBoot(id, '8f0c2c8e-1b7a-4c51-9a55-3d7f4b1c2e91')).toBe(false);
    expect(sameBoot(bootTimeId(BOOT, 0), id)).toBe(false);
    expect(sameBoot('boot-time:12x', 'boot-time:12x')).toBe(true);
    expect(sameBoot('boot-time:12x', 'boot-time:12')).toBe(false);
  });
});
