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
import { ConfigurationError, ObjectNotFound } from './errors.js';
import {
  type Body,
  type ByteRange,
  isSizedStream,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  refuseRawDelete,
  type SizedStream,
  type Zone,
} from './object-store.js';

export type LakeBuckets = Record<Zone, string>;

const MiB = 1024 * 1024;
/** S3 takes at most 5 GiB in one PutObject, and at most 10,000 parts in a multipart upload of parts of at least 5 MiB. */
const MAX_PUT_BYTES = 5 * 1024 * MiB;
const MAX_PARTS = 10_000;
const MIN_PART_BYTES = 5 * MiB;

export interface S3ObjectStoreOptions {
  /**
   * Write-once bodies larger than this many bytes, and streams of unknown length, are landed with a
   * multipart upload; others with one PutObject. Either way the write is conditional
   * (`If-None-Match: *`, on CompleteMultipartUpload for a multipart upload). Above 5 GiB, the most
   * one PutObject takes, multipart is used whatever this says.
   * @default 100 MiB, the size from which AWS suggests multipart uploads
   */
  readonly multipartThreshold?: number;
  /**
   * Bytes in each part of a multipart upload, at least 5 MiB; raised for a body of known length
   * that would otherwise need more than 10,000 parts. Two parts are in memory at a time.
   * @default 8 MiB
   */
  readonly partSize?: number;
}

/** The part size a body of `length` bytes needs to fit S3's 10,000 parts, at least `partSize`. */
export function partSizeFor(length: number | undefined, partSize: number): number {
  return length === undefined ? partSize : Math.max(partSize, Math.ceil(length / MAX_PARTS));
}

interface AwsError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Tags as S3's `Tagging` header takes them (URL query form), or undefined for none: the header is
 * then left out, so a write without tags needs no s3:PutObjectTagging. PutObject and
 * CreateMultipartUpload both take it, so a multipart upload is tagged when it completes.
 */
export function taggingOf(tags: Record<string, string> | undefined): string | undefined {
  if (!tags || Object.keys(tags).length === 0) return undefined;
  return new URLSearchParams(tags).toString();
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
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  constructor(
    private readonly s3: S3Client,
    private readonly buckets: LakeBuckets,
    options: S3ObjectStoreOptions = {},
  ) {
    this.multipartThreshold = Math.min(options.multipartThreshold ?? 100 * MiB, MAX_PUT_BYTES);
    this.partSize = options.partSize ?? 8 * MiB;
    if (!(this.partSize >= MIN_PART_BYTES)) {
      throw new ConfigurationError(
        `S3ObjectStore partSize ${options.partSize}: expected at least ${MIN_PART_BYTES} bytes (5 MiB), the smallest part S3 takes`,
      );
    }
  }

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

  async read(zone: Zone, key: string, range?: ByteRange): Promise<Readable> {
    // S3 answers an empty range with 416; nothing is to be read, but the object must exist.
    if (range && range.end <= range.start) {
      if (!(await this.head(zone, key)))
        throw new ObjectNotFound(`${this.describe(zone, key)} does not exist`);
      return Readable.from([]);
    }
    return (await this.get(zone, key, range)).Body as Readable;
  }

  async readText(zone: Zone, key: string): Promise<string> {
    return (await (await this.get(zone, key)).Body?.transformToString('utf-8')) ?? '';
  }

  private async get(zone: Zone, key: string, range?: ByteRange) {
    try {
      return await this.s3.send(
        new GetObjectCommand({
          Bucket: this.buckets[zone],
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
        }),
      );
    } catch (error) {
      if (isNotFound(error)) {
        throw new ObjectNotFound(`${this.describe(zone, key)} does not exist`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * A stream of unknown length may be given here too: it is landed with a multipart upload, which
   * is completed only if the key is still free.
   */
  async putIfAbsent(
    zone: Zone,
    key: string,
    body: Body | SizedStream | Readable,
    options: PutOptions = {},
  ): Promise<boolean> {
    const params = {
      Bucket: this.buckets[zone],
      Key: key,
      ContentType: options.contentType,
      Metadata: options.metadata,
      Tagging: taggingOf(options.tags),
      IfNoneMatch: '*',
    };
    const sized = isSizedStream(body);
    const data = sized ? body.stream : body;
    const length = sized ? body.length : body instanceof Readable ? undefined : Buffer.byteLength(body);
    try {
      if (length !== undefined && length <= this.multipartThreshold) {
        await this.s3.send(new PutObjectCommand({ ...params, Body: data, ContentLength: length }));
      } else {
        // lib-storage sends the params with CompleteMultipartUpload too, so the object appears only
        // when the upload completes and only if no object is there by then; on any failure it
        // aborts the upload, so no parts are left behind (and billed).
        await new Upload({
          client: this.s3,
          params: { ...params, Body: data, ContentLength: length },
          partSize: partSizeFor(length, this.partSize),
          queueSize: 2,
          leavePartsOnError: false,
        }).done();
      }
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
          Tagging: taggingOf(options.tags),
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
      Tagging: taggingOf(options.tags),
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
