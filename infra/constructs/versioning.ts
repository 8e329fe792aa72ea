import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Arn,
  ArnFormat,
  Duration,
  RemovalPolicy,
  Size,
  SizeRoundingBehavior,
  Stack,
  Token,
} from 'aws-cdk-lib';
import {
  type BuildEnvironmentVariable,
  BuildEnvironmentVariableType,
  BuildSpec,
  type CfnProject,
  ComputeType,
  type IBuildImage,
  LinuxArmBuildImage,
  Project,
} from 'aws-cdk-lib/aws-codebuild';
import { Repository } from 'aws-cdk-lib/aws-codecommit';
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { CfnBucket, IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { parse } from 'yaml';
import { acknowledgeFindings } from '../nag.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The prefix of the curated bucket where DVC keeps its content-addressed copies. */
export const DVC_REMOTE_PREFIX = '_dvc';

/** A CodeCommit repository that the stack creates; the build authenticates with its own role. */
export interface CodeCommitDatasetRepository {
  readonly kind: 'codecommit';
  /**
   * Name of the repository.
   * @default `<stack name>-datasets`
   */
  readonly repositoryName?: string;
}

/** Any git server reachable over HTTPS, with a token that may push to it. */
export interface HttpsDatasetRepository {
  readonly kind: 'https';
  /** HTTPS clone URL of the repository. */
  readonly url: string;
  /**
   * The Secrets Manager secret whose value (a plain SecretString) is the token the build pushes
   * with: the secret itself, or its name or complete ARN, as CodeBuild's `SECRETS_MANAGER`
   * environment variables take it.
   */
  readonly tokenSecret: ISecret | string;
}

/** The source providers CodeBuild reaches through an AWS CodeConnections connection. */
export type ConnectionProvider =
  | 'GITHUB'
  | 'GITHUB_ENTERPRISE'
  | 'GITLAB'
  | 'GITLAB_SELF_MANAGED'
  | 'BITBUCKET';

/** A GitHub, GitLab or Bitbucket repository reached through an AWS CodeConnections connection. */
export interface ConnectionDatasetRepository {
  readonly kind: 'connection';
  /** HTTPS clone URL of the repository, e.g. `https://github.com/acme/datasets.git`. */
  readonly url: string;
  /** ARN of an available connection (`arn:aws:codeconnections:…` or `arn:aws:codestar-connections:…`). */
  readonly connectionArn: string;
  /**
   * The provider behind the connection.
   * @default - from the URL's host: github.com, gitlab.com or bitbucket.org
   */
  readonly provider?: ConnectionProvider;
}

/** Where the Version step commits and tags the `.dvc` files of each dataset. */
export type DatasetRepository =
  | CodeCommitDatasetRepository
  | HttpsDatasetRepository
  | ConnectionDatasetRepository;

export interface DatasetVersioningProps {
  /** The curated zone: the build reads dataset snapshots from it and keeps DVC's copies under `_dvc/`. */
  readonly curatedBucket: IBucket;
  /** Encrypts the build's logs and output; its policy must let CloudWatch Logs use it. */
  readonly encryptionKey: IKey;
  /**
   * The datasets whose contract asks for DVC versions. The build may read only their prefixes
   * of the curated bucket (and `_dvc/`).
   */
  readonly datasets: readonly string[];
  /**
   * The dataset git repository. No default: CodeCommit, which this construct can create, is not
   * open to every account, so the choice is the deployer's.
   */
  readonly repository: DatasetRepository;
  /**
   * Name of the CodeBuild project; its log group is `/aws/codebuild/<projectName>`.
   * @default `<stack name>-version`
   */
  readonly projectName?: string;
  /**
   * The build's own time limit.
   * @default Duration.minutes(45)
   */
  readonly timeout?: Duration;
  /**
   * How long a build may wait for capacity before it starts.
   * @default Duration.minutes(15)
   */
  readonly queuedTimeout?: Duration;
  /**
   * Image of the build; it must have git, Python 3 with pip, and the AWS CLI.
   * @default LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0
   */
  readonly buildImage?: IBuildImage;
  /**
   * How large the largest versioned dataset's curated snapshot is expected to grow; it sizes the
   * build's compute (`versionComputeType`) unless `computeType` is given.
   * @default Size.gibibytes(16)
   */
  readonly datasetSize?: Size;
  /**
   * Compute of the build.
   * @default versionComputeType(datasetSize)
   */
  readonly computeType?: ComputeType;
  /**
   * How long build logs are kept.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * What happens to the log group and a created CodeCommit repository when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The buildspec file.
   * @default the repository's `buildspec/version.yml`
   */
  readonly buildSpecFile?: string;
}

/**
 * The Version step of the pipeline: a CodeBuild project that runs `buildspec/version.yml` to
 * `dvc add` and `dvc push` a dataset's curated snapshot to `s3://<curated>/_dvc`, then commit and
 * tag its `.dvc` file in the dataset git repository. Builds run one at a time.
 */
export class DatasetVersioning extends Construct {
  public readonly project: Project;
  public readonly logGroup: LogGroup;
  /** The CodeCommit repository, when this construct created one. */
  public readonly repository?: Repository;
  /** The HTTPS clone URL of the dataset git repository. */
  public readonly repositoryCloneUrl: string;

  constructor(scope: Construct, id: string, props: DatasetVersioningProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const choice = props.repository;
    const bucket = props.curatedBucket;

    const environmentVariables: Record<string, BuildEnvironmentVariable> = {
      SLUICE_CURATED_ROOT: { value: `s3://${bucket.bucketName}` },
      SLUICE_DVC_REMOTE: { value: `s3://${bucket.bucketName}/${DVC_REMOTE_PREFIX}` },
    };
    switch (choice.kind) {
      case 'codecommit': {
        this.repository = new Repository(this, 'Repository', {
          repositoryName: choice.repositoryName ?? `${stack.stackName}-datasets`,
          description: `Sluice (${stack.stackName}): the .dvc files and tags of every dataset version`,
        });
        this.repository.applyRemovalPolicy(removalPolicy);
        this.repositoryCloneUrl = this.repository.repositoryCloneUrlHttp;
        // Tells the buildspec to let git sign in with the build's role (`aws codecommit credential-helper`).
        environmentVariables.SLUICE_GIT_CREDENTIAL_HELPER = { value: 'codecommit' };
        break;
      }
      case 'https':
        this.repositoryCloneUrl = choice.url;
        environmentVariables.SLUICE_GIT_TOKEN = {
          type: BuildEnvironmentVariableType.SECRETS_MANAGER,
          value: secretId(choice.tokenSecret),
        };
        break;
      case 'connection':
        this.repositoryCloneUrl = choice.url;
        break;
    }
    environmentVariables.SLUICE_GIT_REMOTE = { value: this.repositoryCloneUrl };

    const projectName = props.projectName ?? `${stack.stackName}-version`;
    // Named like CodeBuild's default log group, so the log permissions CDK always gives the
    // project role name this log group and no other.
    this.logGroup = new LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/codebuild/${projectName}`,
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });

    const buildSpecFile = props.buildSpecFile ?? join(REPO_ROOT, 'buildspec', 'version.yml');
    this.project = new Project(this, 'Project', {
      projectName,
      description: `Sluice (${stack.stackName}): versions a curated dataset snapshot with DVC and tags it in git`,
      // No source: the buildspec is inline (read from the file the local runner also runs), and
      // the build clones the dataset repository itself.
      buildSpec: BuildSpec.fromObjectToYaml(buildSpecFor(choice, parse(readFileSync(buildSpecFile, 'utf8')))),
      environment: {
        buildImage: props.buildImage ?? LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
        computeType: props.computeType ?? versionComputeType(props.datasetSize ?? Size.gibibytes(16)),
        privileged: false,
        environmentVariables,
      },
      // One build at a time: two runs of a dataset never interleave their commits and tags in the
      // repository. A StartBuild while one runs fails (the state machine retries it) instead of
      // racing to `git push`, where the later push would be rejected as a non-fast-forward.
      concurrentBuildLimit: 1,
      // Together within the VersionWithDvc state's 3600 s, so CodeBuild gives up before Step Functions does.
      timeout: props.timeout ?? Duration.minutes(45),
      queuedTimeout: props.queuedTimeout ?? Duration.minutes(15),
      encryptionKey: props.encryptionKey,
      logging: { cloudWatch: { logGroup: this.logGroup } },
      // The buildspec has no reports section.
      grantReportGroupPermissions: false,
    });
    const role = this.project.role!;

    if (choice.kind === 'connection') {
      // CDK's source classes have no `auth`; CodeBuild takes the connection as the source's
      // credential, and its git credential helper hands the connection's token to git in the build.
      const cfnProject = this.project.node.defaultChild as CfnProject;
      cfnProject.addPropertyOverride('Source.Type', choice.provider ?? providerOf(choice.url));
      cfnProject.addPropertyOverride('Source.Location', choice.url);
      cfnProject.addPropertyOverride('Source.GitCloneDepth', 1);
      cfnProject.addPropertyOverride('Source.Auth', {
        Type: 'CODECONNECTIONS',
        Resource: choice.connectionArn,
      });
      const service = connectionService(choice.connectionArn);
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: [`${service}:GetConnection`, `${service}:GetConnectionToken`, `${service}:UseConnection`],
          resources: [choice.connectionArn],
        }),
      );
    }
    this.repository?.grantPullPush(role);

    // The snapshot sync lists and reads the versioned datasets' prefixes; dvc push lists, reads
    // and writes `_dvc/` (it checks which objects exist before uploading). Nothing is deleted.
    // S3 answers a read of a missing key with 404 rather than 403 only when s3:ListBucket allows
    // that key as s3:prefix: `_dvc/*` covers DVC's existence checks, the bare prefixes a lookup
    // of the prefix itself.
    const prefixes = [...props.datasets, DVC_REMOTE_PREFIX];
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.flatMap((prefix) => [prefix, `${prefix}/*`]) } },
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: prefixes.map((prefix) => bucket.arnForObjects(`${prefix}/*`)),
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${DVC_REMOTE_PREFIX}/*`)],
      }),
    );
    bucket.encryptionKey?.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');

    const bucketArn = arnInFindings(stack, bucket);
    acknowledgeFindings(
      role,
      'AwsSolutions-IAM5',
      prefixes.map((prefix) => `Resource::${bucketArn}/${prefix}/*`),
      `s3:GetObject on the curated objects of each versioned dataset ("<curated>/<dataset>/*"), and s3:GetObject, s3:PutObject and s3:AbortMultipartUpload on DVC's remote ("<curated>/${DVC_REMOTE_PREFIX}/*"), whose keys are content hashes known only at run time; no delete.`,
    );
    acknowledgeFindings(
      role,
      'AwsSolutions-IAM5',
      ['Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'],
      'The data-key actions CodeBuild needs on the one lake key that encrypts the build (kms:GenerateDataKey*, kms:ReEncrypt*), as the project writes them for its encryptionKey; no other key.',
    );
    acknowledgeFindings(
      role,
      'AwsSolutions-IAM5',
      [
        `Resource::arn:${pseudo(stack.partition, 'Partition')}:logs:${pseudo(stack.region, 'Region')}:${pseudo(stack.account, 'AccountId')}:log-group:/aws/codebuild/<${stack.getLogicalId(this.project.node.defaultChild as CfnProject)}>:*`,
      ],
      'logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents, which the CodeBuild project always grants on "/aws/codebuild/<project>", here the build\'s own log group; the ":*" covers its log streams, named by build id at run time.',
    );
    if (
      choice.kind === 'https' &&
      typeof choice.tokenSecret === 'string' &&
      choice.tokenSecret.startsWith('arn:')
    ) {
      acknowledgeFindings(
        role,
        'AwsSolutions-IAM5',
        [`Resource::${choice.tokenSecret.split(':').slice(0, 7).join(':')}*`],
        'secretsmanager:GetSecretValue on the one git token secret, named by its complete ARN; the CodeBuild project construct writes that grant with a trailing "*", which also covers the versions of that secret.',
      );
    }
  }

  /**
   * Lets a state machine run the project with `arn:aws:states:::codebuild:startBuild.sync`: start,
   * stop and watch builds of this project, and the EventBridge rule Step Functions manages to learn
   * that a build finished.
   */
  public grantStartBuildSync(grantee: IGrantable): Grant {
    const stack = Stack.of(this);
    return Grant.addToPrincipal({
      grantee,
      actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'],
      resourceArns: [this.project.projectArn],
    }).combine(
      Grant.addToPrincipal({
        grantee,
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resourceArns: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventForCodeBuildStartBuildRule',
          }),
        ],
      }),
    );
  }
}

