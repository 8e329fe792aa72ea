import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, parseOpenLineage } from '../../infra/app.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/datasets', import.meta.url));
const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};
const build = (extra: Record<string, unknown>) =>
  buildApp({
    datasetsDir: FIXTURES,
    appProps: {
      context: { ...context, stackName: 'SluiceLineage', datasetsRepository: 'codecommit', ...extra },
    },
    nagChecks: false,
  });

interface Resource {
  Type: string;
  Properties: {
    Environment?: { Variables?: Record<string, unknown> };
    PolicyDocument?: { Statement: Array<{ Action: string | string[]; Resource: unknown }> };
  };
}

const URL_CONTEXT = 'https://marquez.example.com/api/v1/lineage';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:marquez-api-key-AbCdEf';

describe('the lineage server of a deployment', () => {
  const { stack } = build({
    openLineageUrl: URL_CONTEXT,
    openLineageApiKeySecret: SECRET_ARN,
    openLineageNamespace: 'shop',
  });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);

  it('reaches the record-run function alone, as its environment', () => {
    // Act
    const withUrl = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .filter(([, r]) => r.Properties.Environment?.Variables?.SLUICE_OPENLINEAGE_URL !== undefined);
    // Assess
    expect(withUrl.map(([id]) => id)).toEqual([idOf(stack.functions.recordRun)]);
    expect(withUrl[0]![1].Properties.Environment?.Variables).toMatchObject({
      SLUICE_OPENLINEAGE_URL: URL_CONTEXT,
      SLUICE_OPENLINEAGE_NAMESPACE: 'shop',
      SLUICE_OPENLINEAGE_API_KEY_SECRET: SECRET_ARN,
    });
  });

  it("lets the record-run function read that one secret's value and no other", () => {
    // Act
    const secretReads = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
      .flatMap(([, r]) => r.Properties.PolicyDocument?.Statement ?? [])
      .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    // Assess
    expect(secretReads).toEqual([expect.objectContaining({ Resource: SECRET_ARN })]);
  });

  it('passes the cdk-nag AWS Solutions checks without an unacknowledged finding', () => {
    // Act
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    // Assess
    expect(report.violations).toEqual([]);
  });
});

describe('openLineage context', () => {
  it('is absent without openLineageUrl', () => {
    expect(parseOpenLineage(() => undefined)).toBeUndefined();
  });

  it('refuses an API key secret or namespace without openLineageUrl, naming the context', () => {
    // Act
    const act = () =>
      parseOpenLineage((key) => (key === 'openLineageApiKeySecret' ? 'marquez-key' : undefined));
    // Assess
    expect(act).toThrow('context openLineageApiKeySecret: only applies together with openLineageUrl');
  });

  it('refuses a URL that is not http(s)', () => {
    // Act
    const act = () => parseOpenLineage((key) => (key === 'openLineageUrl' ? 'marquez:5000' : undefined));
    // Assess
    expect(act).toThrow(/context openLineageUrl: expected an http\(s\) URL .*, got 'marquez:5000'/);
  });
});
