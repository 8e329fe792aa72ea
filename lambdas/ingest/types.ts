import type { Contract } from '../shared/contract.js';
import type { ObjectStore } from '../shared/object-store.js';
import type { ProgressListener } from '../shared/progress.js';
import type { Interval } from '../shared/schedule.js';
import type { SecretReader } from './sources/credentials.js';

// What every ingest path takes and returns: the dispatcher (core.ts) and each source's path share
// these, so no source depends on the dispatcher.

/** An object created under a dataset's landing prefix (the EventBridge `Object Created` event, reduced). */
export interface S3UploadTrigger {
  type: 's3-upload';
  bucket?: string;
  key: string;
  size?: number;
  etag?: string;
  versionId?: string;
  sequencer?: string;
  /** When the object was created (the event's time). */
  time?: string;
}

/**
 * A scheduled run of a pulled source. The deployed schedule rule sends `{ type, time }` and ingest
 * derives the interval from the contract's schedule (the last whole interval ended by `time`, see
 * `lambdas/shared/schedule.ts`); `sluice start`, `sluice backfill` and `sluice run` name it.
 */
export interface ScheduleTrigger {
  type: 'schedule';
  time: string;
  interval?: Interval;
  /**
   * Take the interval even if it has not ended or is off the schedule's grid (`--force`); without
   * it such an interval is refused (`IntervalNotClosed`, `IntervalNotAllowed`).
   */
  force?: boolean;
}

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

export type Trigger = S3UploadTrigger | ScheduleTrigger | PartnerDropTrigger;

export interface IngestInput {
  dataset: string;
  trigger: Trigger;
  executionId?: string;
  startedAt?: string;
}

export interface IngestOutput {
  runId: string;
  dt: string;
  /** The first raw object of the batch (the only one for an upload). */
  rawKey: string;
  /**
   * How many raw objects the batch has: the pages of an HTTP pull, the files of a partner batch.
   * Their keys are in the manifest (`readBatchKeys`), never in the result: it is the execution
   * state, which Step Functions stops at 256 KiB.
   */
  files: number;
  manifestKey: string;
  sha256: string;
  size: number;
  /** Records extracted, when the source counts them (postgres, http). */
  records?: number;
  /** A pull that found nothing new: nothing was landed, nothing is validated. */
  empty: boolean;
  /** A partner batch that is not complete yet: nothing was landed or recorded; a later file's run ingests it. */
  waiting: boolean;
  /** What a waiting batch lacks, in a few words (the marker, or files its manifest lists); '' otherwise. */
  waitingFor: string;
  /** The raw object already held these bytes (a repeated or duplicated trigger). */
  duplicate: boolean;
  /** A run of these bytes already succeeded: nothing more to do. */
  alreadyProcessed: boolean;
  /**
   * The batch is validated in shards (a Distributed Map) rather than in one pass: its objects
   * hold more than the contract's `format.shard_mb` in all. Set by `ingest` for every source.
   */
  shard?: boolean;
  /**
   * A stream run: the closed hour it took (`dt=…/hour=…`; none when it found nothing new), and
   * the closed hours that still hold objects no run has taken, oldest first (each later run of the
   * schedule takes the oldest).
   */
  stream?: { partition?: string; backlog: string[] };
}

export interface IngestPorts {
  store: ObjectStore;
  contracts: ReadonlyMap<string, Contract>;
  clock?: () => Date;
  /** Secrets for pulled sources (Secrets Manager in AWS; SLUICE_SECRET_* variables locally). */
  secrets?: SecretReader;
  /** Where credentials named by environment variable are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Told how far an extraction has read (the rows and bytes of a postgres extraction so far). */
  onProgress?: ProgressListener;
  /** The HTTP client of http sources; the global fetch by default. */
  fetch?: typeof fetch;
  /** How pulled sources wait between retries and for open transactions; a real timer by default. */
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * What each source's ingest path is given, always in this order: the run's input and its trigger
 * (narrowed to the kinds the path takes), the dataset's contract and its source, the lake, and the
 * time the run started (the ports' clock, read once).
 */
export interface SourceRun<Source, T extends Trigger = Trigger> {
  input: IngestInput;
  trigger: T;
  contract: Contract;
  source: Source;
  store: ObjectStore;
  now: Date;
}
