import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAtomicFileWriter } from '../../src/state/atomic-file';

describe('createAtomicFileWriter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves the last of many overlapping writes on disk, owner-only, with no temporary file behind', async () => {
    const path = join(dir, 'sub', 'state.json');
    const write = createAtomicFileWriter(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => write(`${i}\n`.repeat(1000))));
    expect(readFileSync(path, 'utf8')).toBe('19\n'.repeat(1000));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['state.json']);
  });

  it('keeps the old file when a write fails, and the next write still goes through', async () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, 'old');
    const write = createAtomicFileWriter(path);
    await expect(write(undefined as unknown as string)).rejects.toThrow();
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['state.json']);
    await write('new');
    expect(readFileSync(path, 'utf8')).toBe('new');
  });
});
