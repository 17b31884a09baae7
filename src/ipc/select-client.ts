/**
 * Chooses the IPC client at process start: the aws-iot-device-sdk-v2 client where its aws-crt native addon loads,
 * the portable TypeScript client elsewhere (32-bit ARM, musl, or an addon that fails to load).
 *
 * The choice has to be made before the configuration can be read over IPC, so it comes from the environment:
 * the recipe's lifecycle sets DEFENDER_AGENT_IPC_CLIENT to `{configuration:/ipcClient}`, which the nucleus
 * interpolates at deployment time (and a changed lifecycle restarts the component, so a new value takes effect).
 *
 * The SDK is loaded here with a synchronous require inside a function, never at module load: aws-crt loads its
 * native addon as it is required, and where no addon exists that throws. In the built component the SDK is a file
 * beside the agent's bundle (SDK_BUNDLE_FILE) that only the manifests with an addon download.
 */
import { existsSync } from 'node:fs';
import { basename, resolve, sep } from 'node:path';
import type { IpcClientSetting } from '../config/definition';
import type { Logger } from '../log/logger';
import type { IpcConnector } from './ipc';
import { createPortableIpcConnector } from './portable/portable-ipc';
import { describeError } from '../util/describe-error';
import { quoteValue } from '../config/quote';
import { nativeAddonProblem } from './native-addon';
import { SDK_BUNDLE_FILE } from './sdk-bundle';

export const IPC_CLIENT_VARIABLE = 'DEFENDER_AGENT_IPC_CLIENT';

/**
 * aws-crt's load error lists every path it searched, one per line: the reason is logged whole, as one quoted line
 * (its newlines escaped), and bounded only against a hostile size.
 */
const MAX_REASON_CHARACTERS = 2_000;

const SETTINGS: readonly IpcClientSetting[] = ['auto', 'sdk', 'portable'];

interface ConnectorOptions {
  operationTimeoutMs: number;
}

type SdkConnectorFactory = (options: ConnectorOptions) => IpcConnector;

export interface IpcClientSelection {
  /** The variable's raw value (undefined, or a `{configuration:/ipcClient}` left uninterpolated, mean `auto`). */
  setting: string | undefined;
  operationTimeoutMs: number;
  logger: Logger;
  /** Loads the SDK adapter; throws where the native addon is missing or unloadable. */
  loadSdk?: () => SdkConnectorFactory;
}

export type SelectedIpcClient = { client: 'sdk' | 'portable'; connector: IpcConnector } | { client: undefined; problem: string };

/** The addon files aws-crt would load, found as its binding.js finds them (in the bundle, __dirname is the bundle's). */
function addonCandidates(): string[] {
  const relative = process.env.AWS_CRT_NODEJS_BINARY_RELATIVE_PATH;
  const absolute = process.env.AWS_CRT_NODEJS_BINARY_ABSOLUTE_PATH;
  return [...(relative ? [resolve(__dirname, ...relative.split(sep))] : []), ...(absolute ? [absolute] : [])];
}

/** Refuses an addon whose file is cut short: loading it would kill node with SIGBUS (see native-addon.ts). */
function checkAddonFiles(): void {
  for (const file of addonCandidates()) {
    if (!existsSync(file)) continue;
    const problem = nativeAddonProblem(file);
    if (problem) throw new Error(`${basename(file)} is not loaded: ${problem}`);
  }
}

/** This platform's download has no SDK: the agent's bundle is there, the file with the SDK is not. */
export class SdkNotDownloaded extends Error {
  constructor() {
    super(`the AWS SDK client is not in this platform's download (no ${SDK_BUNDLE_FILE} beside the agent)`);
    this.name = 'SdkNotDownloaded';
  }
}

function isSdkBundleMissing(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === 'MODULE_NOT_FOUND' && describeError(error).includes(SDK_BUNDLE_FILE);
}

function loadSdkAdapter(): SdkConnectorFactory {
  checkAddonFiles();
  try {
    // Lazy on purpose (see the file comment); esbuild keeps a require inside a function lazy.
    const adapter = require('./greengrass-ipc') as typeof import('./greengrass-ipc');
    return adapter.createGreengrassIpcConnector;
  } catch (error) {
    throw isSdkBundleMissing(error) ? new SdkNotDownloaded() : error;
  }
}

function parseSetting(raw: string | undefined, logger: Logger): IpcClientSetting {
  const value = raw?.trim().toLowerCase() ?? '';
  if (value === '' || value.startsWith('{configuration:')) return 'auto';
  const setting = SETTINGS.find((s) => s === value);
  if (setting) return setting;
  logger.warn(`${IPC_CLIENT_VARIABLE}="${raw}" is not one of ${SETTINGS.join(', ')}; using auto`);
  return 'auto';
}

export function selectIpcClient(selection: IpcClientSelection): SelectedIpcClient {
  const { logger, operationTimeoutMs } = selection;
  const setting = parseSetting(selection.setting, logger);
  const portable = (): SelectedIpcClient => ({ client: 'portable', connector: createPortableIpcConnector({ operationTimeoutMs }) });
  if (setting === 'portable') {
    logger.info('IPC client: portable (ipcClient=portable)');
    return portable();
  }
  let factory: SdkConnectorFactory;
  try {
    factory = (selection.loadSdk ?? loadSdkAdapter)();
  } catch (error) {
    if (error instanceof SdkNotDownloaded) {
      if (setting === 'sdk')
        return { client: undefined, problem: `ipcClient=sdk, but ${error.message}; set ipcClient to auto or portable` };
      logger.info(`IPC client: portable (${error.message})`);
      return portable();
    }
    const reason = quoteValue(describeError(error), MAX_REASON_CHARACTERS);
    const where = `${process.platform}/${process.arch}`;
    if (setting === 'sdk') {
      return {
        client: undefined,
        problem: `ipcClient=sdk, but the aws-crt native addon for ${where} is missing or does not load (${reason}); set ipcClient to auto or portable`,
      };
    }
    logger.info(`IPC client: portable (the aws-crt native addon for ${where} is missing or does not load: ${reason})`);
    return portable();
  }
  logger.info(`IPC client: sdk (ipcClient=${setting})`);
  return { client: 'sdk', connector: factory({ operationTimeoutMs }) };
}
