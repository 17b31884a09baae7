/**
 * The byte budget of a report: what `maxReportBytes` asks for, within what the runtime's IPC message can carry to
 * every topic the report goes to. On nucleus lite a frame above its limit makes the nucleus close the connection, so
 * a report is trimmed to fit it rather than ever sent too large, and a configured budget above it is refused.
 */
import { LITE_IPC_FRAME_LIMIT_BYTES, maxPayloadBytes } from '../ipc/frame-size';
import type { NucleusRuntime } from './nucleus-runtime';

/** `auto` on the classic nucleus: well below AWS IoT Core's 128 KB, with room for a busy device's lists. */
const CLASSIC_REPORT_BYTES = 64_000;

/** The IPC frame limit of a runtime; undefined where none lies below AWS IoT Core's own message limit. */
export function frameLimitOf(runtime: NucleusRuntime): number | undefined {
  return runtime === 'lite' ? LITE_IPC_FRAME_LIMIT_BYTES : undefined;
}

/** The most report bytes one PublishToIoTCore to each of `topics` carries on this runtime; undefined: no IPC limit. */
export function reportCapacity(runtime: NucleusRuntime, topics: readonly string[]): number | undefined {
  const limit = frameLimitOf(runtime);
  if (limit === undefined) return undefined;
  return Math.min(...topics.map((topic) => maxPayloadBytes('PublishToIoTCore', topic, limit)));
}

export function reportBudget(setting: number | 'auto', capacity: number | undefined): number {
  const wanted = setting === 'auto' ? CLASSIC_REPORT_BYTES : setting;
  return capacity === undefined ? wanted : Math.min(wanted, capacity);
}

/** Why an explicit maxReportBytes cannot be honoured on this runtime, or undefined. */
export function reportBytesProblem(setting: number | 'auto', capacity: number | undefined): string | undefined {
  if (setting === 'auto' || capacity === undefined || setting <= capacity) return undefined;
  return (
    `${setting} does not fit nucleus lite's ${LITE_IPC_FRAME_LIMIT_BYTES}-byte IPC message (a larger one makes the nucleus close ` +
    `the connection): with the frame's headers and the payload in base64, at most ${capacity} bytes of report fit its topics; ` +
    'set it to auto or at most that'
  );
}
