import { createLogger, formatUtcTimestamp } from '../../src/log/logger';

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
