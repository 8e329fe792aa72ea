import { Readable } from 'node:stream';
import { ObjectNotFound } from '../../lambdas/shared/errors.js';
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
} from '../../lambdas/shared/object-store.js';

/** An ObjectStore in memory, for unit tests of the cores. Conditional writes behave as on S3. */
export class MemoryStore implements ObjectStore {
  readonly objects = new Map<
    string,
    { bytes: Buffer; metadata: Record<string, string>; etag?: string; tags?: Record<string, string> }
  >();
  private writes = 0;

  describe(zone: Zone, key: string): string {
    return `mem://${zone}/${key}`;
  }

  async head(zone: Zone, key: string): Promise<ObjectInfo | undefined> {
    const object = this.objects.get(`${zone}/${key}`);
    return (
      object && {
        size: object.bytes.length,
        metadata: object.metadata,
        lastModified: new Date(0),
        etag: object.etag,
      }
    );
  }

  async read(zone: Zone, key: string, range?: ByteRange): Promise<Readable> {
    const bytes = this.bytes(zone, key);
    return Readable.from([range ? bytes.subarray(range.start, Math.max(range.start, range.end)) : bytes]);
  }

  async readText(zone: Zone, key: string): Promise<string> {
    return this.bytes(zone, key).toString('utf8');
  }

  async putIfAbsent(
    zone: Zone,
    key: string,
    body: Body | SizedStream,
    options: PutOptions = {},
  ): Promise<boolean> {
    if (this.objects.has(`${zone}/${key}`)) return false;
    await this.put(zone, key, isSizedStream(body) ? body.stream : body, options);
    return true;
  }

  async readVersioned(zone: Zone, key: string): Promise<{ text: string; etag: string } | undefined> {
    const object = this.objects.get(`${zone}/${key}`);
    return object && { text: object.bytes.toString('utf8'), etag: object.etag ?? '"0"' };
  }

  async putIfMatch(
    zone: Zone,
    key: string,
    body: Body,
    etag: string | undefined,
    options: PutOptions = {},
  ): Promise<boolean> {
    const current = this.objects.get(`${zone}/${key}`);
    if (current ? (current.etag ?? '"0"') !== etag : etag !== undefined) return false;
    await this.put(zone, key, body, options);
    return true;
  }

  async put(zone: Zone, key: string, body: Body | Readable, options: PutOptions = {}): Promise<void> {
    const bytes = body instanceof Readable ? Buffer.concat(await body.toArray()) : Buffer.from(body);
    this.writes += 1;
    this.objects.set(`${zone}/${key}`, {
      bytes,
      metadata: options.metadata ?? {},
      etag: `"${this.writes}"`,
      ...(options.tags ? { tags: { ...options.tags } } : {}),
    });
  }

  async list(zone: Zone, prefix: string): Promise<string[]> {
    return [...this.objects.keys()]
      .filter((k) => k.startsWith(`${zone}/${prefix}`))
      .map((k) => k.slice(zone.length + 1))
      .sort();
  }

  async delete(zone: Zone, key: string): Promise<void> {
    refuseRawDelete(zone, this.describe(zone, key));
    this.objects.delete(`${zone}/${key}`);
  }

  bytes(zone: Zone, key: string): Buffer {
    const object = this.objects.get(`${zone}/${key}`);
    if (!object) throw new ObjectNotFound(`${this.describe(zone, key)} does not exist`);
    return object.bytes;
  }
}
