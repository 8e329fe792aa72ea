import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app.js';

// Object Lock on raw, chosen at deploy with -c rawObjectLockDays=N [-c rawObjectLockMode=…].

const FIXTURES = fileURLToPath(new URL('./fixtures/datasets', import.meta.url));
const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

function synth(lock: Record<string, string>) {
  return buildApp({
    datasetsDir: FIXTURES,
    appProps: { context: { ...context, stackName: 'SluiceLock', datasetsRepository: 'codecommit', ...lock } },
    nagChecks: false,
  });
}

/** The Object Lock settings of every bucket that has them, by bucket. */
function objectLocks(lock: Record<string, string>): unknown[] {
  const { stack } = synth(lock);
  const buckets = Template.fromStack(stack).findResources('AWS::S3::Bucket') as Record<
    string,
    { Properties: { ObjectLockEnabled?: boolean; ObjectLockConfiguration?: unknown } }
  >;
  return Object.entries(buckets)
    .filter(([, bucket]) => bucket.Properties.ObjectLockEnabled)
    .map(([id, bucket]) => ({
      raw: id.startsWith('LakeRawBucket'),
      lock: bucket.Properties.ObjectLockConfiguration,
    }));
}

describe('Object Lock on raw', () => {
  it('is off unless rawObjectLockDays is given', () => {
    expect(objectLocks({})).toEqual([]);
  });

  it('is governance mode by default, on the raw bucket only', () => {
    expect(objectLocks({ rawObjectLockDays: '30' })).toEqual([
      {
        raw: true,
        lock: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } },
      },
    ]);
  });

  it('is compliance mode with rawObjectLockMode=compliance', () => {
    expect(objectLocks({ rawObjectLockDays: '365', rawObjectLockMode: 'compliance' })).toEqual([
      {
        raw: true,
        lock: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } },
      },
    ]);
  });

  it('refuses an unknown mode, or a mode without days, naming the context key', () => {
    expect(() => synth({ rawObjectLockDays: '30', rawObjectLockMode: 'strict' })).toThrow(
      "context rawObjectLockMode: expected 'governance' or 'compliance', got 'strict'",
    );
    expect(() => synth({ rawObjectLockMode: 'compliance' })).toThrow(
      'context rawObjectLockMode: only applies with rawObjectLockDays=<days>',
    );
  });
});
