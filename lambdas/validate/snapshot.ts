/**
 * Snapshot checks: the contract's expectations marked `scope: snapshot`, evaluated over the
 * curated snapshot as it would be once this batch is promoted — every curated batch of the
 * dataset, minus the ones this batch replaces (`batches: { same_source: replace }`) and minus an
 * earlier promotion of this same run, plus the batch's valid records. It runs at the end of
 * ValidateBatch, so that its results join the batch's GX-shaped result and a failure stops the
 * run at Decide, before anything is promoted.
 *
 * The curated files are streamed one after the other through the same engine and evaluators as
 * a batch (a Parquet file as the JSON Lines of its records, a row group at a time), so memory is
 * what those expectations keep (uniqueness: its index of keys), not the snapshot's size.
 */
import { Readable, Writable } from 'node:stream';
import { type CuratedRun, curatedRuns, supersededRuns } from '../shared/batches.js';
import { type Contract, DEFAULT_MAX_RECORD_BYTES } from '../shared/contract.js';
import type { RunLocation } from '../shared/keys.js';
import type { ObjectStore, Zone } from '../shared/object-store.js';
import { parquetRecordLines } from '../shared/parquet-read.js';
import {
  type ExpectationValidationResult,
  type StreamOrigins,
  type ValidationOutcome,
  validateStream,
} from './engine.js';
import { show } from './evaluator.js';
import { SCHEMA_EXPECTATION } from './record-schema.js';
import { suiteSuccess } from './validation-outcome.js';

export interface SnapshotCheck {
  /** The snapshot expectations' results, each with `scope: snapshot` in its config's meta. */
  results: ExpectationValidationResult[];
  /** Why the batch may not be promoted: one sentence per failed expectation of severity error. */
  reasons: string[];
  /** Failed expectations of severity warning. */
  warnings: string[];
  /** What the snapshot was made of. */
  snapshot: {
    /** Curated batches read, besides this batch's valid records. */
    batches: number;
    /** Curated part files this batch replaces, left out of the snapshot. */
    replaced: string[];
    rows: number;
  };
}

/** Rows that broke a snapshot expectation named in a failure's message, at most. */
const EXAMPLE_ROWS = 5;

/**
 * Evaluates the contract's `scope: snapshot` expectations over the snapshot this batch would
 * make; undefined when the contract has none. `validatedKey` holds the batch's valid records (a
 * batch validated in shards: its parts, in order).
 */
export async function checkSnapshot(
  store: ObjectStore,
  contract: Contract,
  run: RunLocation,
  validatedKey: string | readonly string[],
): Promise<SnapshotCheck | undefined> {
  if (!contract.expectations.some((e) => e.scope === 'snapshot')) return undefined;
  const curated = await curatedRuns(store, contract.name);
  const replaced = new Set((await supersededRuns(store, contract, run, curated)).map((r) => r.key));
  const kept = curated.filter((c) => c.runId !== run.runId && !replaced.has(c.key));
  const parts: SnapshotPart[] = [
    ...kept.flatMap((c) => c.parts.map((key) => ({ zone: 'curated' as const, key, label: curatedLabel(c) }))),
    ...[validatedKey].flat().map((key) => ({
      zone: 'validated' as const,
      key,
      label: `this batch (run ${run.runId})`,
    })),
  ];
  const origins = new PartOrigins(store);
  const examples = new FailedRows(EXAMPLE_ROWS);
  // Records only: the schema was checked when each batch was validated, and the snapshot is read as JSON Lines.
  const records: Contract = {
    ...contract,
    // A record written as JSON (column names, escapes) can be longer than it was in the raw file.
    format: {
      type: 'jsonl',
      encoding: 'utf-8',
      max_record_bytes: 4 * (contract.format.max_record_bytes ?? DEFAULT_MAX_RECORD_BYTES),
    },
    schema: { type: 'object', properties: {} },
    on_failure: 'reject',
  };
  const outcome = await validateStream(
    Readable.from(joined(store, parts, origins)),
    records,
    { quarantine: examples },
    { source: `the curated snapshot of ${contract.name} with this batch`, origins, scope: 'snapshot' },
  );
  const results: ExpectationValidationResult[] = [];
  const reasons: string[] = [];
  const warnings: string[] = [];
  outcome.result.results.forEach((entry, i) => {
    const config = entry.expectation_config;
    if (config.type === SCHEMA_EXPECTATION) return;
    results.push({
      ...entry,
      expectation_config: { ...config, meta: { ...config.meta, scope: 'snapshot' } },
    });
    if (entry.success) return;
    const sentence = `Snapshot check failed: ${outcome.summaries[i]}${examples.describe(config.type, config.kwargs.column)}.`;
    (config.severity === 'warning' ? warnings : reasons).push(sentence);
  });
  return {
    results,
    reasons,
    warnings,
    snapshot: { batches: kept.length, replaced: [...replaced], rows: outcome.rows.read },
  };
}

