import type { PartnerDropSourceConfig } from '../shared/contract.js';
import { MalformedInput } from '../shared/errors.js';
import type { ObjectStore } from '../shared/object-store.js';

/**
 * The batches of a partner's folders: what was delivered in a folder since its last landed batch,
 * whether it is complete, and the batch manifests that complete one.
 *
 * A folder may be used again for a later batch. A batch is what was delivered for its completion:
 * once a batch is landed, the objects it settled (its files, its marker or manifest, and the older
 * files it left out) are remembered by version in the folder's batch state, and a later completion
 * takes only objects delivered since. A file left over from an earlier delivery never joins a new
 * batch, and does not start a new batch's deadline.
 */

/**
 * One batch folder's state in the reports zone: the last batch landed from it and the objects that
 * batch settled, or an overdue batch reported (once) since.
 */
export function batchStateKey(dataset: string, batch: string): string {
  return `${dataset}/batches/${batch}.json`;
}

/** What the reports zone keeps about a batch folder. */
export interface BatchRecord {
  batch: string;
  /** `landed`: the last completion was landed; `overdue`: the batch delivered since is overdue and was reported. */
  status: 'landed' | 'overdue';
  at: string;
  runId: string;
  /** The raw manifest of the last landed batch. */
  manifestKey?: string;
  /** Versions (`versionOf`) of the folder's objects that earlier deliveries settled, by file name. */
  settled?: Record<string, string>;
  /** What the overdue batch lacked when it was reported. */
  missing?: string[];
}

export interface Listed {
  key: string;
  name: string;
  size: number;
  lastModified?: Date;
  /** Which version of the object this is (`versionOf`). */
  version: string;
}

/**
 * One version of an object: its S3 version id when the bucket keeps versions (the deployed landing
 * bucket does), else its ETag, time and size. A file delivered again is a new version even when
 * its bytes are the same.
 */
function versionOf(info: { size: number; etag?: string; versionId?: string; lastModified?: Date }): string {
  if (info.versionId && info.versionId !== 'null') return `v:${info.versionId}`;
  return `${info.etag ?? ''}@${info.lastModified?.getTime() ?? ''}/${info.size}`;
}

/** At most this many names in a message or in the state; the rest are counted. */
export const NAMES_SHOWN = 10;

