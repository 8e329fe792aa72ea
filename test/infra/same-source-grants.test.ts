import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Lake } from '../../infra/constructs/lake.js';
import { PipelineFunctions } from '../../infra/constructs/pipeline-functions.js';
import { type Contract, parseContract } from '../../lambdas/shared/contract.js';

// The access a contract with `same_source: replace` and `scope: snapshot` expectations adds to
// the functions: the real construct, with the real handlers bundled once for the file.

const contract = (name: string, extra: string[]): Contract =>
  parseContract(
    [
      `name: ${name}`,
      `source: { type: s3-upload, prefix: landing/${name}/ }`,
      'format: { type: csv }',
      'schema: { type: object, properties: { id: { type: string } } }',
      ...extra,
    ].join('\n'),
    '<inline>',
  );

type Statement = { Action: string | string[]; Resource: unknown };

let stack: Stack;
let functions: PipelineFunctions;
let lake: Lake;
let template: Template;

beforeAll(() => {
  const app = new App();
  stack = new Stack(app, 'SameSourceTest', { env: { account: '111122223333', region: 'eu-west-1' } });
  lake = new Lake(stack, 'Lake');
  const contracts = [
    contract('orders', [
      'expectations:',
      '  - type: expect_column_values_to_be_unique',
      '    kwargs: { column: id }',
      '    scope: snapshot',
      'batches: { same_source: replace }',
    ]),
    contract('refunds', []),
  ];
  functions = new PipelineFunctions(stack, 'Functions', {
    lake,
    contracts: new Map(contracts.map((c) => [c.name, c])),
  });
  template = Template.fromStack(stack);
});

const statementsOf = (fn: 'validate' | 'promote'): Statement[] => {
  const roleId = stack.getLogicalId(functions[fn].role!.node.defaultChild as never);
  const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
    JSON.stringify(p.Properties.Roles).includes(roleId),
  );
  return policy!.Properties.PolicyDocument.Statement as Statement[];
};
const curatedArn = () => ({
  'Fn::GetAtt': [stack.getLogicalId(lake.curatedBucket.node.defaultChild as never), 'Arn'],
});

describe('functions of a deployment with same_source: replace and snapshot checks', () => {
  it('let promote delete only objects under the curated prefix of the replacing dataset, and no versions', () => {
    // Act
    const deletes = statementsOf('promote').filter((s) =>
      [s.Action].flat().some((action) => action.startsWith('s3:Delete')),
    );
    // Assess
    expect(deletes).toEqual([
      expect.objectContaining({
        Action: 's3:DeleteObject',
        Resource: { 'Fn::Join': ['', [curatedArn(), '/orders/*']] },
      }),
    ]);
  });

  it('let validate read the curated zone, where the snapshot checks stream from', () => {
    // Act
    const reads = statementsOf('validate').filter(
      (s) =>
        [s.Action].flat().includes('s3:GetObject') &&
        JSON.stringify(s.Resource).includes(JSON.stringify(curatedArn())),
    );
    // Assess
    expect(reads).toHaveLength(1);
  });

  it('pass the cdk-nag AWS Solutions checks without an unacknowledged finding', () => {
    // Act
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    // Assess
    expect(report.violations).toEqual([]);
  });
});
