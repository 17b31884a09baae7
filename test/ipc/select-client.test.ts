import { createLogger } from '../../src/log/logger';
import { IPC_CLIENT_VARIABLE, SdkNotDownloaded, selectIpcClient } from '../../src/ipc/select-client';

function recordingLogger() {
  const lines: string[] = [];
  const logger = createLogger({ out: (line) => lines.push(line), err: (line) => lines.push(line) }, 'debug');
  return { logger, lines };
}

const missingAddon = (): never => {
  throw new Error('AWS CRT binary not present in any of the following locations:\n  /a/b/aws-crt-nodejs-linux-arm.node\n  …');
};

describe('choosing the IPC client at start', () => {
  it('falls back to the portable client with one INFO line when the SDK addon does not load under auto', () => {
    const { logger, lines } = recordingLogger();
    const selected = selectIpcClient({ setting: 'auto', operationTimeoutMs: 1000, logger, loadSdk: missingAddon });
    expect(selected.client).toBe('portable');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      / INFO {2}IPC client: portable \(the aws-crt native addon for .* is missing or does not load: "AWS CRT binary not present/,
    );
    // Whole (every searched path), quoted as one line.
    expect(lines[0]).toContain('locations:\\n  /a/b/aws-crt-nodejs-linux-arm.node\\n  …")');
    expect(lines[0]).not.toContain('\n');
  });

  it('quotes a reason of any length bounded, on one line', () => {
    const { logger, lines } = recordingLogger();
    const hostile = (): never => {
      throw new Error(`fake\nERROR forged line ${'x'.repeat(10_000)}`);
    };
    selectIpcClient({ setting: 'auto', operationTimeoutMs: 1000, logger, loadSdk: hostile });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"fake\\nERROR forged line xxx');
    expect(lines[0]).toMatch(/\.\.\. \(10\d\d\d characters\)\)$/);
    expect(lines[0]!.length).toBeLessThan(2_300);
  });

  it('fails with one clear problem when sdk is required and the addon does not load', () => {
    const { logger, lines } = recordingLogger();
    const selected = selectIpcClient({ setting: 'sdk', operationTimeoutMs: 1000, logger, loadSdk: missingAddon });
    expect(selected).toEqual({
      client: undefined,
      problem: expect.stringMatching(/^ipcClient=sdk, but the aws-crt native addon .* set ipcClient to auto or portable$/),
    });
    expect(lines).toEqual([]);
  });

  it("says that the SDK is not in this platform's download, not that an addon failed, where its file is missing", () => {
    const sdkNotDownloaded = (): never => {
      throw new SdkNotDownloaded();
    };
    const { logger, lines } = recordingLogger();
    expect(selectIpcClient({ setting: 'auto', operationTimeoutMs: 1000, logger, loadSdk: sdkNotDownloaded }).client).toBe('portable');
    expect(lines).toEqual([
      expect.stringMatching(
        / INFO {2}IPC client: portable \(the AWS SDK client is not in this platform's download \(no defender-agent-sdk\.js beside the agent\)\)$/,
      ),
    ]);
    expect(selectIpcClient({ setting: 'sdk', operationTimeoutMs: 1000, logger, loadSdk: sdkNotDownloaded })).toEqual({
      client: undefined,
      problem:
        "ipcClient=sdk, but the AWS SDK client is not in this platform's download (no defender-agent-sdk.js beside the agent); set ipcClient to auto or portable",
    });
  });

  it('uses the SDK under auto where it loads, and never loads it under portable', () => {
    const { logger } = recordingLogger();
    const sdkConnector = { connect: jest.fn() };
    const loadSdk = jest.fn(() => () => sdkConnector);
    expect(selectIpcClient({ setting: undefined, operationTimeoutMs: 1000, logger, loadSdk })).toEqual({
      client: 'sdk',
      connector: sdkConnector,
    });
    loadSdk.mockClear();
    expect(selectIpcClient({ setting: 'portable', operationTimeoutMs: 1000, logger, loadSdk }).client).toBe('portable');
    expect(loadSdk).not.toHaveBeenCalled();
  });

  it('treats an uninterpolated recipe variable as auto and warns about an unknown value', () => {
    const { logger, lines } = recordingLogger();
    expect(selectIpcClient({ setting: '{configuration:/ipcClient}', operationTimeoutMs: 1000, logger, loadSdk: missingAddon }).client).toBe(
      'portable',
    );
    expect(lines.filter((l) => l.includes('WARN'))).toEqual([]);
    selectIpcClient({ setting: 'grpc', operationTimeoutMs: 1000, logger, loadSdk: missingAddon });
    expect(lines.some((l) => l.includes(`WARN  ${IPC_CLIENT_VARIABLE}="grpc" is not one of auto, sdk, portable; using auto`))).toBe(true);
  });

  it('loads the real SDK adapter lazily where the addon exists (this machine)', () => {
    const { logger } = recordingLogger();
    expect(selectIpcClient({ setting: 'sdk', operationTimeoutMs: 1000, logger }).client).toBe('sdk');
  });
});
