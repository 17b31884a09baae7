import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProcfs, isNotFound } from '../../src/procfs/procfs';

describe('createProcfs', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ddfs-'));
    fs.mkdirSync(path.join(root, 'net'));
    fs.writeFileSync(path.join(root, 'net', 'dev'), 'counters\n');
    fs.mkdirSync(path.join(root, '17'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads and lists relative to its root', async () => {
    const procfs = createProcfs(root);
    expect(procfs.root).toBe(root);
    expect(await procfs.readText('net/dev')).toBe('counters\n');
    expect((await procfs.listDir('.')).sort()).toEqual(['17', 'net']);
  });

  it('rejects with ENOENT for a missing file, which isNotFound recognises', async () => {
    const error: unknown = await createProcfs(root).readText('net/tcp6').catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
    expect(isNotFound(new Error('EACCES'))).toBe(false);
  });

  it('reads the real /proc, whose files report size 0', async () => {
    const text = await createProcfs('/proc').readText('self/status');
    expect(text).toMatch(/^Name:/);
    expect(text).toContain(`Pid:\t${process.pid}\n`);
  });
});
