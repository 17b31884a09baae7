// Entry point of `npm run collect`: wires the platform's collector and the terminal.
import { runCollectOnTerminal } from '../../src/collect/cli';
import { entryDirectory, platformCollection } from '../../src/collect/platform';

runCollectOnTerminal(process.argv.slice(2), platformCollection(process.platform, entryDirectory()).createCollector);
