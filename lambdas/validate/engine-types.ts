/** What the validation engine (engine.ts) takes and writes: its outputs, options and quarantine lines. */
import type { Writable } from 'node:stream';
import type { ExpectationScope } from '../shared/contract.js';
import type { ProgressListener } from '../shared/progress.js';
import type { RowFailure } from './record-schema.js';

/**
 * Where records go: typed JSON Lines. The engine writes and waits for 'drain'; it does not end
 * them. An output left out is not produced at all (`sluice validate` reports and writes no rows).
 */
export interface ValidationOutputs {
  valid?: Writable;
  quarantine?: Writable;
}

export interface ValidateOptions {
  /** Names the input in messages, e.g. s3://bucket/key. */
  source?: string;
  /** Called after each chunk of input is processed. */
  onProgress?: ProgressListener;
  /** Clock for meta.validation_time. */
  now?: () => Date;
  /**
   * The input's size in bytes, when known (S3 ContentLength, a file's size): after the first
   * chunk the engine estimates the number of records from it, and expectations that keep
   * something per record (uniqueness) make room for that many at once instead of growing.
   */
  sizeBytes?: number;
  /**
   * For a stream joined from several files (a batch of HTTP pages or partner files), where each
   * of its lines and bytes comes from: quarantined rows and messages then name the file and the
   * line within it, while `index` still counts the records of the whole stream.
   */
  origins?: StreamOrigins;
  /**
   * Which of the contract's expectations to evaluate: those of each batch (the default), or those
   * marked `scope: snapshot`, over a stream of the curated snapshot's records (snapshot.ts).
   */
  scope?: ExpectationScope;
  /**
   * Whether to profile every column in the same pass (profile.ts): on by default; off for a
   * validation whose report nobody reads, and to measure what profiling costs.
   */
  profile?: boolean;
  /**
   * Keep the first quarantined rows of each expectation for the data docs (quarantine-samples.ts),
   * as ValidationOutcome.quarantineSamples: what core.ts and `sluice validate` ask for. Not in a
   * shard, whose rows are renumbered after it.
   */
  quarantineSamples?: boolean;
}

/** Where the lines and bytes of a stream joined from several files come from (raw-batch.ts). */
export interface StreamOrigins {
  /** The file a line of the stream is in: its name in the batch, its description, its own line. */
  line(line: number): { file: string; source: string; line: number };
  /** The file a byte of the stream is in, and the byte's offset within it. */
  byte(offset: number): { source: string; offset: number };
}

/** One line of the quarantine output. */
export interface QuarantineEntry {
  /** In a batch of several files, the file the record is in (its name in the batch). */
  file?: string;
  /**
   * 1-based line of the file on which the record starts (the CSV header is line 1); for the
   * records of a JSON document (an HTTP page), the record's position in it.
   */
  row: number;
  /** 0-based index of the record (GX unexpected_index_list). */
  index: number;
  failures: RowFailure[];
  /** The record as read (typed where it could be), or the raw line when it could not be read as a record. */
  record: unknown;
}
