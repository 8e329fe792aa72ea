import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFound } from './errors.js';
import {
  type Body,
  isSizedStream,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  refuseRawDelete,
  type SizedStream,
  type Zone,
} from './object-store.js';

export type LakeBuckets = Record<Zone, string>;

interface AwsError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(error: unknown): number | undefined {
  return (error as AwsError)?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as AwsError)?.name;
  return name === 'NotFound' || name === 'NoSuchKey' || statusOf(error) === 404;
}

/** The lake on S3: one bucket per zone. Works against AWS, moto and LocalStack alike. */
export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly buckets: LakeBuckets,
  ) {}

  describe(zone: Zone, key: string): string {
    return `s3://${this.buckets[zone]}/${key}`;
  }

  async head(zone: Zone, key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.buckets[zone], Key: key }));
      return {
        size: out.ContentLength ?? 0,
        metadata: out.Metadata ?? {},
        lastModified: out.LastModified,
        versionId: out.VersionId,
        etag: out.ETag,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async read(zone: Zone, key: string): Promise<Readable> {
    return (await this.get(zone, key)).Body as Readable;
  }

  async readText(zone: Zone, key: string): Promise<string> {
    return (await (await this.get(zone, key)).Body?.transformToString('utf-8')) ?? '';
  }

  private async get(zone: Zone, key: string) {
    try {
      return await this.s3.send(new GetObjectCommand({ Bucket: this.buckets[zone], Key: key }));
    } catch (error) {
      if (isNotFound(error)) {
        throw new ObjectNotFound(`${this.describe(zone, key)} does not exist`, { cause: error });
      }
      throw error;
    }
  }

  async putIfAbsent(
    zone: Zone,
    key: string,
    body: Body | SizedStream,
    options: PutOptions = {},
  ): Promise<boolean> {
    const sized = isSizedStream(body);
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.buckets[zone],
          Key: key,
          Body: sized ? body.stream : body,
          ContentLength: sized ? body.length : undefined,
          ContentType: options.contentType,
          Metadata: options.metadata,
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (error) {
      // 412: an object exists. 409: a concurrent conditional write to the same key is in flight;
      // whichever lands first wins, and the caller compares bytes as for 412.
      const status = statusOf(error);
      if (status === 412 || status === 409) return false;
      throw error;
    }
  }

  async readVersioned(zone: Zone, key: string): Promise<{ text: string; etag: string } | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.buckets[zone], Key: key }));
      return { text: (await out.Body?.transformToString('utf-8')) ?? '', etag: out.ETag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async putIfMatch(
    zone: Zone,
    key: string,
    body: Body,
    etag: string | undefined,
    options: PutOptions = {},
  ): Promise<boolean> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.buckets[zone],
          Key: key,
          Body: body,
          ContentType: options.contentType,
          Metadata: options.metadata,
          ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
        }),
      );
      return true;
    } catch (error) {
      // 412: replaced (or created) by another writer; 409: a concurrent conditional write is in
      // flight; 404: deleted since it was read. Each means this writer lost the race.
      const status = statusOf(error);
      if (status === 412 || status === 409 || (etag !== undefined && isNotFound(error))) return false;
      throw error;
    }
  }

  async put(zone: Zone, key: string, body: Body | Readable, options: PutOptions = {}): Promise<void> {
    const params = {
      Bucket: this.buckets[zone],
      Key: key,
      ContentType: options.contentType,
      Metadata: options.metadata,
    };
    if (body instanceof Readable) {
      // Multipart upload of a stream of unknown length, 8 MiB parts, memory bounded by queueSize × partSize.
      await new Upload({
        client: this.s3,
        params: { ...params, Body: body },
        partSize: 8 * 1024 * 1024,
        queueSize: 2,
      }).done();
      return;
    }
    await this.s3.send(new PutObjectCommand({ ...params, Body: body }));
  }

  async list(zone: Zone, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.buckets[zone], Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of out.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async delete(zone: Zone, key: string): Promise<void> {
    refuseRawDelete(zone, this.describe(zone, key));
    // On a versioned bucket this adds a delete marker; the earlier version stays until lifecycle expires it.
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.buckets[zone], Key: key }));
  }
}
