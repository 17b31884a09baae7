/**
 * Stand-in for AWS IoT Device Defender's metrics endpoint: a report published on
 * `$aws/things/<thing>/defender/metrics/<json|cbor>` is decoded, validated and answered on
 * `/accepted` or `/rejected` in the same encoding. Reports are checked against the fake's own JSON Schema
 * (defender-schema.ts), never with the agent's validator.
 */
import { Encoder } from 'cbor-x';
import type { ReportFormat } from '../../src/component/definition';
import { decodePayload, reportProblems } from './defender-schema';
import { InMemoryThrottle, type ThrottleMemory } from './throttle-memory';
import { describeError } from '../../src/util/describe-error';

const REPORT_TOPIC = /^\$aws\/things\/([^/]+)\/defender\/metrics\/(json|cbor)$/;
/** How many validation errors the rejected reply quotes. */
const QUOTED_ERRORS = 3;

export interface DefenderReportTopic {
  thingName: string;
  format: ReportFormat;
}

export function parseDefenderReportTopic(topic: string): DefenderReportTopic | undefined {
  const match = REPORT_TOPIC.exec(topic);
  return match ? { thingName: match[1]!, format: match[2] as ReportFormat } : undefined;
}

export interface DefenderOutcome extends DefenderReportTopic {
  topic: string;
  reportId?: number;
  status: 'ACCEPTED' | 'REJECTED';
  errors: string[];
  /** Sent sooner than the minimum interval after this thing's last accepted report. */
  tooSoon: boolean;
  bytes: number;
  reply: { topic: string; payload: Buffer };
}

export interface DefenderFakeOptions {
  minIntervalMs: number;
  now: () => number;
  /** Where the last accepted report's time per thing is kept; default: memory only. */
  throttle?: ThrottleMemory;
}

// Plain CBOR maps, as a generic CBOR decoder on the device expects (no cbor-x record extension).
const cborEncoder = new Encoder({ useRecords: false });

function encodeReply(reply: Record<string, unknown>, format: ReportFormat): Buffer {
  return format === 'cbor' ? Buffer.from(cborEncoder.encode(reply)) : Buffer.from(JSON.stringify(reply));
}

function reportIdOf(document: unknown): number | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const { header, hed } = document as { header?: { report_id?: unknown }; hed?: { rid?: unknown } };
  const id = header?.report_id ?? hed?.rid;
  return typeof id === 'number' && Number.isFinite(id) ? id : undefined;
}

export class DefenderFake {
  private readonly throttle: ThrottleMemory;

  constructor(private readonly options: DefenderFakeOptions) {
    this.throttle = options.throttle ?? new InMemoryThrottle();
  }

  /** Returns undefined when the topic is not a Defender report topic. */
  handle(topic: string, payload: Buffer): DefenderOutcome | undefined {
    const target = parseDefenderReportTopic(topic);
    if (!target) return undefined;
    const now = this.options.now();
    let errors: string[];
    let reportId: number | undefined;
    try {
      const document = decodePayload(payload, target.format);
      reportId = reportIdOf(document);
      errors = reportProblems(document);
    } catch (error) {
      errors = [`cannot decode ${target.format} payload: ${describeError(error)}`];
    }
    const last = this.throttle.lastAcceptedAt(target.thingName);
    const tooSoon = last !== undefined && now - last < this.options.minIntervalMs;
    const accepted = errors.length === 0 && !tooSoon;
    if (accepted) this.throttle.remember(target.thingName, now);

    const reply: Record<string, unknown> = { thingName: target.thingName };
    if (reportId !== undefined) reply.reportId = reportId;
    if (accepted) {
      reply.status = 'ACCEPTED';
    } else {
      reply.status = 'REJECTED';
      reply.statusDetails =
        errors.length > 0
          ? { ErrorCode: 'InvalidPayload', ErrorMessage: `Malformed metrics report: ${errors.slice(0, QUOTED_ERRORS).join('; ')}` }
          : // The service documents throttling to one report per 5 minutes but not what it replies; "Throttled"
            // comes from a third-party enum and is UNCONFIRMED (docs/device-defender-report.md, section 5).
            {
              ErrorCode: 'Throttled',
              ErrorMessage: `Report sent less than ${this.options.minIntervalMs / 1000} s after the previous accepted report`,
            };
    }
    reply.timestamp = now;

    return {
      ...target,
      topic,
      ...(reportId !== undefined ? { reportId } : {}),
      status: accepted ? 'ACCEPTED' : 'REJECTED',
      errors,
      tooSoon,
      bytes: payload.length,
      reply: { topic: `${topic}/${accepted ? 'accepted' : 'rejected'}`, payload: encodeReply(reply, target.format) },
    };
  }
}
