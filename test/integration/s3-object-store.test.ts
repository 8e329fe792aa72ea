import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from '@jest/globals';
import { type LakeBuckets, S3ObjectStore } from '../../lambdas/shared/s3-object-store.js';
import { bucketsFor, ensureBuckets } from '../../src/cli/lake.js';
import { motoEndpoint } from '../support/moto-lake.js';

// Write-once landing of large bodies on moto's S3 API: a multipart upload completed with
// If-None-Match: *, answered 412 when the key was taken. The threshold is lowered from 100 MiB to
// 1 KiB so that a few MiB take that path; parts stay at S3's 5 MiB minimum, which moto enforces.

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function lake(): Promise<{ s3: S3Client; buckets: LakeBuckets; store: S3ObjectStore }> {
  const s3 = new S3Client({
    endpoint: motoEndpoint(),
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const buckets = bucketsFor(`m${randomBytes(4).toString('hex')}`);
  await ensureBuckets(s3, buckets);
  return {
    s3,
    buckets,
    store: new S3ObjectStore(s3, buckets, { multipartThreshold: 1024, partSize: 5 * MiB }),
  };
}

async function object(s3: S3Client, bucket: string, key: string) {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return {
    bytes: await out.Body!.transformToByteArray(),
    etag: out.ETag ?? '',
    metadata: out.Metadata ?? {},
  };
}

async function openUploads(s3: S3Client, bucket: string): Promise<number> {
  return (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
}

const sized = (bytes: Buffer) => ({ stream: Readable.from([bytes]), length: bytes.length });

describe('S3ObjectStore on moto: write-once above the multipart threshold', () => {
  it('lands a large body in parts, byte for byte, with its metadata', async () => {
    // Prepare
    const { s3, buckets, store } = await lake();
    const bytes = randomBytes(6 * MiB + 123);
    // Act
    const created = await store.putIfAbsent('raw', 'orders/big.csv', sized(bytes), {
      metadata: { sha256: sha256(bytes) },
    });
    // Assess
    expect(created).toBe(true);
    const landed = await object(s3, buckets.raw, 'orders/big.csv');
    expect(sha256(landed.bytes)).toBe(sha256(bytes));
    expect(landed.metadata).toEqual({ sha256: sha256(bytes) });
    // A multipart object's ETag ends in -<number of parts>.
    expect(landed.etag).toMatch(/-2"$/);
  });

  it('refuses a second multipart write to the same key with 412 and keeps the first bytes', async () => {
    // Prepare
    const { s3, buckets, store } = await lake();
    const first = randomBytes(6 * MiB);
    const second = randomBytes(6 * MiB);
    await store.putIfAbsent('raw', 'orders/big.csv', sized(first));
    // Act
    const created = await store.putIfAbsent('raw', 'orders/big.csv', sized(second));
    // Assess
    expect(created).toBe(false);
    expect(sha256((await object(s3, buckets.raw, 'orders/big.csv')).bytes)).toBe(sha256(first));
    expect(await openUploads(s3, buckets.raw)).toBe(0);
  });

  it('lands a stream of unknown length once, and refuses it the second time', async () => {
    // Prepare
    const { s3, buckets, store } = await lake();
    const bytes = randomBytes(7 * MiB);
    // Act
    const created = await store.putIfAbsent('raw', 'orders/stream.jsonl', Readable.from([bytes]));
    const again = await store.putIfAbsent(
      'raw',
      'orders/stream.jsonl',
      Readable.from([randomBytes(7 * MiB)]),
    );
    // Assess
    expect([created, again]).toEqual([true, false]);
    expect(sha256((await object(s3, buckets.raw, 'orders/stream.jsonl')).bytes)).toBe(sha256(bytes));
    expect(await openUploads(s3, buckets.raw)).toBe(0);
  });
});

describe('S3ObjectStore on moto: object tags', () => {
  it.each([
    ['a body of known length', () => Buffer.from('keys')],
    ['a stream, in parts', () => Readable.from([randomBytes(9 * MiB)])],
  ])('writes the tags of a put of %s on the object', async (_, body) => {
    // Prepare
    const { s3, buckets, store } = await lake();
    // Act
    await store.put('reports', 'orders/spill/e0', body(), { tags: { 'sluice-spill': '1' } });
    // Assess
    const tagged = await s3.send(
      new GetObjectTaggingCommand({ Bucket: buckets.reports, Key: 'orders/spill/e0' }),
    );
    expect(tagged.TagSet).toEqual([{ Key: 'sluice-spill', Value: '1' }]);
  });
});
