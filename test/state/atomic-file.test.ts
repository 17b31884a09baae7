import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAtomicFileWriter } from '../../src/state/atomic-file';
import { waitFor } from '../support/wait-for';

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

  it('names each temporary file after this process and a counter, so two writers of one path never share one', async () => {
    const path = join(dir, 'state.json');
    const first = createAtomicFileWriter(path);
    const second = createAtomicFileWriter(path);
    const seen: string[] = [];
    const watcher = watch(dir, (_event, name) => {
      if (name?.endsWith('.tmp') && !seen.includes(name)) seen.push(name);
    });
    try {
      for (let i = 0; i < 5; i++) await Promise.all([first(`a${i}`), second(`b${i}`)]);
      await waitFor(() => seen.length >= 10);
    } finally {
      watcher.close();
    }
    const pattern = new RegExp(`^state\\.json\\.${process.pid}\\.(\\d+)\\.tmp$`);
    expect(seen.every((name) => pattern.test(name))).toBe(true);
    expect(new Set(seen).size).toBe(10);
    expect(readdirSync(dir)).toEqual(['state.json']);
  });
});
