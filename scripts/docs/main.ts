/** `npm run docs`: rewrites the README's configuration table from src/config/definition.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigTable } from './config-table';

const readmePath = join(__dirname, '..', '..', 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const updated = withConfigTable(readme);
if (updated !== readme) writeFileSync(readmePath, updated);
console.log(updated === readme ? 'README.md configuration table is up to date' : 'README.md configuration table rewritten');
