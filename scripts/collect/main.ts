// Entry point of `npm run collect`: wires the platform's collector and the terminal.
import { runCollect } from '../../src/collect/cli';
import { entryDirectory, platformCollection } from '../../src/collect/platform';

runCollect(process.argv.slice(2), {
  createCollector: platformCollection(process.platform, entryDirectory()).createCollector,
  platform: process.platform,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`collect failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
