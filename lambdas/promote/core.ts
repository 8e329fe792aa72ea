import { Readable } from 'node:stream';
import { supersededRuns } from '../shared/batches.js';
import { type Contract, contractNamed } from '../shared/contract.js';
import { curatedKey, curatedPartKey, type RunLocation, runPrefix } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import { parquetFields } from '../shared/parquet-schema.js';
import { linesOf, type ParquetFileSummary, parquetChunks } from '../shared/parquet-write.js';

export interface PromoteInput {
  dataset: string;
  runId: string;
  dt: string;
  /** The run's validated object, or (ending in '/') the prefix of its parts, one per shard of a batch validated in shards. */
  validatedKey: string;
  rowsQuarantined?: number;
}

export interface PromoteOutput {
  /** The curated object, or the prefix of the curated parts when the batch has several. */
  curatedKey: string;
  size: number;
  /** Whether the contract asks for a DVC version of the snapshot. */
  version: boolean;
  /** The git tag the version gets, from the contract's template. */
  tag: string;
  /** What the version's tag records about validation. */
  outcome: 'passed' | 'quarantined';
  /** Curated part files of earlier batches from the same source that this one replaced (`same_source: replace`). */
  superseded: string[];
  /**
   * Properties that records had and the schema does not declare: kept in validated, but not
   * written to the curated Parquet files, which hold the declared columns (docs/curated.md).
   */
  undeclaredColumns?: string[];
}

export interface PromotePorts {
  store: ObjectStore;
  contracts: ReadonlyMap<string, Contract>;
}

/**
 * Writes this run's validated records into the curated zone, the snapshot that is versioned and
 * trained on: as typed Parquet, one file per validated part, streamed a row group at a time
 * (`curated: { format: parquet }`, the default), or as the validated JSON Lines themselves
 * (`format: jsonl`). A repeated run of the same run id rewrites the same keys with the same bytes.
 * With `batches: { same_source: replace }`, the curated batches of earlier runs from the same
 * source are then removed, so that the snapshot (and its DVC version) holds this batch's rows for
 * that source; raw keeps every batch. The new batch is written first: a promotion that stops
 * half-way leaves both, and its retry removes the earlier one.
 */
export async function promote(input: PromoteInput, ports: PromotePorts): Promise<PromoteOutput> {
  const contract = contractNamed(ports.contracts, input.dataset);
  const run: RunLocation = { dataset: contract.name, dt: input.dt, runId: input.runId };
  const { format } = contract.curated;
  const parts = input.validatedKey.endsWith('/')
    ? (await ports.store.list('validated', input.validatedKey)).filter((key) =>
        /^part-\d{5}\.jsonl$/.test(key.slice(input.validatedKey.length)),
      )
    : [input.validatedKey];
  const fields = format === 'parquet' ? parquetFields(contract.schema) : [];
  const undeclared = new Set<string>();
  let size = 0;
  // The first part last: a run counts as promoted once its part-00000 is in curated (curatedRuns).
  for (const part of [...parts].reverse()) {
    const number = parts.length === 1 ? 0 : Number(/part-(\d{5})\.jsonl$/.exec(part)![1]);
    const target = curatedPartKey(run, format, number);
    const metadata = { 'run-id': input.runId };
    if (format === 'jsonl') {
      const info = await ports.store.head('validated', part);
      size += info?.size ?? 0;
      await ports.store.put('curated', target, await ports.store.read('validated', part), {
        contentType: 'application/x-ndjson',
        metadata,
      });
      continue;
    }
    const written: ParquetFileSummary = { rows: 0, rowGroups: 0, bytes: 0 };
    const lines = linesOf(await ports.store.read('validated', part));
    const chunks = parquetChunks(
      lines,
      fields,
      { source: ports.store.describe('validated', part), onUndeclared: (name) => undeclared.add(name) },
      written,
    );
    await ports.store.put('curated', target, Readable.from(chunks, { objectMode: false }), {
      contentType: 'application/vnd.apache.parquet',
      metadata,
    });
    size += written.bytes;
  }
  const key = parts.length === 1 ? curatedKey(run, format) : runPrefix(run);
  const superseded = await supersededRuns(ports.store, contract, run);
  for (const earlier of superseded) {
    for (const part of earlier.parts) await ports.store.delete('curated', part);
  }
  return {
    curatedKey: key,
    size,
    version: contract.version.dvc,
    tag: versionTag(contract.version.tag, run),
    outcome: (input.rowsQuarantined ?? 0) > 0 ? 'quarantined' : 'passed',
    superseded: superseded.flatMap((earlier) => earlier.parts),
    ...(undeclared.size > 0 ? { undeclaredColumns: [...undeclared] } : {}),
  };
}

/** Fills a tag template: {dataset}, {date} (the run's dt) and {run} (the run id). */
export function versionTag(template: string, run: RunLocation): string {
  return template
    .replaceAll('{dataset}', run.dataset)
    .replaceAll('{date}', run.dt)
    .replaceAll('{run}', run.runId);
}
