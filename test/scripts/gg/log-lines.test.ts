import { levelOfLine, lineMatches, parseSince, printableLine } from '../../../scripts/gg/log-lines';

const CONTEXT = '{scriptName=services.com.example.TestAgent.lifecycle.Run, serviceName=com.example.TestAgent, currentState=RUNNING}';
const wrapped = (nucleus: string, stream: string, agentLine: string) =>
  `2026-11-22T12:00:00.013Z [${nucleus}] (Copier) com.example.TestAgent: ${stream}. ${agentLine}. ${CONTEXT}`;

describe('levelOfLine', () => {
  it("reads the agent's level inside the nucleus's text line", () => {
    expect(levelOfLine(wrapped('INFO', 'stdout', '2026-11-22T12:00:00.012Z DEBUG connected'))).toBe('debug');
    expect(levelOfLine(wrapped('INFO', 'stdout', '2026-11-22T12:00:00.012Z INFO  report 1 published'))).toBe('info');
    expect(levelOfLine(wrapped('WARN', 'stderr', '2026-11-22T12:00:00.012Z WARN  report 1 REJECTED'))).toBe('warn');
    expect(levelOfLine(wrapped('WARN', 'stderr', '2026-11-22T12:00:00.012Z ERROR denied'))).toBe('error');
  });

  it("falls back to the nucleus's level for output that is not an agent line", () => {
    expect(levelOfLine(wrapped('WARN', 'stderr', 'node: not found'))).toBe('warn');
    expect(
      levelOfLine(
        '2026-11-22T12:00:00.013Z [INFO] (pool-2-thread-18) com.example.TestAgent: shell-runner-start. {scriptName=services.com.example.TestAgent.lifecycle.Run}',
      ),
    ).toBe('info');
    expect(levelOfLine('2026-11-22T12:00:00.013Z [TRACE] (main) com.example.TestAgent: x')).toBe('debug');
  });

  it("reads the nucleus's JSON format, agent level first", () => {
    const json = (level: string, message: string) =>
      JSON.stringify({
        thread: 'Copier',
        level,
        eventType: 'stdout',
        message,
        contexts: {},
        loggerName: 'com.example.TestAgent',
        timestamp: 1,
      });
    expect(levelOfLine(json('INFO', '2026-11-22T12:00:00.012Z DEBUG connected'))).toBe('debug');
    expect(levelOfLine(json('WARN', 'plain text'))).toBe('warn');
    expect(levelOfLine('{"not":"a log line"}')).toBeUndefined();
    expect(levelOfLine('{broken json')).toBeUndefined();
  });

  it('reads a bare agent line and knows no level for anything else', () => {
    expect(levelOfLine('2026-11-22T12:00:00.012Z WARN  report 1 REJECTED')).toBe('warn');
    expect(levelOfLine('    at Object.<anonymous> (agent.js:1:1)')).toBeUndefined();
  });
});

describe('lineMatches', () => {
  const warn = wrapped('WARN', 'stderr', '2026-11-22T12:00:00.012Z WARN  report 1 REJECTED');
  const debug = wrapped('INFO', 'stdout', '2026-11-22T12:00:00.012Z DEBUG connected');

  it('keeps lines at or above the level, unknown levels counting as info', () => {
    expect(lineMatches(warn, { minimumLevel: 'warn', text: undefined })).toBe(true);
    expect(lineMatches(debug, { minimumLevel: 'info', text: undefined })).toBe(false);
    expect(lineMatches('no level here', { minimumLevel: 'info', text: undefined })).toBe(true);
    expect(lineMatches('no level here', { minimumLevel: 'warn', text: undefined })).toBe(false);
  });

  it('keeps lines containing the text, case-sensitively', () => {
    expect(lineMatches(warn, { minimumLevel: 'debug', text: 'REJECTED' })).toBe(true);
    expect(lineMatches(warn, { minimumLevel: 'debug', text: 'rejected' })).toBe(false);
  });
});

describe('parseSince', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  const max = 30 * 86_400_000;

  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
  ])('%s goes back %d ms', (value, back) => {
    expect(parseSince(value, now, max)).toBe(now - back);
  });

  it('takes an ISO time with a zone', () => {
    expect(parseSince('2026-11-22T11:30:00Z', now, max)).toBe(Date.parse('2026-11-22T11:30:00Z'));
    expect(parseSince('2026-11-22T12:30:00+01:00', now, max)).toBe(Date.parse('2026-11-22T11:30:00Z'));
  });

  it.each([['1w'], ['-1h'], ['2026-11-22T11:30:00'], ['2026-11-22T13:00:00Z'], ['31d'], ['']])('refuses %j', (value) => {
    expect(() => parseSince(value, now, max)).toThrow(/--since/);
  });
});

describe('printableLine', () => {
  it('drops the line break the uploaded line may end with, nothing else', () => {
    expect(printableLine('a line \n')).toBe('a line ');
    expect(printableLine('a line\r\n')).toBe('a line');
    expect(printableLine(undefined)).toBe('');
  });
});
