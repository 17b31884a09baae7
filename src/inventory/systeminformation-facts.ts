/**
 * The device facts as systeminformation reads them. Only the short-lived device-facts process (see
 * device-facts-process.ts) uses this: the module costs the agent about 2.6 MiB for good, and its osInfo() and cpu()
 * block the event loop for 60-400 ms (they call execSync for `hostname -f` and friends).
 */
import type { DeviceFactsSource } from './device-inventory';

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
