import { readTemplate } from '../../scripts/build/build';
import { runStepOf } from '../../scripts/build/recipe';
import { BUSY_TCP_LINES, QUIET_TIER_FLAGS, v8TierNote } from '../../src/component/node-tier';

describe("the start line's note on V8's compilers", () => {
  it('says which compilers run and, under auto, which way the socket count went', () => {
    expect(v8TierNote(['--max-semi-space-size=1', '--max-opt=0', '--gc-global'], 'auto')).toBe(
      ' (V8 interpreter only, full garbage collections: lowMemory auto, at most 1,000 TCP sockets when it started)',
    );
    expect(v8TierNote(['--max-semi-space-size=1'], 'auto')).toBe(
      ' (V8 compilers on: lowMemory auto, more than 1,000 TCP sockets when it started)',
    );
    expect(v8TierNote(['--max-opt=0', '--gc-global'], 'true')).toBe(' (V8 interpreter only, full garbage collections: lowMemory true)');
    expect(v8TierNote([], 'false')).toBe(' (V8 compilers on: lowMemory false)');
  });

  it('says nothing of a setting it was not given, and only the flag when the setting is not one it knows', () => {
    expect(v8TierNote([], undefined)).toBe('');
    expect(v8TierNote(['--gc-global', '--max-opt=0'], undefined)).toBe(' (V8 interpreter only, full garbage collections)');
    expect(v8TierNote([], '{configuration:/lowMemory}')).toBe('');
    expect(v8TierNote(['--max-opt=1'], 'true')).toBe(' (V8 compilers on: lowMemory true)');
    // Each flag is named by what it does, also alone (a manual run).
    expect(v8TierNote(['--max-opt=0'], 'true')).toBe(' (V8 interpreter only: lowMemory true)');
    expect(v8TierNote(['--gc-global'], undefined)).toBe(' (V8 compilers on, full garbage collections)');
  });

  it("agrees with the recipe's Run script on the flag and the count", () => {
    const { tierChoice } = runStepOf(readTemplate());
    expect(tierChoice).toContain(`tier="${QUIET_TIER_FLAGS.join(' ')}";`);
    expect(tierChoice).toContain(`-gt ${BUSY_TCP_LINES} ]`);
  });
});
