/** `publish`: upload the built artifacts and register the component version, as gdk publish does, then wait until it is deployable. */
import { readFileSync } from 'node:fs';
import {
  CreateComponentVersionCommand,
  DescribeComponentCommand,
  ListComponentVersionsCommand,
  type DescribeComponentCommandOutput,
} from '@aws-sdk/client-greengrassv2';
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  PutObjectCommand,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { AccessDeniedError, bodyReadFrom, isConflict, isNotFound, type Arns } from '../aws';
import { COMMON_HELP, COMMON_OPTIONS, integerFlag, parseFlags } from '../args';
import type { CliDeps } from '../deps';
import { CliError } from '../errors';
import {
  artifactKey,
  BUILD_DIR,
  gdkBucketName,
  hasBuildOutput,
  listBuiltArtifacts,
  nextPatchVersion,
  readBuiltRecipe,
  readPublishSettings,
  requireFixedVersion,
  rewriteRecipeForPublish,
} from '../project';
import { allPages } from '../paginate';
import { openSession, type Session } from '../session';

export const PUBLISH_HELP = `Usage: npm run gg -- publish [--deadline-seconds N]

Builds first (npm run build -- --gdk, every time: a ${BUILD_DIR}/ left from an older build is never
uploaded), then, like gdk component publish: uploads ${BUILD_DIR}/artifacts/<Name>/<Version>/* to
s3://<publish.bucket>-<region>-<account>/<Name>/<Version>/ (creating the bucket if needed), registers the
recipe with CreateComponentVersion and waits until the version is DEPLOYABLE.
The region is --region, else gdk-config.json's publish.region (as for gdk), else AWS_REGION / the profile's region.
"version": "NEXT_PATCH" in gdk-config.json publishes the newest published version's next patch (1.0.0
for the first), as gdk does. A version that exists is refused: versions are immutable.
  --deadline-seconds N  how long to wait for DEPLOYABLE (default 300)
${COMMON_HELP}`;

const NEXT_PATCH = 'NEXT_PATCH';
const FIRST_VERSION = '1.0.0';

const POLL_MS = 3_000;

function versionExists(session: Session): CliError {
  const { name, version } = session.identity;
  return new CliError(
    `${name} ${version} is already published in ${session.aws.region}; component versions are immutable`,
    `set "version" in gdk-config.json to ${nextPatchVersion(version)} (the next patch) and run publish again`,
  );
}

async function publishedVersions(session: Session, arns: Arns): Promise<string[]> {
  const versions = await allPages(
    (nextToken) => session.aws.greengrass(new ListComponentVersionsCommand({ arn: arns.component(session.identity.name), nextToken })),
    (page) => page.componentVersions,
  );
  return versions.flatMap((v) => (v.componentVersion ? [v.componentVersion] : []));
}

function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => v.split(/[-+]/)[0]!.split('.').map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i += 1) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** gdk's NEXT_PATCH: the newest published version's next patch, or 1.0.0 when none is published. */
function resolveNextPatch(published: readonly string[]): string {
  const newest = [...published]
    .filter((v) => /^\d+\.\d+\.\d+/.test(v))
    .sort(compareVersions)
    .at(-1);
  return newest ? nextPatchVersion(newest) : FIRST_VERSION;
}

async function ensureBucket(session: Session, bucket: string, account: string): Promise<void> {
  const { aws, out } = session;
  try {
    await aws.s3(new HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: account }));
  } catch (error) {
    if (error instanceof AccessDeniedError) {
      throw new CliError(
        `cannot use bucket ${bucket}: either these credentials lack s3:ListBucket on it, or it belongs to another account (bucket names are global)`,
        'grant s3:ListBucket, or change publish.bucket in gdk-config.json to a prefix nobody else uses',
      );
    }
    if (!isNotFound(error)) throw error;
    out.info(`${aws.dryRun ? '[dry-run] would create' : 'creating'} bucket ${bucket} in ${aws.region}`);
    // us-east-1 is the one region that rejects an explicit LocationConstraint.
    await aws.s3(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(aws.region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: aws.region as BucketLocationConstraint } }),
      }),
    );
    return;
  }
  const location = await aws.s3(new GetBucketLocationCommand({ Bucket: bucket, ExpectedBucketOwner: account }));
  const bucketRegion = location.LocationConstraint || 'us-east-1';
  if (bucketRegion !== aws.region) {
    throw new CliError(
      `bucket ${bucket} is in ${bucketRegion}, not ${aws.region}`,
      "publish in the bucket's region, or change publish.bucket in gdk-config.json",
    );
  }
}

