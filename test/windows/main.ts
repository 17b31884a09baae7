/**
 * `npm run test:windows`: the Windows build under Wine (issue 23 item 4). Needs root (apt-get, namespaces), as CI has.
 * `--setup` only installs the environment and prints where it is.
 */
import path from 'node:path';
import { ensureWineEnvironment } from './wine-env';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const print = (line: string) => console.log(`[windows] ${line}`);

if (process.argv.includes('--setup')) {
  const env = ensureWineEnvironment(REPO_ROOT, print);
  console.log(JSON.stringify(env, null, 2));
}
