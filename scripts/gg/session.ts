/** What every subcommand works with: the gateway, the component identity, ARNs, output and time. */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { readGdkConfig, type ComponentIdentity } from '../../src/component/identity';
import { Arns, AwsGateway } from './aws';
import type { CliDeps, OutputSink } from './deps';
import { CliError, UsageError } from './errors';
import { readPublishSettings } from './project';
import { accountFlag, regionFlag } from './args';
import { terminalSafe } from './terminal-text';
import { describeError } from '../../src/util/describe-error';

export interface Session {
  aws: AwsGateway;
  out: OutputSink;
  sleep(ms: number): Promise<void>;
  now(): Date;
  projectRoot: string;
  identity: ComponentIdentity;
  /** Resolves the account once (sts:GetCallerIdentity). */
  arns(): Promise<Arns>;
}

export interface SessionFlags {
  region?: string | undefined;
  'dry-run'?: boolean | undefined;
  account?: string | undefined;
}

export interface SessionOptions {
  /**
   * publish follows gdk: gdk-config.json's publish.region decides where `gdk component publish` goes, so ours goes
   * there too. Every other subcommand follows the SDK chain (AWS_REGION, the profile), as the AWS CLI does.
   */
  regionFromGdkConfig?: boolean;
}

function configuredRegion(deps: CliDeps, identity: ComponentIdentity): string | undefined {
  try {
    return readPublishSettings(deps.projectRoot, identity.name).region;
  } catch {
    return undefined;
  }
}

export async function openSession(deps: CliDeps, flags: SessionFlags, options: SessionOptions = {}): Promise<Session> {
  let identity: ComponentIdentity;
  try {
    identity = readGdkConfig(deps.projectRoot);
  } catch (error) {
    throw new CliError(
      `cannot read gdk-config.json in ${deps.projectRoot}: ${describeError(error)}`,
      'run the command from the project root',
    );
  }
  const fromGdk = options.regionFromGdkConfig ? configuredRegion(deps, identity) : undefined;
  const wanted = regionFlag(flags.region) ?? fromGdk;
  const clients = deps.createClients(wanted);
  let region: string;
  try {
    region = wanted ?? (await clients.sts.config.region());
  } catch {
    throw new CliError(
      'no AWS region configured',
      options.regionFromGdkConfig
        ? 'pass --region or set publish.region in gdk-config.json'
        : 'pass --region, or set AWS_REGION or a region in your AWS profile',
    );
  }
  const out = terminalSafe(deps.out);
  const source =
    flags.region !== undefined ? '--region' : fromGdk !== undefined ? 'gdk-config.json publish.region' : 'AWS_REGION / profile';
  out.info(`region: ${region} (from ${source})`);
  if (flags.account !== undefined && !flags['dry-run']) throw new UsageError('--account only applies with --dry-run');
  const dryRunAccount = flags['dry-run'] ? accountFlag(flags.account) : undefined;
  const aws = new AwsGateway(clients, region, {
    dryRun: flags['dry-run'] === true,
    out,
    ...(dryRunAccount ? { dryRunAccount } : {}),
  });
  let arns: Promise<Arns> | undefined;
  return {
    aws,
    out,
    sleep: deps.sleep,
    now: deps.now,
    projectRoot: deps.projectRoot,
    identity,
    arns: () => {
      arns ??= aws.sts(new GetCallerIdentityCommand({})).then((caller) => {
        if (!caller.Account) throw new CliError('sts:GetCallerIdentity returned no account', 'check your AWS credentials');
        return new Arns(region, caller.Account);
      });
      return arns;
    },
  };
}

/** A line saying what a request did; in --dry-run nothing was sent, so it says what the request would do. */
export function outcome(session: Pick<Session, 'aws'>, done: string, wouldDo: string): string {
  return session.aws.dryRun ? `[dry-run] would ${wouldDo}` : done;
}
