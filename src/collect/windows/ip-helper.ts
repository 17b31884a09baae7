/**
 * The IO boundary of the Windows collector: the IP Helper API's tables as raw buffers (decoded by ip-helper-tables.ts)
 * and the process count. The koffi implementation is koffi-ip-helper.ts; the tests use recorded buffers and fakes.
 */

/** winerror.h */
export const NO_ERROR = 0;
export const ERROR_INSUFFICIENT_BUFFER = 122;
/** What the IPv6 calls return where IPv6 is not installed: no IPv6 sockets, not a failure. */
export const ERROR_NOT_SUPPORTED = 50;

export interface IpHelper {
  /** MIB_TCPTABLE (GetExtendedTcpTable, AF_INET, TCP_TABLE_BASIC_ALL) or MIB_TCP6TABLE (GetTcp6Table). */
  tcpTable(family: 4 | 6): Buffer;
  /** MIB_UDPTABLE (GetExtendedUdpTable, AF_INET, UDP_TABLE_BASIC) or MIB_UDP6TABLE (GetUdp6Table). */
  udpTable(family: 4 | 6): Buffer;
  /** MIB_IF_TABLE2 (GetIfTable2), copied out of the table the API allocated. */
  ifTable(): Buffer;
  /** How many processes there are (K32EnumProcesses). */
  processCount(): number;
}

/** A call that fills `buffer` (or says how large it must be in `size[0]`) and returns a Win32 error code. */
export type SizedTableCall = (buffer: Buffer, size: Uint32Array) => number;

/** Why an IP Helper call failed, with its Win32 error code. */
export class IpHelperError extends Error {
  constructor(
    readonly call: string,
    readonly code: number,
  ) {
    super(`${call} failed with Windows error ${code}${code === ERROR_NOT_SUPPORTED ? ' (ERROR_NOT_SUPPORTED)' : ''}`);
  }
}

/**
 * A table can grow between the call that sizes it and the call that fills it (a connection opened meanwhile): the
 * second call then says ERROR_INSUFFICIENT_BUFFER again, with the new size. Each retry takes the size asked for plus a
 * margin; a table that outgrows every retry fails the call rather than looping.
 */
const ATTEMPTS = 5;
/** Room for the rows that appear between two calls. */
const GROWTH_MARGIN_BYTES = 4096;

/**
 * The table `call` returns, in a buffer sized by the API itself. `sizeHint`: the size the last sample needed, so that a
 * steady table takes one call. Returns the bytes the table fills (the buffer may be larger: the count in its first DWORD
 * says how many rows it holds).
 */
export function readSizedTable(name: string, call: SizedTableCall, sizeHint: number): Buffer {
  const size = new Uint32Array([Math.max(sizeHint, 0)]);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const buffer = Buffer.alloc(size[0] as number);
    const given = buffer.length;
    const code = call(buffer, size);
    if (code === NO_ERROR) return buffer;
    if (code !== ERROR_INSUFFICIENT_BUFFER) throw new IpHelperError(name, code);
    // A size that did not grow would loop for nothing: ask for more than was given.
    size[0] = Math.max(size[0] as number, given) + GROWTH_MARGIN_BYTES;
  }
  throw new Error(`${name}: the table kept growing faster than ${ATTEMPTS} calls could size it`);
}
