import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import {
  chmod,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
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

const META_DIR = '.meta';
const LOCK_STALE_MS = 30_000;
const TEMP_PREFIX = '.sluice-tmp-';
/** This host, in temporary file names: a writer's pid can only be checked on its own host. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
/** `.sluice-tmp-<host>-<pid>-<random>`: who is writing it, so that a run can tell a leftover from a file being written. */
const TEMP_NAME = /^\.sluice-tmp-([0-9a-f]{8})-(\d+)-[0-9a-f]+$/;
/** Temporary files named before they carried their writer are removed once this old. */
const UNNAMED_TEMP_STALE_MS = 60 * 60_000;

/**
 * The lake in a local directory: `<root>/<zone>/<key>`, metadata beside it under `<root>/.meta/`.
 * Write-once holds here as on S3: `putIfAbsent` publishes a fully written temporary file with
 * link(2), which fails if the name exists, so a reader never sees a partial object and an
 * existing one is never replaced. Raw objects are also made read-only.
 */
export class FsObjectStore implements ObjectStore {
  constructor(readonly root: string) {}

  /** The file of a key, or the directory of a prefix (a key ending in '/'). */
  describe(zone: Zone, key: string): string {
    return key.endsWith('/') ? `${this.pathOf(zone, key.slice(0, -1))}${sep}` : this.pathOf(zone, key);
  }

  async head(zone: Zone, key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.pathOf(zone, key));
      if (!info.isFile()) return undefined;
      return { size: info.size, metadata: await this.readMetadata(zone, key), lastModified: info.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async read(zone: Zone, key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(zone, key);
    if (!(await this.head(zone, key))) throw new ObjectNotFound(`${path} does not exist`);
    if (range && range.end <= range.start) return Readable.from([]);
    return createReadStream(path, range ? { start: range.start, end: range.end - 1 } : {});
  }

  async readText(zone: Zone, key: string): Promise<string> {
    try {
      return await readFile(this.pathOf(zone, key), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ObjectNotFound(`${this.pathOf(zone, key)} does not exist`, { cause: error });
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
    const path = this.pathOf(zone, key);
    const temp = await this.writeTemp(path, isSizedStream(body) ? body.stream : body);
    try {
      if (zone === 'raw') await chmod(temp, 0o444);
      await link(temp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
    await this.writeMetadata(zone, key, options);
    return true;
  }

  async readVersioned(zone: Zone, key: string): Promise<{ text: string; etag: string } | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathOf(zone, key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return { text: bytes.toString('utf8'), etag: etagOf(bytes) };
  }

  /**
   * The directory's compare-and-swap: under a lock file created with O_EXCL, the current bytes'
   * hash is compared with `etag`, and the new bytes are published with rename(2), which readers
   * see atomically. A lock left by a crashed writer is broken after LOCK_STALE_MS.
   */
  async putIfMatch(
    zone: Zone,
    key: string,
    body: Body,
    etag: string | undefined,
    options: PutOptions = {},
  ): Promise<boolean> {
    const path = this.pathOf(zone, key);
    const lock = join(this.root, META_DIR, 'locks', zone, `${key}.lock`);
    await mkdir(dirname(lock), { recursive: true });
    await acquire(lock);
    try {
      const current = await this.readVersioned(zone, key);
      if (current?.etag !== etag) return false;
      const temp = await this.writeTemp(path, body);
      await rename(temp, path);
      await this.writeMetadata(zone, key, options);
      return true;
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  async put(zone: Zone, key: string, body: Body | Readable, options: PutOptions = {}): Promise<void> {
    const path = this.pathOf(zone, key);
    const temp = await this.writeTemp(path, body);
    await rename(temp, path);
    await this.writeMetadata(zone, key, options);
  }

  async list(zone: Zone, prefix: string): Promise<string[]> {
    const base = join(this.root, zone);
    const keys: string[] = [];
    await walkFiles(base, async (full, name) => {
      if (name.startsWith(TEMP_PREFIX)) return;
      const key = relative(base, full).split(sep).join('/');
      if (key.startsWith(prefix)) keys.push(key);
    });
    return keys.sort();
  }

  async delete(zone: Zone, key: string): Promise<void> {
    const path = this.pathOf(zone, key);
    refuseRawDelete(zone, path);
    for (const file of [path, this.metadataPath(zone, key)]) {
      await unlink(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }

  /**
   * Removes the temporary files that writers which are gone left behind (a run killed while it
   * wrote validated or quarantined rows): those of a process of this host that no longer runs.
   * Files being written by this process or another live one are kept.
   */
  async removeStaleTemps(): Promise<{ files: string[]; bytes: number }> {
    const removed: string[] = [];
    let bytes = 0;
    await walkFiles(this.root, async (full, name) => {
      if (!name.startsWith(TEMP_PREFIX)) return;
      const info = await stat(full).catch(() => undefined);
      if (!info || !isLeftOver(name, info.mtimeMs)) return;
      await unlink(full).catch(() => undefined);
      removed.push(full);
      bytes += info.size;
    });
    return { files: removed, bytes };
  }

  private pathOf(zone: Zone, key: string): string {
    if (
      key.length === 0 ||
      key.startsWith('/') ||
      key.split('/').some((part) => part === '..' || part === '')
    ) {
      throw new ConfigurationError(`not a usable object key in the local lake: '${key}'`);
    }
    return join(this.root, zone, ...key.split('/'));
  }

  private async writeTemp(path: string, body: Body | Readable): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    const temp = join(
      dirname(path),
      `${TEMP_PREFIX}${HOST_TAG}-${process.pid}-${randomBytes(6).toString('hex')}`,
    );
    try {
      if (body instanceof Readable) {
        // Created before the first byte is read, so the temporary file is there (and named after
        // its writer) for as long as the write lasts, not only once the stream has opened it.
        const file = await open(temp, 'wx');
        await pipeline(body, file.createWriteStream());
      } else await writeFile(temp, body, { flag: 'wx' });
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    return temp;
  }

  private metadataPath(zone: Zone, key: string): string {
    return join(this.root, META_DIR, zone, `${key}.json`);
  }

  private async writeMetadata(zone: Zone, key: string, options: PutOptions): Promise<void> {
    const path = this.metadataPath(zone, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(
      path,
      JSON.stringify({ contentType: options.contentType, metadata: options.metadata ?? {} }),
    );
  }

  private async readMetadata(zone: Zone, key: string): Promise<Record<string, string>> {
    try {
      const saved = JSON.parse(await readFile(this.metadataPath(zone, key), 'utf8')) as {
        metadata?: Record<string, string>;
      };
      return saved.metadata ?? {};
    } catch {
      return {};
    }
  }
}

/** Whether a temporary file's writer is gone: a process of this host that no longer runs. */
function isLeftOver(name: string, mtimeMs: number): boolean {
  const match = TEMP_NAME.exec(name);
  if (!match) return Date.now() - mtimeMs > UNNAMED_TEMP_STALE_MS;
  const [, host, pid] = match;
  if (host !== HOST_TAG || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    // EPERM: the process exists and belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function etagOf(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

async function acquire(lock: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = await stat(lock).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (since > LOCK_STALE_MS) await unlink(lock).catch(() => undefined);
      await sleep(Math.min(50, 2 + attempt));
    }
  }
}

/** Calls `visit` with each file under `dir`, at any depth; a directory that is not there has none. */
async function walkFiles(dir: string, visit: (path: string, name: string) => Promise<void>): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await walkFiles(full, visit);
    else await visit(full, entry.name);
  }
}
