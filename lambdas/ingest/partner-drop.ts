import { createHash } from 'node:crypto';
import type { Contract, PartnerDropSourceConfig } from '../shared/contract.js';
import { ChecksumMismatch, IncompleteBatch, MalformedInput, UnsupportedSource } from '../shared/errors.js';
import { dateOf, fileNameOf, manifestKey, type RunLocation, rawKey } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import { type RunRecord, readRunRecord, writeRunRecord, writeTriggerRun } from '../shared/run-record.js';
import { hashStream, nothingLanded, recordLanding, writeRawOnce } from './landing.js';
import type {
  IngestInput,
  IngestOutput,
  PartnerDropTrigger,
  S3UploadTrigger,
  ScheduleTrigger,
  SourceRun,
} from './types.js';

/**
 * Partner drops: a partner writes the files of a batch into a folder of its own under the
 * dataset's landing prefix (`<prefix><batch>/…`), and marks the batch complete last, with a marker
 * (`_SUCCESS`) or a manifest listing each file and its sha256. Every object that arrives starts a
 * run; until the batch is complete the run only waits (nothing is landed or recorded), unless the
 * batch's first file arrived longer than `deadline_minutes` ago: then the run fails with
 * `IncompleteBatch`. A complete batch is landed in raw file by file, byte for byte, and its
 * checksums are verified; a mismatch fails the run with `ChecksumMismatch`, keeps in raw what
 * arrived, and promotes nothing. A scheduled run (the contract's `schedule`) finds batches that
 * are overdue although no file arrived since.
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

interface Listed {
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
const NAMES_SHOWN = 10;

/** A list of names for a message, bounded: the first few and how many more. */
export function nameList(names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}

interface DeclaredFile {
  name: string;
  sha256: string;
  size?: number;
}

/** The manifest written beside the landed files. */
export interface PartnerManifest {
  dataset: string;
  runId: string;
  source: { type: 'partner-drop'; prefix: string; batch: string; completedBy: string };
  files: Array<{
    name: string;
    key: string;
    sourceKey: string;
    sha256: string;
    size: number;
    expectedSha256?: string;
  }>;
  checksums: { verified: boolean; mismatches: Array<{ name: string; expected: string; actual: string }> };
  sha256: string;
  size: number;
  firstArrivedAt?: string;
  receivedAt: string;
  executionId?: string;
}

/** Ingests the batch the triggering object belongs to. */
export async function ingestPartnerDrop(
  run: SourceRun<PartnerDropSourceConfig, PartnerDropTrigger | S3UploadTrigger>,
): Promise<IngestOutput> {
  const { input, trigger, contract, source, store, now } = run;
  if (!trigger.key.startsWith(source.prefix)) {
    throw new UnsupportedSource(
      `landing key '${trigger.key}' is not under partner prefix '${source.prefix}' of dataset '${contract.name}'`,
    );
  }
  const rest = trigger.key.slice(source.prefix.length);
  if (!rest.includes('/')) {
    throw new UnsupportedSource(
      `'${trigger.key}' lies directly under the partner prefix '${source.prefix}'; expected one folder per batch: ${source.prefix}<batch>/<file>`,
    );
  }
  const batch = rest.split('/')[0]!;
  const record = await readBatchRecord(store, contract.name, batch);
  const state = await batchState(store, source, batch, record);
  if (!state.delivered && record?.manifestKey) return landedBefore(store, contract.name, record.manifestKey);
  if (!state.complete) {
    await failIfOverdue(store, contract, source, batch, state, record, now, input);
    return waiting(contract.name, now, state);
  }
  return landBatch(input, contract, source, batch, state, store, now);
}

/** A scheduled run: fails with IncompleteBatch when a batch is overdue (once per batch), otherwise waits. */
export async function sweepPartnerDrops(
  run: SourceRun<PartnerDropSourceConfig, ScheduleTrigger>,
): Promise<IngestOutput> {
  const { input, contract, source, store, now } = run;
  const batches = new Set(
    (await store.list('landing', source.prefix))
      .map((key) => key.slice(source.prefix.length))
      .filter((rest) => rest.includes('/'))
      .map((rest) => rest.split('/')[0]!),
  );
  let incomplete = 0;
  let reported = 0;
  for (const batch of [...batches].sort()) {
    const record = await readBatchRecord(store, contract.name, batch);
    const state = await batchState(store, source, batch, record);
    if (!state.delivered || state.complete) continue;
    incomplete++;
    if (record?.status === 'overdue') reported++;
    else await failIfOverdue(store, contract, source, batch, state, record, now, input);
  }
  const batchCount = `${incomplete} incomplete batch${incomplete === 1 ? '' : 'es'}`;
  return {
    ...nothingLanded(`waiting-${contract.name}`, dateOf(now)),
    waiting: true,
    waitingFor:
      incomplete === 0
        ? 'no incomplete batch'
        : `${batchCount}, ${reported === 0 ? 'none' : reported} reported overdue${reported === 0 ? '' : ' before'}`,
  };
}

