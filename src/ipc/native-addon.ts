/**
 * Checks the aws-crt native addon before node loads it. The dynamic loader maps a shared object by what its headers
 * promise; a file cut short (an interrupted download or copy, a full disk) is mapped past its end, and the first touch
 * of a missing page kills node with SIGBUS, before any log line and with no exception to catch. So the file is
 * checked against its own ELF headers first: every loaded segment and the section header table must lie inside it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const PT_LOAD = 1;

/** Reads `length` bytes at `offset`; fewer when the file ends first. */
type ReadAt = (offset: number, length: number) => Buffer;

/** Why the image cannot be a whole ELF shared object, or undefined when its headers fit its size. Pure. */
function elfImageProblem(size: number, readAt: ReadAt): string | undefined {
  const head = readAt(0, 64);
  if (head.length < 52 || !head.subarray(0, 4).equals(ELF_MAGIC)) return `not an ELF shared object (${size} bytes)`;
  const wide = head[4] === 2;
  const little = head[5] === 1;
  if ((head[4] !== 1 && !wide) || (head[5] !== 1 && head[5] !== 2) || (wide && head.length < 64))
    return `not an ELF shared object this loader reads (class ${head[4]}, data ${head[5]})`;
  const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const word = (b: Buffer, at: number) => (wide ? Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at));
  const phoff = word(head, wide ? 0x20 : 0x1c);
  const shoff = word(head, wide ? 0x28 : 0x20);
  const phentsize = u16(head, wide ? 0x36 : 0x2a);
  const phnum = u16(head, wide ? 0x38 : 0x2c);
  const shentsize = u16(head, wide ? 0x3a : 0x2e);
  const shnum = u16(head, wide ? 0x3c : 0x30);
  const cut = (what: string, end: number) => `cut short: ${size} bytes, but its ${what} ends at byte ${end}`;
  if (phoff + phnum * phentsize > size) return cut('program header table', phoff + phnum * phentsize);
  if (shoff + shnum * shentsize > size) return cut('section header table', shoff + shnum * shentsize);
  const table = readAt(phoff, phnum * phentsize);
  for (let index = 0; index < phnum; index++) {
    const at = index * phentsize;
    if (u32(table, at) !== PT_LOAD) continue;
    const offset = word(table, at + (wide ? 0x08 : 0x04));
    const fileSize = word(table, at + (wide ? 0x20 : 0x10));
    if (offset + fileSize > size) return cut(`loaded segment ${index}`, offset + fileSize);
  }
  return undefined;
}

/** The problem of the addon file, or undefined when it may be loaded. Only ELF (Linux) addons are checked. */
export function nativeAddonProblem(file: string): string | undefined {
  if (process.platform === 'win32' || process.platform === 'darwin') return undefined;
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    return elfImageProblem(size, (offset, length) => {
      const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      const read = buffer.length === 0 ? 0 : readSync(fd, buffer, 0, buffer.length, offset);
      return buffer.subarray(0, read);
    });
  } finally {
    closeSync(fd);
  }
}
