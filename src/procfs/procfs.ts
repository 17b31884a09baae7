import fs from 'node:fs';
import path from 'node:path';

/**
 * Read access to a procfs mount. The root is configurable (`/proc` on the host, `/host/proc` in a container, a fixture
 * directory in tests); every path is relative to it.
 */
export interface Procfs {
  readonly root: string;
  readText(relativePath: string): Promise<string>;
  listDir(relativePath: string): Promise<string[]>;
}

export function createProcfs(root: string): Procfs {
  const resolve = (relativePath: string) => path.join(root, relativePath);
  return {
    root,
    // latin1: procfs text is ASCII, and a one-byte string is the cheapest to build and scan.
    readText: (relativePath) => fs.promises.readFile(resolve(relativePath), 'latin1'),
    listDir: (relativePath) => fs.promises.readdir(resolve(relativePath)),
  };
}

/** True when the error says the file does not exist (for example /proc/net/tcp6 on a kernel without IPv6). */
export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
