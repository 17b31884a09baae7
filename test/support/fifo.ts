import { execFileSync } from 'node:child_process';

/** coreutils' mkfifo: Node has no API to make a FIFO. */
const MKFIFO = '/usr/bin/mkfifo';

/** A FIFO at each path, which nobody writes: an ordinary open of it waits for a writer forever. */
export function makeFifo(...paths: string[]): void {
  execFileSync(MKFIFO, paths);
}
