import { describe, expect, it } from '@jest/globals';
import { App, Size, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parse } from 'yaml';
import { parseDatasetRepository } from '../../infra/app.js';
import type { DatasetRepository } from '../../infra/constructs/dataset-repository.js';
import { DatasetVersioning, versionComputeType } from '../../infra/constructs/versioning.js';

// The repository choices other than CodeCommit (pipeline-stack.test.ts covers that one), each on a small stack with only a curated bucket and a key: nothing to bundle.

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

const FIXTURE_DATASETS = new URL('./fixtures/datasets', import.meta.url).pathname;
const TOKEN_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:sluice/git-token-AbCdEf';
const CONNECTION_ARN =
  'arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

const versioned = (repository: DatasetRepository | ((stack: Stack) => DatasetRepository)) => {
  const stack = new Stack(new App(), 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
  const key = new Key(stack, 'Key');
  const versioning = new DatasetVersioning(stack, 'Versioning', {
    curatedBucket: new Bucket(stack, 'Curated', { encryption: BucketEncryption.KMS, encryptionKey: key }),
    encryptionKey: key,
    datasets: ['orders'],
    repository: typeof repository === 'function' ? repository(stack) : repository,
  });
  const template = Template.fromStack(stack);
  const [project] = Object.values(template.findResources('AWS::CodeBuild::Project')) as Resource[];
  const variables = Object.fromEntries(
    (
      project!.Properties.Environment as { EnvironmentVariables: { Name: string }[] }
    ).EnvironmentVariables.map(({ Name, ...variable }) => [Name, variable]),
  );
  const statements = () =>
    (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]).flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
  const nagViolations = () =>
    new AwsSolutionsChecks(stack, { verbose: true }).validateScope(versioning).violations;
  return { stack, template, project: project!, variables, statements, nagViolations };
};

describe('DatasetVersioning with an HTTPS remote and a token secret', () => {
  const https = (tokenSecret: string) =>
    ({ kind: 'https', url: 'https://git.example.com/data.git', tokenSecret }) as const;

  it('gives the build the token from Secrets Manager, never as plain text', () => {
    // Act
    const { variables } = versioned(https('sluice/git-token'));
    // Assess
    expect(variables.SLUICE_GIT_TOKEN).toEqual({ Type: 'SECRETS_MANAGER', Value: 'sluice/git-token' });
  });

  it('clones the URL it was given and creates no CodeCommit repository', () => {
    // Act
    const { variables, template } = versioned(https('sluice/git-token'));
    // Assess
    expect(variables.SLUICE_GIT_REMOTE).toEqual({
      Type: 'PLAINTEXT',
      Value: 'https://git.example.com/data.git',
    });
    expect(variables.SLUICE_GIT_CREDENTIAL_HELPER).toBeUndefined();
    template.resourceCountIs('AWS::CodeCommit::Repository', 0);
  });

  it('may read that one secret', () => {
    // Act
    const { statements } = versioned(https('sluice/git-token'));
    // Assess
    expect(statements().filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))).toEqual([
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:eu-west-1:111122223333:secret:sluice/git-token-??????',
            ],
          ],
        },
      },
    ]);
  });

  it('passes a secret of the stack by its ARN', () => {
    // Act
    const { variables, stack } = versioned((scope) => ({
      kind: 'https',
      url: 'https://git.example.com/data.git',
      tokenSecret: new Secret(scope, 'Token'),
    }));
    // Assess
    expect(variables.SLUICE_GIT_TOKEN).toEqual({
      Type: 'SECRETS_MANAGER',
      Value: { Ref: stack.getLogicalId(stack.node.findChild('Token').node.defaultChild as never) },
    });
  });

  it('passes the cdk-nag checks with a secret named by its name', () => {
    // Act
    const { nagViolations } = versioned(https('sluice/git-token'));
    // Assess
    expect(nagViolations()).toEqual([]);
  });

  it('passes the cdk-nag checks with a secret named by its complete ARN', () => {
    // Act
    const { nagViolations } = versioned(https(TOKEN_SECRET_ARN));
    // Assess
    expect(nagViolations()).toEqual([]);
  });
});

