import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

// The ingest Lambda handler as deployed (middy, Powertools), its S3 calls mocked.

const s3 = mockClient(S3Client);
let handler: (event: unknown, context: Context) => Promise<Record<string, unknown>>;
const context = {
  functionName: 'sluice-ingest',
  awsRequestId: 'r1',
  getRemainingTimeInMillis: () => 1000,
} as Context;
const body = 'order_id,amount\nA,1\n';
const notFound = () =>
  new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 } });

beforeAll(async () => {
  Object.assign(process.env, {
    SLUICE_DATASETS_DIR: join(import.meta.dirname, '..', '..', 'fixtures', 'datasets'),
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_REGION: 'eu-west-1',
    SLUICE_BUCKET_LANDING: 'b-landing',
    SLUICE_BUCKET_RAW: 'b-raw',
    SLUICE_BUCKET_VALIDATED: 'b-validated',
    SLUICE_BUCKET_CURATED: 'b-curated',
    SLUICE_BUCKET_QUARANTINE: 'b-quarantine',
    SLUICE_BUCKET_REPORTS: 'b-reports',
  });
  ({ handler } = (await import('../../../lambdas/ingest/handler.js')) as never);
});

beforeEach(() => {
  s3.reset();
  s3.on(HeadObjectCommand, { Bucket: 'b-landing' }).resolves({
    ContentLength: body.length,
    LastModified: new Date('2026-11-25T08:00:00Z'),
  });
  s3.on(HeadObjectCommand, { Bucket: 'b-reports' }).rejects(notFound());
  // No run record yet: the ingest's compare-and-swap claim reads it first.
  s3.on(GetObjectCommand, { Bucket: 'b-reports' }).rejects(notFound());
  s3.on(GetObjectCommand, { Bucket: 'b-landing' }).callsFake(async () => ({
    Body: Readable.from([Buffer.from(body)]) as never,
  }));
  s3.on(PutObjectCommand).resolves({});
});

describe('ingest handler', () => {
  it('writes the raw object with If-None-Match so S3 refuses an overwrite', async () => {
    // Act
    const out = await handler(
      { dataset: 'orders', trigger: { type: 's3-upload', key: 'landing/orders/x.csv' } },
      context,
    );
    // Assess
    const raw = s3.commandCalls(PutObjectCommand, { Bucket: 'b-raw', Key: out.rawKey as string });
    expect(raw).toHaveLength(1);
    expect(raw[0]!.args[0].input).toMatchObject({ IfNoneMatch: '*', Metadata: { sha256: out.sha256 } });
    expect(out).toMatchObject({ dt: '2026-11-25', duplicate: false, alreadyProcessed: false });
  });

  it('fails with the error name the state machine catches when the upload is gone', async () => {
    // Prepare
    s3.on(HeadObjectCommand, { Bucket: 'b-landing' }).rejects(notFound());
    // Act
    const attempt = handler(
      { dataset: 'orders', trigger: { type: 's3-upload', key: 'landing/orders/x.csv' } },
      context,
    );
    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ObjectNotFound' });
  });
});
