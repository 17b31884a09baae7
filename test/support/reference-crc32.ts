/**
 * CRC-32 bit by bit, straight from its definition (reflected polynomial 0xEDB88320): an oracle independent of the
 * table implementation the code uses, where zlib.crc32 would need Node 20.15 while the engines field allows 20.0.
 */
export function referenceCrc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
