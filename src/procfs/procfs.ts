import fs from 'node:fs';
import path from 'node:path';

/**
 * Read access to a procfs mount. The root is configurable (`/proc` on the host, `/host/proc` in a container, a fixture
 * directory in tests); every path is relative to it.
 */
export interface Procfs {
  readonly root: string;
  readText(relativePath: string): Promise<string>;
  /**
   * The file in pieces, for the big socket tables: the kernel formats /proc/net/tcp as it is read, so the caller
   * parses one piece while the next is being read, and never holds the event loop for the whole file.
   */
  readChunks(relativePath: string): AsyncIterable<string>;
  listDir(relativePath: string): Promise<string[]>;
}

/** What one read asks for. seq_file fills the whole buffer, so this sets the number of reads (~150 bytes a socket). */
export const CHUNK_BYTES = 64 * 1024;

async function* readChunks(file: string): AsyncGenerator<string> {
  const handle = await fs.promises.open(file, 'r');
  // Two buffers: the kernel fills one while the caller gets the other.
  let filling = Buffer.allocUnsafe(CHUNK_BYTES);
  let spare = Buffer.allocUnsafe(CHUNK_BYTES);
  const read = () => {
    const reading = handle.read(filling, 0, CHUNK_BYTES, null);
    // Handled when awaited below; this only keeps a failure during the caller's turn from counting as unhandled.
    reading.catch(() => undefined);
    return reading;
  };
  let pending = read();
  try {
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) return;
      const filled = filling;
      [filling, spare] = [spare, filling];
      pending = read();
      // latin1: procfs text is ASCII, and a one-byte string is the cheapest to build and scan.
      yield filled.toString('latin1', 0, bytesRead);
    }
  } finally {
    await pending.catch(() => undefined);
    await handle.close();
  }
}

export function createProcfs(root: string): Procfs {
  const resolve = (relativePath: string) => path.join(root, relativePath);
  return {
    root,
    readText: (relativePath) => fs.promises.readFile(resolve(relativePath), 'latin1'),
    readChunks: (relativePath) => readChunks(resolve(relativePath)),
    listDir: (relativePath) => fs.promises.readdir(resolve(relativePath)),
  };
}

/** True when the error says the file does not exist (for example /proc/net/tcp6 on a kernel without IPv6). */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
