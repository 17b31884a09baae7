/**
 * report_id: "Monotonically increasing value. Epoch timestamp recommended." (docs/device-defender-report.md, section 2).
 *
 * Epoch seconds, as the Python agent (and so the AWS Greengrass component) sends: reports are at
 * least 300 s apart, so seconds never collide, and the value reads as a date in the console.
 * max(last + 1, now) keeps the id strictly increasing when the clock steps back (NTP correction,
 * an RTC-less board booting at 1970) and across restarts, as long as the last id is persisted.
 */
export function nextReportId(lastReportId: number | undefined, nowMs: number): number {
  const epochSeconds = Number.isFinite(nowMs) ? Math.floor(nowMs / 1000) : 0;
  return Math.max((lastReportId ?? 0) + 1, epochSeconds, 1);
}
