import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateComponentVersionCommand, DescribeComponentCommand, ListComponentVersionsCommand } from '@aws-sdk/client-greengrassv2';
import { CreateBucketCommand, GetBucketLocationCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import YAML from 'yaml';
import { run } from '../../../../scripts/gg/cli';
import {
  ACCOUNT,
  ARTIFACTS,
  awsError,
  COMPONENT,
  harness,
  inputsOf,
  makeProject,
  mocks,
  totalCalls,
  VERSION,
  writeBuild,
} from '../helpers';

const BUCKET = `agent-artifacts-eu-west-1-${ACCOUNT}`;
const VERSION_ARN = `arn:aws:greengrass:eu-west-1:${ACCOUNT}:components:${COMPONENT}:versions:${VERSION}`;

function happyPath(): void {
  mocks.greengrass.on(ListComponentVersionsCommand).resolves({ componentVersions: [{ componentVersion: '1.2.2' }] });
  mocks.s3.on(HeadBucketCommand).rejects(awsError('NotFound', 'Not Found', 404));
  mocks.s3.on(CreateBucketCommand).resolves({});
  mocks.s3.on(PutObjectCommand).resolves({});
  mocks.greengrass.on(CreateComponentVersionCommand).resolves({ arn: VERSION_ARN });
  mocks.greengrass
    .on(DescribeComponentCommand)
    .resolvesOnce({ status: { componentState: 'REQUESTED' } })
    .resolves({ status: { componentState: 'DEPLOYABLE' } });
}

describe('publish', () => {
  it('creates the gdk-named bucket, uploads each artifact and registers the rewritten recipe', async () => {
    happyPath();
    const h = harness(makeProject());
    expect(await run(['publish'], h.deps)).toBe(0);

    expect(mocks.sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    expect(inputsOf(mocks.greengrass, ListComponentVersionsCommand)[0]!).toEqual({
      arn: `arn:aws:greengrass:eu-west-1:${ACCOUNT}:components:${COMPONENT}`,
    });
    expect(inputsOf(mocks.s3, HeadBucketCommand)[0]!).toEqual({ Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT });
    expect(inputsOf(mocks.s3, CreateBucketCommand)[0]!).toEqual({
      Bucket: BUCKET,
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
    });

    const uploads = mocks.s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(uploads.map(({ Bucket, Key, ExpectedBucketOwner }) => ({ Bucket, Key, ExpectedBucketOwner }))).toEqual([
      { Bucket: BUCKET, Key: `${COMPONENT}/${VERSION}/agent.js`, ExpectedBucketOwner: ACCOUNT },
      { Bucket: BUCKET, Key: `${COMPONENT}/${VERSION}/crt-arm64.node`, ExpectedBucketOwner: ACCOUNT },
    ]);
    expect(uploads.map((u) => Buffer.from(u.Body as Uint8Array).toString())).toEqual([ARTIFACTS['agent.js'], ARTIFACTS['crt-arm64.node']]);

    const create = inputsOf(mocks.greengrass, CreateComponentVersionCommand)[0]!;
    const recipe = YAML.parse(Buffer.from(create.inlineRecipe!).toString('utf8'));
    expect(recipe.ComponentName).toBe(COMPONENT);
    expect(recipe.ComponentVersion).toBe(VERSION);
    expect(recipe.Manifests[0].Artifacts.map((a: { URI: string }) => a.URI)).toEqual([
      `s3://${BUCKET}/${COMPONENT}/${VERSION}/agent.js`,
      `s3://${BUCKET}/${COMPONENT}/${VERSION}/crt-arm64.node`,
    ]);

    expect(inputsOf(mocks.greengrass, DescribeComponentCommand)).toEqual([{ arn: VERSION_ARN }, { arn: VERSION_ARN }]);
    expect(h.sleeps).toHaveLength(1);
    expect(h.text()).toContain('component state REQUESTED');
    expect(h.text()).toContain(`is DEPLOYABLE: ${VERSION_ARN}`);
    expect(h.text()).toContain(`s3:GetObject on arn:aws:s3:::${BUCKET}/*`);
  });

  it('creates a us-east-1 bucket without a LocationConstraint', async () => {
    happyPath();
    const h = harness(makeProject({ region: 'us-east-1' }));
    expect(await run(['publish'], h.deps)).toBe(0);
    expect(inputsOf(mocks.s3, CreateBucketCommand)[0]!).toEqual({ Bucket: `agent-artifacts-us-east-1-${ACCOUNT}` });
  });

  it('uses an existing bucket in the same region', async () => {
    happyPath();
    mocks.s3.on(HeadBucketCommand).resolves({});
    mocks.s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-west-1' });
    const h = harness(makeProject());
    expect(await run(['publish'], h.deps)).toBe(0);
    expect(mocks.s3.commandCalls(CreateBucketCommand)).toHaveLength(0);
  });

  it('refuses an existing bucket in another region', async () => {
    happyPath();
    mocks.s3.on(HeadBucketCommand).resolves({});
    mocks.s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-central-1' });
    const h = harness(makeProject());
    expect(await run(['publish'], h.deps)).toBe(1);
    expect(h.text()).toContain(`bucket ${BUCKET} is in eu-central-1, not eu-west-1`);
    expect(mocks.s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('stops before uploading when the version is already published, and names the next patch', async () => {
    happyPath();
    mocks.greengrass.on(ListComponentVersionsCommand).resolves({ componentVersions: [{ componentVersion: VERSION }] });
    const h = harness(makeProject());
    expect(await run(['publish'], h.deps)).toBe(1);
    expect(h.errors).toEqual([
      `error: ${COMPONENT} ${VERSION} is already published in eu-west-1; component versions are immutable`,
      'next: set "version" in gdk-config.json to 1.2.4 (the next patch) and run publish again',
    ]);
    expect(mocks.s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('explains a ConflictException from CreateComponentVersion the same way', async () => {
    happyPath();
    mocks.greengrass.on(CreateComponentVersionCommand).rejects(awsError('ConflictException', 'exists', 409));
    const h = harness(makeProject());
    expect(await run(['publish'], h.deps)).toBe(1);
    expect(h.text()).toContain('set "version" in gdk-config.json to 1.2.4');
  });

  it('prints the status message and each artifact error when the version FAILED', async () => {
    happyPath();
    mocks.greengrass.on(DescribeComponentCommand).resolves({
      status: { componentState: 'FAILED', message: 'artifact error', errors: { [`s3://${BUCKET}/x/agent.js`]: 'Access denied' } },
    });
    const h = harness(makeProject());
    expect(await run(['publish'], h.deps)).toBe(1);
    expect(h.errors).toContain('status message: artifact error');
    expect(h.errors).toContain(`  s3://${BUCKET}/x/agent.js: Access denied`);
    expect(h.text()).toContain('FAILED in Greengrass');
  });

  it('names the missing IAM permission', async () => {
    happyPath();
    mocks.s3.on(PutObjectCommand).rejects(awsError('AccessDenied', 'Access Denied', 403));
    const h = harness(makeProject());
    expect(await run(['publish'], h.deps)).toBe(1);
    expect(h.errors[0]).toBe('error: AWS denied s3:PutObject: Access Denied');
    expect(h.errors[1]).toContain('grant the IAM action s3:PutObject');
  });

  it('runs the build first when greengrass-build/ is missing', async () => {
    happyPath();
    const root = makeProject({ withBuild: false });
    const builds: string[] = [];
    const h = harness(root, {
      runBuild: async (dir) => {
        builds.push(dir);
        writeBuild(dir);
      },
    });
    expect(await run(['publish'], h.deps)).toBe(0);
    expect(builds).toEqual([root]);
    expect(mocks.s3.commandCalls(PutObjectCommand)).toHaveLength(2);
  });

  it('--dry-run prints every request with the recipe as text and sends nothing', async () => {
    const h = harness(makeProject());
    expect(await run(['publish', '--dry-run'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    const text = h.text();
    expect(text).toContain('[dry-run] s3 CreateBucket');
    expect(text).toContain(`"Key": "${COMPONENT}/${VERSION}/agent.js"`);
    expect(text).toContain('[dry-run] inlineRecipe as text:');
    expect(text).toContain(`URI: s3://agent-artifacts-eu-west-1-<account-id>/${COMPONENT}/${VERSION}/agent.js`);
  });

  it('--dry-run --account: each put-object line runs in a shell and uploads the artifact file itself', async () => {
    const root = makeProject();
    const h = harness(root);
    expect(await run(['publish', '--dry-run', '--account', ACCOUNT], h.deps)).toBe(0);
    const uploads = h.lines.filter((line) => line.startsWith('aws s3api put-object '));
    expect(uploads).toHaveLength(Object.keys(ARTIFACTS).length);
    for (const line of uploads) {
      // The line as an operator pastes it, with an `aws` that prints the arguments the shell gave it.
      const shell = spawnSync('bash', ['-c', `aws() { printf '%s\\0' "$@"; }\n${line}`], { cwd: root, encoding: 'utf8' });
      expect(shell.stderr).toBe('');
      expect(shell.status).toBe(0);
      const args = shell.stdout.split('\0');
      const body = args[args.indexOf('--body') + 1]!;
      const request = JSON.parse(args[args.indexOf('--cli-input-json') + 1]!) as { Key: string };
      const fileName = request.Key.split('/').pop()!;
      expect(readFileSync(body, 'utf8')).toBe(ARTIFACTS[fileName]);
    }
  });

  it('--dry-run does not build', async () => {
    const root = makeProject({ withBuild: false });
    const h = harness(root);
    expect(await run(['publish', '--dry-run'], h.deps)).toBe(0);
    expect(totalCalls()).toBe(0);
    expect(existsSync(join(root, 'greengrass-build'))).toBe(false);
    expect(h.text()).toContain('would run `npm run build -- --gdk` first');
  });

  it('rebuilds every time: a stale greengrass-build/ from an older build is never uploaded', async () => {
    happyPath();
    const root = makeProject();
    writeFileSync(join(root, 'greengrass-build', 'artifacts', COMPONENT, VERSION, 'agent.js'), 'stale bundle');
    const h = harness(root);
    expect(await run(['publish'], h.deps)).toBe(0);
    expect(h.builds).toEqual([root]);
    const agent = mocks.s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key?.endsWith('agent.js'))!;
    expect(Buffer.from(agent.args[0].input.Body as Uint8Array).toString('utf8')).toBe('console.log("agent")');
  });

  it('publishes a YAML 1.1-safe recipe: RecipeFormatVersion stays a quoted string', async () => {
    happyPath();
    const h = harness(makeProject());
    expect(await run(['publish'], h.deps)).toBe(0);
    const recipe = Buffer.from(inputsOf(mocks.greengrass, CreateComponentVersionCommand)[0]!.inlineRecipe!).toString('utf8');
    expect(recipe).toMatch(/^RecipeFormatVersion: "2020-01-25"$/m);
    expect(YAML.parse(recipe, { version: '1.1' }).RecipeFormatVersion).toBe('2020-01-25');
  });

  it.each([
    [['1.2.2', '1.10.0', '1.9.9'], '1.10.1'],
    [[], '1.0.0'],
  ])('resolves gdk NEXT_PATCH after %j to %s, in the keys and the recipe', async (published, expected) => {
    happyPath();
    mocks.greengrass
      .on(ListComponentVersionsCommand)
      .resolves({ componentVersions: published.map((componentVersion) => ({ componentVersion })) });
    const h = harness(makeProject({ version: 'NEXT_PATCH' }));
    expect(await run(['publish'], h.deps)).toBe(0);
    expect(h.text()).toContain(`NEXT_PATCH: publishing ${expected}`);
    expect(mocks.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      `${COMPONENT}/${expected}/agent.js`,
      `${COMPONENT}/${expected}/crt-arm64.node`,
    ]);
    const recipe = Buffer.from(inputsOf(mocks.greengrass, CreateComponentVersionCommand)[0]!.inlineRecipe!).toString('utf8');
    expect(YAML.parse(recipe, { version: '1.1' }).ComponentVersion).toBe(expected);
    expect(recipe).toContain(`s3://${BUCKET}/${COMPONENT}/${expected}/agent.js`);
  });
});
