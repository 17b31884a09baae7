/** Device Defender's answers on the /accepted and /rejected topics, decoded and correlated with the reports sent. */
import { decode as decodeCbor } from 'cbor-x';

export interface DefenderReply {
  status: 'ACCEPTED' | 'REJECTED';
  reportId?: number;
  errorCode?: string;
  errorMessage?: string;
}

export function parseDefenderReply(payload: Buffer, topic: string): DefenderReply | { unreadable: string } {
  let body: unknown;
  try {
    body = topic.includes('/defender/metrics/cbor/') ? decodeCbor(payload) : JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return { unreadable: `cannot decode reply on ${topic}: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (body === null || typeof body !== 'object') return { unreadable: `reply on ${topic} is not an object` };
  const fields = body as Record<string, unknown>;
  const status = topic.endsWith('/rejected') ? 'REJECTED' : 'ACCEPTED';
  const details = (fields.statusDetails ?? {}) as Record<string, unknown>;
  const reportId = Number(fields.reportId);
  return {
    status,
    ...(Number.isSafeInteger(reportId) && reportId > 0 ? { reportId } : {}),
    ...(typeof details.ErrorCode === 'string' ? { errorCode: details.ErrorCode } : {}),
    ...(typeof details.ErrorMessage === 'string' ? { errorMessage: details.ErrorMessage } : {}),
  };
}

/** Reports published and not yet answered, oldest first. */
export class PendingReplies {
  private readonly sentAt = new Map<number, number>();
  private unanswered = 0;

  add(reportId: number, nowMs: number): void {
    this.sentAt.set(reportId, nowMs);
  }

  /** Returns how long the report waited, or undefined when it was not pending (late or foreign reply). */
  settle(reportId: number, nowMs: number): number | undefined {
    const sent = this.sentAt.get(reportId);
    if (sent === undefined) return undefined;
    this.sentAt.delete(reportId);
    return nowMs - sent;
  }

  /** Removes the reports that waited longer than `timeoutMs` and counts them as unanswered. */
  expire(nowMs: number, timeoutMs: number): number[] {
    const expired: number[] = [];
    for (const [reportId, sent] of this.sentAt) {
      if (nowMs - sent >= timeoutMs) expired.push(reportId);
    }
    for (const reportId of expired) this.sentAt.delete(reportId);
    this.unanswered += expired.length;
    return expired;
  }

  get unansweredCount(): number {
    return this.unanswered;
  }
}
