import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigurationError } from '../../../lambdas/shared/errors.js';
import { ZONES } from '../../../lambdas/shared/object-store.js';
import { type LakeBuckets, partSizeFor, S3ObjectStore } from '../../../lambdas/shared/s3-object-store.js';

// The requests a write-once put makes, S3 mocked: one conditional PutObject for a small body, a
// multipart upload completed with If-None-Match for a large one or a stream of unknown length.

const MiB = 1024 * 1024;
const s3 = mockClient(S3Client);
const buckets = Object.fromEntries(ZONES.map((zone) => [zone, `b-${zone}`])) as LakeBuckets;
/** A threshold far below S3's 5 GiB, so that a few MiB take the multipart path. */
const store = () =>
  new S3ObjectStore(new S3Client({ region: 'eu-west-1' }), buckets, {
    multipartThreshold: 1024,
    partSize: 5 * MiB,
  });
const failure = (name: string, status: number) =>
  new S3ServiceException({
    name,
    $fault: status < 500 ? 'client' : 'server',
    $metadata: { httpStatusCode: status },
  });

beforeEach(() => {
  s3.reset();
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
  s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({
    ETag: `"etag-${input.PartNumber}"`,
  }));
  s3.on(CompleteMultipartUploadCommand).resolves({});
  s3.on(AbortMultipartUploadCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
});

const inputs = <T>(command: new (input: never) => T) =>
  s3.commandCalls(command as never).map((call) => call.args[0].input);

describe('S3ObjectStore.putIfAbsent', () => {
  it('lands a body above the threshold as parts, completed only if the key is still free', async () => {
    // Prepare
    const bytes = Buffer.alloc(11 * MiB, 7);
    // Act
    const created = await store().putIfAbsent(
      'raw',
      'orders/dt=2026-11-25/run=r1/big.csv',
      { stream: Readable.from([bytes]), length: bytes.length },
      { metadata: { sha256: 'abc' }, contentType: 'text/csv' },
    );
    // Assess
    expect(created).toBe(true);
    expect(inputs(CreateMultipartUploadCommand)).toEqual([
      expect.objectContaining({
        Bucket: 'b-raw',
        Key: 'orders/dt=2026-11-25/run=r1/big.csv',
        Metadata: { sha256: 'abc' },
        ContentType: 'text/csv',
      }),
    ]);
    const parts = inputs(UploadPartCommand) as Array<{
      UploadId: string;
      PartNumber: number;
      Body: Uint8Array;
    }>;
    expect(parts.map((p) => [p.UploadId, p.PartNumber, p.Body.byteLength]).sort()).toEqual([
      ['upload-1', 1, 5 * MiB],
      ['upload-1', 2, 5 * MiB],
      ['upload-1', 3, 1 * MiB],
    ]);
    expect(inputs(CompleteMultipartUploadCommand)).toEqual([
      expect.objectContaining({
        Bucket: 'b-raw',
        Key: 'orders/dt=2026-11-25/run=r1/big.csv',
        UploadId: 'upload-1',
        IfNoneMatch: '*',
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: '"etag-1"' },
            { PartNumber: 2, ETag: '"etag-2"' },
            { PartNumber: 3, ETag: '"etag-3"' },
          ],
        },
      }),
    ]);
    expect(inputs(PutObjectCommand)).toEqual([]);
    expect(inputs(AbortMultipartUploadCommand)).toEqual([]);
  });

  it('lands a stream of unknown length as a conditional multipart upload', async () => {
    // Prepare
    const chunks = [Buffer.alloc(4 * MiB, 1), Buffer.alloc(4 * MiB, 2)];
    // Act
    const created = await store().putIfAbsent('raw', 'k', Readable.from(chunks));
    // Assess
    expect(created).toBe(true);
    expect(inputs(UploadPartCommand)).toHaveLength(2);
    expect(inputs(CompleteMultipartUploadCommand)).toEqual([expect.objectContaining({ IfNoneMatch: '*' })]);
  });

  it('returns false and aborts the upload when another object took the key before completion (412)', async () => {
    // Prepare
    s3.on(CompleteMultipartUploadCommand).rejects(failure('PreconditionFailed', 412));
    const bytes = Buffer.alloc(6 * MiB, 1);
    // Act
    const created = await store().putIfAbsent('raw', 'k', {
      stream: Readable.from([bytes]),
      length: bytes.length,
    });
    // Assess
    expect(created).toBe(false);
    expect(inputs(AbortMultipartUploadCommand)).toEqual([
      { Bucket: 'b-raw', Key: 'k', UploadId: 'upload-1' },
    ]);
  });

  it('aborts the upload and passes the error on when a part fails', async () => {
    // Prepare
    s3.on(UploadPartCommand).rejects(failure('InternalError', 500));
    const bytes = Buffer.alloc(6 * MiB, 1);
    // Act
    const put = store().putIfAbsent('raw', 'k', { stream: Readable.from([bytes]), length: bytes.length });
    // Assess
    await expect(put).rejects.toMatchObject({ name: 'InternalError' });
    expect(inputs(AbortMultipartUploadCommand)).toEqual([
      { Bucket: 'b-raw', Key: 'k', UploadId: 'upload-1' },
    ]);
    expect(inputs(CompleteMultipartUploadCommand)).toEqual([]);
  });

  it('lands a body at or below the threshold with one conditional PutObject', async () => {
    // Act
    const created = await store().putIfAbsent('raw', 'small.csv', 'a,b\n1,2\n');
    // Assess
    expect(created).toBe(true);
    expect(inputs(PutObjectCommand)).toEqual([
      expect.objectContaining({ Bucket: 'b-raw', Key: 'small.csv', IfNoneMatch: '*', ContentLength: 8 }),
    ]);
    expect(inputs(CreateMultipartUploadCommand)).toEqual([]);
  });
});

