import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  CodeCommitClient,
  GetRepositoryCommand,
  RepositoryDoesNotExistException,
} from '@aws-sdk/client-codecommit';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { type DoctorClients, doctorCommand } from '../../../src/cli/doctor.js';
import { lines } from './support.js';

const sts = mockClient(STSClient);
const cloudformation = mockClient(CloudFormationClient);
const codecommit = mockClient(CodeCommitClient);
const secretsManager = mockClient(SecretsManagerClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const region = 'eu-west-1';
const clients: DoctorClients = {
  sts: new STSClient({ region }),
  cloudformation: new CloudFormationClient({ region }),
  codecommit: new CodeCommitClient({ region }),
  secretsManager: new SecretsManagerClient({ region }),
  lambda: new LambdaClient({ region }),
  sfn: new SFNClient({ region }),
};
/** A directory with no cdk.json: the context is only what a test passes. */
const cwd = mkdtempSync(join(tmpdir(), 'sluice-doctor-'));

/** An account ready for Sluice; each test breaks one thing. */
function healthyAccount() {
  for (const mock of [sts, cloudformation, codecommit, secretsManager, lambda, sfn]) mock.reset();
  sts.on(GetCallerIdentityCommand).resolves({
    Account: '123456789012',
    Arn: 'arn:aws:iam::123456789012:user/ml',
  });
  cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'CDKToolkit',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '29' }],
      },
    ],
  });
  codecommit
    .on(GetRepositoryCommand)
    .rejects(new RepositoryDoesNotExistException({ message: 'does not exist', $metadata: {} }));
  secretsManager.on(DescribeSecretCommand).resolves({ Name: 'sluice/git-token' });
  lambda.on(GetAccountSettingsCommand).resolves({
    AccountLimit: { ConcurrentExecutions: 1000, TotalCodeSize: 80 * 2 ** 30 },
    AccountUsage: { TotalCodeSize: 2 ** 30, FunctionCount: 12 },
  });
  sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [] });
}

async function doctor(context: string[] = ['datasetsRepository=codecommit']) {
  const { out, text } = lines();
  const code = await doctorCommand({ context }, { clients, out, cwd });
  return { code, text: text() };
}

beforeEach(healthyAccount);

