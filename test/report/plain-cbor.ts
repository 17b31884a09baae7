/**
 * A minimal CBOR walker for tests: throws unless the payload is one well-formed data item built only
 * from integers, text strings, arrays, maps, floats and simple values, with definite lengths.
 * cbor-x record extensions and other tags (major type 6) are what Device Defender could not read.
 */
export function assertPlainCbor(payload: Uint8Array): void {
  let position = 0;
  const byte = (): number => {
    const value = payload[position];
    if (value === undefined) throw new Error(`CBOR truncated at ${position}`);
    position += 1;
    return value;
  };
  const argument = (info: number): number => {
    if (info < 24) return info;
    const length = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (length === undefined) throw new Error(`indefinite or reserved length at ${position - 1}`);
    let value = 0;
    for (let i = 0; i < length; i += 1) value = value * 256 + byte();
    return value;
  };
  const item = (): void => {
    const initial = byte();
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 6) throw new Error(`CBOR tag at ${position - 1}: not a plain map`);
    if (major === 7) {
      position += { 24: 1, 25: 2, 26: 4, 27: 8 }[info] ?? 0;
      return;
    }
    const value = argument(info);
    if (major === 2 || major === 3) position += value;
    if (major === 4) for (let i = 0; i < value; i += 1) item();
    if (major === 5) for (let i = 0; i < value * 2; i += 1) item();
  };
  if (payload[0] === undefined || payload[0] >> 5 !== 5) throw new Error('CBOR report is not a map');
  item();
  if (position !== payload.length) throw new Error(`CBOR has ${payload.length - position} bytes after the report`);
}