describe('S3ObjectStore tags', () => {
  it("sends a put's tags as PutObject's Tagging, URL-encoded", async () => {
    // Act
    await store().put('reports', 'orders/spill/e0', Buffer.from('keys'), {
      tags: { 'sluice-spill': '1', note: 'a b&c' },
    });
    // Assess
    expect(inputs(PutObjectCommand)).toEqual([
      expect.objectContaining({ Key: 'orders/spill/e0', Tagging: 'sluice-spill=1&note=a+b%26c' }),
    ]);
  });

  it('tags a streamed put when its multipart upload is created', async () => {
    // Act
    await store().put('reports', 'orders/spill/e1', Readable.from([Buffer.alloc(9 * MiB, 1)]), {
      tags: { 'sluice-spill': '1' },
    });
    // Assess
    expect(inputs(CreateMultipartUploadCommand)).toEqual([
      expect.objectContaining({ Key: 'orders/spill/e1', Tagging: 'sluice-spill=1' }),
    ]);
  });

  it('sends no Tagging for a put without tags, which then needs no tagging grant', async () => {
    // Act
    await store().put('reports', 'orders/runs/r1.json', '{}');
    await store().put('reports', 'orders/runs/r2.json', '{}', { tags: {} });
    // Assess
    expect(inputs(PutObjectCommand).map((input) => input.Tagging)).toEqual([undefined, undefined]);
  });
});

describe('S3ObjectStore options', () => {
  it('grows the part size so that a body of known length fits in 10,000 parts', () => {
    expect(partSizeFor(10 * 1024 * MiB, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(200 * 1024 * MiB, 8 * MiB)).toBe(Math.ceil((200 * 1024 * MiB) / 10_000));
    expect(partSizeFor(undefined, 8 * MiB)).toBe(8 * MiB);
  });

  it('refuses parts smaller than the 5 MiB S3 takes', () => {
    expect(() => new S3ObjectStore(new S3Client({}), buckets, { partSize: MiB })).toThrow(ConfigurationError);
  });
});