describe('DatasetVersioning with an AWS CodeConnections connection', () => {
  const connection = (url = 'https://github.com/acme/datasets.git', connectionArn = CONNECTION_ARN) =>
    ({ kind: 'connection', url, connectionArn }) as const;

  it('uses the connection as the credential of a source of the provider behind the URL', () => {
    // Act
    const { project } = versioned(connection());
    // Assess
    expect(project.Properties.Source).toMatchObject({
      Type: 'GITHUB',
      Location: 'https://github.com/acme/datasets.git',
      Auth: { Type: 'CODECONNECTIONS', Resource: CONNECTION_ARN },
    });
  });

  it('still runs the buildspec file, not one from the repository', () => {
    // Act
    const { project } = versioned(connection());
    // Assess
    expect((project.Properties.Source as { BuildSpec: string }).BuildSpec).toContain('dvc push');
  });

  it('may use that connection and no other', () => {
    // Act
    const { statements } = versioned(connection());
    // Assess
    expect(
      statements().filter((s) => [s.Action].flat().some((a) => a.startsWith('codeconnections:'))),
    ).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'codeconnections:GetConnection',
          'codeconnections:GetConnectionToken',
          'codeconnections:UseConnection',
        ],
        Resource: CONNECTION_ARN,
      },
    ]);
  });

  it('uses the codestar-connections actions for a connection created under that name', () => {
    // Prepare
    const legacyArn = CONNECTION_ARN.replace(':codeconnections:', ':codestar-connections:');
    // Act
    const { statements } = versioned(connection(undefined, legacyArn));
    // Assess
    const granted = statements().find((s) => s.Resource === legacyArn);
    expect(granted?.Action).toEqual([
      'codestar-connections:GetConnection',
      'codestar-connections:GetConnectionToken',
      'codestar-connections:UseConnection',
    ]);
  });

  it('refuses a host whose provider it cannot tell, naming the host', () => {
    // Act
    const act = () => versioned(connection('https://git.acme.internal/datasets.git'));
    // Assess
    expect(act).toThrow(/cannot tell the connection's provider from host 'git.acme.internal'/);
  });

  it('passes the cdk-nag checks', () => {
    // Act
    const { nagViolations } = versioned(connection());
    // Assess
    expect(nagViolations()).toEqual([]);
  });
});

describe('the buildspec of each repository kind', () => {
  const buildSpecOf = (repository: DatasetRepository) => {
    const { project } = versioned(repository);
    return parse((project.Properties.Source as { BuildSpec: string }).BuildSpec) as {
      env: Record<string, unknown>;
      phases: Record<string, { commands: string[] }>;
    };
  };

  it('lets CodeBuild hand git the connection token through its credential helper for a connection', () => {
    // Act
    const spec = buildSpecOf({
      kind: 'connection',
      url: 'https://github.com/acme/datasets.git',
      connectionArn: CONNECTION_ARN,
    });
    // Assess
    expect(spec.env['git-credential-helper']).toBe('yes');
    expect(spec.env.shell).toBe('bash');
    expect(spec.phases.build?.commands.join('\n')).toContain('dvc push');
  });

  it.each([
    [
      'an HTTPS remote with a token',
      { kind: 'https', url: 'https://git.example.com/d.git', tokenSecret: 's' },
    ],
    ['CodeCommit', { kind: 'codecommit' }],
  ] as const)("leaves git to the buildspec's own credential set-up for %s", (_, repository) => {
    // Act
    const spec = buildSpecOf(repository);
    // Assess
    expect(spec.env['git-credential-helper']).toBeUndefined();
    expect(spec.phases.pre_build?.commands.join('\n')).toContain('credential.helper');
  });
});

describe('the Version build environment', () => {
  const https = { kind: 'https', url: 'https://git.example.com/d.git', tokenSecret: 's' } as const;

  it('pins the Python that dvc and the build script run on', () => {
    // Act
    const { project } = versioned(https);
    const spec = parse((project.Properties.Source as { BuildSpec: string }).BuildSpec) as {
      phases: { install: Record<string, unknown> };
    };
    // Assess
    expect(spec.phases.install['runtime-versions']).toEqual({ python: 3.12 });
  });

  it('runs on small compute for the default dataset size', () => {
    // Act
    const { project } = versioned(https);
    // Assess
    expect(project.Properties.Environment).toMatchObject({ ComputeType: 'BUILD_GENERAL1_SMALL' });
  });

  it('sizes compute from the largest dataset expected: small up to 16 GiB, large above', () => {
    // Act
    const sizes = [Size.gibibytes(1), Size.gibibytes(16), Size.gibibytes(17), Size.tebibytes(1)].map((size) =>
      versionComputeType(size),
    );
    // Assess
    expect(sizes).toEqual([
      'BUILD_GENERAL1_SMALL',
      'BUILD_GENERAL1_SMALL',
      'BUILD_GENERAL1_LARGE',
      'BUILD_GENERAL1_LARGE',
    ]);
  });

  it('takes the dataset size from the versionDatasetGiB context', async () => {
    // Prepare
    const { buildApp } = await import('../../infra/app.js');
    // Act
    const { stack } = buildApp({
      datasetsDir: FIXTURE_DATASETS,
      appProps: {
        context: { stackName: 'Sized', datasetsRepository: 'codecommit', versionDatasetGiB: '200' },
      },
      nagChecks: false,
    });
    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: { ComputeType: 'BUILD_GENERAL1_LARGE' },
    });
  });
});

