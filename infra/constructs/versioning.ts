import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Size, SizeRoundingBehavior, Stack } from 'aws-cdk-lib';
import {
  BuildSpec,
  ComputeType,
  type IBuildImage,
  LinuxArmBuildImage,
  Project,
  type ProjectProps,
} from 'aws-cdk-lib/aws-codebuild';
import type { Repository } from 'aws-cdk-lib/aws-codecommit';
import { Grant, type IGrantable, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { parse } from 'yaml';
import { acknowledgeVersionBuildRole } from '../nag.js';
import {
  buildSpecFor,
  type DatasetRepository,
  type DatasetRepositoryAccess,
  datasetRepositoryAccess,
  useConnection,
} from './dataset-repository.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The prefix of the curated bucket where DVC keeps its content-addressed copies. */
export const DVC_REMOTE_PREFIX = '_dvc';

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
    const git = datasetRepositoryAccess(this, choice, removalPolicy);
    this.repository = git.repository;
    this.repositoryCloneUrl = git.cloneUrl;

    const projectName = props.projectName ?? `${stack.stackName}-version`;
    // Named like CodeBuild's default log group, so the log permissions CDK always gives the
    // project role name this log group and no other.
    this.logGroup = new LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/codebuild/${projectName}`,
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    });
    this.project = new Project(this, 'Project', versionProjectProps(props, projectName, this.logGroup, git));
    const role = this.project.role!;

    if (choice.kind === 'connection') useConnection(this.project, choice);
    this.repository?.grantPullPush(role);
    grantSnapshotAccess(role, props.curatedBucket, props.datasets);
    acknowledgeVersionBuildRole(role, {
      project: this.project,
      curatedBucket: props.curatedBucket,
      datasets: props.datasets,
      dvcRemotePrefix: DVC_REMOTE_PREFIX,
      tokenSecret: choice.kind === 'https' ? choice.tokenSecret : undefined,
    });
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

/** The CodeBuild project of the Version build: the buildspec inline, one build at a time. */
function versionProjectProps(
  props: DatasetVersioningProps,
  projectName: string,
  logGroup: LogGroup,
  git: DatasetRepositoryAccess,
): ProjectProps {
  const stack = Stack.of(logGroup);
  const bucket = props.curatedBucket;
  const buildSpecFile = props.buildSpecFile ?? join(REPO_ROOT, 'buildspec', 'version.yml');
  return {
    projectName,
    description: `Sluice (${stack.stackName}): versions a curated dataset snapshot with DVC and tags it in git`,
    // No source: the buildspec is inline (read from the file the local runner also runs), and
    // the build clones the dataset repository itself.
    buildSpec: BuildSpec.fromObjectToYaml(
      buildSpecFor(props.repository, parse(readFileSync(buildSpecFile, 'utf8'))),
    ),
    environment: {
      buildImage: props.buildImage ?? LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
      computeType: props.computeType ?? versionComputeType(props.datasetSize ?? Size.gibibytes(16)),
      privileged: false,
      environmentVariables: {
        SLUICE_CURATED_ROOT: { value: `s3://${bucket.bucketName}` },
        SLUICE_DVC_REMOTE: { value: `s3://${bucket.bucketName}/${DVC_REMOTE_PREFIX}` },
        ...git.environmentVariables,
      },
    },
    // One build at a time: two runs of a dataset never interleave their commits and tags in the
    // repository. A StartBuild while one runs fails (the state machine retries it) instead of
    // racing to `git push`, where the later push would be rejected as a non-fast-forward.
    concurrentBuildLimit: 1,
    // Together within the VersionWithDvc state's 3600 s, so CodeBuild gives up before Step Functions does.
    timeout: props.timeout ?? Duration.minutes(45),
    queuedTimeout: props.queuedTimeout ?? Duration.minutes(15),
    encryptionKey: props.encryptionKey,
    logging: { cloudWatch: { logGroup } },
    // The buildspec has no reports section.
    grantReportGroupPermissions: false,
  };
}

/**
 * The snapshot sync lists and reads the versioned datasets' prefixes; dvc push lists, reads
 * and writes `_dvc/` (it checks which objects exist before uploading). Nothing is deleted.
 * S3 answers a read of a missing key with 404 rather than 403 only when s3:ListBucket allows
 * that key as s3:prefix: `_dvc/*` covers DVC's existence checks, the bare prefixes a lookup
 * of the prefix itself.
 */
function grantSnapshotAccess(role: IRole, bucket: IBucket, datasets: readonly string[]): void {
  const prefixes = [...datasets, DVC_REMOTE_PREFIX];
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
}