describe('sluice doctor', () => {
  it('passes an account that is bootstrapped, can create the repository and has room for Sluice', async () => {
    // Act
    const { code, text } = await doctor();
    // Assess
    expect(code).toBe(0);
    expect(text).toMatch(/account 123456789012 in eu-west-1, as arn:aws:iam::123456789012:user\/ml/);
    expect(text).toMatch(/^ok\s+bootstrap\s+stack CDKToolkit, bootstrap version 29/m);
    expect(text).toMatch(
      /^ok\s+dataset repository\s+CodeCommit answers in this account; deploy creates Sluice-datasets/m,
    );
    expect(text).toMatch(/^ok\s+Lambda concurrency\s+1000 concurrent executions/m);
    expect(text).toMatch(/^ok\s+Step Functions\s+0 state machines/m);
    expect(text).toMatch(/Nothing found that would stop a deploy/);
  });

  it('says there are no credentials and how to name an account, without calling anything else', async () => {
    // Prepare
    sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    // Act
    const { code, text } = await doctor();
    // Assess
    expect(code).toBe(1);
    expect(text).toMatch(/FAIL\s+credentials\s+no AWS credentials found/);
    expect(text).toMatch(/--profile <name> or AWS_PROFILE=<name>/);
    expect(text).toMatch(/a region: --region or AWS_REGION/);
    expect(cloudformation.calls()).toHaveLength(0);
  });

  it('fails an account that is not bootstrapped, with the bootstrap command for it', async () => {
    // Prepare
    cloudformation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error('Stack with id CDKToolkit does not exist'), { name: 'ValidationError' }),
      );
    // Act
    const { code, text } = await doctor();
    // Assess
    expect(code).toBe(1);
    expect(text).toMatch(
      /FAIL\s+bootstrap\s+no CDKToolkit stack in eu-west-1: the account is not bootstrapped; run 'npx cdk bootstrap aws:\/\/123456789012\/eu-west-1'/,
    );
  });

  it('fails a bootstrap stack older than the template needs', async () => {
    // Prepare
    cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'CDKToolkit',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '4' }],
        },
      ],
    });
    // Act
    const { code, text } = await doctor();
    // Assess
    expect(code).toBe(1);
    expect(text).toMatch(
      /FAIL\s+bootstrap\s+stack CDKToolkit has bootstrap version 4; Sluice's template needs 6 or later/,
    );
  });

  it('fails when no dataset repository is chosen, naming the choices', async () => {
    // Act
    const { code, text } = await doctor([]);
    // Assess
    expect(code).toBe(1);
    expect(text).toMatch(/FAIL\s+dataset repository\s+context datasetsRepository: choose the git repository/);
    expect(text).toMatch(/-c datasetsRepository=codecommit/);
  });

  it('takes the repository choice from cdk.context.json, as cdk deploy does', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-doctor-'));
    writeFileSync(join(dir, 'cdk.context.json'), JSON.stringify({ datasetsRepository: 'codecommit' }));
    const { out, text } = lines();
    // Act
    const code = await doctorCommand({}, { clients, out, cwd: dir });
    // Assess
    expect(code).toBe(0);
    expect(text()).toMatch(/ok\s+dataset repository\s+CodeCommit answers/);
  });

  it('fails CodeCommit when the account may not use it, pointing at the other choices', async () => {
    // Prepare
    codecommit.on(GetRepositoryCommand).rejects(
      Object.assign(
        new Error(
          'CreateRepository request is not allowed because there is no existing repository in this AWS account or AWS Organization',
        ),
        {
          name: 'OperationNotAllowedException',
        },
      ),
    );
    // Act
    const { code, text } = await doctor();
    // Assess
    expect(code).toBe(1);
    expect(text).toMatch(/FAIL\s+dataset repository\s+CodeCommit refused \(OperationNotAllowedException: /);
    expect(text).toMatch(/choose an HTTPS repository with a token, or a connection/);
  });

  it('fails an HTTPS repository whose token secret does not exist, with the command to create it', async () => {
    // Prepare
    secretsManager.on(DescribeSecretCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: {},
      }),
    );
    // Act
    const { code, text } = await doctor([
      'datasetRepositoryUrl=https://git.example.com/ml/datasets.git',
      'datasetRepositoryTokenSecret=sluice/git-token',
    ]);
    // Assess
    expect(code).toBe(1);
    expect(text).toMatch(
      /FAIL\s+dataset repository\s+token secret sluice\/git-token of https:\/\/git.example.com\/ml\/datasets.git: ResourceNotFoundException/,
    );
    expect(text).toMatch(/aws secretsmanager create-secret --name sluice\/git-token/);
  });

  it('warns about the low Lambda concurrency of a new account, and passes it', async () => {
    // Prepare
    lambda.on(GetAccountSettingsCommand).resolves({
      AccountLimit: { ConcurrentExecutions: 10, TotalCodeSize: 80 * 2 ** 30 },
      AccountUsage: { TotalCodeSize: 0, FunctionCount: 0 },
    });
    // Act
    const { code, text } = await doctor();
    // Assess
    expect(code).toBe(0);
    expect(text).toMatch(
      /warn\s+Lambda concurrency\s+10 concurrent executions for the account \(new accounts start at 10\)/,
    );
  });

  it('counts state machines across pages against the Step Functions quota', async () => {
    // Prepare
    const page = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        name: `m${i}`,
        stateMachineArn: `arn:m${i}`,
        type: 'STANDARD' as const,
        creationDate: new Date(),
      }));
    sfn
      .on(ListStateMachinesCommand)
      .resolvesOnce({ stateMachines: page(1000), nextToken: 'next' })
      .resolvesOnce({ stateMachines: page(5) });
    // Act
    const { text } = await doctor();
    // Assess
    expect(text).toMatch(/ok\s+Step Functions\s+1005 state machines of the 10,000/);
  });
});
