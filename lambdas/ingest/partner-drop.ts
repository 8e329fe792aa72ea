import { createHash } from 'node:crypto';
import type { Contract, PartnerDropSourceConfig } from '../shared/contract.js';
import {
  ChecksumMismatch,
  IncompleteBatch,
  MalformedInput,
  RawObjectConflict,
  UnsupportedSource,
} from '../shared/errors.js';
import { dateOf, fileNameOf, manifestKey, type RunLocation, rawKey } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import { type RunRecord, readRunRecord, writeRunRecord, writeTriggerRun } from '../shared/run-record.js';
import type { IngestInput, IngestOutput } from './core.js';
import { hashStream, nothingLanded, recordLanding } from './landing.js';

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
 */

/**
 * The Object Created event of a file in a partner's folder (EventBridge, or `sluice run --input
 * <folder>`). An `s3-upload` trigger of the same key is taken the same way.
 */
export interface PartnerDropTrigger {
  type: 'partner-drop';
  key: string;
  bucket?: string;
  time?: string;
}

/** One batch's state in the reports zone, so that an overdue batch is reported once. */
export function batchStateKey(dataset: string, batch: string): string {
  return `${dataset}/batches/${batch}.json`;
}

interface Listed {
  key: string;
  name: string;
  size: number;
  lastModified?: Date;
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
  input: IngestInput,
  contract: Contract,
  source: PartnerDropSourceConfig,
  trigger: { key: string },
  store: ObjectStore,
  now: Date,
): Promise<IngestOutput> {
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
  const state = await batchState(store, source, batch);
  if (!state.complete) {
    await failIfOverdue(store, contract, source, batch, state, now, input);
    return waiting(contract.name, now);
  }
  return landBatch(input, contract, source, batch, state, store, now);
}

/** A scheduled run: fails with IncompleteBatch when a batch is overdue (once per batch), otherwise waits. */
export async function sweepPartnerDrops(
  input: IngestInput,
  contract: Contract,
  source: PartnerDropSourceConfig,
  store: ObjectStore,
  now: Date,
): Promise<IngestOutput> {
  const batches = new Set(
    (await store.list('landing', source.prefix))
      .map((key) => key.slice(source.prefix.length))
      .filter((rest) => rest.includes('/'))
      .map((rest) => rest.split('/')[0]!),
  );
  for (const batch of [...batches].sort()) {
    const previous = await readBatchState(store, contract.name, batch);
    if (previous) continue;
    const state = await batchState(store, source, batch);
    if (!state.complete) await failIfOverdue(store, contract, source, batch, state, now, input);
  }
  return waiting(contract.name, now);
}

interface BatchState {
  prefix: string;
  files: Listed[];
  complete: boolean;
  /** The marker or manifest that completed the batch. */
  completedBy?: Listed;
  declared?: DeclaredFile[];
  /** Why it is not complete yet. */
  missing: string[];
  firstArrivedAt?: Date;
}

async function batchState(
  store: ObjectStore,
  source: PartnerDropSourceConfig,
  batch: string,
): Promise<BatchState> {
  const prefix = `${source.prefix}${batch}/`;
  const listed: Listed[] = [];
  for (const key of await store.list('landing', prefix)) {
    const name = key.slice(prefix.length);
    if (name.includes('/')) continue;
    const head = await store.head('landing', key);
    if (head) listed.push({ key, name, size: head.size, lastModified: head.lastModified });
  }
  const firstArrivedAt = listed.reduce<Date | undefined>(
    (first, f) => (f.lastModified && (!first || f.lastModified < first) ? f.lastModified : first),
    undefined,
  );
  const completionName = source.complete_when.marker ?? source.complete_when.manifest!;
  const completedBy = listed.find((f) => f.name === completionName);
  const data = listed.filter(
    (f) =>
      f !== completedBy &&
      !f.name.startsWith('_') &&
      !f.name.startsWith('.') &&
      (source.suffix === undefined || f.name.endsWith(source.suffix)),
  );
  if (!completedBy) {
    return { prefix, files: data, complete: false, missing: [completionName], firstArrivedAt };
  }
  if (source.complete_when.marker !== undefined) {
    const files = data.sort((a, b) => (a.name < b.name ? -1 : 1));
    return { prefix, files, complete: true, completedBy, missing: [], firstArrivedAt };
  }
  const declared = parseManifest(
    await store.readText('landing', completedBy.key),
    store.describe('landing', completedBy.key),
  );
  const byName = new Map(data.map((f) => [f.name, f]));
  const missing = declared.filter((d) => !byName.has(d.name)).map((d) => d.name);
  const files = declared.flatMap((d) => (byName.has(d.name) ? [byName.get(d.name)!] : []));
  return { prefix, files, complete: missing.length === 0, completedBy, declared, missing, firstArrivedAt };
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
        name: file.name,
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
    return { name: match[2]!.trim(), sha256: match[1]!.toLowerCase() };
  });
  if (files.length === 0) throw new MalformedInput(`${where}: the batch manifest lists no file`);
  return files;
}

