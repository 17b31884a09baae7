/**
 * package.json's engines field allows Node.js 20.0: nothing in the repository may call an API that arrived later in
 * the 20 line. zlib.crc32 came with 20.15 (and 22.2); a test using it fails on 20.0-20.14 with a TypeError. This file names
 * the API only in text the check does not match (never followed by a call's parenthesis). Code may take it where it
 * exists and fall back where it does not (src/ipc/eventstream.ts): the check looks for a direct call or import only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');
/** APIs of the 20 line newer than 20.0, each with how a file would reach it. */
const LATER_THAN_20_0: Array<{ api: string; used: RegExp }> = [
  { api: 'zlib.crc32, from Node 20.15', used: /\bzlib\.crc32\s*\(|\{[^}]*\bcrc32\b[^}]*\}\s*from\s*['"](node:)?zlib['"]/ },
];

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : sources(path);
    return /\.(ts|js|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}

describe('the oldest Node.js the engines field allows', () => {
  it('declares >= 20', () => {
    expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node).toBe('>=20');
  });

  it('is not asked for an API it lacks', () => {
    const files = ['src', 'scripts', 'tools', 'test', 'cloud'].flatMap((dir) => sources(join(ROOT, dir)));
    const uses = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return LATER_THAN_20_0.filter(({ used }) => used.test(text)).map(({ api }) => `${relative(ROOT, file)}: ${api}`);
    });
    expect(uses).toEqual([]);
  });
});
