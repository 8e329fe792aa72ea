import { existsSync, readFileSync } from 'node:fs';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CodeCommitClient,
  GetRepositoryCommand,
  RepositoryDoesNotExistException,
} from '@aws-sdk/client-codecommit';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parseDatasetRepository } from '../../infra/app.js';

/**
 * The bootstrap stack version that templates of the CDK's default synthesizer require (their
 * `CheckBootstrapVersion` rule: aws-cdk-lib's MIN_BOOTSTRAP_STACK_VERSION, not exported).
 */
export const MIN_BOOTSTRAP_VERSION = 6;
/** Below this account concurrency a burst of runs is throttled; new accounts start at 10. */
const LAMBDA_CONCURRENCY_WANTED = 100;
/** Step Functions' default quota of state machines per account and region. */
const STATE_MACHINE_QUOTA = 10_000;

export interface DoctorOptions {
  profile?: string;
  region?: string;
  /** `key=value` pairs, as `cdk deploy -c` takes them; over cdk.json's and cdk.context.json's context. */
  context?: string[];
  /** The CDK bootstrap stack. */
  toolkitStackName?: string;
}

export interface DoctorClients {
  sts: STSClient;
  cloudformation: CloudFormationClient;
  codecommit: CodeCommitClient;
  secretsManager: SecretsManagerClient;
  lambda: LambdaClient;
  sfn: SFNClient;
}

export interface DoctorPorts {
  clients?: DoctorClients;
  out?: (line: string) => void;
  /** Directory whose cdk.json and cdk.context.json give context. */
  cwd?: string;
}

type Status = 'ok' | 'warn' | 'FAIL' | 'info';
interface Finding {
  status: Status;
  check: string;
  message: string;
}

/**
 * `sluice doctor`: what can be checked of an account before `cdk deploy`, against the account the
 * credentials name: the CDK bootstrap stack and its version, the chosen dataset repository, and
 * the Lambda and Step Functions quotas Sluice meets. Exits 1 when a check fails.
 */
export async function doctorCommand(options: DoctorOptions, ports: DoctorPorts = {}): Promise<number> {
  const out = ports.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clients = ports.clients ?? clientsFor(options);
  const context = contextFrom(ports.cwd ?? process.cwd(), options.context ?? []);

  let identity: { account: string; arn: string; region: string };
  try {
    const caller = await clients.sts.send(new GetCallerIdentityCommand({}));
    identity = { account: caller.Account!, arn: caller.Arn!, region: await clients.sts.config.region() };
  } catch (error) {
    out(`FAIL  credentials  ${credentialsProblem(error, options)}`);
    return 1;
  }
  out(`sluice doctor: account ${identity.account} in ${identity.region}, as ${identity.arn}`);
  const findings = [
    await bootstrap(clients, identity, options.toolkitStackName ?? 'CDKToolkit'),
    await repository(clients, context),
    ...(await quotas(clients)),
  ];
  const width = Math.max(...findings.map((f) => f.check.length));
  for (const f of findings) out(`${f.status.padEnd(4)}  ${f.check.padEnd(width)}  ${f.message}`);
  const failed = findings.filter((f) => f.status === 'FAIL').length;
  out(
    failed
      ? `${failed} check${failed === 1 ? '' : 's'} failed: fix ${failed === 1 ? 'it' : 'them'} before 'cdk deploy'.`
      : 'Nothing found that would stop a deploy.',
  );
  return failed ? 1 : 0;
}

function clientsFor(options: DoctorOptions): DoctorClients {
  const config = { region: options.region, profile: options.profile };
  return {
    sts: new STSClient(config),
    cloudformation: new CloudFormationClient(config),
    codecommit: new CodeCommitClient(config),
    secretsManager: new SecretsManagerClient(config),
    lambda: new LambdaClient(config),
    sfn: new SFNClient(config),
  };
}

/** The context `cdk deploy` would see: cdk.json, then cdk.context.json, then `-c key=value`. */
function contextFrom(cwd: string, pairs: string[]): (key: string) => string | undefined {
  const read = (file: string): Record<string, unknown> => {
    const path = `${cwd}/${file}`;
    if (!existsSync(path)) return {};
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    return file === 'cdk.json' ? ((json.context as Record<string, unknown>) ?? {}) : json;
  };
  const values: Record<string, unknown> = { ...read('cdk.json'), ...read('cdk.context.json') };
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at > 0) values[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return (key) => {
    const value = values[key];
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
}

function credentialsProblem(error: unknown, options: DoctorOptions): string {
  const { name, message } = error as Error;
  const profile = options.profile ?? process.env.AWS_PROFILE;
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return (
      `no AWS credentials found${profile ? ` for profile '${profile}'` : ''} (${message}). ` +
      'Name an account: --profile <name> or AWS_PROFILE=<name> (after `aws sso login` or `aws configure`), ' +
      'or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; and a region: --region or AWS_REGION.'
    );
  }
  if (/region/i.test(message)) {
    return `no AWS region (${message}): pass --region <region>, set AWS_REGION, or give the profile one.`;
  }
  return `the credentials were refused: ${name}: ${message}`;
}

