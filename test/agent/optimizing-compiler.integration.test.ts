/**
 * nodeOptimizingCompiler against V8 itself: node started as the recipe starts it for lowMemory auto (without its
 * optimizing compiler), a hot function, and V8's own optimization trace before and after the switch.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WITHOUT_OPTIMIZING_COMPILER } from '../../src/agent/optimizing-compiler';

const REPO = path.resolve(__dirname, '..', '..');
const MARK = '--- switch';

function traceOf(turnOn: boolean): { before: string; after: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optimizing-compiler-'));
  try {
    const script = path.join(dir, 'hot.ts');
    fs.writeFileSync(
      script,
      [
        `import { nodeOptimizingCompiler } from ${JSON.stringify(path.join(REPO, 'src/agent/optimizing-compiler'))};`,
        'function hotLoop(values: Int32Array): number {',
        '  let sum = 0;',
        '  for (let i = 0; i < values.length; i++) sum = (sum + values[i]! * 31) | 0;',
        '  return sum;',
        '}',
        'const values = new Int32Array(10_000).fill(3);',
        'let total = 0;',
        'for (let i = 0; i < 3_000; i++) total += hotLoop(values);',
        `console.log(${JSON.stringify(MARK)});`,
        turnOn ? 'nodeOptimizingCompiler.turnOn();' : '',
        'for (let i = 0; i < 3_000; i++) total += hotLoop(values);',
        'console.log(total);',
      ].join('\n'),
    );
    const result = spawnSync(process.execPath, [WITHOUT_OPTIMIZING_COMPILER, '--trace-opt', '--import', 'tsx', script], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    const [before = '', after = ''] = result.stdout.split(MARK);
    return { before, after };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const optimized = (trace: string) => trace.split('\n').filter((line) => /completed optimizing .*hotLoop.*TURBOFAN/.test(line));

describe('nodeOptimizingCompiler', () => {
  it('makes V8 optimize a hot function with TurboFan from the switch on, and not before', () => {
    const switched = traceOf(true);
    expect(switched.before).not.toMatch(/TURBOFAN/);
    expect(optimized(switched.after)).not.toEqual([]);
  });

  it('is what does it: the same function stays unoptimized without the switch', () => {
    const unswitched = traceOf(false);
    expect(unswitched.before + unswitched.after).not.toMatch(/TURBOFAN/);
  });
});
