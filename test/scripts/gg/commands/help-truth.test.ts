/** What the help says must be what AWS documents (issue 21, Truth in what it says). */
import { run } from '../../../../scripts/gg/cli';
import { harness, makeProject, removeProjects, resetMocks, totalCalls } from '../helpers';

beforeEach(resetMocks);
afterEach(removeProjects);

describe('help texts', () => {
  it('ML Detect: 25,000 datapoints per metric over 14 days, not a number of devices', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--help'], h.deps)).toBe(0);
    expect(h.text()).toContain('25,000 datapoints per metric over the trailing 14 days');
    expect(h.text()).not.toMatch(/25\+ devices/);
  });

  it('violations: no 30-day retention claimed; a range beyond the 14 documented days is refused, saying so', async () => {
    const help = harness(makeProject());
    expect(await run(['violations', '--help'], help.deps)).toBe(0);
    expect(help.text()).not.toMatch(/30 days/);
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1', '--since', '20d'], h.deps)).toBe(2);
    expect(h.errors[0]).toBe(
      'error: the history reaches back at most 14 days (the only retention AWS documents for Device Defender): start within them',
    );
    expect(totalCalls()).toBe(0);
  });
});
