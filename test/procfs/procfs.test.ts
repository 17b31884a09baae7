import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SourceDeadlines } from '../../src/procfs/deadline';
import { CHUNK_BYTES, createProcfs, isKernelProcfs, isNotFound, withDeadlines } from '../../src/procfs/procfs';
import { makeFifo } from '../support/fifo';

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
    const error: unknown = await createProcfs(root)
      .readText('net/tcp6')
      .catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
    expect(isNotFound(new Error('EACCES'))).toBe(false);
  });

  it('reads files of any size whole, also many at once (each read lands in its own file)', async () => {
    const sizes = [0, 1, 4095, 4096, 4097, CHUNK_BYTES, 2 * CHUNK_BYTES + 17];
    const contents = sizes.map((size, n) => Array.from({ length: size }, (_, i) => String.fromCharCode(65 + ((i + n) % 26))).join(''));
    fs.mkdirSync(path.join(root, 'sized'), { recursive: true });
    for (const [n, text] of contents.entries()) fs.writeFileSync(path.join(root, 'sized', `${n}`), text);
    const procfs = createProcfs(root);
    expect(await Promise.all(contents.map((_, n) => procfs.readText(`sized/${n}`)))).toEqual(contents);
  });

  it('reads the real /proc, whose files report size 0', async () => {
    const text = await createProcfs('/proc').readText('self/status');
    expect(text).toMatch(/^Name:/);
    expect(text).toContain(`Pid:\t${process.pid}\n`);
  });
});

describe('isKernelProcfs', () => {
  it('tells the kernel procfs, read synchronously, from any other root, read through the thread pool', async () => {
    expect(await isKernelProcfs('/proc')).toBe(true);
    expect(await isKernelProcfs(os.tmpdir())).toBe(false);
    expect(await isKernelProcfs(path.join(os.tmpdir(), 'no-such-root-for-procfs-test'))).toBe(false);
  });
});

describe('withDeadlines', () => {
  /** Every read of `procfs` through withDeadlines, and the sources that went through a deadline. */
  async function readAll(root: string, rounds: number): Promise<string[][]> {
    const deadlines = new SourceDeadlines(5_000);
    const underDeadline: string[] = [];
    const run = deadlines.run.bind(deadlines);
    jest.spyOn(deadlines, 'run').mockImplementation((source, read) => {
      underDeadline.push(source);
      return run(source, read);
    });
    const procfs = withDeadlines(createProcfs(root), deadlines);
    const perRound: string[][] = [];
    for (let round = 0; round < rounds; round++) {
      underDeadline.length = 0;
      expect(await procfs.readText('net/dev')).toContain('\n');
      expect((await procfs.listDir('net')).length).toBeGreaterThan(0);
      for await (const chunk of procfs.readChunks('net/dev')) expect(chunk.length).toBeGreaterThan(0);
      perRound.push([...underDeadline]);
    }
    return perRound;
  }

  it('sets no deadline for the kernel procfs once its reads are known to be synchronous', async () => {
    const [first, later] = await readAll('/proc', 2);
    // The first read still waits for statfs to tell what the root is.
    expect(first).toContain('net/dev');
    expect(later).toEqual([]);
  });

  it('keeps a deadline on every read of any other root, which can wait', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dddeadline-'));
    try {
      fs.mkdirSync(path.join(root, 'net'));
      fs.writeFileSync(path.join(root, 'net', 'dev'), 'counters\n');
      const rounds = await readAll(root, 2);
      for (const sources of rounds) expect(sources).toEqual(['net/dev', 'net listing', 'net/dev']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('readChunks', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ddchunk-'));
    fs.writeFileSync(path.join(root, 'big'), Buffer.from(Array.from({ length: 3 * CHUNK_BYTES + 123 }, (_, i) => 65 + (i % 26))));
    fs.writeFileSync(path.join(root, 'empty'), '');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  /** Copies each piece, since its buffer is reused for the next one. */
  async function pieces(procfs: ReturnType<typeof createProcfs>, file: string): Promise<Buffer[]> {
    const copies: Buffer[] = [];
    for await (const chunk of procfs.readChunks(file)) copies.push(Buffer.from(chunk));
    return copies;
  }

  it('hands out the whole file in pieces of at most CHUNK_BYTES', async () => {
    const read = await pieces(createProcfs(root), 'big');
    expect(read.length).toBeGreaterThanOrEqual(4);
    expect(read.every((p) => p.length <= CHUNK_BYTES)).toBe(true);
    expect(Buffer.concat(read).equals(fs.readFileSync(path.join(root, 'big')))).toBe(true);
  });

  it('reads the real /proc/net/tcp, which hands out a page per read(2), to its end', async () => {
    const read = Buffer.concat(await pieces(createProcfs('/proc'), 'net/tcp')).toString('latin1');
    expect(read.split('\n')[0]).toContain('local_address');
    expect(read.endsWith('\n')).toBe(true);
  });

  it('reuses the buffers of finished reads, also of four read at once, and the pieces stay whole', async () => {
    const procfs = createProcfs(root);
    const buffersOf = async (reads: number) => {
      const seen = new Set<ArrayBufferLike>();
      const texts = await Promise.all(
        Array.from({ length: reads }, async () => {
          const copies: Buffer[] = [];
          for await (const chunk of procfs.readChunks('big')) {
            seen.add(chunk.buffer);
            copies.push(Buffer.from(chunk));
          }
          return Buffer.concat(copies);
        }),
      );
      expect(texts.every((text) => text.equals(fs.readFileSync(path.join(root, 'big'))))).toBe(true);
      return seen;
    };
    const first = await buffersOf(4);
    expect(first.size).toBe(4);
    const again = await buffersOf(4);
    expect([...again].every((buffer) => first.has(buffer))).toBe(true);
  });

  it('gives no piece for an empty file and rejects for a missing one', async () => {
    expect(await pieces(createProcfs(root), 'empty')).toEqual([]);
    const error: unknown = await pieces(createProcfs(root), 'missing').catch((e: unknown) => e);
    expect(isNotFound(error)).toBe(true);
  });
});

describe('a FIFO in place of a procfs file', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ddfifo-'));
    fs.mkdirSync(path.join(root, 'net'));
    // Nobody ever writes to it: an ordinary open would wait for a writer forever.
    makeFifo(path.join(root, 'net', 'dev'), path.join(root, 'net', 'tcp'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is refused at once by readText and readChunks, without blocking', async () => {
    const procfs = createProcfs(root);
    await expect(procfs.readText('net/dev')).rejects.toThrow(/net\/dev is not a regular file/);
    const chunks = procfs.readChunks('net/tcp')[Symbol.asyncIterator]();
    await expect(chunks.next()).rejects.toThrow(/net\/tcp is not a regular file/);
  });
});
