import type { Readable } from 'node:stream';

/** The lake's zones. `landing` is where uploads and partner drops arrive; it is not part of the lake proper. */
export const ZONES = ['landing', 'raw', 'validated', 'curated', 'quarantine', 'reports'] as const;
export type Zone = (typeof ZONES)[number];

export interface ObjectInfo {
  size: number;
  /** Changes whenever the object is replaced; what `putIfMatch` compares. */
  etag?: string;
  metadata: Record<string, string>;
  lastModified?: Date;
  versionId?: string;
}

export interface PutOptions {
  contentType?: string;
  /** User metadata (S3 `x-amz-meta-*`); keys in lower case. */
  metadata?: Record<string, string>;
  /**
   * Object tags (S3 `Tagging` on the write, which needs s3:PutObjectTagging on the key besides
   * s3:PutObject): what a lifecycle rule can match, as the reports zone's expiry of run spills does.
   * FsObjectStore keeps none: a local lake has no lifecycle.
   */
  tags?: Record<string, string>;
}

/** A body whose length is known up front, as a conditional S3 PutObject needs. */
export interface SizedStream {
  stream: Readable;
  length: number;
}

export type Body = Uint8Array | string;

/** Bytes [start, end) of an object: `end` is exclusive, and an empty range reads nothing. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The port through which every handler reads and writes the lake.
 * `S3ObjectStore` backs it with S3 (AWS, moto, LocalStack); `FsObjectStore` with a local directory.
 */
export interface ObjectStore {
  /** Where an object lives, for messages and reports: `s3://bucket/key` or a file path. */
  describe(zone: Zone, key: string): string;
  /** The object's size and metadata, or `undefined` when there is none. */
  head(zone: Zone, key: string): Promise<ObjectInfo | undefined>;
  /**
   * A stream of the object's bytes, or of bytes [start, end) of it (an S3 ranged GET: a shard of a
   * large batch); throws `ObjectNotFound`.
   */
  read(zone: Zone, key: string, range?: ByteRange): Promise<Readable>;
  /** The whole object as UTF-8 text; throws `ObjectNotFound`. For small objects (manifests, records). */
  readText(zone: Zone, key: string): Promise<string>;
  /**
   * Creates the object only if the key is free (S3 `If-None-Match: *`).
   * Returns `false`, and writes nothing, when an object already exists there.
   */
  putIfAbsent(zone: Zone, key: string, body: Body | SizedStream, options?: PutOptions): Promise<boolean>;
  /** A small object as UTF-8 text with its ETag, or `undefined` when there is none (state such as watermarks). */
  readVersioned(zone: Zone, key: string): Promise<{ text: string; etag: string } | undefined>;
  /**
   * Compare-and-swap: replaces the object only if its ETag is still `etag` (S3 `If-Match`), or, with
   * `etag` undefined, creates it only if there is none (`If-None-Match: *`). Returns `false`, and
   * writes nothing, when another writer changed it first. Never used on the raw zone.
   */
  putIfMatch(
    zone: Zone,
    key: string,
    body: Body,
    etag: string | undefined,
    options?: PutOptions,
  ): Promise<boolean>;
  /** Creates or replaces the object. Never used on the raw zone. */
  put(zone: Zone, key: string, body: Body | Readable, options?: PutOptions): Promise<void>;
  /** Keys under a prefix, in lexical order. */
  list(zone: Zone, prefix: string): Promise<string[]>;
  /**
   * Removes the object; nothing happens when there is none. For a curated batch that a newer
   * batch from the same source replaces, and for the landing zone, where a local run makes a
   * partner's batch folder hold exactly the folder it was given. Refused on the raw zone.
   */
  delete(zone: Zone, key: string): Promise<void>;
}

/** Raw is write-once: a store refuses to delete from it, whatever asks. */
export function refuseRawDelete(zone: Zone, where: string): void {
  if (zone === 'raw') throw new TypeError(`refusing to delete ${where}: the raw zone is write-once`);
}

export function isSizedStream(body: Body | SizedStream | Readable): body is SizedStream {
  return typeof body === 'object' && body !== null && 'stream' in body && 'length' in body;
}
