/** The README's configuration table, rendered from the one definition of the keys. */
import { CONFIG_KEYS } from '../../src/config/definition';

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';

export function renderConfigTable(): string {
  const rows = CONFIG_KEYS.map((doc) => `| \`${doc.key}\` | \`${JSON.stringify(doc.recipeDefault)}\` | ${doc.description} |`);
  return ['| key | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The README with the table between its markers replaced by the rendered one. */
export function withConfigTable(readme: string): string {
  const [before, rest] = readme.split(START);
  const after = rest?.split(END)[1];
  if (before === undefined || after === undefined) throw new Error(`README.md lacks the ${START} ... ${END} markers`);
  return `${before}${START}\n${renderConfigTable()}\n${END}${after}`;
}
