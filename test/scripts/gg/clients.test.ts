import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createAwsClients, SDK_MAX_ATTEMPTS, sdkNodeNote } from '../../../scripts/gg/clients';

const ROOT = join(__dirname, '..', '..', '..');

describe('the AWS clients of npm run gg', () => {
  it("retry in one layer: the SDK's adaptive mode, at most SDK_MAX_ATTEMPTS HTTP attempts per call", async () => {
    const clients = createAwsClients('eu-west-1');
    for (const client of Object.values(clients)) {
      expect(await client.config.maxAttempts()).toBe(SDK_MAX_ATTEMPTS);
      const strategy = (await client.config.retryStrategy()) as { mode?: string };
      expect(strategy.mode).toBe('adaptive');
    }
    expect(SDK_MAX_ATTEMPTS).toBeLessThanOrEqual(5);
  });

  it("say the SDK's future Node requirement in one line, and only on a Node it will not support", () => {
    expect(sdkNodeNote('v20.20.2')).toBe(
      'note: Node v20.20.2 runs the AWS SDK versions pinned here; its releases after January 2027 need Node >= 22 (https://a.co/c895JFp)',
    );
    expect(sdkNodeNote('v22.1.0')).toBeUndefined();
    expect(sdkNodeNote('v24.0.0')).toBeUndefined();
  });

  it("keep the SDK's eight-line Node version warning off stderr", () => {
    const script =
      "require('./scripts/gg/clients').createAwsClients('eu-west-1'); require('./scripts/gg/clients').createAwsClients('us-east-1');";
    // On Node 20 the SDK would warn at the first client; on a newer Node it has nothing to say either way.
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(child.status).toBe(0);
    expect(child.stderr).not.toContain('NodeVersionSupportWarning');
  });
});
