import { ERROR_INSUFFICIENT_BUFFER, IpHelperError, NO_ERROR, readSizedTable } from '../../../src/collect/windows/ip-helper';

/** A table call over `sizes`: the size the table needs at each call (it grows while it is read). */
function growingTable(sizes: number[]) {
  const given: number[] = [];
  const call = (buffer: Buffer, size: Uint32Array) => {
    const needed = sizes[Math.min(given.length, sizes.length - 1)] as number;
    given.push(buffer.length);
    if (buffer.length < needed) {
      size[0] = needed;
      return ERROR_INSUFFICIENT_BUFFER;
    }
    buffer.writeUInt32LE(needed, 0);
    return NO_ERROR;
  };
  return { call, given };
}

describe('readSizedTable', () => {
  it('sizes the buffer by what the API asks for, with room for rows that appear meanwhile', () => {
    const table = growingTable([244, 264, 264]);
    const buffer = readSizedTable('GetExtendedTcpTable', table.call, 0);
    expect(table.given).toEqual([0, 244 + 4096]);
    expect(buffer.readUInt32LE(0)).toBe(264);
  });

  it('takes one call when the hint of the last sample is large enough', () => {
    const table = growingTable([244]);
    readSizedTable('GetExtendedTcpTable', table.call, 4340);
    expect(table.given).toEqual([4340]);
  });

  it('asks for more even if the API repeats a size that was not enough', () => {
    let calls = 0;
    const buffer = readSizedTable(
      't',
      (buffer, size) => {
        calls++;
        if (buffer.length < 5000) {
          size[0] = 100;
          return ERROR_INSUFFICIENT_BUFFER;
        }
        return NO_ERROR;
      },
      100,
    );
    expect(buffer.length).toBeGreaterThanOrEqual(5000);
    expect(calls).toBe(3);
  });

  it('gives up on a table that outgrows every retry instead of looping', () => {
    let needed = 0;
    const call = (_buffer: Buffer, size: Uint32Array) => {
      needed += 100_000;
      size[0] = needed;
      return ERROR_INSUFFICIENT_BUFFER;
    };
    expect(() => readSizedTable('GetTcp6Table', call, 0)).toThrow(/GetTcp6Table: the table kept growing faster than 5 calls/);
  });

  it('fails with the call and its Windows error code on any other error', () => {
    let failure: unknown;
    try {
      readSizedTable('GetUdp6Table', () => 50, 0);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(IpHelperError);
    expect(failure).toMatchObject({ code: 50, message: 'GetUdp6Table failed with Windows error 50 (ERROR_NOT_SUPPORTED)' });
  });
});
