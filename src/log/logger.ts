/**
 * Line-oriented log on stdout/stderr: the nucleus copies both into
 * /greengrass/v2/logs/<ComponentName>.log, which is the operator's main view of the agent.
 * Warnings and errors go to stderr so the nucleus marks them as such.
 */
import type { LogLevel } from '../config/definition';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  setLevel(level: LogLevel): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  out(line: string): void;
  err(line: string): void;
}

/** The two streams a sink writes to; process.stdout and process.stderr in the agent. */
export interface LogStreams {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/**
 * A sink on two streams that goes quiet for good at the first failure of either, and says so once through
 * `onBroken`. A log stream fails when its reader is gone (EPIPE: the nucleus died without its components, the local
 * core was killed, a terminal was closed). Writing on, or reporting the failure on the stream that failed, would
 * raise again at once and loop for as long as the process lives; nothing written there can reach anyone now.
 */
export function streamSink(streams: LogStreams, onBroken: (reason: string) => void): LogSink {
  let broken = false;
  const fail = (which: string, error: unknown): void => {
    if (broken) return;
    broken = true;
    const code = (error as { code?: unknown } | null)?.code;
    onBroken(`${which} failed${typeof code === 'string' ? ` (${code})` : ''}`);
  };
  const writer = (stream: NodeJS.WritableStream, which: string) => {
    stream.on('error', (error) => fail(which, error));
    return (line: string): void => {
      if (broken) return;
      try {
        stream.write(`${line}\n`);
      } catch (error) {
        fail(which, error);
      }
    };
  };
  return { out: writer(streams.out, 'stdout'), err: writer(streams.err, 'stderr') };
}

export function createLogger(sink: LogSink, level: LogLevel = 'info', now: () => Date = () => new Date()): Logger {
  let threshold = RANK[level];
  const write = (lineLevel: LogLevel, message: string): void => {
    if (RANK[lineLevel] < threshold) return;
    const line = `${formatUtcTimestamp(now())} ${lineLevel.toUpperCase().padEnd(5)} ${oneLine(message)}`;
    if (RANK[lineLevel] >= RANK.warn) sink.err(line);
    else sink.out(line);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    setLevel: (l) => {
      threshold = RANK[l];
    },
  };
}

const pad = (value: number, digits: number): string => String(value).padStart(digits, '0');

/**
 * The text Date.prototype.toISOString gives (`2026-11-22T12:00:00.000Z`, a six-digit signed year outside 0-9999), put
 * together from the UTC getters: toISOString's own code costs the agent close to 1 MiB of resident memory, paid on
 * every line. An invalid date, which toISOString refuses with a RangeError, gives `Invalid Date`: a log line is
 * never worth an exception.
 */
export function formatUtcTimestamp(date: Date): string {
  if (Number.isNaN(date.getTime())) return 'Invalid Date';
  const year = date.getUTCFullYear();
  const yearText = year >= 0 && year <= 9999 ? pad(year, 4) : `${year < 0 ? '-' : '+'}${pad(Math.abs(year), 6)}`;
  return (
    `${yearText}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}T` +
    `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}.${pad(date.getUTCMilliseconds(), 3)}Z`
  );
}

/** Far above any line the agent writes itself; an error text from elsewhere is cut there, saying how long it was. */
const MAX_MESSAGE_CHARACTERS = 8_000;

/**
 * One event, one line: whatever a message carries (a nucleus error text, a stack trace, a value an operator
 * deployed), a control character is escaped, so no message can start a line that looks like another event.
 */
function oneLine(message: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is escaped here
  const escaped = message.replace(/[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > MAX_MESSAGE_CHARACTERS
    ? `${escaped.slice(0, MAX_MESSAGE_CHARACTERS)}... (${escaped.length} characters)`
    : escaped;
}