describe('parseDatasetRepository', () => {
  const from = (values: Record<string, string>) => () => parseDatasetRepository((key) => values[key]);

  it('refuses to choose a repository when none is given, naming each choice and its context', () => {
    // Act
    const act = from({});
    // Assess
    expect(act).toThrow(/context datasetsRepository: choose the git repository/);
    expect(act).toThrow(/-c datasetsRepository=codecommit/);
    expect(act).toThrow(/-c datasetRepositoryUrl=https:\/\/… -c datasetRepositoryTokenSecret=/);
    expect(act).toThrow(/-c datasetRepositoryUrl=https:\/\/… -c datasetRepositoryConnectionArn=/);
  });

  it('chooses a CodeCommit repository when asked, with the name given', () => {
    // Act
    const repository = from({ datasetsRepository: 'codecommit', datasetRepositoryName: 'ml-datasets' })();
    // Assess
    expect(repository).toEqual({ kind: 'codecommit', repositoryName: 'ml-datasets' });
  });

  it('refuses a choice it does not know, naming the kinds', () => {
    // Act
    const act = from({ datasetsRepository: 'github' });
    // Assess
    expect(act).toThrow(/expected one of codecommit, https, connection, got 'github'/);
  });

  it('refuses an https choice without its URL', () => {
    // Act
    const act = from({ datasetsRepository: 'https', datasetRepositoryTokenSecret: 't' });
    // Assess
    expect(act).toThrow(/datasetRepositoryTokenSecret: only applies together with datasetRepositoryUrl/);
  });

  it('refuses a choice that disagrees with the repository context given', () => {
    // Act
    const act = from({
      datasetsRepository: 'codecommit',
      datasetRepositoryUrl: 'https://git.example.com/data.git',
      datasetRepositoryTokenSecret: 'sluice/git-token',
    });
    // Assess
    expect(act).toThrow(/datasetsRepository=codecommit: .* is a 'https' repository/);
  });

  it('stops building the app when no repository is chosen', async () => {
    // Prepare
    const { buildApp } = await import('../../infra/app.js');
    // Act
    const act = () =>
      buildApp({
        datasetsDir: FIXTURE_DATASETS,
        appProps: { context: { stackName: 'NoChoice' } },
        nagChecks: false,
      });
    // Assess
    expect(act).toThrow(/context datasetsRepository: choose the git repository/);
  });

  it('chooses an HTTPS remote with a token secret', () => {
    // Act
    const repository = from({
      datasetRepositoryUrl: 'https://git.example.com/data.git',
      datasetRepositoryTokenSecret: 'sluice/git-token',
    })();
    // Assess
    expect(repository).toEqual({
      kind: 'https',
      url: 'https://git.example.com/data.git',
      tokenSecret: 'sluice/git-token',
    });
  });

  it('chooses a connection with its provider', () => {
    // Act
    const repository = from({
      datasetRepositoryUrl: 'https://gitlab.acme.internal/data.git',
      datasetRepositoryConnectionArn: CONNECTION_ARN,
      datasetRepositoryProvider: 'GITLAB_SELF_MANAGED',
    })();
    // Assess
    expect(repository).toEqual({
      kind: 'connection',
      url: 'https://gitlab.acme.internal/data.git',
      connectionArn: CONNECTION_ARN,
      provider: 'GITLAB_SELF_MANAGED',
    });
  });

  it('refuses a URL with neither a token secret nor a connection', () => {
    // Act
    const act = from({ datasetRepositoryUrl: 'https://git.example.com/data.git' });
    // Assess
    expect(act).toThrow(
      /give exactly one of datasetRepositoryTokenSecret .* or datasetRepositoryConnectionArn/,
    );
  });

  it('refuses a URL that is not https', () => {
    // Act
    const act = from({
      datasetRepositoryUrl: 'git@github.com:acme/data.git',
      datasetRepositoryTokenSecret: 't',
    });
    // Assess
    expect(act).toThrow(/expected an https:\/\/ clone URL, got 'git@github.com:acme\/data.git'/);
  });

  it('refuses a token secret without a URL', () => {
    // Act
    const act = from({ datasetRepositoryTokenSecret: 'sluice/git-token' });
    // Assess
    expect(act).toThrow(/datasetRepositoryTokenSecret: only applies together with datasetRepositoryUrl/);
  });
});
