import {
  type DeviceFacts,
  formatInventory,
  inventoryDelayMs,
  logDeviceInventoryLater,
  parseDeviceFacts,
} from '../../src/inventory/device-inventory';
import { PI_FACTS } from '../fixtures/device-facts';

function recordingLogger() {
  const lines: string[] = [];
  return { lines, logger: { info: (m: string) => lines.push(`INFO ${m}`), warn: (m: string) => lines.push(`WARN ${m}`) } };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('formatInventory', () => {
  it('writes one line with OS, kernel, architecture, CPU and memory', () => {
    expect(formatInventory(PI_FACTS)).toBe(
      'device: Debian GNU/Linux 12, kernel 6.1.0-18-arm64, arm64, CPU ARM Cortex-A72 (4 cores), memory 4.0 GiB',
    );
  });

  it('says what is unknown rather than printing empty fields, and shows hyperthreads', () => {
    const line = formatInventory({ ...PI_FACTS, distro: 'unknown', release: '', cpuModel: '', cores: 8, physicalCores: 4 });
    expect(line).toBe('device: unknown OS, kernel 6.1.0-18-arm64, arm64, CPU unknown (8 cores, 4 physical), memory 4.0 GiB');
    expect(line).not.toContain('\n');
  });
});

describe('logDeviceInventoryLater', () => {
  it('returns before reading anything and reads only after the delay, then logs the line once', async () => {
    const read = jest.fn(async () => PI_FACTS);
    const { lines, logger } = recordingLogger();
    logDeviceInventoryLater({ source: { read }, logger, delayMs: 15_000, deadlineMs: 10_000 });
    expect(read).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(14_999);
    expect(read).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(read).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(lines).toEqual([expect.stringMatching(/^INFO device: Debian GNU\/Linux 12, .* \(gathered in \d+ ms\)$/)]);
  });

  it('gives up at the deadline with one warning when the source never answers', async () => {
    const { lines, logger } = recordingLogger();
    logDeviceInventoryLater({ source: { read: () => new Promise<DeviceFacts>(() => undefined) }, logger, delayMs: 100, deadlineMs: 2_000 });
    await jest.advanceTimersByTimeAsync(2_099);
    expect(lines).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(lines).toEqual(['WARN device inventory: not gathered within 2000 ms; left out']);
  });

  it('turns a failing source into one warning, and a late failure into none', async () => {
    const { lines, logger } = recordingLogger();
    logDeviceInventoryLater({ source: { read: async () => Promise.reject(new Error('spawn df ENOENT')) }, logger, delayMs: 0 });
    let failLate: (error: Error) => void = () => undefined;
    logDeviceInventoryLater({
      source: { read: () => new Promise<DeviceFacts>((_, reject) => (failLate = reject)) },
      logger,
      delayMs: 0,
      deadlineMs: 50,
    });
    await jest.advanceTimersByTimeAsync(100);
    failLate(new Error('too late'));
    await jest.advanceTimersByTimeAsync(100);
    expect(lines).toEqual(['WARN device inventory: spawn df ENOENT', 'WARN device inventory: not gathered within 50 ms; left out']);
  });

  it('does not keep the process alive while it waits', () => {
    const unref = jest.fn();
    const spy = jest.spyOn(global, 'setTimeout').mockImplementation((() => ({ unref })) as unknown as typeof setTimeout);
    try {
      logDeviceInventoryLater({ source: { read: async () => PI_FACTS }, logger: recordingLogger().logger });
      expect(unref).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('parseDeviceFacts', () => {
  it('reads the facts back from their JSON line, keeping only the known fields', () => {
    expect(parseDeviceFacts(`${JSON.stringify({ ...PI_FACTS, extra: 'x'.repeat(1000) })}\n`)).toEqual(PI_FACTS);
  });

  it.each([
    ['not JSON', 'device: Debian', /not JSON/],
    ['an array', '[1,2]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['a missing text', JSON.stringify({ ...PI_FACTS, kernel: undefined }), /kernel is not a text/],
    ['a text too long for a log line', JSON.stringify({ ...PI_FACTS, cpuModel: 'x'.repeat(201) }), /cpuModel is not a text/],
    ['a count given as text', JSON.stringify({ ...PI_FACTS, cores: '4' }), /cores is not a count/],
    ['a negative count', JSON.stringify({ ...PI_FACTS, totalMemoryBytes: -1 }), /totalMemoryBytes is not a count/],
    ['a fractional count', JSON.stringify({ ...PI_FACTS, physicalCores: 1.5 }), /physicalCores is not a count/],
  ])('refuses %s, saying what is wrong', (_case, text, problem) => {
    expect(() => parseDeviceFacts(text)).toThrow(problem);
  });
});

describe('inventoryDelayMs', () => {
  it('takes whole milliseconds from the variable, and 15 s for nothing or anything else', () => {
    expect(inventoryDelayMs('500')).toBe(500);
    expect(inventoryDelayMs(' 0 ')).toBe(0);
    for (const text of [undefined, '', 'soon', '-1', '1.5', '1e3', '9999999999']) expect(inventoryDelayMs(text)).toBe(15_000);
  });
});
