import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MAIN_HELP, run } from '../../../scripts/gg/cli';
import { ListActiveViolationsCommand } from '@aws-sdk/client-iot';
import { harness, makeProject, mocks, totalCalls } from './helpers';

const SUBCOMMANDS = [
  'publish',
  'deploy',
  'status',
  'setup-defender',
  'setup-edge',
  'doctor',
  'violations',
  'logs',
  'quarantine',
  'cleanup',
];

describe('gg CLI', () => {
  it.each([
    ['ENOTFOUND', Object.assign(new Error('getaddrinfo ENOTFOUND iot.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' })],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['TimeoutError', Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })],
  ])('a network error (%s) gets a next: line', async (_name, error) => {
    mocks.iot.on(ListActiveViolationsCommand).rejects(error);
    const h = harness(makeProject());
    expect(await run(['violations', '--thing', 'core-1'], h.deps)).toBe(1);
    expect(h.errors[0]).toMatch(/^error: /);
    expect(h.errors[1]).toBe(
      'next: AWS could not be reached: check the network, a proxy (HTTPS_PROXY) and the --region name, then run the command again',
    );
  });

  it.each(SUBCOMMANDS)('%s --help prints its usage and calls nothing', async (name) => {
    const h = harness(makeProject());
    expect(await run([name, '--help'], h.deps)).toBe(0);
    expect(h.lines).toHaveLength(1);
    expect(h.lines[0]).toMatch(new RegExp(`^Usage: npm run gg -- ${name}`));
    expect(h.lines[0]).toContain('--dry-run');
    expect(totalCalls()).toBe(0);
  });

  it('lists every subcommand in the main help', async () => {
    const h = harness(makeProject());
    expect(await run(['--help'], h.deps)).toBe(0);
    for (const name of SUBCOMMANDS) expect(h.lines[0]).toContain(`  ${name} `);
  });

  it('shows the help and fails without a subcommand', async () => {
    const h = harness(makeProject());
    expect(await run([], h.deps)).toBe(2);
    expect(h.lines).toEqual([MAIN_HELP]);
  });

  it('rejects an unknown subcommand', async () => {
    const h = harness(makeProject());
    expect(await run(['deplyo'], h.deps)).toBe(2);
    expect(h.errors[0]).toBe('error: unknown subcommand "deplyo"');
  });

  it("rejects positional arguments with the subcommand's help pointer", async () => {
    const h = harness(makeProject());
    expect(await run(['status', 'core-1'], h.deps)).toBe(2);
    expect(h.errors[0]).toMatch(/^error: status: unexpected argument "core-1": every value follows its --flag$/);
    expect(h.errors[1]).toBe('next: run `npm run gg -- status --help` for the flags');
  });

  it('explains a project without gdk-config.json', async () => {
    const h = harness(join(makeProject(), 'nowhere'));
    expect(await run(['status', '--thing', 'a'], h.deps)).toBe(1);
    expect(h.errors[0]).toMatch(/^error: cannot read gdk-config.json/);
  });

  it('runs as `npm run gg -- --help`', () => {
    const result = spawnSync('npm', ['run', '--silent', 'gg', '--', '--help'], {
      cwd: join(__dirname, '..', '..', '..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: npm run gg -- <subcommand> [flags]');
  });
});
