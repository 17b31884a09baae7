import fs from 'node:fs';
import path from 'node:path';
import { setImmediate } from 'node:timers/promises';
import type { SourceDeadlines } from './deadline';

/**
 * Read access to a procfs mount. The root is configurable (`/proc` on the host, `/host/proc` in a container, a fixture
 * directory in tests); every path is relative to it.
 */
export interface Procfs {
  readonly root: string;
  readText(relativePath: string): Promise<string>;
  /**
   * The file in pieces, for the big socket tables, so that the caller parses as it reads and never holds the event
   * loop for the whole file. Each piece is valid only until the next one is asked for (the buffer is reused).
   */
  readChunks(relativePath: string): AsyncIterable<Buffer>;
  listDir(relativePath: string): Promise<string[]>;
}

/** Bytes per piece: a few milliseconds of kernel formatting (~150 bytes a socket), then the event loop gets a turn. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * /proc/net/tcp hands out at most one page per read(2): a 3 MB table (10,000 connections) takes ~750 reads, and as
 * thread-pool round trips (fs.promises) those cost more than the kernel's own formatting. So only the open and the
 * first read go through the thread pool (tables started together are opened in parallel, and a read that never
 * returns meets its deadline there), and every later read is synchronous: procfs is generated in memory, a read
 * never waits for a device, so a synchronous read costs only the formatting, and a turn of the event loop between
 * pieces keeps every stall short. (Filling the first 64 KiB through the thread pool took ~16 round trips.)
 */
async function* readChunks(file: string): AsyncGenerator<Buffer> {
  const handle = await openRegularFile(file);
  const buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  try {
    for (let piece = 0; ; piece++) {
      let filled = 0;
      let bytesRead = -1;
      while (filled < CHUNK_BYTES && bytesRead !== 0) {
        const space = CHUNK_BYTES - filled;
        bytesRead =
          piece === 0 && filled === 0
            ? (await handle.read(buffer, 0, space, null)).bytesRead
            : fs.readSync(handle.fd, buffer, filled, space, null);
        filled += bytesRead;
      }
      if (filled > 0) yield buffer.subarray(0, filled);
      if (bytesRead === 0) return;
      await setImmediate();
    }
  } finally {
    await handle.close();
  }
}

/**
 * Opens without blocking and refuses anything but a regular file (procfs files are regular files of size 0): a FIFO
 * put in place of a table would otherwise block the open in a thread-pool thread until a writer comes, and the
 * synchronous reads of readChunks would block the whole process.
 */
async function openRegularFile(file: string): Promise<fs.promises.FileHandle> {
  const handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    // fstat of an open file never waits: no thread-pool round trip for it.
    const stats = fs.fstatSync(handle.fd);
    if (!stats.isFile()) throw new Error(`${file} is not a regular file (a FIFO, socket or device is not read: it could block)`);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function readText(file: string): Promise<string> {
  const handle = await openRegularFile(file);
  try {
    // latin1: procfs text is ASCII, and a one-byte string is the cheapest to build and scan.
    return await handle.readFile('latin1');
  } finally {
    await handle.close();
  }
}

export function createProcfs(root: string): Procfs {
  const resolve = (relativePath: string) => path.join(root, relativePath);
  return {
    root,
    readText: (relativePath) => readText(resolve(relativePath)),
    readChunks: (relativePath) => readChunks(resolve(relativePath)),
    listDir: (relativePath) => fs.promises.readdir(resolve(relativePath)),
  };
}

/** True when the error says the file does not exist (for example /proc/net/tcp6 on a kernel without IPv6). */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** `procfs` with a deadline on every read (see deadline.ts); each file is its own source. */
export function withDeadlines(procfs: Procfs, deadlines: SourceDeadlines): Procfs {
  return {
    root: procfs.root,
    readText: (relativePath) => deadlines.run(relativePath, () => procfs.readText(relativePath)),
    listDir: (relativePath) =>
      deadlines.run(`${relativePath === '.' ? 'the procfs root' : relativePath} listing`, () => procfs.listDir(relativePath)),
    readChunks: (relativePath) => ({
      [Symbol.asyncIterator]: () => {
        const chunks = procfs.readChunks(relativePath)[Symbol.asyncIterator]();
        return {
          next: () => deadlines.run(relativePath, () => chunks.next()),
          // After a missed deadline this is queued behind the pending read, and closes the file once that returns.
          return: (value?: unknown) => chunks.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
        };
      },
    }),
  };
}
