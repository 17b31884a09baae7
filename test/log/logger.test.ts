import { createLogger } from '../../src/log/logger';

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
