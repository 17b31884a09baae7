import { Writable } from 'node:stream';
import { createLogger, formatUtcTimestamp, streamSink } from '../../src/log/logger';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const logger = createLogger({ out: (l) => out.push(l), err: (l) => err.push(l) }, 'info', () => new Date(Date.UTC(2026, 10, 22, 12)));
  return { logger, out, err };
}

describe('createLogger', () => {
  it('writes info to stdout and warnings to stderr, below the level nothing', () => {
    const h = capture();
    h.logger.debug('hidden');
    h.logger.info('shown');
    h.logger.warn('careful');
    expect(h.out).toEqual(['2026-11-22T12:00:00.000Z INFO  shown']);
    expect(h.err).toEqual(['2026-11-22T12:00:00.000Z WARN  careful']);
  });

  it('keeps every event on one line: a newline in a message cannot forge another event', () => {
    const h = capture();
    h.logger.error('cannot reach Thing\n2026-11-22T12:00:00.000Z INFO  report 1 ACCEPTED\r\u2028\u0007');
    expect(h.err).toEqual([
      '2026-11-22T12:00:00.000Z ERROR cannot reach Thing\\n2026-11-22T12:00:00.000Z INFO  report 1 ACCEPTED\\r\\u2028\\u0007',
    ]);
  });

  it('cuts a huge message, saying how long it was', () => {
    const h = capture();
    h.logger.warn(`x${'y'.repeat(1_000_000)}`);
    expect(h.err[0]!.length).toBeLessThan(8_100);
    expect(h.err[0]).toMatch(/\.\.\. \(1000001 characters\)$/);
  });
});

describe('formatUtcTimestamp', () => {
  it('writes the same text as toISOString across year, month, day and leap-day boundaries', () => {
    const instants = [
      0,
      -1,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1, 0, 0, 0, 0),
      Date.UTC(2024, 1, 28, 23, 59, 59, 999),
      Date.UTC(2024, 1, 29, 0, 0, 0, 1),
      Date.UTC(2024, 2, 1, 0, 0, 0, 10),
      Date.UTC(2023, 1, 28, 23, 59, 59, 100),
      Date.UTC(2026, 5, 30, 23, 59, 59, 999),
      Date.UTC(2026, 6, 1, 9, 5, 7, 42),
      Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(2038, 0, 19, 3, 14, 8, 0),
    ];
    for (const ms of instants) expect(formatUtcTimestamp(new Date(ms))).toBe(new Date(ms).toISOString());
  });

  it('agrees with toISOString on a spread of instants from 1970 to 2100', () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const end = Date.UTC(2100, 0, 1);
    for (let i = 0; i < 2_000; i++) {
      const date = new Date(Math.floor(next() * end));
      expect(formatUtcTimestamp(date)).toBe(date.toISOString());
    }
  });

  it('writes years outside 0-9999 with a sign and six digits, as toISOString does', () => {
    for (const ms of [Date.UTC(10_000, 0, 1), Date.UTC(-1, 11, 31, 23, 59, 59, 999), Date.UTC(0, 0, 1) - 1, 8.64e15, -8.64e15]) {
      expect(formatUtcTimestamp(new Date(ms))).toBe(new Date(ms).toISOString());
    }
    const yearZero = new Date(Date.UTC(2000, 0, 1));
    yearZero.setUTCFullYear(0);
    expect(formatUtcTimestamp(yearZero)).toBe(yearZero.toISOString());
  });

  it('says Invalid Date where toISOString would throw, so a broken clock cannot stop logging', () => {
    expect(formatUtcTimestamp(new Date(Number.NaN))).toBe('Invalid Date');
    const lines: string[] = [];
    createLogger({ out: (l) => lines.push(l), err: (l) => lines.push(l) }, 'info', () => new Date(Number.NaN)).info('still here');
    expect(lines).toEqual(['Invalid Date INFO  still here']);
  });
});

describe('streamSink', () => {
  /** A stream whose reader is gone: every write fails with EPIPE, as a pipe's does. */
  function brokenPipe() {
    let writes = 0;
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        writes += 1;
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    return { stream, writes: () => writes };
  }

  it('goes quiet for good at the first failed write and says so once, so a logged failure cannot raise another', async () => {
    const out = brokenPipe();
    const err = brokenPipe();
    const reasons: string[] = [];
    const logger = createLogger(streamSink({ out: out.stream, err: err.stream }, (reason) => reasons.push(reason)));
    logger.info('first');
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 100; i += 1) logger.error(`unexpected error: write EPIPE ${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(reasons).toEqual(['stdout failed (EPIPE)']);
    expect(out.writes() + err.writes()).toBe(1);
  });

  it('writes every line while the streams work', () => {
    const lines: string[] = [];
    const collect = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(String(chunk));
        callback();
      },
    });
    const logger = createLogger(
      streamSink({ out: collect, err: collect }, () => undefined),
      'info',
      () => new Date(0),
    );
    logger.info('one');
    logger.warn('two');
    expect(lines).toEqual(['1970-01-01T00:00:00.000Z INFO  one\n', '1970-01-01T00:00:00.000Z WARN  two\n']);
  });
});
