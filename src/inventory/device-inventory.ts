/**
 * One start-up log line describing the device (OS, kernel, architecture, CPU, memory), gathered with systeminformation.
 *
 * Measured on a 2-vCPU Linux VM: loading systeminformation takes ~0.5 s and its osInfo() and cpu() take 0.2-1.2 s, of
 * which 60-400 ms block the event loop (they call execSync for `hostname -f` and friends). So the line is gathered
 * well after start, when the first report has gone out, and abandoned at a deadline; the module is loaded only then.
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

/** The adapter: systeminformation, required on first use so that neither its load time nor its memory is paid at start. */
export function systeminformationFacts(): DeviceFactsSource {
  return {
    async read() {
      const si = await import('systeminformation');
      const [os, cpu, mem] = await Promise.all([si.osInfo(), si.cpu(), si.mem()]);
      return {
        distro: os.distro,
        release: os.release,
        kernel: os.kernel,
        arch: os.arch,
        cpuModel: [cpu.manufacturer, cpu.brand].filter((part) => part !== '').join(' '),
        cores: cpu.cores,
        physicalCores: cpu.physicalCores,
        totalMemoryBytes: mem.total,
      };
    },
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
