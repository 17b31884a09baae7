/**
 * The IP Helper API through koffi. koffi's Windows binary (`koffi.node` of `@koromix/koffi-win32-<arch>`) travels as an
 * artifact beside the bundle and is loaded by its path: the `.node` file is the whole module (koffi's JS entry only finds
 * it in node_modules and adds deprecation shims), so no koffi JS is bundled and Linux never loads any of this.
 */
import { join } from 'node:path';
import { type IpHelper, IpHelperError, NO_ERROR, readSizedTable } from './ip-helper';
import { IF_ROW2, IF_TABLE2_ROWS_AT } from './ip-helper-tables';

/** koffi's native module exports what its JS entry re-exports (that entry adds only deprecation shims). */
type Koffi = typeof import('koffi');

/** The file name the build gives koffi's binary beside the bundle. */
function koffiBinaryFile(arch: string = process.arch): string {
  return `koffi-win32-${arch}.node`;
}

/** ws2def.h AF_INET; iprtrmib.h TCP_TABLE_BASIC_ALL and UDP_TABLE_BASIC. */
const AF_INET = 2;
const TCP_TABLE_BASIC_ALL = 2;
const UDP_TABLE_BASIC = 0;
/** A process id is a DWORD. */
const PID_BYTES = 4;
/** Far more processes than Windows runs (its limit is memory, in practice some tens of thousands). */
const MAX_PID_SLOTS = 1 << 20;

function loadKoffi(file: string): Koffi {
  const module = { exports: {} as unknown };
  process.dlopen(module, file);
  const koffi = module.exports as Partial<Koffi>;
  if (typeof koffi.load !== 'function' || typeof koffi.decode !== 'function' || typeof koffi.view !== 'function') {
    throw new Error(`${file} is not koffi's native module (no load, decode or view)`);
  }
  return koffi as Koffi;
}

/**
 * `directory`: where koffi's binary lies (beside the bundle). Throws if it cannot be loaded, or iphlpapi.dll or
 * psapi's K32EnumProcesses are missing: the caller reports that as the reason nothing could be read.
 */
export function createKoffiIpHelper(directory: string): IpHelper {
  const koffi = loadKoffi(join(directory, koffiBinaryFile()));
  const iphlpapi = koffi.load('iphlpapi.dll');
  const kernel32 = koffi.load('kernel32.dll');
  // Tables are passed as `void *` (a Buffer is passed as the pointer to its bytes) and sizes as `uint32_t *` (a
  // Uint32Array of one, written back by the call).
  const getExtendedTcpTable = iphlpapi.func(
    'uint32_t __stdcall GetExtendedTcpTable(void *table, uint32_t *size, int order, uint32_t af, int tableClass, uint32_t reserved)',
  );
  const getTcp6Table = iphlpapi.func('uint32_t __stdcall GetTcp6Table(void *table, uint32_t *size, int order)');
  const getExtendedUdpTable = iphlpapi.func(
    'uint32_t __stdcall GetExtendedUdpTable(void *table, uint32_t *size, int order, uint32_t af, int tableClass, uint32_t reserved)',
  );
  const getUdp6Table = iphlpapi.func('uint32_t __stdcall GetUdp6Table(void *table, uint32_t *size, int order)');
  const getIfTable2 = iphlpapi.func('uint32_t __stdcall GetIfTable2(_Out_ void **table)');
  const freeMibTable = iphlpapi.func('void __stdcall FreeMibTable(void *table)');
  const enumProcesses = kernel32.func('int __stdcall K32EnumProcesses(void *pids, uint32_t size, _Out_ uint32_t *returned)');

  const sizeHints = new Map<string, number>();
  const read = (name: string, call: (buffer: Buffer, size: Uint32Array) => unknown) => {
    const table = readSizedTable(name, (buffer, size) => Number(call(buffer, size)), sizeHints.get(name) ?? 0);
    sizeHints.set(name, table.length);
    return table;
  };
  let pidSlots = 1024;

  return {
    tcpTable: (family) =>
      family === 4
        ? read('GetExtendedTcpTable', (buffer, size) => getExtendedTcpTable(buffer, size, 0, AF_INET, TCP_TABLE_BASIC_ALL, 0))
        : read('GetTcp6Table', (buffer, size) => getTcp6Table(buffer, size, 0)),
    udpTable: (family) =>
      family === 4
        ? read('GetExtendedUdpTable', (buffer, size) => getExtendedUdpTable(buffer, size, 0, AF_INET, UDP_TABLE_BASIC, 0))
        : read('GetUdp6Table', (buffer, size) => getUdp6Table(buffer, size, 0)),
    ifTable: () => {
      const out: unknown[] = [null];
      const code = Number(getIfTable2(out));
      if (code !== NO_ERROR) throw new IpHelperError('GetIfTable2', code);
      const table = out[0];
      try {
        const count = Number(koffi.decode(table, 'uint32_t'));
        // The API allocated exactly this much; the decoder checks the count against it again.
        return Buffer.from(koffi.view(table, IF_TABLE2_ROWS_AT + count * IF_ROW2.size).slice(0));
      } finally {
        freeMibTable(table);
      }
    },
    processCount: () => {
      // K32EnumProcesses cannot say how many there are: a full array may have been cut short, so it grows and asks again.
      for (; pidSlots <= MAX_PID_SLOTS; pidSlots *= 2) {
        const pids = Buffer.alloc(pidSlots * PID_BYTES);
        const returned = new Uint32Array(1);
        if (!enumProcesses(pids, pids.length, returned)) throw new Error('K32EnumProcesses failed');
        if ((returned[0] as number) < pids.length) return Math.floor((returned[0] as number) / PID_BYTES);
      }
      throw new Error(`K32EnumProcesses: more than ${MAX_PID_SLOTS} processes`);
    },
  };
}
