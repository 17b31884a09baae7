/** The README's configuration table, rendered from the one definition of the keys. */
import { CONFIG_KEYS } from './definition';

export function renderConfigTable(): string {
  const rows = CONFIG_KEYS.map((doc) => `| \`${doc.key}\` | \`${JSON.stringify(doc.recipeDefault)}\` | ${doc.description} |`);
  return ['| key | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
