import YAML from 'yaml';
import { RECIPE_SIZE_LIMIT_BYTES, recipeByteLength, recipeSizeProblem } from '../../../scripts/build/recipe';
import { gdkBucketName, nextPatchVersion, readPublishSettings, rewriteRecipeForPublish } from '../../../scripts/gg/project';
import { COMPONENT, makeProject, RECIPE, VERSION } from './helpers';

const identity = { name: COMPONENT, version: VERSION, author: 'Tests' };

describe('recipe rewrite for publish', () => {
  it('points each s3 artifact at the uploaded object and keeps the rest', () => {
    const text = rewriteRecipeForPublish(RECIPE, identity, 'bkt-eu-west-1-1', ['agent.js', 'crt-arm64.node']);
    const recipe = YAML.parse(text);
    expect(recipe.Manifests[0].Artifacts).toEqual([
      { URI: `s3://bkt-eu-west-1-1/${COMPONENT}/${VERSION}/agent.js` },
      { URI: `s3://bkt-eu-west-1-1/${COMPONENT}/${VERSION}/crt-arm64.node`, Permission: { Read: 'OWNER', Execute: 'OWNER' } },
    ]);
    expect(recipe.ComponentName).toBe(COMPONENT);
    expect(recipe.Manifests[0].Lifecycle).toEqual({ Run: 'node {artifacts:path}/agent.js' });
  });

  it('refuses a build of another version', () => {
    expect(() => rewriteRecipeForPublish(RECIPE, { ...identity, version: '2.0.0' }, 'b', ['agent.js', 'crt-arm64.node'])).toThrow(
      /gdk-config.json says com.example.TestAgent 2.0.0/,
    );
  });

  it('refuses a recipe naming an artifact the build did not produce', () => {
    expect(() => rewriteRecipeForPublish(RECIPE, identity, 'b', ['agent.js'])).toThrow(/has no crt-arm64.node/);
  });

  it('allows a recipe of exactly 16,000 bytes and refuses 16,001 (the measure the build uses)', () => {
    const withDescription = (length: number) => `${RECIPE}ComponentDescription: ${'x'.repeat(length)}\n`;
    const base = recipeByteLength(rewriteRecipeForPublish(withDescription(1), identity, 'b', ['agent.js', 'crt-arm64.node']));
    const exact = withDescription(1 + RECIPE_SIZE_LIMIT_BYTES - base);
    expect(recipeByteLength(rewriteRecipeForPublish(exact, identity, 'b', ['agent.js', 'crt-arm64.node']))).toBe(16_000);
    expect(() =>
      rewriteRecipeForPublish(withDescription(2 + RECIPE_SIZE_LIMIT_BYTES - base), identity, 'b', ['agent.js', 'crt-arm64.node']),
    ).toThrow('the recipe is 16001 bytes; gdk publish accepts at most 16000');
    expect(recipeSizeProblem(16_000)).toBeUndefined();
    expect(recipeSizeProblem(16_001)).toBeDefined();
  });

  it('writes YAML 1.1-safe text: the date-like RecipeFormatVersion is quoted', () => {
    const text = rewriteRecipeForPublish(RECIPE, identity, 'b', ['agent.js', 'crt-arm64.node']);
    expect(text).toMatch(/^RecipeFormatVersion: "2020-01-25"$/m);
  });

  it('refuses a recipe over the inline size limit', () => {
    const big = `${RECIPE}ComponentDescription: ${'x'.repeat(16_100)}\n`;
    expect(() => rewriteRecipeForPublish(big, identity, 'b', ['agent.js', 'crt-arm64.node'])).toThrow(/at most 16000/);
  });
});

describe('gdk conventions', () => {
  it('names the bucket <prefix>-<region>-<account>', () => {
    expect(gdkBucketName('agent-artifacts', 'eu-west-1', '123456789012')).toBe('agent-artifacts-eu-west-1-123456789012');
  });

  it('computes the next patch version', () => {
    expect(nextPatchVersion('1.2.3')).toBe('1.2.4');
    expect(nextPatchVersion('1.2.9-beta')).toBe('1.2.10');
  });

  it('reads publish.bucket and publish.region from gdk-config.json', () => {
    expect(readPublishSettings(makeProject({ region: 'ap-south-1' }), COMPONENT)).toEqual({
      bucketPrefix: 'agent-artifacts',
      region: 'ap-south-1',
    });
  });
});