/**
 * The compute of a Version build for datasets up to a size. A build reads and hashes only the files
 * the previous version did not have, streamed (nothing goes to disk), so a recurring build costs
 * its batch; the build that reads a whole snapshot (a dataset's first version, or one whose
 * previous index is gone) is the one to size for. SMALL (2 vCPUs, 4 GiB) hashes and copies a
 * 16 GiB snapshot well within the build timeout; above that, LARGE (8 vCPUs, 16 GiB, more network
 * bandwidth) reads several files at once.
 */
export function versionComputeType(datasetSize: Size): ComputeType {
  return datasetSize.toGibibytes({ rounding: SizeRoundingBehavior.NONE }) > 16
    ? ComputeType.LARGE
    : ComputeType.SMALL;
}

/**
 * The buildspec as the repository choice needs it. Through a connection, git gets its credentials
 * from CodeBuild's own credential helper (`git-credential-helper: yes`), which hands git the
 * connection's token for the project source's host; the other choices configure git themselves
 * in the buildspec's pre_build, from SLUICE_GIT_TOKEN or SLUICE_GIT_CREDENTIAL_HELPER.
 */
function buildSpecFor(choice: DatasetRepository, spec: { env?: Record<string, unknown> }): object {
  if (choice.kind !== 'connection') return spec;
  return { ...spec, env: { ...spec.env, 'git-credential-helper': 'yes' } };
}

