import { Arn, ArnFormat, type RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import {
  type BuildEnvironmentVariable,
  BuildEnvironmentVariableType,
  type CfnProject,
  type Project,
} from 'aws-cdk-lib/aws-codebuild';
import { Repository } from 'aws-cdk-lib/aws-codecommit';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

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

/** The dataset git repository as the Version build reaches it. */
export interface DatasetRepositoryAccess {
  /** The CodeCommit repository, when the choice made the stack create one. */
  readonly repository?: Repository;
  /** The HTTPS clone URL of the repository. */
  readonly cloneUrl: string;
  /** How the buildspec signs git in: SLUICE_GIT_CREDENTIAL_HELPER or SLUICE_GIT_TOKEN, and SLUICE_GIT_REMOTE. */
  readonly environmentVariables: Record<string, BuildEnvironmentVariable>;
}

/**
 * The dataset git repository of a repository choice: a CodeCommit repository created in `scope`
 * (as its child `Repository`), or the URL given, with the environment the buildspec signs git in with.
 */
export function datasetRepositoryAccess(
  scope: Construct,
  choice: DatasetRepository,
  removalPolicy: RemovalPolicy,
): DatasetRepositoryAccess {
  const environmentVariables: Record<string, BuildEnvironmentVariable> = {};
  let repository: Repository | undefined;
  let cloneUrl: string;
  switch (choice.kind) {
    case 'codecommit': {
      const stack = Stack.of(scope);
      repository = new Repository(scope, 'Repository', {
        repositoryName: choice.repositoryName ?? `${stack.stackName}-datasets`,
        description: `Sluice (${stack.stackName}): the .dvc files and tags of every dataset version`,
      });
      repository.applyRemovalPolicy(removalPolicy);
      cloneUrl = repository.repositoryCloneUrlHttp;
      // Tells the buildspec to let git sign in with the build's role (`aws codecommit credential-helper`).
      environmentVariables.SLUICE_GIT_CREDENTIAL_HELPER = { value: 'codecommit' };
      break;
    }
    case 'https':
      cloneUrl = choice.url;
      environmentVariables.SLUICE_GIT_TOKEN = {
        type: BuildEnvironmentVariableType.SECRETS_MANAGER,
        value: secretId(choice.tokenSecret),
      };
      break;
    case 'connection':
      cloneUrl = choice.url;
      break;
  }
  environmentVariables.SLUICE_GIT_REMOTE = { value: cloneUrl };
  return { repository, cloneUrl, environmentVariables };
}

/**
 * Makes the connection the credential of the project's source, and lets the project's role use it.
 * CDK's source classes have no `auth`; CodeBuild takes the connection as the source's credential,
 * and its git credential helper hands the connection's token to git in the build.
 */
export function useConnection(project: Project, choice: ConnectionDatasetRepository): void {
  const cfnProject = project.node.defaultChild as CfnProject;
  cfnProject.addPropertyOverride('Source.Type', choice.provider ?? providerOf(choice.url));
  cfnProject.addPropertyOverride('Source.Location', choice.url);
  cfnProject.addPropertyOverride('Source.GitCloneDepth', 1);
  cfnProject.addPropertyOverride('Source.Auth', {
    Type: 'CODECONNECTIONS',
    Resource: choice.connectionArn,
  });
  const service = connectionService(choice.connectionArn);
  project.role!.addToPrincipalPolicy(
    new PolicyStatement({
      actions: [`${service}:GetConnection`, `${service}:GetConnectionToken`, `${service}:UseConnection`],
      resources: [choice.connectionArn],
    }),
  );
}

/**
 * The buildspec as the repository choice needs it. Through a connection, git gets its credentials
 * from CodeBuild's own credential helper (`git-credential-helper: yes`), which hands git the
 * connection's token for the project source's host; the other choices configure git themselves
 * in the buildspec's pre_build, from SLUICE_GIT_TOKEN or SLUICE_GIT_CREDENTIAL_HELPER.
 */
export function buildSpecFor(choice: DatasetRepository, spec: { env?: Record<string, unknown> }): object {
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