interface SnapshotPart {
  zone: Zone;
  key: string;
  /** How messages name the part: a curated run, or this batch. */
  label: string;
}

function curatedLabel(run: CuratedRun): string {
  return `curated run ${run.runId} (dt=${run.dt})`;
}

const NEWLINE = Buffer.from('\n');

/** The parts' records as one JSON Lines stream, each part starting on a line of its own. */
async function* joined(
  store: ObjectStore,
  parts: readonly SnapshotPart[],
  origins: PartOrigins,
): AsyncGenerator<Buffer> {
  let endsWithNewline = true;
  for (const part of parts) {
    if (!endsWithNewline) yield origins.passed(NEWLINE);
    origins.begin(part);
    // A curated Parquet part is read back as the JSON Lines of its records, a row group at a time.
    const bytes = part.key.endsWith('.parquet')
      ? parquetRecordLines(store, part.zone, part.key)
      : ((await store.read(part.zone, part.key)) as AsyncIterable<Buffer>);
    for await (const chunk of bytes) {
      if (chunk.length === 0) continue;
      endsWithNewline = chunk[chunk.length - 1] === 0x0a;
      yield origins.passed(chunk);
    }
  }
}

/**
 * Which part a line of the joined stream is in, and its line there, so that a duplicate is named
 * by the batch it is in. Whole JSON Lines files, so every part starts at its own line 1.
 */
class PartOrigins implements StreamOrigins {
  private readonly starts: Array<{ part: SnapshotPart; line: number; byte: number }> = [];
  private lineCount = 1;
  private byteCount = 0;

  constructor(private readonly store: ObjectStore) {}

  begin(part: SnapshotPart): void {
    this.starts.push({ part, line: this.lineCount, byte: this.byteCount });
  }

  passed(bytes: Buffer): Buffer {
    this.byteCount += bytes.length;
    for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) this.lineCount++;
    return bytes;
  }

  line(line: number): { file: string; source: string; line: number } {
    const start = this.find((s) => s.line <= line);
    return {
      file: start.part.label,
      source: this.store.describe(start.part.zone, start.part.key),
      line: line - start.line + 1,
    };
  }

  byte(offset: number): { source: string; offset: number } {
    const start = this.find((s) => s.byte <= offset);
    return { source: this.store.describe(start.part.zone, start.part.key), offset: offset - start.byte };
  }

  /** The last part that starts at or before a position (asked in any order: a duplicate names an earlier row). */
  private find(startsBefore: (start: PartOrigins['starts'][number]) => boolean) {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (startsBefore(this.starts[middle]!)) low = middle;
      else high = middle - 1;
    }
    return this.starts[low]!;
  }
}

/**
 * The first rows that broke each snapshot expectation, from the engine's quarantine output (the
 * snapshot's rows are not quarantined: this only names them in the failure's message).
 */
class FailedRows extends Writable {
  private readonly rows = new Map<string, string[]>();
  private pending = '';

  constructor(private readonly limit: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    const lines = (this.pending + chunk.toString('utf8')).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) if (line) this.take(line);
    done();
  }

  private take(line: string): void {
    const entry = JSON.parse(line) as {
      file?: string;
      row: number;
      failures: Array<{ expectation: string; column: string | null; reason: string; value?: unknown }>;
    };
    for (const failure of entry.failures) {
      const key = `${failure.expectation}|${failure.column ?? ''}`;
      const rows = this.rows.get(key) ?? [];
      if (rows.length >= this.limit) continue;
      const value = failure.column === null ? '' : ` ${failure.column} ${show(failure.value)}`;
      rows.push(`row ${entry.row} of ${entry.file ?? 'the snapshot'}:${value} ${failure.reason}`);
      this.rows.set(key, rows);
    }
  }

  /** `; e.g. row 3 of this batch: …` for an expectation with failed rows, else nothing. */
  describe(type: string, column: unknown): string {
    const rows = this.rows.get(`${type}|${typeof column === 'string' ? column : ''}`);
    return rows?.length ? `; e.g. ${rows.join('; ')}` : '';
  }
}

/**
 * The batch's outcome with the snapshot check's results after its own: one GX-shaped result for
 * the run, its statistics over both, and a decision that promotes only when both allow it.
 */
export function withSnapshot(outcome: ValidationOutcome, check: SnapshotCheck): ValidationOutcome {
  const results = [...outcome.result.results, ...check.results];
  const { decision } = outcome;
  return {
    ...outcome,
    result: {
      ...outcome.result,
      ...suiteSuccess(results),
      results,
      meta: { ...outcome.result.meta, snapshot: check.snapshot },
    },
    decision: {
      promote: decision.promote && check.reasons.length === 0,
      reasons: [...decision.reasons, ...check.reasons],
      warnings: [...decision.warnings, ...check.warnings],
    },
  };
}