/** CodeBuild's `SECRETS_MANAGER` value: a complete ARN when there is one, else the name. */
function secretId(secret: ISecret | string): string {
  return typeof secret === 'string' ? secret : (secret.secretFullArn ?? secret.secretName);
}

const CLOUD_PROVIDERS: Readonly<Record<string, ConnectionProvider>> = {
  'github.com': 'GITHUB',
  'gitlab.com': 'GITLAB',
  'bitbucket.org': 'BITBUCKET',
};

function providerOf(url: string): ConnectionProvider {
  const host = new URL(url).hostname;
  const provider = CLOUD_PROVIDERS[host];
  if (!provider) {
    throw new Error(
      `dataset repository ${url}: cannot tell the connection's provider from host '${host}'; give it (GITHUB_ENTERPRISE, GITLAB_SELF_MANAGED, ...)`,
    );
  }
  return provider;
}

/** Connections created as codestar-connections keep that service prefix in their ARN and IAM actions. */
function connectionService(connectionArn: string): string {
  if (Token.isUnresolved(connectionArn)) return 'codeconnections';
  return Arn.split(connectionArn, ArnFormat.SLASH_RESOURCE_NAME).service;
}

/** cdk-nag shows a pseudo parameter as <AWS::Name>, and a stack's region or account given at synth as itself. */
function pseudo(value: string, name: string): string {
  return Token.isUnresolved(value) ? `<AWS::${name}>` : value;
}

/** cdk-nag names a bucket of this stack by its GetAtt (<Id.Arn>) and an imported one by its ARN. */
function arnInFindings(stack: Stack, bucket: IBucket): string {
  const arn: unknown = stack.resolve(bucket.bucketArn);
  if (typeof arn === 'string') return arn;
  return `<${stack.getLogicalId(bucket.node.defaultChild as CfnBucket)}.Arn>`;
}