/** A list of names for a message, bounded: the first few and how many more. */
export function nameList(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

export interface DeclaredFile {
  name: string;
  sha256: string;
  size?: number;
}

export interface BatchState {
  prefix: string;
  /** The batch's files, in batch order (manifest order, or name order with a marker). */
  files: Listed[];
  /** Whether anything arrived since the folder's last landed batch. */
  delivered: boolean;
  complete: boolean;
  /** The marker or manifest that completed the batch. */
  completedBy?: Listed;
  declared?: DeclaredFile[];
  /** Why it is not complete yet. */
  missing: string[];
  firstArrivedAt?: Date;
  /** What the batch settles once landed: the versions earlier batches settled that are still there, and its own. */
  settles: Record<string, string>;
}

/**
 * The batch delivered in a folder since its last landed batch: the objects whose version no
 * earlier batch settled.
 */
export async function batchState(
  store: ObjectStore,
  source: PartnerDropSourceConfig,
  batch: string,
  record: BatchRecord | undefined,
): Promise<BatchState> {
  const prefix = `${source.prefix}${batch}/`;
  const settledBefore = record?.settled ?? {};
  const settles: Record<string, string> = {};
  const fresh: Listed[] = [];
  for (const key of await store.list('landing', prefix)) {
    const name = key.slice(prefix.length);
    if (name.includes('/')) continue;
    const head = await store.head('landing', key);
    if (!head) continue;
    const listed = { key, name, size: head.size, lastModified: head.lastModified, version: versionOf(head) };
    if (settledBefore[name] === listed.version) settles[name] = listed.version;
    else fresh.push(listed);
  }
  const firstArrivedAt = fresh.reduce<Date | undefined>(
    (first, f) => (f.lastModified && (!first || f.lastModified < first) ? f.lastModified : first),
    undefined,
  );
  const completionName = source.complete_when.marker ?? source.complete_when.manifest!;
  const completedBy = fresh.find((f) => f.name === completionName);
  const data = fresh.filter(
    (f) =>
      f !== completedBy &&
      !f.name.startsWith('_') &&
      !f.name.startsWith('.') &&
      (source.suffix === undefined || f.name.endsWith(source.suffix)),
  );
  const common = { prefix, delivered: fresh.length > 0, firstArrivedAt, settles };
  if (!completedBy) {
    return { ...common, files: data, complete: false, missing: [completionName] };
  }
  // Files that arrived with or before the completion are settled with it, in the batch or not (a
  // file the manifest does not list): a later delivery to the folder starts after them.
  const settle = (files: Listed[]) => {
    for (const f of [completedBy, ...files]) settles[f.name] = f.version;
  };
  const delivered = data.filter(
    (f) => !f.lastModified || !completedBy.lastModified || f.lastModified <= completedBy.lastModified,
  );
  if (source.complete_when.marker !== undefined) {
    const files = data.sort((a, b) => (a.name < b.name ? -1 : 1));
    settle([...delivered, ...files]);
    return { ...common, files, complete: true, completedBy, missing: [] };
  }
  const declared = parseManifest(
    await store.readText('landing', completedBy.key),
    store.describe('landing', completedBy.key),
  );
  const byName = new Map(data.map((f) => [f.name, f]));
  const missing = declared.filter((d) => !byName.has(d.name)).map((d) => d.name);
  const files = declared.flatMap((d) => (byName.has(d.name) ? [byName.get(d.name)!] : []));
  settle([...delivered, ...files]);
  return { ...common, files, complete: missing.length === 0, completedBy, declared, missing };
}

/**
 * A batch manifest: JSON `{ "files": [{ "name", "sha256", "size"? }] }`, or the output of
 * `sha256sum` (`<hex>  <name>` per line).
 */
export function parseManifest(text: string, where: string): DeclaredFile[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: { files?: unknown };
    try {
      parsed = JSON.parse(trimmed) as { files?: unknown };
    } catch (error) {
      throw new MalformedInput(`${where}: the batch manifest is not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed.files) || parsed.files.length === 0) {
      throw new MalformedInput(
        `${where}: expected { "files": [{ "name", "sha256", "size" }] } with at least one file`,
      );
    }
    return parsed.files.map((f, i) => {
      const file = f as Partial<DeclaredFile>;
      if (
        typeof file.name !== 'string' ||
        typeof file.sha256 !== 'string' ||
        !/^[0-9a-fA-F]{64}$/.test(file.sha256)
      ) {
        throw new MalformedInput(`${where}: files[${i}] needs a name and a sha256 of 64 hex digits`);
      }
      return {
        name: nameInFolder(file.name),
        sha256: file.sha256.toLowerCase(),
        size: typeof file.size === 'number' ? file.size : undefined,
      };
    });
  }
  const files = trimmed.split('\n').map((line, i) => {
    const match = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line.trim());
    if (!match) {
      throw new MalformedInput(
        `${where}: line ${i + 1}: expected '<sha256>  <file name>' (sha256sum output) or a JSON manifest, found '${line.slice(0, 80)}'`,
      );
    }
    return { name: nameInFolder(match[2]!.trim()), sha256: match[1]!.toLowerCase() };
  });
  if (files.length === 0) throw new MalformedInput(`${where}: the batch manifest lists no file`);
  return files;
}

/**
 * A manifest names files relative to the batch folder; `sha256sum` run over `find .` writes them
 * as `./part-1.csv`, which is the file `part-1.csv`.
 */
function nameInFolder(name: string): string {
  return name.replace(/^(?:\.\/)+/, '');
}

export async function readBatchRecord(
  store: ObjectStore,
  dataset: string,
  batch: string,
): Promise<BatchRecord | undefined> {
  const current = await store.readVersioned('reports', batchStateKey(dataset, batch));
  return current ? (JSON.parse(current.text) as BatchRecord) : undefined;
}

export async function writeBatchRecord(
  store: ObjectStore,
  dataset: string,
  record: BatchRecord,
): Promise<void> {
  await store.put('reports', batchStateKey(dataset, record.batch), JSON.stringify(record, null, 2), {
    contentType: 'application/json',
  });
}
