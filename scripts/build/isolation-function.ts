/**
 * The isolation function's deployment package: cloud/isolation bundled by esbuild into one index.js (the AWS SDK
 * clients it uses included, so the function runs the versions the tests ran), zipped as Lambda's ZipFile takes it.
 */
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../src/ipc/eventstream';

/** The Node.js runtime the function is created with (a value of Lambda's Runtime enum, supported into 2028). */
export const ISOLATION_RUNTIME = 'nodejs24.x' as const;
// node20: the oldest Node.js the tests run the bundle on; its syntax runs on the function's runtime too.
const ESBUILD_TARGET = 'node20';
export const ISOLATION_HANDLER = 'index.handler';
const ENTRY = resolve(__dirname, '..', '..', 'cloud', 'isolation', 'handler.ts');

export interface IsolationPackage {
  /** index.js alone. */
  bundle: Uint8Array;
  /** The zip Lambda receives. */
  zip: Uint8Array;
}

/** A zip of one deflated file (PKWARE APPNOTE 4.3: local header, data, central directory, end record). */
function zipOneFile(name: string, content: Uint8Array): Uint8Array {
  const fileName = Buffer.from(name, 'utf8');
  const data = deflateRawSync(content, { level: 9 });
  const crc = crc32(content);
  // 1980-01-01 00:00 in DOS time: a fixed stamp keeps the package's bytes (and Lambda's CodeSha256) reproducible.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(0, 6);
  local.writeUInt16LE(8, 8);
  local.writeUInt16LE(dosTime, 10);
  local.writeUInt16LE(dosDate, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.byteLength, 18);
  local.writeUInt32LE(content.byteLength, 22);
  local.writeUInt16LE(fileName.byteLength, 26);
  local.writeUInt16LE(0, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE((3 << 8) | 20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt16LE(dosTime, 12);
  central.writeUInt16LE(dosDate, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.byteLength, 20);
  central.writeUInt32LE(content.byteLength, 24);
  central.writeUInt16LE(fileName.byteLength, 28);
  // External attributes: a regular file, rw-r--r--, so the runtime's user can read it.
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
  central.writeUInt32LE(0, 42);
  const centralOffset = local.byteLength + fileName.byteLength + data.byteLength;
  const centralSize = central.byteLength + fileName.byteLength;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}

export async function buildIsolationFunction(): Promise<IsolationPackage> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    target: ESBUILD_TARGET,
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild wrote no bundle for the isolation function');
  return { bundle: output.contents, zip: zipOneFile('index.js', output.contents) };
}
