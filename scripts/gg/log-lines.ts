/**
 * Reading the lines the log manager uploads: each CloudWatch event is one line of the component's log file on
 * the core, in the nucleus's format around the agent's own line (src/log/logger.ts), for example
 *   2026-11-22T12:00:00.013Z [INFO] (Copier) com.example.DeviceDefenderAgent: stdout. 2026-11-22T12:00:00.012Z INFO  report ... . {scriptName=..., serviceName=..., currentState=RUNNING}
 * or, with the nucleus's `logging.format: JSON`, a JSON object whose `message` is the agent's line.
 * The level of a line is the agent's own level when the agent's line is found, else the nucleus's.
 */
import type { LogLevel } from '../../src/config/definition';
import { UsageError } from './errors';
import { quotedInput } from './terminal-text';

export const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const AGENT_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z (DEBUG|INFO|WARN|ERROR)\s/;
const NUCLEUS_TEXT_LINE = /^\S+ \[(TRACE|DEBUG|INFO|WARN|ERROR)\] \([^)]*\) [^:\s]+: (?:stdout|stderr)\. ([\s\S]*)$/;
const NUCLEUS_LEVEL = /^\S+ \[(TRACE|DEBUG|INFO|WARN|ERROR)\] /;

function toLevel(name: string): LogLevel {
  const lower = name.toLowerCase();
  return lower === 'trace' ? 'debug' : (lower as LogLevel);
}

function agentLevel(line: string): LogLevel | undefined {
  const match = AGENT_LINE.exec(line);
  return match ? toLevel(match[1]!) : undefined;
}

function jsonLevel(message: string): LogLevel | undefined {
  if (!message.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { level, message: inner } = parsed as { level?: unknown; message?: unknown };
  const own = typeof inner === 'string' ? agentLevel(inner) : undefined;
  if (own) return own;
  return typeof level === 'string' && /^(TRACE|DEBUG|INFO|WARN|ERROR)$/.test(level) ? toLevel(level) : undefined;
}

/** The level of one uploaded line; undefined when no level can be read (it is then treated as info). */
export function levelOfLine(message: string): LogLevel | undefined {
  const wrapped = NUCLEUS_TEXT_LINE.exec(message);
  if (wrapped) return agentLevel(wrapped[2]!) ?? toLevel(wrapped[1]!);
  const nucleus = NUCLEUS_LEVEL.exec(message);
  if (nucleus) return toLevel(nucleus[1]!);
  return jsonLevel(message) ?? agentLevel(message);
}

export interface LineFilter {
  /** Lines below this level are left out. */
  minimumLevel: LogLevel;
  /** Only lines that contain this text (case-sensitive), when given. */
  text: string | undefined;
}

export function lineMatches(message: string, filter: LineFilter): boolean {
  if (RANK[levelOfLine(message) ?? 'info'] < RANK[filter.minimumLevel]) return false;
  return filter.text === undefined || message.includes(filter.text);
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from now (`90s`, `15m`, `1h`, `2d`) or an ISO 8601 time with a zone (`2026-11-22T12:00:00Z`). */
export function parseSince(value: string, nowMs: number, maxBackMs: number): number {
  const duration = /^(\d{1,6})([smhd])$/.exec(value.trim());
  let startMs: number;
  if (duration) {
    startMs = nowMs - Number(duration[1]) * UNIT_MS[duration[2]!]!;
  } else if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(value.trim()) && Number.isFinite(Date.parse(value))) {
    startMs = Date.parse(value);
  } else {
    throw new UsageError(
      `--since must be a duration such as 30m, 1h or 2d, or an ISO time such as 2026-11-22T12:00:00Z (got ${quotedInput(value)})`,
    );
  }
  if (startMs > nowMs) throw new UsageError(`--since ${quotedInput(value)} is in the future`);
  if (nowMs - startMs > maxBackMs) throw new UsageError(`--since reaches back at most ${maxBackMs / UNIT_MS.d!} days`);
  return startMs;
}

/** The event's message as it stands in the file on the core (the uploaded line without its line break). */
export function printableLine(message: string | undefined): string {
  return (message ?? '').replace(/\r?\n$/, '');
}
