import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEYS } from '../src/config/definition';
import { renderConfigTable } from '../scripts/docs/config-table';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('has a quick start of exactly two commands: run the agent, run the tests', () => {
    const section = readme.split('## Quick start')[1]!.split('```sh')[1]!.split('```')[0]!;
    const commands = section
      .trim()
      .split('\n')
      .map((line) => line.split('#')[0]!.trim());
    expect(commands).toEqual(['npm install && npm start', 'npm install && npm test']);
  });

  it('documents every configuration key with its default, generated from the definition', () => {
    const table = readme.split('<!-- config-table:start -->')[1]!.split('<!-- config-table:end -->')[0]!.trim();
    expect(table).toBe(renderConfigTable().trim());
    for (const doc of CONFIG_KEYS) expect(table).toContain(`\`${doc.key}\``);
  });
});
