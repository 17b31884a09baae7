import fs from 'node:fs';
import path from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { promisify } from 'node:util';
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

const openAsync = promisify(fs.open);
const readAsync = promisify(fs.read);

/**
 * /proc/net/tcp hands out at most one page per read(2): a 3 MB table (10,000 connections) takes ~750 reads, and as
 * thread-pool round trips (fs.promises) those cost more than the kernel's own formatting. So only the open and the
 * first read go through the thread pool (tables started together are opened in parallel, and an open or a read that
 * never returns meets its deadline there), and every later read, and the close, is synchronous: procfs is generated
 * in memory, a read never waits for a device, so a synchronous read costs only the formatting, and a turn of the
 * event loop between pieces keeps every stall short. (Filling the first 64 KiB through the thread pool took ~16
 * round trips; a small file read with FileHandle.readFile took five.)
 */
async function* readChunks(file: string): AsyncGenerator<Buffer> {
  const fd = await openRegularFile(file);
  const buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  try {
    for (let piece = 0; ; piece++) {
      let filled = 0;
      let bytesRead = -1;
      while (filled < CHUNK_BYTES && bytesRead !== 0) {
        const space = CHUNK_BYTES - filled;
        bytesRead =
          piece === 0 && filled === 0
            ? (await readAsync(fd, buffer, 0, space, null)).bytesRead
            : fs.readSync(fd, buffer, filled, space, null);
        filled += bytesRead;
      }
      if (filled > 0) yield buffer.subarray(0, filled);
      if (bytesRead === 0) return;
      await setImmediate();
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Opens without blocking and refuses anything but a regular file (procfs files are regular files of size 0): a FIFO
 * put in place of a table would otherwise block the open in a thread-pool thread until a writer comes, and the
 * synchronous reads would block the whole process. A raw descriptor, not a FileHandle: it is closed synchronously,
 * which a FileHandle would try again when collected.
 */
async function openRegularFile(file: string): Promise<number> {
  const fd = await openAsync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    // fstat of an open file never waits: no thread-pool round trip for it.
    if (!fs.fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file (a FIFO, socket or device is not read: it could block)`);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** The synchronous reads of small files go here: each is copied out in the same turn, so one buffer serves them all. */
const textBuffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
/** procfs hands out at most a page per read. */
const FIRST_READ_BYTES = 4096;

async function readText(file: string): Promise<string> {
  const fd = await openRegularFile(file);
  try {
    // The first read through the thread pool (see readChunks), into a buffer of its own since reads of other files
    // are in flight at the same time; the rest, usually only the end of the file, synchronously.
    const first = Buffer.allocUnsafe(FIRST_READ_BYTES);
    const firstRead = (await readAsync(fd, first, 0, FIRST_READ_BYTES, null)).bytesRead;
    // latin1: procfs text is ASCII, and a one-byte string is the cheapest to build and scan.
    let text = first.toString('latin1', 0, firstRead);
    for (let bytesRead = firstRead; bytesRead > 0; ) {
      bytesRead = fs.readSync(fd, textBuffer, 0, CHUNK_BYTES, null);
      text += textBuffer.toString('latin1', 0, bytesRead);
    }
    return text;
  } finally {
    fs.closeSync(fd);
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
        let first = true;
        return {
          // Only the first piece waits on the thread pool (the open and the first read, see readChunks); the later ones
          // are synchronous reads, which a deadline could not cut short, and a timer for each costs more than it guards.
          next: () => {
            if (!first) return chunks.next();
            first = false;
            return deadlines.run(relativePath, () => chunks.next());
          },
          // After a missed deadline this is queued behind the pending read, and closes the file once that returns.
          return: (value?: unknown) => chunks.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
        };
      },
    }),
  };
}
