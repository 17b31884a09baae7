/**
 * The named shadow that marks a quarantined thing, as one of AWS's labs does by hand: who was isolated, for which
 * behavior and violation, and when. Written by the isolation function, cleared by `gg quarantine release`, read by
 * `gg quarantine status`. Shadow documents: https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
 */
export const DEFAULT_QUARANTINE_SHADOW = 'defender-quarantine';

export interface QuarantineRecord {
  quarantined: true;
  quarantineGroup: string;
  behavior: string;
  violationId: string;
  securityProfileName: string;
  /** Epoch milliseconds of the violation event that caused the isolation. */
  violationEventTime: number;
  source: string;
  /** Epoch milliseconds of the isolation. */
  isolatedAt: number;
}

const RECORD_KEYS = [
  'quarantineGroup',
  'behavior',
  'violationId',
  'securityProfileName',
  'violationEventTime',
  'source',
  'isolatedAt',
] as const;

export function recordDocument(record: QuarantineRecord, version: number | undefined): string {
  return JSON.stringify({ state: { reported: record }, ...(version === undefined ? {} : { version }) });
}

/** Clearing: null deletes a reported key, so only `quarantined: false` and the release time remain. */
export function clearedDocument(releasedAt: number): string {
  const cleared = Object.fromEntries(RECORD_KEYS.map((key) => [key, null]));
  return JSON.stringify({ state: { reported: { ...cleared, quarantined: false, releasedAt } } });
}

export interface ShadowState {
  record: QuarantineRecord | undefined;
  version: number | undefined;
  releasedAt: number | undefined;
}

/** The shadow's quarantine record, if it holds a whole one (a device able to write its shadow could have left anything). */
export function readShadowDocument(payload: Uint8Array | undefined): ShadowState {
  const empty: ShadowState = { record: undefined, version: undefined, releasedAt: undefined };
  if (!payload || payload.byteLength === 0) return empty;
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return empty;
  }
  const doc = document as { version?: unknown; state?: { reported?: Record<string, unknown> } };
  const version = typeof doc.version === 'number' ? doc.version : undefined;
  const reported = doc.state?.reported;
  const releasedAt = typeof reported?.releasedAt === 'number' ? reported.releasedAt : undefined;
  if (reported?.quarantined !== true) return { record: undefined, version, releasedAt };
  const whole =
    typeof reported.quarantineGroup === 'string' &&
    typeof reported.behavior === 'string' &&
    typeof reported.violationId === 'string' &&
    typeof reported.violationEventTime === 'number' &&
    typeof reported.isolatedAt === 'number';
  if (!whole) return { record: undefined, version, releasedAt };
  return {
    record: {
      quarantined: true,
      quarantineGroup: reported.quarantineGroup as string,
      behavior: reported.behavior as string,
      violationId: reported.violationId as string,
      securityProfileName: typeof reported.securityProfileName === 'string' ? reported.securityProfileName : '',
      violationEventTime: reported.violationEventTime as number,
      source: typeof reported.source === 'string' ? reported.source : '',
      isolatedAt: reported.isolatedAt as number,
    },
    version,
    releasedAt,
  };
}
