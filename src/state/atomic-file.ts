/**
 * The one way the agent writes its small state files: each write goes to a temporary file next to the target, is
 * flushed and then renamed, so a crash leaves the old file or the new one, never half of one; and writes happen one
 * at a time in call order, so the newest state is the one left on disk. Reading them back is bounded: a file grown
 * past what the agent ever writes is refused unread, not parsed into memory.
 */
import { dirname } from 'node:path';
import { close, fstat, fsync, mkdir, open, read, rename, rm, writeFile } from '../util/async-fs';

/** The text of `path` if it holds at most `maxBytes`; otherwise its size, unread. Rejects as fs does (ENOENT...). */
export async function readSmallFile(path: string, maxBytes: number): Promise<{ text: string } | { tooLargeBytes: number }> {
  const fd = await open(path, 'r');
  try {
    const { size } = await fstat(fd);
    if (size > maxBytes) return { tooLargeBytes: size };
    // The file may grow between fstat and read: one byte more than allowed tells.
    const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await read(fd, buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled === buffer.length) return { tooLargeBytes: filled };
    }
    return { text: buffer.toString('utf8', 0, filled) };
  } finally {
    await close(fd);
  }
}

/** A writer for `path`: each call replaces the file's content with `text`, after every earlier call finished. */
export function createAtomicFileWriter(path: string): (text: string) => Promise<void> {
  let lastWrite: Promise<void> = Promise.resolve();
  return (text) => {
    const write = lastWrite.catch(() => undefined).then(() => writeAtomically(path, text));
    lastWrite = write;
    return write;
  };
}

/**
 * Numbers this process's temporary files. With the pid they make a name no other writer uses at the same time (two
 * writers of one path in this process included), without node:crypto, which costs the agent about 2 MiB to load.
 */
let temporaryFiles = 0;

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  temporaryFiles += 1;
  const temporary = `${path}.${process.pid}.${temporaryFiles}.tmp`;
  try {
    const fd = await open(temporary, 'w', 0o600);
    try {
      await writeFile(fd, text, 'utf8');
      await fsync(fd);
    } finally {
      await close(fd);
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
