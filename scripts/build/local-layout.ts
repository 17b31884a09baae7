/**
 * The greengrass-cli local layout keeps only the current build. greengrass-cli reads every file in --recipeDir as a
 * recipe (anything else, a README included, logs an ERROR on each local deployment) and copies every version under
 * --artifactDir into the core, so older builds would be copied again each time.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function pruneLocalLayout(recipesDir: string, componentArtifactsRoot: string, componentName: string, version: string): string[] {
  const removed: string[] = [];
  const current = `${componentName}-${version}.yaml`;
  if (existsSync(recipesDir)) {
    for (const file of readdirSync(recipesDir)) {
      const olderBuild = file.startsWith(`${componentName}-`) && file !== current;
      if (olderBuild || /^readme/i.test(file)) {
        rmSync(join(recipesDir, file), { recursive: true, force: true });
        removed.push(join(recipesDir, file));
      }
    }
  }
  if (existsSync(componentArtifactsRoot)) {
    for (const dir of readdirSync(componentArtifactsRoot)) {
      if (dir === version) continue;
      rmSync(join(componentArtifactsRoot, dir), { recursive: true, force: true });
      removed.push(join(componentArtifactsRoot, dir));
    }
  }
  return removed;
}
