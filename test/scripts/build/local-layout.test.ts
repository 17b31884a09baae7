import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pruneLocalLayout } from '../../../scripts/build/local-layout';

const NAME = 'com.example.Agent';
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'layout-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('pruneLocalLayout', () => {
  it('keeps only the current build: no README or older recipe in recipes/, no older version in artifacts/', () => {
    const recipes = join(root, 'recipes');
    const artifacts = join(root, 'artifacts', NAME);
    mkdirSync(recipes, { recursive: true });
    for (const file of ['README.md', `${NAME}-1.0.0.yaml`, `${NAME}-1.0.1.yaml`, 'com.other.Thing-2.0.0.yaml'])
      writeFileSync(join(recipes, file), 'x');
    for (const version of ['1.0.0', '1.0.1']) {
      mkdirSync(join(artifacts, version), { recursive: true });
      writeFileSync(join(artifacts, version, 'defender-agent.js'), 'x');
    }
    pruneLocalLayout(recipes, artifacts, NAME, '1.0.1');
    expect(readdirSync(recipes).sort()).toEqual([`${NAME}-1.0.1.yaml`, 'com.other.Thing-2.0.0.yaml']);
    expect(readdirSync(artifacts)).toEqual(['1.0.1']);
    expect(existsSync(join(artifacts, '1.0.1', 'defender-agent.js'))).toBe(true);
  });

  it('does nothing on a first build', () => {
    expect(pruneLocalLayout(join(root, 'recipes'), join(root, 'artifacts', NAME), NAME, '1.0.0')).toEqual([]);
  });
});
