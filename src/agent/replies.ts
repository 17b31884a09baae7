/** Device Defender's answers on the /accepted and /rejected topics, decoded. */
import { decode as decodeCbor } from 'cbor-x';
import { describeError } from '../util/describe-error';

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
    return { unreadable: `cannot decode reply on ${topic}: ${describeError(error)}` };
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
