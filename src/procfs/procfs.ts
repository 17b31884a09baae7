import fs from 'node:fs';
import path from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { open, read, readdir, statfs } from '../util/async-fs';
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
  /**
   * True once every read is known to be synchronous (the kernel's procfs, see Access): no read can then outlast a
   * deadline, so withDeadlines sets no timer for it. False while that is not known.
   */
  readsAreSynchronous?(): boolean;
}

/** Bytes per piece: a few milliseconds of kernel formatting (~150 bytes a socket), then the event loop gets a turn. */
export const CHUNK_BYTES = 64 * 1024;

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;
/** statfs(2) f_type of the kernel's procfs (PROC_SUPER_MAGIC, linux/magic.h). */
const PROC_SUPER_MAGIC = 0x9fa0;

/**
 * How files are opened and first read, and folders listed. The kernel's procfs generates its files in memory: an open
 * or a read never waits for a device, and no FIFO can be put there, so it is read synchronously, as the bench's floor
 * reads it (a thread-pool round trip costs more than reading a small /proc file). Any other root (a fixture directory,
 * or a mount that only claims to be /proc, which could hang or hold a FIFO) goes through the thread pool, where an open
 * or a first read that never returns meets its deadline; after the first read every read is synchronous either way
 * (see readChunks).
 */
interface Access {
  /** Every call below returns at once (nothing waits on the thread pool). */
  synchronous: boolean;
  open(file: string): Promise<number>;
  firstRead(fd: number, buffer: Buffer, length: number): Promise<number>;
  list(dir: string): Promise<string[]>;
}

const kernelAccess: Access = {
  synchronous: true,
  open: async (file) => checkRegularFile(file, fs.openSync(file, OPEN_FLAGS)),
  firstRead: async (fd, buffer, length) => fs.readSync(fd, buffer, 0, length, null),
  list: async (dir) => fs.readdirSync(dir),
};

const threadPoolAccess: Access = {
  synchronous: false,
  open: async (file) => checkRegularFile(file, await open(file, OPEN_FLAGS)),
  firstRead: async (fd, buffer, length) => (await read(fd, buffer, 0, length, null)).bytesRead,
  list: (dir) => readdir(dir),
};

/**
 * /proc/net/tcp hands out at most one page per read(2): a 3 MB table (10,000 connections) takes ~750 reads, and as
 * thread-pool round trips those cost more than the kernel's own formatting. So at most the open and the
 * first read go through the thread pool (see Access), and every later read, and the close, is synchronous: a
 * synchronous read of procfs costs only the formatting, and a turn of the event loop between pieces keeps every stall
 * short.
 */
async function* readChunks(access: Access, file: string): AsyncGenerator<Buffer> {
  const fd = await access.open(file);
  const buffer = spareChunkBuffers.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
  try {
    for (let piece = 0; ; piece++) {
      let filled = 0;
      let bytesRead = -1;
      while (filled < CHUNK_BYTES && bytesRead !== 0) {
        const space = CHUNK_BYTES - filled;
        bytesRead = piece === 0 && filled === 0 ? await access.firstRead(fd, buffer, space) : fs.readSync(fd, buffer, filled, space, null);
        filled += bytesRead;
      }
      if (filled > 0) yield buffer.subarray(0, filled);
      if (bytesRead === 0) return;
      await setImmediate();
    }
  } finally {
    if (spareChunkBuffers.length < MAX_SPARE_CHUNK_BUFFERS) spareChunkBuffers.push(buffer);
    fs.closeSync(fd);
  }
}

/**
 * The buffers of finished table reads, for the next ones. A new buffer per read is garbage that only a scavenge frees,
 * and a quiet agent scavenges rarely: between two scavenges these piled up to about 1 MiB of resident memory. A sample
 * reads at most four tables at once (tcp, tcp6, udp, udp6), so four are kept.
 */
const spareChunkBuffers: Buffer[] = [];
const MAX_SPARE_CHUNK_BUFFERS = 4;

/**
 * Refuses anything but a regular file (procfs files are regular files of size 0), on a descriptor opened without
 * blocking: a FIFO put in place of a table would otherwise block the open until a writer comes, and the synchronous
 * reads would block the whole process. A raw descriptor, not a FileHandle: it is closed synchronously, which a
 * FileHandle would try again when collected.
 */
function checkRegularFile(file: string, fd: number): number {
  try {
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

async function readText(access: Access, file: string): Promise<string> {
  const fd = await access.open(file);
  try {
    // The first read into a buffer of its own: reads of other files may be in flight in the thread pool at the same time.
    const first = Buffer.allocUnsafe(FIRST_READ_BYTES);
    const firstRead = await access.firstRead(fd, first, FIRST_READ_BYTES);
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

/** Whether `root` is the kernel's procfs; false when that cannot be told (then the careful way is taken). */
export async function isKernelProcfs(root: string): Promise<boolean> {
  try {
    return (await statfs(root)).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

export function createProcfs(root: string): Procfs {
  const resolve = (relativePath: string) => path.join(root, relativePath);
  // Decided once, on first use; a root whose statfs never returns leaves every read to its deadline.
  let access: Promise<Access> | undefined;
  let decided: Access | undefined;
  const accessFor = () =>
    (access ??= isKernelProcfs(root).then((kernel) => {
      decided = kernel ? kernelAccess : threadPoolAccess;
      return decided;
    }));
  return {
    root,
    readsAreSynchronous: () => decided?.synchronous === true,
    readText: async (relativePath) => readText(await accessFor(), resolve(relativePath)),
    // A generator, so that a return() asked for while the first piece is pending waits for it, then closes the file.
    readChunks: (relativePath) =>
      (async function* () {
        yield* readChunks(await accessFor(), resolve(relativePath));
      })(),
    listDir: async (relativePath) => (await accessFor()).list(resolve(relativePath)),
  };
}

/** True when the error says the file does not exist (for example /proc/net/tcp6 on a kernel without IPv6). */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * `procfs` with a deadline on every read that can wait (see deadline.ts); each file is its own source. Synchronous reads
 * (readsAreSynchronous) go straight through: a timer cannot cut them short, and one per file per sample costs more than
 * it guards.
 */
export function withDeadlines(procfs: Procfs, deadlines: SourceDeadlines): Procfs {
  const synchronous = () => procfs.readsAreSynchronous?.() === true;
  return {
    root: procfs.root,
    readsAreSynchronous: synchronous,
    readText: (relativePath) =>
      synchronous() ? procfs.readText(relativePath) : deadlines.run(relativePath, () => procfs.readText(relativePath)),
    listDir: (relativePath) =>
      synchronous()
        ? procfs.listDir(relativePath)
        : deadlines.run(`${relativePath === '.' ? 'the procfs root' : relativePath} listing`, () => procfs.listDir(relativePath)),
    readChunks: (relativePath) => (synchronous() ? procfs.readChunks(relativePath) : chunksWithDeadline(procfs, relativePath, deadlines)),
  };
}

function chunksWithDeadline(procfs: Procfs, relativePath: string, deadlines: SourceDeadlines): AsyncIterable<Buffer> {
  return {
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
  };
}
