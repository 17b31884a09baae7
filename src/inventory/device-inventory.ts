/**
 * One start-up log line describing the device (OS, kernel, architecture, CPU, memory), gathered with systeminformation
 * in a short-lived process of its own (device-facts-process.ts).
 *
 * Measured on a 2-vCPU Linux VM: loading systeminformation takes ~0.5 s and its osInfo() and cpu() take 0.2-1.2 s;
 * that process also spawns tools. So the line is gathered well after start, when the first report has gone out, and
 * abandoned at a deadline.
 */
import type { Logger } from '../log/logger';
import { describeError } from '../util/describe-error';

export interface DeviceFacts {
  distro: string;
  release: string;
  kernel: string;
  arch: string;
  cpuModel: string;
  cores: number;
  physicalCores: number;
  totalMemoryBytes: number;
}

export interface DeviceFactsSource {
  read(): Promise<DeviceFacts>;
}

const TEXT_FIELDS = ['distro', 'release', 'kernel', 'arch', 'cpuModel'] as const;
const COUNT_FIELDS = ['cores', 'physicalCores', 'totalMemoryBytes'] as const;
/** Far above any real distribution name or CPU brand; a longer text is not a fact worth a log line. */
const MAX_TEXT_LENGTH = 200;

/** The facts from their JSON text (what the device-facts process prints); throws saying what is wrong. */
export function parseDeviceFacts(text: string): DeviceFacts {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  const fields = value as Record<string, unknown>;
  for (const name of TEXT_FIELDS) {
    const field = fields[name];
    if (typeof field !== 'string' || field.length > MAX_TEXT_LENGTH)
      throw new Error(`${name} is not a text of at most ${MAX_TEXT_LENGTH} characters`);
  }
  for (const name of COUNT_FIELDS) {
    const field = fields[name];
    if (typeof field !== 'number' || !Number.isSafeInteger(field) || field < 0) throw new Error(`${name} is not a count`);
  }
  const facts = fields as unknown as DeviceFacts;
  return {
    distro: facts.distro,
    release: facts.release,
    kernel: facts.kernel,
    arch: facts.arch,
    cpuModel: facts.cpuModel,
    cores: facts.cores,
    physicalCores: facts.physicalCores,
    totalMemoryBytes: facts.totalMemoryBytes,
  };
}

const GIB = 1024 ** 3;

export function formatInventory(facts: DeviceFacts): string {
  const known = (text: string) => (text === '' || text === 'unknown' ? undefined : text);
  const os = [known(facts.distro), known(facts.release)].filter((part) => part !== undefined).join(' ') || 'unknown OS';
  const cores =
    facts.physicalCores > 0 && facts.physicalCores !== facts.cores
      ? `${facts.cores} cores, ${facts.physicalCores} physical`
      : `${facts.cores} cores`;
  return (
    `device: ${os}, kernel ${known(facts.kernel) ?? 'unknown'}, ${known(facts.arch) ?? 'unknown arch'}, ` +
    `CPU ${known(facts.cpuModel) ?? 'unknown'} (${cores}), memory ${(facts.totalMemoryBytes / GIB).toFixed(1)} GiB`
  );
}

export interface InventoryLogOptions {
  source: DeviceFactsSource;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Wait this long after the call before gathering: the first report goes out right after start. */
  delayMs?: number;
  /** Give up on the line after this long. */
  deadlineMs?: number;
  now?: () => number;
}

const DEFAULT_DELAY_MS = 15_000;
const DEFAULT_DEADLINE_MS = 10_000;

/**
 * The delay from its environment variable's text (whole milliseconds, for tests that cannot wait 15 s); anything
 * else, or nothing, means the default.
 */
export function inventoryDelayMs(text: string | undefined): number {
  const trimmed = text?.trim() ?? '';
  return /^\d{1,9}$/.test(trimmed) ? Number(trimmed) : DEFAULT_DELAY_MS;
}

/**
 * Logs the inventory line once, later; returns at once. Never throws and never keeps the process alive: the line is
 * a courtesy, a failure or a miss of the deadline is one warning.
 */
export function logDeviceInventoryLater(options: InventoryLogOptions): void {
  const { source, logger } = options;
  const now = options.now ?? Date.now;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  setTimeout(() => {
    const started = now();
    let deadline: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      deadline = setTimeout(() => resolve('expired'), deadlineMs);
      deadline.unref();
    });
    const reading = source.read();
    Promise.race([reading, expired]).then(
      (result) => {
        clearTimeout(deadline);
        if (result === 'expired') logger.warn(`device inventory: not gathered within ${deadlineMs} ms; left out`);
        else logger.info(`${formatInventory(result)} (gathered in ${now() - started} ms)`);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        logger.warn(`device inventory: ${describeError(error)}`);
      },
    );
    // A reading that fails after the deadline has nobody to tell.
    reading.catch(() => undefined);
  }, options.delayMs ?? DEFAULT_DELAY_MS).unref();
}
