/**
 * The promise-returning file calls the agent makes, built on node:fs's callback API. `node:fs/promises` (also reached
 * through `fs.promises`) loads FileHandle, streams, readline and the file watchers with it, which stay in the process
 * for good: 0.6 MiB of resident memory for an agent whose files are all small (bare node, with and without
 * `require('fs/promises')`).
 */
import fs from 'node:fs';
import { promisify } from 'node:util';

export const readFile = promisify(fs.readFile);
export const readdir = promisify(fs.readdir);
export const statfs = promisify(fs.statfs);
export const mkdir = promisify(fs.mkdir);
export const open = promisify(fs.open);
export const read = promisify(fs.read);
export const fstat = promisify(fs.fstat);
export const writeFile = promisify(fs.writeFile);
export const fsync = promisify(fs.fsync);
export const close = promisify(fs.close);
export const rename = promisify(fs.rename);
export const rm = promisify(fs.rm);
