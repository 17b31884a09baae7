// Entry point of `npm run collect`: wires the real collector and the terminal.
import { runCollect } from './cli';
import { createSystemCollector } from '../../src/collect/collector';

runCollect(process.argv.slice(2), {
  createCollector: createSystemCollector,
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
