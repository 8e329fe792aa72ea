import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/datasets', import.meta.url));
const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const build = (extra: Record<string, unknown>) =>
  buildApp({
    datasetsDir: FIXTURES,
    appProps: {
      context: { ...context, stackName: 'SluiceShards', datasetsRepository: 'codecommit', ...extra },
    },
    nagChecks: false,
  });

describe('the shard concurrency of a deployment', () => {
  it('reaches the validate function, whose PlanShards hands it to the Distributed Map', () => {
    // Act
    const { stack } = build({ shardConcurrency: '8' });
    // Assess
    const validateId = stack.getLogicalId(stack.functions.validate.node.defaultChild as never);
    const validate = Template.fromStack(stack).findResources('AWS::Lambda::Function')[validateId] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    expect(validate.Properties.Environment.Variables.SLUICE_SHARD_CONCURRENCY).toBe('8');
  });

  it('refuses more child executions at once than a Distributed Map runs', () => {
    // Act
    const act = () => build({ shardConcurrency: '20000' });
    // Assess
    expect(act).toThrow(/shardConcurrency 20000: expected a whole number of shards from 1 to 10000/);
  });
});
