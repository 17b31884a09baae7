import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeAddonProblem } from '../../src/ipc/native-addon';

/** The addon npm installed for this machine: a real, whole ELF shared object. */
const realAddon = join(
  __dirname,
  '..',
  '..',
  'node_modules',
  'aws-crt',
  'dist',
  'bin',
  `linux-${process.arch}-glibc`,
  'aws-crt-nodejs.node',
);

describe('checking the aws-crt addon before it is loaded', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'addon-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const copy = (bytes: Buffer): string => {
    const file = join(dir, 'aws-crt-nodejs.node');
    writeFileSync(file, bytes);
    return file;
  };

  it('passes the whole addon', () => {
    expect(nativeAddonProblem(realAddon)).toBeUndefined();
  });

  it.each([0.99, 0.5, 0.01])('refuses the addon cut to %p of its size, naming what is missing', (fraction) => {
    const whole = readFileSync(realAddon);
    const problem = nativeAddonProblem(copy(whole.subarray(0, Math.floor(whole.length * fraction))));
    expect(problem).toMatch(
      /^cut short: \d+ bytes, but its (section header table|program header table|loaded segment \d+) ends at byte \d+$/,
    );
  });

  it('refuses what is not an ELF shared object', () => {
    expect(nativeAddonProblem(copy(Buffer.from('<html>404</html>')))).toBe('not an ELF shared object (16 bytes)');
    expect(nativeAddonProblem(copy(Buffer.alloc(0)))).toBe('not an ELF shared object (0 bytes)');
  });
});
