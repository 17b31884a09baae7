/**
 * Which collector and which boot id the agent and `--collect-once` use, by platform: /proc on Linux, the IP Helper API
 * through koffi on Windows (koffi's binary beside the bundle). Wiring only.
 */
import os from 'node:os';
import { dirname } from 'node:path';
import { systemInterfaceSource } from '../procfs/interfaces';
import { systemStatfs } from '../procfs/statfs';
import { readFile } from '../util/async-fs';
import { bootTimeId } from './boot';
import { type Collector, createSystemCollector } from './collector';
import { createWindowsCollector } from './windows/collector';
import { createKoffiIpHelper } from './windows/koffi-ip-helper';

export interface PlatformCollection {
  /** `procfsRoot` is where /proc is on Linux; Windows has none and ignores it. */
  createCollector(procfsRoot: string): Collector;
  /** The boot this process runs in (src/collect/boot.ts). */
  bootId(): Promise<string | undefined>;
}

/** `bundleDirectory`: where the bundle and its artifacts (koffi's binary on Windows) are. */
export function platformCollection(platform: NodeJS.Platform, bundleDirectory: string): PlatformCollection {
  if (platform === 'win32') {
    return {
      createCollector: () =>
        createWindowsCollector({
          loadIpHelper: () => createKoffiIpHelper(bundleDirectory),
          interfaces: systemInterfaceSource(),
          statfs: systemStatfs(),
          system: os,
          now: () => Date.now(),
        }),
      bootId: async () => bootTimeId(Date.now(), os.uptime()),
    };
  }
  return {
    createCollector: (procfsRoot) => createSystemCollector(procfsRoot),
    bootId: () => readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((text) => text.trim() || undefined),
  };
}

/** The directory of the running bundle (or script). */
export function entryDirectory(): string {
  return dirname(process.argv[1] ?? process.cwd());
}