async function bootstrap(
  clients: DoctorClients,
  identity: { account: string; region: string },
  toolkit: string,
): Promise<Finding> {
  const check = 'bootstrap';
  const fix = `run 'npx cdk bootstrap aws://${identity.account}/${identity.region}'`;
  try {
    const { Stacks } = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: toolkit }));
    const stack = Stacks?.[0];
    const status = stack?.StackStatus ?? 'UNKNOWN';
    const version = Number(stack?.Outputs?.find((o) => o.OutputKey === 'BootstrapVersion')?.OutputValue);
    if (!/_COMPLETE$/.test(status) || /ROLLBACK|DELETE/.test(status)) {
      return { status: 'FAIL', check, message: `stack ${toolkit} is ${status}; ${fix} again` };
    }
    if (!Number.isInteger(version) || version < MIN_BOOTSTRAP_VERSION) {
      return {
        status: 'FAIL',
        check,
        message: `stack ${toolkit} has bootstrap version ${Number.isNaN(version) ? 'unknown' : version}; Sluice's template needs ${MIN_BOOTSTRAP_VERSION} or later: ${fix}`,
      };
    }
    return {
      status: 'ok',
      check,
      message: `stack ${toolkit}, bootstrap version ${version} (${MIN_BOOTSTRAP_VERSION} or later needed)`,
    };
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) {
      return {
        status: 'FAIL',
        check,
        message: `no ${toolkit} stack in ${identity.region}: the account is not bootstrapped; ${fix}`,
      };
    }
    return { status: 'FAIL', check, message: `could not read stack ${toolkit}: ${describe(error)}` };
  }
}

async function repository(
  clients: DoctorClients,
  context: (key: string) => string | undefined,
): Promise<Finding> {
  const check = 'dataset repository';
  let choice: ReturnType<typeof parseDatasetRepository>;
  try {
    choice = parseDatasetRepository(context);
  } catch (error) {
    return {
      status: 'FAIL',
      check,
      message: `${(error as Error).message}\n(pass the same -c options to sluice doctor)`,
    };
  }
  switch (choice.kind) {
    case 'codecommit': {
      const name = choice.repositoryName ?? `${context('stackName') ?? 'Sluice'}-datasets`;
      try {
        await clients.codecommit.send(new GetRepositoryCommand({ repositoryName: name }));
        return {
          status: 'warn',
          check,
          message: `CodeCommit repository ${name} exists already: fine if this stack created it; otherwise deploy fails creating it (name another with -c datasetRepositoryName)`,
        };
      } catch (error) {
        if (error instanceof RepositoryDoesNotExistException) {
          return {
            status: 'ok',
            check,
            message: `CodeCommit answers in this account; deploy creates ${name}`,
          };
        }
        return {
          status: 'FAIL',
          check,
          message: `CodeCommit refused (${describe(error)}); accounts new to CodeCommit may not use it: choose an HTTPS repository with a token, or a connection (docs/deploy.md)`,
        };
      }
    }
    case 'https': {
      const secret =
        typeof choice.tokenSecret === 'string' ? choice.tokenSecret : choice.tokenSecret.secretName;
      try {
        await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secret }));
        return {
          status: 'ok',
          check,
          message: `${choice.url}, token secret ${secret} exists (the first build tries the token)`,
        };
      } catch (error) {
        return {
          status: 'FAIL',
          check,
          message: `token secret ${secret} of ${choice.url}: ${describe(error)}; create it with 'aws secretsmanager create-secret --name ${secret} --secret-string <token>'`,
        };
      }
    }
    case 'connection':
      return {
        status: 'info',
        check,
        message: `${choice.url} through ${choice.connectionArn}: not checked here; 'aws codeconnections get-connection --connection-arn ${choice.connectionArn}' must say AVAILABLE`,
      };
  }
}

async function quotas(clients: DoctorClients): Promise<Finding[]> {
  const findings: Finding[] = [];
  try {
    const { AccountLimit, AccountUsage } = await clients.lambda.send(new GetAccountSettingsCommand({}));
    const concurrency = AccountLimit?.ConcurrentExecutions ?? 0;
    findings.push(
      concurrency < LAMBDA_CONCURRENCY_WANTED
        ? {
            status: 'warn',
            check: 'Lambda concurrency',
            message: `${concurrency} concurrent executions for the account (new accounts start at 10): a burst of runs is throttled and retried; ask for ${LAMBDA_CONCURRENCY_WANTED} or more in Service Quotas (Lambda, Concurrent executions)`,
          }
        : {
            status: 'ok',
            check: 'Lambda concurrency',
            message: `${concurrency} concurrent executions for the account`,
          },
    );
    const limit = AccountLimit?.TotalCodeSize ?? 0;
    const used = AccountUsage?.TotalCodeSize ?? 0;
    // Sluice's functions, bundled, take a few MB each; 100 MB of headroom is plenty.
    findings.push({
      status: limit - used < 100 * 2 ** 20 ? 'FAIL' : 'ok',
      check: 'Lambda code storage',
      message: `${mib(used)} of ${mib(limit)} used by ${AccountUsage?.FunctionCount ?? 0} functions`,
    });
  } catch (error) {
    findings.push({
      status: 'FAIL',
      check: 'Lambda quotas',
      message: `could not read the account settings: ${describe(error)}`,
    });
  }
  try {
    let count = 0;
    let nextToken: string | undefined;
    do {
      const page = await clients.sfn.send(new ListStateMachinesCommand({ nextToken, maxResults: 1000 }));
      count += page.stateMachines?.length ?? 0;
      nextToken = page.nextToken;
    } while (nextToken);
    findings.push({
      status: count >= STATE_MACHINE_QUOTA - 1 ? 'FAIL' : 'ok',
      check: 'Step Functions',
      message: `${count} state machines of the ${STATE_MACHINE_QUOTA.toLocaleString('en-US')} an account may have (default quota); Sluice adds one`,
    });
  } catch (error) {
    findings.push({
      status: 'FAIL',
      check: 'Step Functions',
      message: `could not list state machines: ${describe(error)}`,
    });
  }
  return findings;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function describe(error: unknown): string {
  const { name, message } = error as Error;
  return `${name}: ${message}`;
}
