/** What the help says must be what AWS documents (issue 21, Truth in what it says). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../../scripts/gg/cli';
import { harness, makeProject, totalCalls } from '../helpers';

/** The sources of publish's region in the order a text names them. */
function regionOrder(text: string): string[] {
  const sources: [string, RegExp][] = [
    ['flag', /--region/],
    ['gdk', /publish\.region/],
    ['sdk', /AWS_REGION|SDK chain/],
  ];
  return sources
    .map(([name, pattern]) => [name, text.search(pattern)] as const)
    .filter(([, at]) => at >= 0)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name);
}

describe('help texts', () => {
  it("publish's region: --help and scripts/gg/README.md name the order the code follows", async () => {
    const regionLine = async (argv: string[], root = makeProject({ region: 'us-east-1' })) => {
      const h = harness(root);
      expect(await run(['publish', '--dry-run', ...argv], h.deps)).toBe(0);
      return h.lines[0];
    };
    expect(await regionLine(['--region', 'eu-central-1'])).toBe('region: eu-central-1 (from --region)');
    expect(await regionLine([])).toBe('region: us-east-1 (from gdk-config.json publish.region)');
    const withoutRegion = makeProject();
    const gdkPath = join(withoutRegion, 'gdk-config.json');
    writeFileSync(gdkPath, readFileSync(gdkPath, 'utf8').replace(/,"region":"[^"]*"/, ''));
    expect(await regionLine([], withoutRegion)).toBe('region: eu-west-1 (from AWS_REGION / profile)');

    const help = harness(makeProject());
    expect(await run(['publish', '--help'], help.deps)).toBe(0);
    const helpSentence = /The region is [^\n]*(\n[^\n]+)?/.exec(help.text())?.[0] ?? '';
    expect(regionOrder(helpSentence)).toEqual(['flag', 'gdk', 'sdk']);
    const readme = readFileSync(join(__dirname, '../../../../scripts/gg/README.md'), 'utf8').replace(/\s+/g, ' ');
    const readmeSentence = /only `publish`.*?\.(?= [A-Z])/.exec(readme)?.[0] ?? '';
    expect(regionOrder(readmeSentence)).toEqual(['flag', 'gdk', 'sdk']);
  });

  it('ML Detect: 25,000 datapoints per metric over 14 days, not a number of devices', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--help'], h.deps)).toBe(0);
    expect(h.text()).toContain('25,000 datapoints per metric over the trailing 14 days');
    expect(h.text()).not.toMatch(/25\+ devices/);
  });

  it('ML Detect: what setup-defender --ml says after it ran names the datapoints, not a number of devices', async () => {
    const h = harness(makeProject());
    expect(await run(['setup-defender', '--group', 'fleet', '--ml', '--dry-run'], h.deps)).toBe(0);
    const training = h.lines.filter((line) => /ML Detect trains/.test(line));
    expect(training).toEqual([
      'ML Detect trains on 25,000 datapoints per metric over the trailing 14 days before it raises alarms (training status: npm run gg -- doctor)',
    ]);
    expect(h.text()).not.toMatch(/\b25\+? devices/);
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
