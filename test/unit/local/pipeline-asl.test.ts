import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { SLUICE_ERROR_NAMES } from '../../../lambdas/shared/errors.js';
import { PIPELINE_ASL, PIPELINE_FUNCTIONS } from '../../../src/local/pipeline.js';

interface State {
  Type: string;
  Resource?: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Next?: string;
  Default?: string;
  Choices?: Array<{ Next: string }>;
  End?: boolean;
}

const text = readFileSync(PIPELINE_ASL, 'utf8');
const asl = JSON.parse(text) as { StartAt: string; States: Record<string, State> };
const tasks = Object.entries(asl.States).filter(([, s]) => s.Type === 'Task');
const lambdaTasks = tasks.filter(([, s]) => s.Resource === 'arn:aws:states:::lambda:invoke');

describe('statemachines/pipeline.asl.json', () => {
  it('uses only the placeholders CDK and the local runner fill', () => {
    const placeholders = new Set([...text.matchAll(/\$\{([A-Za-z]+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual(
      [...Object.keys(PIPELINE_FUNCTIONS), 'VersionProjectName', 'ReportsBucketName'].sort(),
    );
  });

  it('retries transient Lambda errors on every task', () => {
    for (const [, state] of lambdaTasks) {
      expect(state.Retry?.[0]?.ErrorEquals).toContain('Lambda.ServiceException');
    }
  });

  it('sends every Lambda task but the failure recorder to RecordFailedRun on any error', () => {
    for (const [name, state] of lambdaTasks.filter(([name]) => name !== 'RecordFailedRun')) {
      expect([name, state.Catch?.[0]]).toEqual([
        name,
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'RecordFailedRun' }),
      ]);
    }
  });

  it('names a failed Version build VersioningFailed on its way to RecordFailedRun', () => {
    const version = asl.States.VersionWithDvc!;
    expect(version.Resource).toBe('arn:aws:states:::codebuild:startBuild.sync');
    const next = version.Catch?.[0]?.Next ?? '';
    expect(asl.States[next]).toMatchObject({
      Type: 'Pass',
      Parameters: { Error: 'VersioningFailed' },
      Next: 'RecordFailedRun',
    });
  });

  it('ends the failure path in a Fail state that carries the original error name', () => {
    expect(asl.States.RecordFailedRun?.Next).toBe('RunFailed');
    expect(asl.States.RunFailed).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.error.Error',
      CausePath: '$.error.Cause',
    });
    expect(SLUICE_ERROR_NAMES).toContain('ValidationFailed');
  });

  it('uses JSONPath only: no JSONata, no variables', () => {
    expect(text).not.toMatch(/"QueryLanguage"|"Assign"|\{%/);
  });

  it('reaches every state from StartAt', () => {
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const state = asl.States[name]!;
      for (const next of [
        state.Next,
        state.Default,
        ...(state.Choices ?? []).map((c) => c.Next),
        ...(state.Catch ?? []).map((c) => c.Next),
      ]) {
        if (next) visit(next);
      }
    };
    visit(asl.StartAt);
    expect([...seen].sort()).toEqual(Object.keys(asl.States).sort());
  });

  it('retries an ingest that lost the watermark race, as it retries an unavailable source', () => {
    const retried = asl.States.Ingest!.Retry!.flatMap((r) => r.ErrorEquals);
    expect(retried).toEqual(expect.arrayContaining(['SourceUnavailable', 'WatermarkConflict']));
  });

  it('ends a partner batch that is not complete without validating, and records a pull that found nothing', () => {
    const choices = (asl.States.IsAlreadyProcessed!.Choices ?? []) as Array<{
      Variable?: string;
      Next: string;
    }>;
    expect(choices.map((c) => [c.Variable, c.Next])).toEqual([
      ['$.ingest.alreadyProcessed', 'AlreadyProcessed'],
      ['$.ingest.waiting', 'BatchNotComplete'],
      ['$.ingest.empty', 'RecordRun'],
    ]);
    expect(asl.States.BatchNotComplete!.Type).toBe('Succeed');
  });
});
