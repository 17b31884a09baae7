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
import { AccessDeniedError, isConflict, isNotFound, type Arns } from '../aws';
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
import { openSession, type Session } from '../session';

export const PUBLISH_HELP = `Usage: npm run gg -- publish [--deadline-seconds N]

Builds if ${BUILD_DIR}/ is missing (npm run build -- --gdk), then, like gdk component publish:
uploads ${BUILD_DIR}/artifacts/<Name>/<Version>/* to s3://<publish.bucket>-<region>-<account>/<Name>/<Version>/
(creating the bucket if needed), registers the recipe with CreateComponentVersion and waits until
the version is DEPLOYABLE.
  --deadline-seconds N  how long to wait for DEPLOYABLE (default 300)
${COMMON_HELP}`;

const POLL_MS = 3_000;

function versionExists(session: Session): CliError {
  const { name, version } = session.identity;
  return new CliError(
    `${name} ${version} is already published in ${session.aws.region}; component versions are immutable`,
    `set "version" in gdk-config.json to ${nextPatchVersion(version)} (the next patch) and run publish again`,
  );
}

async function ensureNewVersion(session: Session, arns: Arns): Promise<void> {
  const { name, version } = session.identity;
  let nextToken: string | undefined;
  do {
    const page = await session.aws.greengrass(new ListComponentVersionsCommand({ arn: arns.component(name), nextToken }));
    if ((page.componentVersions ?? []).some((v) => v.componentVersion === version)) throw versionExists(session);
    nextToken = page.nextToken;
  } while (nextToken);
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
  const session = await openSession(deps, flags, { regionFromGdkConfig: true });
  const { aws, out, identity, projectRoot } = session;
  requireFixedVersion(identity);
  const settings = readPublishSettings(projectRoot, identity.name);

  if (!hasBuildOutput(projectRoot, identity)) {
    if (aws.dryRun) {
      out.info(
        `[dry-run] ${BUILD_DIR}/ is missing: publish would run \`npm run build -- --gdk\` first; build once to see the upload and recipe requests`,
      );
    } else {
      out.info(`${BUILD_DIR}/ is missing: running npm run build -- --gdk`);
      await deps.runBuild(projectRoot);
    }
  }

  const arns = await session.arns();
  const bucket = gdkBucketName(settings.bucketPrefix, aws.region, arns.account);
  out.info(`publishing ${identity.name} ${identity.version} to ${aws.region} (bucket ${bucket})`);
  await ensureNewVersion(session, arns);
  await ensureBucket(session, bucket, arns.account);
  if (!hasBuildOutput(projectRoot, identity)) return 0;

  const artifacts = listBuiltArtifacts(projectRoot, identity);
  for (const artifact of artifacts) {
    const key = artifactKey(identity, artifact.fileName);
    out.info(`uploading ${artifact.fileName} (${artifact.bytes} bytes) to s3://${bucket}/${key}`);
    await aws.s3(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(artifact.path), ExpectedBucketOwner: arns.account }));
  }

  const recipe = rewriteRecipeForPublish(
    readBuiltRecipe(projectRoot).text,
    identity,
    bucket,
    artifacts.map((a) => a.fileName),
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