interface BatchState {
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
async function batchState(
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

async function failIfOverdue(
  store: ObjectStore,
  contract: Contract,
  source: PartnerDropSourceConfig,
  batch: string,
  state: BatchState,
  record: BatchRecord | undefined,
  now: Date,
  input: IngestInput,
): Promise<void> {
  const since = state.firstArrivedAt;
  if (!since || now.getTime() - since.getTime() <= source.deadline_minutes * 60_000) return;
  if (record?.status === 'overdue') return;
  const message =
    `partner batch ${`${store.describe('landing', state.prefix.slice(0, -1))}/`} is incomplete ${Math.round((now.getTime() - since.getTime()) / 60_000)} min after its first file arrived ` +
    `(deadline_minutes ${source.deadline_minutes}): missing ${nameList(state.missing)}; ` +
    `${state.files.length} file(s) arrived. Nothing was landed; the batch is ingested when it completes.`;
  // A folder used again can have a batch overdue more than once: each is its own run.
  const runId = batchRunId(contract.name, state.prefix, `incomplete@${since.toISOString()}`);
  const failed: RunRecord = {
    dataset: contract.name,
    runId,
    dt: dateOf(since),
    status: 'FAILED',
    executionId: input.executionId,
    startedAt: input.startedAt,
    finishedAt: now.toISOString(),
    trigger: input.trigger,
    error: { name: 'IncompleteBatch', message },
  };
  await writeRunRecord(store, failed);
  await writeTriggerRun(store, contract.name, input.trigger, runId);
  await writeBatchRecord(store, contract.name, {
    ...record,
    batch,
    status: 'overdue',
    at: now.toISOString(),
    runId,
    missing: state.missing,
  });
  throw new IncompleteBatch(message);
}

async function landBatch(
  input: IngestInput,
  contract: Contract,
  source: PartnerDropSourceConfig,
  batch: string,
  state: BatchState,
  store: ObjectStore,
  now: Date,
): Promise<IngestOutput> {
  // First pass: the hash of every file, for the run id and the checksums.
  const hashes = new Map<string, { sha256: string; size: number }>();
  for (const file of state.files)
    hashes.set(file.key, await hashStream(await store.read('landing', file.key)));
  const listing = state.files.map((f) => `${hashes.get(f.key)!.sha256}  ${f.name}\n`).join('');
  const sha256 = createHash('sha256').update(listing).digest('hex');
  const size = state.files.reduce((sum, f) => sum + hashes.get(f.key)!.size, 0);
  const runId = batchRunId(contract.name, state.prefix, sha256);
  const previous = await readRunRecord(store, contract.name, runId);
  const dt = previous?.dt ?? dateOf(state.firstArrivedAt ?? now);
  const run: RunLocation = { dataset: contract.name, dt, runId };
  const keys = state.files.map((f) => rawKey(run, fileNameOf(f.name)));
  const output: IngestOutput = {
    runId,
    dt,
    rawKey: keys[0] ?? '',
    files: keys.length,
    manifestKey: manifestKey(run),
    sha256,
    size,
    records: undefined,
    empty: state.files.length === 0,
    waiting: false,
    waitingFor: '',
    duplicate: false,
    alreadyProcessed: false,
  };
  const landed = () =>
    writeBatchRecord(store, contract.name, {
      batch,
      status: 'landed',
      at: now.toISOString(),
      runId,
      manifestKey: output.manifestKey,
      settled: state.settles,
    });
  if (previous?.status === 'SUCCEEDED') {
    // The same bytes delivered again: nothing more to do, and this delivery is settled too.
    await landed();
    return { ...output, duplicate: true, alreadyProcessed: true };
  }

  // Second pass: land every file as it arrived, then check what the manifest promised.
  let duplicate = false;
  for (const [index, file] of state.files.entries()) {
    const { sha256: fileSha, size: fileSize } = hashes.get(file.key)!;
    const created = await writeRawOnce(store, {
      key: keys[index]!,
      body: { stream: await store.read('landing', file.key), length: fileSize },
      sha256: fileSha,
      from: store.describe('landing', file.key),
      metadata: { 'source-key': file.key },
    });
    if (!created) duplicate = true;
  }
  const expected = new Map((state.declared ?? []).map((d) => [d.name, d]));
  const mismatches = state.files.flatMap((f) => {
    const declared = expected.get(f.name);
    const actual = hashes.get(f.key)!;
    if (!declared) return [];
    const problems = [];
    if (declared.sha256 !== actual.sha256)
      problems.push({ name: f.name, expected: declared.sha256, actual: actual.sha256 });
    if (declared.size !== undefined && declared.size !== actual.size) {
      problems.push({ name: f.name, expected: `${declared.size} bytes`, actual: `${actual.size} bytes` });
    }
    return problems;
  });
  const manifest: PartnerManifest = {
    dataset: contract.name,
    runId,
    source: { type: 'partner-drop', prefix: source.prefix, batch, completedBy: state.completedBy!.key },
    files: state.files.map((f, i) => ({
      name: f.name,
      key: keys[i]!,
      sourceKey: f.key,
      sha256: hashes.get(f.key)!.sha256,
      size: hashes.get(f.key)!.size,
      expectedSha256: expected.get(f.name)?.sha256,
    })),
    checksums: { verified: state.declared !== undefined && mismatches.length === 0, mismatches },
    sha256,
    size,
    firstArrivedAt: state.firstArrivedAt?.toISOString(),
    receivedAt: now.toISOString(),
    executionId: input.executionId,
  };
  let failure: RunRecord['error'];
  if (mismatches.length > 0) {
    const shown = mismatches.slice(0, NAMES_SHOWN);
    const message =
      `partner batch ${`${store.describe('landing', state.prefix.slice(0, -1))}/`}: ${mismatches.length} file(s) do not match the manifest ${state.completedBy!.name}: ` +
      shown.map((m) => `${m.name} (expected ${m.expected}, found ${m.actual})`).join('; ') +
      (mismatches.length > shown.length
        ? `; and ${mismatches.length - shown.length} more (the raw manifest lists each)`
        : '') +
      `. Nothing was promoted; what arrived is kept in ${`${store.describe('raw', `${contract.name}/dt=${dt}/run=${runId}`)}/`}. Ask the partner to send the batch again.`;
    failure = { name: 'ChecksumMismatch', message };
  }
  await recordLanding(store, {
    dataset: contract.name,
    input,
    output,
    manifest,
    previous,
    record: failure && { status: 'FAILED', finishedAt: now.toISOString(), error: failure },
  });
  // A batch that does not match its manifest is not settled: the partner sends it again, and
  // its files that were right count again.
  if (failure) throw new ChecksumMismatch(failure.message);
  await landed();
  return { ...output, duplicate };
}

/** The last batch landed from a folder where nothing was delivered since (another event of that batch). */
async function landedBefore(store: ObjectStore, dataset: string, key: string): Promise<IngestOutput> {
  const manifest = JSON.parse(await store.readText('raw', key)) as PartnerManifest;
  const previous = await readRunRecord(store, dataset, manifest.runId);
  return {
    runId: manifest.runId,
    dt: previous?.dt ?? /\/dt=(\d{4}-\d\d-\d\d)\//.exec(key)?.[1] ?? dateOf(manifest.receivedAt),
    rawKey: manifest.files[0]?.key ?? '',
    files: manifest.files.length,
    manifestKey: key,
    sha256: manifest.sha256,
    size: manifest.size,
    empty: manifest.files.length === 0,
    waiting: false,
    waitingFor: '',
    duplicate: true,
    alreadyProcessed: previous?.status === 'SUCCEEDED',
  };
}

async function readBatchRecord(
  store: ObjectStore,
  dataset: string,
  batch: string,
): Promise<BatchRecord | undefined> {
  const current = await store.readVersioned('reports', batchStateKey(dataset, batch));
  return current ? (JSON.parse(current.text) as BatchRecord) : undefined;
}

async function writeBatchRecord(store: ObjectStore, dataset: string, record: BatchRecord): Promise<void> {
  await store.put('reports', batchStateKey(dataset, record.batch), JSON.stringify(record, null, 2), {
    contentType: 'application/json',
  });
}

/** The output of a run whose batch is not complete, saying what it lacks. */
function waiting(dataset: string, now: Date, state: BatchState): IngestOutput {
  return {
    ...nothingLanded(`waiting-${dataset}`, dateOf(now)),
    waiting: true,
    waitingFor: `${nameList(state.missing)} (${state.files.length} file${state.files.length === 1 ? '' : 's'} arrived)`,
  };
}

/** Same dataset, batch folder and file hashes give the same run id. */
function batchRunId(dataset: string, prefix: string, sha256: string): string {
  return createHash('sha256')
    .update(`${dataset}\npartner-drop:${prefix}\n${sha256}`)
    .digest('hex')
    .slice(0, 16);
}
