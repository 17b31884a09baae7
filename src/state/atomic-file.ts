/**
 * The one way the agent writes its small state files: each write goes to a temporary file next to the target, is
 * flushed and then renamed, so a crash leaves the old file or the new one, never half of one; and writes happen one
 * at a time in call order, so the newest state is the one left on disk.
 */
import { dirname } from 'node:path';
import { close, fsync, mkdir, open, rename, rm, writeFile } from '../util/async-fs';

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