async function failIfOverdue(
  store: ObjectStore,
  contract: Contract,
  source: PartnerDropSourceConfig,
  batch: string,
  state: BatchState,
  now: Date,
  input: IngestInput,
): Promise<void> {
  const since = state.firstArrivedAt;
  if (!since || now.getTime() - since.getTime() <= source.deadline_minutes * 60_000) return;
  if ((await readBatchState(store, contract.name, batch))?.status === 'overdue') return;
  const message =
    `partner batch ${`${store.describe('landing', state.prefix.slice(0, -1))}/`} is incomplete ${Math.round((now.getTime() - since.getTime()) / 60_000)} min after its first file arrived ` +
    `(deadline_minutes ${source.deadline_minutes}): missing ${state.missing.join(', ')}; ` +
    `${state.files.length} file(s) arrived. Nothing was landed; the batch is ingested when it completes.`;
  const runId = batchRunId(contract.name, state.prefix, 'incomplete');
  const record: RunRecord = {
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
  await writeRunRecord(store, record);
  await writeTriggerRun(store, contract.name, input.trigger, runId);
  await store.put(
    'reports',
    batchStateKey(contract.name, batch),
    JSON.stringify(
      { batch, status: 'overdue', at: now.toISOString(), missing: state.missing, runId },
      null,
      2,
    ),
    { contentType: 'application/json' },
  );
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
    rawKeys: keys,
    manifestKey: manifestKey(run),
    sha256,
    size,
    records: undefined,
    empty: state.files.length === 0,
    waiting: false,
    duplicate: false,
    alreadyProcessed: false,
  };
  if (previous?.status === 'SUCCEEDED') return { ...output, duplicate: true, alreadyProcessed: true };

  // Second pass: land every file as it arrived, then check what the manifest promised.
  let duplicate = false;
  for (const [index, file] of state.files.entries()) {
    const { sha256: fileSha, size: fileSize } = hashes.get(file.key)!;
    const created = await store.putIfAbsent(
      'raw',
      keys[index]!,
      { stream: await store.read('landing', file.key), length: fileSize },
      { metadata: { sha256: fileSha, 'source-key': file.key } },
    );
    if (!created) {
      duplicate = true;
      if ((await store.head('raw', keys[index]!))?.metadata.sha256 !== fileSha) {
        throw new RawObjectConflict(
          `${store.describe('raw', keys[index]!)} already holds different bytes; ${store.describe('landing', file.key)} (sha256 ${fileSha}) was not written. Raw is write-once.`,
        );
      }
    }
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
    const message =
      `partner batch ${`${store.describe('landing', state.prefix.slice(0, -1))}/`}: ${mismatches.length} file(s) do not match the manifest ${state.completedBy!.name}: ` +
      mismatches.map((m) => `${m.name} (expected ${m.expected}, found ${m.actual})`).join('; ') +
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
  if (failure) throw new ChecksumMismatch(failure.message);
  await store.put(
    'reports',
    batchStateKey(contract.name, batch),
    JSON.stringify({ batch, status: 'landed', at: now.toISOString(), runId }, null, 2),
    { contentType: 'application/json' },
  );
  return { ...output, duplicate };
}

async function readBatchState(
  store: ObjectStore,
  dataset: string,
  batch: string,
): Promise<{ status: string } | undefined> {
  const current = await store.readVersioned('reports', batchStateKey(dataset, batch));
  return current ? (JSON.parse(current.text) as { status: string }) : undefined;
}

function waiting(dataset: string, now: Date): IngestOutput {
  return { ...nothingLanded(`waiting-${dataset}`, dateOf(now)), waiting: true };
}

/** Same dataset, batch folder and file hashes give the same run id. */
function batchRunId(dataset: string, prefix: string, sha256: string): string {
  return createHash('sha256')
    .update(`${dataset}\npartner-drop:${prefix}\n${sha256}`)
    .digest('hex')
    .slice(0, 16);
}
