/**
 * The device facts as systeminformation reads them. Only the short-lived device-facts process (see
 * device-facts-process.ts) uses this: the module costs the agent about 2.6 MiB for good, and its osInfo() and cpu()
 * block the event loop for 60-400 ms (they call execSync for `hostname -f` and friends).
 *
 * Its three modules are required one by one, not the package's index: the index requires all of systeminformation
 * (docker, wifi, bluetooth, graphics, ...), which would more than double what a 32-bit ARM core downloads
 * (scripts/build bundles what is required here into the agent's one file). The lib/ paths are not a documented entry
 * point: a systeminformation that moves them fails the build, one that renames their functions fails
 * test/inventory/systeminformation-facts.integration.test.ts.
 */
import type { DeviceFactsSource } from './device-inventory';

type Systeminformation = typeof import('systeminformation');

/** Lazy, inside the call: the agent process itself never loads systeminformation. */
function systeminformationModules(): Pick<Systeminformation, 'osInfo' | 'cpu' | 'mem'> {
  const { osInfo } = require('systeminformation/lib/osinfo') as Pick<Systeminformation, 'osInfo'>;
  const { cpu } = require('systeminformation/lib/cpu') as Pick<Systeminformation, 'cpu'>;
  const { mem } = require('systeminformation/lib/memory') as Pick<Systeminformation, 'mem'>;
  return { osInfo, cpu, mem };
}

export function systeminformationFacts(): DeviceFactsSource {
  return {
    async read() {
      const si = systeminformationModules();
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
