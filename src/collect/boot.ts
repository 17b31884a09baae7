/**
 * Which boot a reading belongs to: interface counters restart from zero at every boot, so a delta across a reboot must
 * not be taken. Linux names the boot (`/proc/sys/kernel/random/boot_id`, compared as it is). Windows has no boot id, so
 * there the boot is named by its start time, `boot-time:<epoch ms>`, derived as wall clock minus uptime.
 *
 * Why a tolerance: that derived time moves a little from one reading to the next although the boot is the same. The two
 * clocks are read at slightly different instants; uptime comes from the tick counter, which the time service does not
 * correct while it slews or steps the wall clock. Equality would then take most samples for a reboot and skip their
 * traffic. A real reboot moves the boot time forward by at least the uptime the old boot had when its reading was taken
 * plus the time the reboot took: Windows, the nucleus and this agent have to start before any reading, which takes well
 * over a minute, so a tolerance of 30 s cannot take a reboot for the same boot. The other way round, a wall clock stepped
 * by more than that between two readings is taken for a reboot: that interval's traffic is left out with a note, and
 * nothing false is reported.
 */

const BOOT_TIME_PREFIX = 'boot-time:';
export const BOOT_TIME_TOLERANCE_MS = 30_000;

/** The boot id of a boot that started `uptimeSeconds` before `nowMs`. */
export function bootTimeId(nowMs: number, uptimeSeconds: number): string {
  return `${BOOT_TIME_PREFIX}${Math.round(nowMs - uptimeSeconds * 1000)}`;
}

function bootTimeOf(id: string): number | undefined {
  if (!id.startsWith(BOOT_TIME_PREFIX)) return undefined;
  const text = id.slice(BOOT_TIME_PREFIX.length);
  return /^-?\d{1,16}$/.test(text) ? Number(text) : undefined;
}

/** Whether two readings' boot ids name the same boot. */
export function sameBoot(a: string, b: string): boolean {
  if (a === b) return true;
  const [timeA, timeB] = [bootTimeOf(a), bootTimeOf(b)];
  return timeA !== undefined && timeB !== undefined && Math.abs(timeA - timeB) <= BOOT_TIME_TOLERANCE_MS;
}
