import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Pipeline, routeIngestByDataset } from '../../infra/constructs/pipeline.js';
import { Triggers } from '../../infra/constructs/triggers.js';
import type { Contract } from '../../lambdas/shared/contract.js';

// Construct-level behaviour that needs no bundling: functions are imported by ARN.

const upload = (name: string, prefix: string, suffix?: string): Contract =>
  ({
    name,
    source: { type: 's3-upload', prefix, ...(suffix ? { suffix } : {}) },
    schedule: null,
  }) as Contract;

const triggersFor = (...contracts: Contract[]) => {
  const stack = new Stack(new App(), 'Test');
  new Triggers(stack, 'Triggers', {
    contracts: new Map(contracts.map((c) => [c.name, c])),
    landingBucket: new Bucket(stack, 'Landing'),
    stateMachine: new StateMachine(stack, 'Machine', {
      definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Start')),
    }),
  });
  return Template.fromStack(stack);
};

const importedFunctions = (stack: Stack) => {
  const fn = (name: string) =>
    LambdaFunction.fromFunctionAttributes(stack, name, {
      functionArn: `arn:aws:lambda:eu-west-1:111122223333:function:${name}`,
      sameEnvironment: true,
    });
  return {
    ingest: fn('ingest'),
    validate: fn('validate'),
    promote: fn('promote'),
    recordRun: fn('record-run'),
  };
};

describe('Triggers', () => {
  it('refuses two upload datasets whose prefixes nest', () => {
    // Prepare
    const orders = upload('orders', 'landing/orders/');
    const ordersEu = upload('orders-eu', 'landing/orders/eu/');
    // Act
    const act = () => triggersFor(orders, ordersEu);
    // Assess
    expect(act).toThrow(/datasets 'orders' and 'orders-eu' both claim uploads under 'landing\/orders\/eu\/'/);
  });

  it('accepts nested prefixes when the suffixes tell the uploads apart', () => {
    // Prepare
    const orders = upload('orders', 'landing/orders/', '.csv');
    const ordersEu = upload('orders-eu', 'landing/orders/eu/', '.jsonl');
    // Act
    const template = triggersFor(orders, ordersEu);
    // Assess
    template.resourceCountIs('AWS::Events::Rule', 2);
  });

  it('escapes wildcard characters of the prefix in a suffix pattern', () => {
    // Prepare
    const odd = upload('odd', 'landing/odd*name/', '.csv');
    // Act
    const template = triggersFor(odd);
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { object: { key: [{ wildcard: 'landing/odd\\*name/*.csv' }] } } },
    });
  });
});

describe('Pipeline', () => {
  it('refuses a definition with a placeholder it has no value for, naming the placeholder', () => {
    // Prepare
    const stack = new Stack(new App(), 'Test');
    const asl = JSON.parse(
      readFileSync(new URL('../../statemachines/pipeline.asl.json', import.meta.url), 'utf8'),
    ) as { States: Record<string, { Parameters?: Record<string, unknown> }> };
    // An ASL placeholder, not a JavaScript template.
    asl.States.Ingest!.Parameters!.FunctionName = ['$', '{VersionProjectName}'].join('');
    const definitionFile = join(mkdtempSync(join(tmpdir(), 'sluice-asl-')), 'pipeline.asl.json');
    writeFileSync(definitionFile, JSON.stringify(asl));
    // Act
    const act = () =>
      new Pipeline(stack, 'Pipeline', {
        functions: importedFunctions(stack),
        reportsBucket: Bucket.fromBucketName(stack, 'Reports', 'sluice-reports'),
        datasets: ['orders'],
        definitionFile,
      });
    // Assess
    expect(act).toThrow(/no value for \$\{VersionProjectName\}/);
  });

  it('refuses to route datasets to their own ingest function when the definition does not start with an Ingest task', () => {
    // Prepare
    const definition = JSON.stringify({ StartAt: 'Begin', States: { Begin: { Type: 'Succeed' } } });
    // Act
    const act = () =>
      routeIngestByDataset(definition, [{ name: 'vpc-1', datasets: ['shop'], placeholder: 'Shop' }]);
    // Assess
    expect(act).toThrow(/needs a definition that starts with a Task state 'Ingest'/);
  });

  it('keeps every state of the file when it routes datasets to their own ingest function', () => {
    // Prepare
    const text = readFileSync(new URL('../../statemachines/pipeline.asl.json', import.meta.url), 'utf8');
    const original = JSON.parse(text) as { States: Record<string, unknown> };
    // Act
    const routed = JSON.parse(
      routeIngestByDataset(text, [{ name: 'vpc-1', datasets: ['shop'], placeholder: 'Shop' }]),
    ) as { States: Record<string, Record<string, unknown>> };
    // Assess
    expect(Object.keys(routed.States)).toEqual([
      'ChooseIngestFunction',
      'UseIngestFunctionIn-vpc-1',
      'UseSharedIngestFunction',
      ...Object.keys(original.States),
    ]);
    const { Ingest: ingest, ...others } = routed.States;
    const { Ingest: originalIngest, ...originalOthers } = original.States;
    expect(others).toMatchObject(originalOthers);
    expect({ ...ingest, Parameters: undefined }).toEqual({
      ...(originalIngest as object),
      Parameters: undefined,
    });
    // An ASL placeholder, not a JavaScript template.
    expect(routed.States['UseIngestFunctionIn-vpc-1']).toMatchObject({ Result: ['$', '{Shop}'].join('') });
  });

  it('fills extra placeholders from additionalSubstitutions', () => {
    // Prepare
    const stack = new Stack(new App(), 'Test');
    // Act
    new Pipeline(stack, 'Pipeline', {
      functions: importedFunctions(stack),
      reportsBucket: Bucket.fromBucketName(stack, 'Reports', 'sluice-reports'),
      datasets: ['orders'],
      additionalSubstitutions: { VersionProjectName: 'sluice-version' },
    });
    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionSubstitutions: { VersionProjectName: 'sluice-version' },
    });
  });
});