async function waitUntilDeployable(session: Session, arn: string, deadlineSeconds: number): Promise<void> {
  const { aws, out } = session;
  const started = session.now().getTime();
  let lastState = '';
  for (;;) {
    const component: DescribeComponentCommandOutput = await aws.greengrass(new DescribeComponentCommand({ arn }));
    const state = component.status?.componentState ?? 'UNKNOWN';
    const elapsed = Math.round((session.now().getTime() - started) / 1000);
    if (state !== lastState) out.info(`component state ${state} (${elapsed} s)`);
    lastState = state;
    if (state === 'DEPLOYABLE') return;
    if (state === 'FAILED') {
      out.error(`status message: ${component.status?.message ?? '(none)'}`);
      for (const [uri, problem] of Object.entries(component.status?.errors ?? {})) out.error(`  ${uri}: ${problem}`);
      throw new CliError(
        `${session.identity.name} ${session.identity.version} FAILED in Greengrass`,
        'usually an artifact is not readable: check the URIs above exist in S3, delete the failed version (cleanup) or bump the version, and publish again',
      );
    }
    if (elapsed >= deadlineSeconds) {
      throw new CliError(
        `the component version is still ${state} after ${deadlineSeconds} s`,
        `check later with \`aws greengrassv2 describe-component --arn ${arn}\``,
      );
    }
    await session.sleep(POLL_MS);
  }
}

export async function publishCommand(argv: string[], deps: CliDeps): Promise<number> {
  const flags = parseFlags('publish', argv, { ...COMMON_OPTIONS, 'deadline-seconds': { type: 'string' } });
  const deadlineSeconds = integerFlag('deadline-seconds', flags['deadline-seconds'], 1) ?? 300;
  const opened = await openSession(deps, flags, { regionFromGdkConfig: true });
  const { aws, out, identity: built, projectRoot } = opened;
  if (built.version !== NEXT_PATCH) requireFixedVersion(built);
  const settings = readPublishSettings(projectRoot, built.name);

  // Always rebuild: a plain `npm run build` does not refresh ${BUILD_DIR}/, so what is there may be old.
  if (aws.dryRun) {
    out.info(
      hasBuildOutput(projectRoot, built)
        ? `[dry-run] publish would run \`npm run build -- --gdk\` first; the requests below use the current ${BUILD_DIR}/`
        : `[dry-run] ${BUILD_DIR}/ is missing: publish would run \`npm run build -- --gdk\` first; build once to see the upload and recipe requests`,
    );
  } else {
    out.info('building: npm run build -- --gdk');
    await deps.runBuild(projectRoot);
  }

  const arns = await opened.arns();
  const existing = await publishedVersions(opened, arns);
  const version = built.version === NEXT_PATCH ? resolveNextPatch(existing) : built.version;
  if (built.version === NEXT_PATCH) out.info(`NEXT_PATCH: publishing ${version}`);
  const session: Session = { ...opened, identity: { ...built, version } };
  const { identity } = session;
  if (existing.includes(version)) throw versionExists(session);
  const bucket = gdkBucketName(settings.bucketPrefix, aws.region, arns.account);
  out.info(`publishing ${identity.name} ${identity.version} to ${aws.region} (bucket ${bucket})`);
  await ensureBucket(session, bucket, arns.account);
  if (!hasBuildOutput(projectRoot, built)) return 0;

  const artifacts = listBuiltArtifacts(projectRoot, built);
  for (const artifact of artifacts) {
    const key = artifactKey(identity, artifact.fileName);
    out.info(`uploading ${artifact.fileName} (${artifact.bytes} bytes) to s3://${bucket}/${key}`);
    const upload = { Bucket: bucket, Key: key, Body: readFileSync(artifact.path), ExpectedBucketOwner: arns.account };
    await aws.s3(new PutObjectCommand(bodyReadFrom(upload, artifact.path)));
  }

  const recipe = rewriteRecipeForPublish(
    readBuiltRecipe(projectRoot).text,
    built,
    bucket,
    artifacts.map((a) => a.fileName),
    version,
  );
  let created: Awaited<ReturnType<typeof aws.greengrass>>;
  try {
    created = await aws.greengrass(new CreateComponentVersionCommand({ inlineRecipe: Buffer.from(recipe, 'utf8') }));
  } catch (error) {
    if (isConflict(error)) throw versionExists(session);
    throw error;
  }
  if (aws.dryRun) {
    out.info('[dry-run] publish would then poll DescribeComponent until the version is DEPLOYABLE');
    return 0;
  }
  const arn = created.arn ?? arns.componentVersion(identity.name, identity.version);
  await waitUntilDeployable(session, arn, deadlineSeconds);
  out.info(`${identity.name} ${identity.version} is DEPLOYABLE: ${arn}`);
  out.info(`reminder: the core devices' token exchange role needs s3:GetObject on arn:${arn.split(':')[1]}:s3:::${bucket}/*`);
  return 0;
}
