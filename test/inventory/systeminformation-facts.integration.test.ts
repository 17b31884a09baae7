/** The real systeminformation adapter against what Node's os module says about this machine. */
import os from 'node:os';
import { formatInventory } from '../../src/inventory/device-inventory';
import { systeminformationFacts } from '../../src/inventory/systeminformation-facts';

describe('systeminformationFacts', () => {
  it('reads this machine: kernel, architecture, core count and memory agree with the os module', async () => {
    const facts = await systeminformationFacts().read();
    expect(facts.kernel).toBe(os.release());
    expect(facts.arch).toBe(os.arch());
    expect(facts.cores).toBe(os.cpus().length);
    expect(facts.totalMemoryBytes).toBe(os.totalmem());
    expect(facts.distro).not.toBe('');
    expect(formatInventory(facts)).toMatch(/^device: .+, kernel .+, CPU .+ \(\d+ cores.*\), memory \d+\.\d GiB$/);
  });
});
