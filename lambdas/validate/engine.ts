/**
 * The validation engine: reads a CSV or JSON Lines byte stream once, checks every record
 * against the contract's JSON Schema and row-level expectations, writes valid records and
 * quarantined rows as JSON Lines, and returns a Great Expectations-shaped result with the
 * promotion decision. No AWS here: the handler passes streams in and out.
 *
 * Memory stays flat in the size of the file: the reader keeps only the unfinished record,
 * output is handed to the streams in pieces as it is made, and expectations keep accumulators
 * (uniqueness's index of values is the one that grows with the number of distinct values).
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { type Contract, DEFAULT_MAX_RECORD_BYTES, isJsonDocuments } from '../shared/contract.js';
import { MalformedInput } from '../shared/errors.js';
import { CsvReader } from './csv-reader.js';
import type { QuarantineEntry, ValidateOptions, ValidationOutputs } from './engine-types.js';
import { createEvaluator, type Evaluator, notEvaluated, type Row, type TableFacts } from './expectations.js';
import { explainReadError, headerLacksRequired, headerNames, inputLine } from './input-errors.js';
import { JsonLinesReader, refuseJsonArray, unkeepableJson } from './jsonl-reader.js';
import { Profiler } from './profile.js';
import { QuarantineSamples } from './quarantine-samples.js';
import { type RecordBuilder, recordBuilder } from './record-builder.js';
import {
  coercerFor,
  type RowFailure,
  recordValidator,
  SchemaConformance,
  schemaFailures,
} from './record-schema.js';
import { type RowChecks, rowChecks, withFailure } from './row-checks.js';
import { JsonLinesBuffer } from './row-json.js';
import { addToRuns, type IndexRuns, lineMarker, type ShardOutcome } from './shard-state.js';
import type { ShardSpill, SpillWriter } from './spill.js';
import { StrictUtf8Decoder } from './utf8.js';
import { type Evaluated, type ValidationOutcome, validationOutcome } from './validation-outcome.js';

export type { Decision } from './decision.js';
export type { QuarantineEntry, StreamOrigins, ValidateOptions, ValidationOutputs } from './engine-types.js';
export type { RowFailure } from './record-schema.js';
export { SCHEMA_EXPECTATION } from './record-schema.js';
export type {
  ExpectationResultDetails,
  ExpectationValidationResult,
  SuiteValidationResult,
} from './result-format.js';
export type { ShardOutcome } from './shard-state.js';
export type { ValidationOutcome } from './validation-outcome.js';

/**
 * Validates one file. Throws `MalformedInput` when the bytes are not UTF-8 or a quoted CSV
 * field is never closed; a row that cannot be read (wrong field count, invalid JSON) is
 * quarantined instead. When the CSV header lacks a required column it returns at once,
 * not promoted, without reading the rows (leaving the loop destroys `input`).
 */
export async function validateStream(
  input: Readable,
  contract: Contract,
  outputs: ValidationOutputs,
  options: ValidateOptions = {},
): Promise<ValidationOutcome> {
  const run = new ValidationRun(contract, outputs, options, undefined);
  await run.consume(input);
  return run.outcome();
}

/** How a shard continues the input it was cut from. */
export interface ShardOptions {
  /**
   * The CSV header's text (without its line break), for every shard but the first: the shard's
   * bytes start at a record, and it reads its columns from this.
   */
  csvHeader?: string;
  /** Set for every shard but the first (implied by csvHeader): a first record that is a JSON array is then a malformed row, not a refused file. */
  continues?: boolean;
  /**
   * Where to write what grows with the records (each uniqueness expectation's distinct keys,
   * hash-partitioned; each median's or quantile's values, sorted), so that the outcome stays small
   * whatever the number of keys and values. Give every shard of an input the same spill and
   * partition count, each its own `shard` number; the merge then needs resolveSpill's results.
   */
  spill?: ShardSpill;
}

/**
 * Validates one shard of an input: a byte range that starts at a record (and ends before one).
 * The pass is validateStream's; instead of findings it returns each expectation's mergeable state
 * (mergeShardOutcomes, in shard-merge.ts, turns the states of all shards into the whole input's
 * outcome). Its outputs number records and lines from the shard's start: globalQuarantineLine and
 * globalShardOutputs move them to the whole input's. An error that stops the shard (bytes that
 * are not UTF-8, an unclosed quote) names the shard's own line. Not for a stream joined from
 * several files (options.origins): a batch of files is sharded by file.
 */
export async function validateShard(
  input: Readable,
  contract: Contract,
  outputs: ValidationOutputs,
  options: Omit<ValidateOptions, 'origins'> & ShardOptions = {},
): Promise<ShardOutcome> {
  const run = new ValidationRun(contract, outputs, options, {
    csvHeader: options.csvHeader,
    continues: options.continues === true || options.csvHeader !== undefined,
  });
  await run.consume(input);
  return run.shardOutcome(options.spill);
}

/** Blobs being written to a spill at once, at most. */
const SPILL_WRITES = 8;

/**
 * The quarantine's text goes to its stream in pieces of about this many characters, not once per
 * input chunk: turning one long concatenated string into bytes costs more than several short ones.
 */
const FLUSH_CHARS = 16 * 1024;

/**
 * The valid records' bytes go to their stream in pieces of about this size: each write is a
 * stream operation and, to a file, a system call, so fewer and larger ones cost less.
 */
const FLUSH_BYTES = 128 * 1024;

/**
 * How much written output may wait in a stream before reading pauses for it to drain. Streams
 * ask to wait at 16 KiB, less than one input chunk yields; waiting for each, the reader sat idle
 * while the disk or the upload caught up. Up to this much per output is let through instead.
 */
const MAX_PENDING_BYTES = 1024 * 1024;

class ValidationRun {
  private readonly source: string;
  private readonly evaluators: Evaluator[];
  private readonly schema: SchemaConformance;
  private readonly validate;
  /** Evaluators that look at rows, and whether a failure sends the row to quarantine (severity error). */
  private readonly rowEvaluators: Evaluator[];
  private readonly quarantines: boolean[];
  private readonly reader: CsvReader | JsonLinesReader;
  private readonly nullValues: Set<string> | undefined;
  private header: string[] | undefined;
  private buildRecord: RecordBuilder = () => ({});
  /** For CSV: the row-level expectations as one function, and the row's typed values. */
  private csvChecks: RowChecks = (_values, _record, _index, _line, failures) => failures;
  private values: unknown[] = [];
  /** JSON Lines keys seen, kept only when an expectation asks for the table's columns. */
  private readonly keysSeen: Set<string> | undefined;
  private read = 0;
  private valid = 0;
  private quarantined = 0;
  private readonly validLines = new JsonLinesBuffer(FLUSH_BYTES + 32 * 1024);
  private quarantineText = '';
  private validFull = false;
  private quarantineFull = false;
  private stoppedBecause: string | undefined;
  /** In a shard: line breaks in its bytes, lines of the header it was given, records it quarantined. */
  private lineBreaks = 0;
  private headerLines = 0;
  private readonly quarantinedRuns: IndexRuns | undefined;
  private readonly profiler: Profiler | undefined;
  /** The first quarantined rows of each expectation, for the data docs, when asked for. */
  private readonly samples: QuarantineSamples | undefined;

  constructor(
    private readonly contract: Contract,
    private readonly outputs: ValidationOutputs,
    private readonly options: ValidateOptions,
    private readonly shard: { csvHeader: string | undefined; continues: boolean } | undefined,
  ) {
    this.source = options.source ?? '<input>';
    this.validate = recordValidator(contract);
    this.schema = new SchemaConformance(contract);
    const snapshot = options.scope === 'snapshot';
    this.evaluators = contract.expectations
      .filter((expectation) => (expectation.scope === 'snapshot') === snapshot)
      .map(createEvaluator);
    const origins = options.origins;
    if (shard !== undefined) {
      this.quarantinedRuns = [];
      this.schema.countPastCap();
      this.evaluators.forEach((evaluator, e) => {
        evaluator.nameRows?.(lineMarker(e));
        evaluator.countPastCap?.();
      });
    } else if (origins !== undefined) {
      const name = (line: number) => {
        const origin = origins.line(line);
        return `${origin.line} of ${origin.file}`;
      };
      for (const evaluator of this.evaluators) evaluator.nameRows?.(name);
    }
    this.profiler = options.profile === false ? undefined : new Profiler(contract.schema.properties);
    this.samples = shard === undefined && options.quarantineSamples ? new QuarantineSamples() : undefined;
    this.rowEvaluators = this.evaluators.filter((e) => e.observe !== undefined);
    this.quarantines = this.rowEvaluators.map((e) => e.config.severity !== 'warning');
    const { format } = contract;
    const maxRecordBytes = format.max_record_bytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (format.type === 'csv') {
      this.reader = new CsvReader(format.delimiter, format.quote, maxRecordBytes);
      const nulls = format.null_values;
      this.nullValues = nulls.length > 0 ? new Set(nulls) : undefined;
    } else {
      this.reader = new JsonLinesReader(maxRecordBytes);
      this.nullValues = undefined;
      for (const evaluator of this.evaluators) evaluator.begin(undefined);
    }
    this.keysSeen =
      format.type === 'jsonl' && this.evaluators.some((e) => e.needsColumns) ? new Set<string>() : undefined;
  }

  async consume(input: Readable): Promise<void> {
    const decoder = new StrictUtf8Decoder();
    let bytesRead = 0;
    let estimated = false;
    try {
      const header = this.shard?.csvHeader;
      if (header !== undefined) {
        this.headerLines = countLineBreaks(header) + 1;
        this.push(`${header}\n`);
      }
      for await (const chunk of input) {
        const bytes: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytesRead += bytes.length;
        if (this.shard !== undefined) this.lineBreaks += countLineBreaks(bytes);
        this.push(decoder.decode(bytes));
        if (!estimated && this.read > 0) {
          estimated = true;
          this.expectRecords(bytesRead);
        }
        await this.flush();
        if (this.stoppedBecause !== undefined) break;
        this.options.onProgress?.({ bytesRead, rowsRead: this.read });
      }
      if (this.stoppedBecause === undefined) {
        this.push(decoder.end());
        if (this.reader instanceof CsvReader) this.reader.end(this.onCsvRecord);
        else this.reader.end(this.onJsonLine);
        await this.flush();
        if (this.contract.format.type === 'csv' && this.header === undefined) {
          throw new MalformedInput(
            `${this.source}: no header row: the file is empty, and CSV contracts need a header`,
          );
        }
        this.options.onProgress?.({ bytesRead, rowsRead: this.read });
      }
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** Tells the evaluators how many records to expect, from the records in the first `bytesRead` bytes. */
  private expectRecords(bytesRead: number): void {
    const size = this.options.sizeBytes;
    if (size === undefined || size <= bytesRead) return;
    // A few percent over: a guess a little short means growing (and copying) near the end.
    const records = Math.ceil((this.read * size * 1.03) / bytesRead);
    for (const evaluator of this.rowEvaluators) evaluator.expectRecords?.(records);
  }

  private push(text: string): void {
    if (text.length === 0) return;
    if (this.reader instanceof CsvReader) this.reader.push(text, this.onCsvRecord);
    else this.reader.push(text, this.onJsonLine);
  }

  private readonly onCsvRecord = (fields: string[], line: number, problem: string | undefined): void => {
    if (this.stoppedBecause !== undefined) return;
    const header = this.header;
    if (header === undefined) {
      if (problem !== undefined)
        throw new MalformedInput(`${this.at(line)}: the header is malformed: ${problem}`);
      if ((this.reader as CsvReader).hasBareCr()) {
        // A file whose lines end in CR alone reads as one long header: refused, not read as no rows.
        throw new MalformedInput(
          `${this.at(line)}: the header holds a carriage return (CR) that does not end a line: lines must end in LF ` +
            `or CRLF, and this file seems to end them in CR alone (convert it, e.g. with tr '\\r' '\\n')`,
        );
      }
      this.useHeader(fields, line);
      return;
    }
    const index = this.read++;
    if (problem !== undefined || fields.length !== header.length) {
      const reason =
        problem ??
        `the row has ${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${header.length}`;
      this.malformed(index, line, reason, (this.reader as CsvReader).recordText());
      return;
    }
    const values = this.values;
    const record = this.buildRecord(fields, values);
    this.profiler?.observeValues(values);
    const failures = this.check(record, index, line, values);
    if (failures === undefined) {
      this.valid++;
      if (this.outputs.valid === undefined) return;
      this.validLines.writeRow(values, fields);
      if (this.validLines.size > FLUSH_BYTES) this.writeNow();
    } else {
      const written: Row = {};
      for (let c = 0; c < header.length; c++) written[header[c]!] = values[c];
      this.quarantine(index, line, failures, written);
    }
  };

  private readonly onJsonLine = (text: string, line: number): void => {
    // The records of JSON documents come as lines already; a record there that is an array is
    // one malformed row.
    if (this.read === 0 && !isJsonDocuments(this.contract.format) && !this.shard?.continues) {
      refuseJsonArray(text, this.at(line));
    }
    const index = this.read++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      this.malformed(index, line, `not valid JSON: ${(error as Error).message}`, text);
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.malformed(index, line, `not a JSON object: a record must be {…}`, text);
      return;
    }
    const unkeepable = unkeepableJson(text);
    if (unkeepable !== undefined) {
      this.malformed(index, line, unkeepable, text);
      return;
    }
    const written = parsed as Row;
    // Null is treated as absent, as an empty CSV cell is: left out of what ajv and the expectations see.
    let record = written;
    for (const key in written) {
      if (written[key] === null) {
        record = {};
        for (const k in written) if (written[k] !== null) record[k] = written[k];
        break;
      }
    }
    if (this.keysSeen) for (const key in written) this.keysSeen.add(key);
    this.profiler?.observeRecord(written);
    const failures = this.check(record, index, line, undefined);
    if (failures === undefined) {
      this.valid++;
      if (this.outputs.valid === undefined) return;
      this.validLines.writeLine(JSON.stringify(written));
      if (this.validLines.size > FLUSH_BYTES) this.writeNow();
    } else {
      this.quarantine(index, line, failures, written);
    }
  };

  /**
   * Checks one record (null values absent) against the schema and the row-level expectations;
   * returns the failures that send it to quarantine. For CSV, `values` holds the row's values
   * in header order, where each evaluator finds its column's value without a property lookup.
   */
  private check(
    record: Row,
    index: number,
    line: number,
    values: unknown[] | undefined,
  ): RowFailure[] | undefined {
    let failures: RowFailure[] | undefined;
    if (!this.validate(record)) failures = schemaFailures(this.validate.errors ?? [], record);
    this.schema.record(index, failures);
    if (values !== undefined) return this.csvChecks(values, record, index, line, failures);
    const { rowEvaluators, quarantines } = this;
    for (let e = 0; e < rowEvaluators.length; e++) {
      const evaluator = rowEvaluators[e]!;
      const column = evaluator.column;
      const value = column === null ? undefined : record[column];
      const reason = evaluator.observe!(value, index, line, record);
      if (reason !== undefined && quarantines[e]) failures = withFailure(failures, evaluator, reason, value);
    }
    return failures;
  }

  /** A row that cannot be read as a record: it fails the schema entry and goes to quarantine as text. */
  private malformed(index: number, line: number, reason: string, text: string): void {
    const failures: RowFailure[] = [{ column: null, expectation: this.schema.config.type, reason }];
    this.schema.record(index, failures);
    this.quarantine(index, line, failures, text);
  }

  private quarantine(index: number, line: number, failures: RowFailure[], record: unknown): void {
    this.quarantined++;
    if (this.quarantinedRuns !== undefined) addToRuns(this.quarantinedRuns, index);
    const sample = this.samples?.wants(failures) === true;
    if (this.outputs.quarantine === undefined && !sample) return;
    let entry: QuarantineEntry;
    if (this.options.origins === undefined) entry = { row: line, index, failures, record };
    else {
      const origin = this.options.origins.line(line);
      entry = { file: origin.file, row: origin.line, index, failures, record };
    }
    if (sample) this.samples!.add(entry);
    if (this.outputs.quarantine === undefined) return;
    this.quarantineText += `${JSON.stringify(entry)}\n`;
    if (this.quarantineText.length > FLUSH_CHARS) this.writeNow();
  }

  private useHeader(fields: string[], line: number): void {
    const seen = headerNames(fields, this.at(line));
    this.header = fields;
    const properties = this.contract.schema.properties;
    const coercers = fields.map((name) =>
      coercerFor(Object.hasOwn(properties, name) ? properties[name] : undefined),
    );
    this.buildRecord = recordBuilder(fields, coercers, this.nullValues);
    this.csvChecks = rowChecks(
      this.rowEvaluators,
      this.rowEvaluators.map((e) => (e.column === null ? -1 : fields.indexOf(e.column))),
      this.quarantines,
    );
    this.values = new Array<unknown>(fields.length).fill(null);
    this.validLines.columns(fields);
    this.profiler?.begin(fields);
    for (const evaluator of this.evaluators) evaluator.begin(fields);
    const missing = (this.contract.schema.required ?? []).filter((name) => !seen.has(name));
    if (missing.length > 0) {
      this.schema.headerLacks(missing, fields);
      this.stoppedBecause = headerLacksRequired(this.source, missing, fields);
    }
  }

  /** Hands the pending output to the streams; a stream that asks to wait is waited for in flush(). */
  private writeNow(): void {
    const { valid, quarantine } = this.outputs;
    if (this.validLines.size > 0 && !valid!.write(this.validLines.take())) this.validFull = true;
    if (this.quarantineText.length > 0) {
      if (!quarantine!.write(this.quarantineText)) this.quarantineFull = true;
      this.quarantineText = '';
    }
  }

  /** Writes what this chunk produced, then waits for 'drain' on any output that is full. */
  private async flush(): Promise<void> {
    this.writeNow();
    const waits: Promise<unknown>[] = [];
    // Both are waited for together, and only while still full: a stream that drained while the
    // other was being waited for has already emitted 'drain', and would be waited for forever.
    for (const [full, stream] of [
      [this.validFull, this.outputs.valid],
      [this.quarantineFull, this.outputs.quarantine],
    ] as const) {
      if (full && stream?.writableNeedDrain && stream.writableLength > MAX_PENDING_BYTES)
        waits.push(once(stream, 'drain'));
    }
    this.validFull = false;
    this.quarantineFull = false;
    if (waits.length > 0) await Promise.all(waits);
  }

  private at(line: number): string {
    return inputLine(this.source, this.options.origins, line);
  }

  private explain(error: unknown): unknown {
    return explainReadError(error, this.source, this.options.origins, () => this.reader.lineReached());
  }

  async shardOutcome(spill?: ShardSpill): Promise<ShardOutcome> {
    const columns = this.header ?? (this.keysSeen ? [...this.keysSeen] : undefined);
    const pending: Array<[string, Uint8Array | (() => Uint8Array)]> = [];
    // Each evaluator's blobs under `e<position>/`, the schema entry's under `schema/`.
    const writer = (prefix: string): SpillWriter | undefined =>
      spill === undefined
        ? undefined
        : {
            shard: spill.shard,
            partitions: spill.partitions,
            put: (name, bytes) => {
              const full = `${prefix}/${name}`;
              pending.push([full, bytes]);
              return full;
            },
          };
    const evaluators = this.evaluators.map((evaluator, e) => evaluator.state(writer(`e${e}`)));
    const schema = this.schema.state(writer('schema'));
    if (spill !== undefined) {
      const writers = Array.from({ length: SPILL_WRITES }, async () => {
        for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
          const [name, bytes] = next;
          await spill.spill.put(name, typeof bytes === 'function' ? bytes() : bytes);
        }
      });
      await Promise.all(writers);
    }
    return {
      rows: { read: this.read, valid: this.valid, quarantined: this.quarantined },
      lines: this.lineBreaks,
      headerLines: this.headerLines,
      ...(columns ? { columns } : {}),
      ...(this.stoppedBecause === undefined ? {} : { stopped: this.stoppedBecause }),
      quarantinedRuns: this.quarantinedRuns ?? [],
      schema,
      evaluators,
      ...(this.profiler ? { profile: this.profiler.state() } : {}),
      ...(spill === undefined ? {} : { spill: { shard: spill.shard, partitions: spill.partitions } }),
    };
  }

  outcome(): ValidationOutcome {
    const columns = this.header ?? (this.keysSeen ? [...this.keysSeen] : undefined);
    const stopped = this.stoppedBecause;
    const evaluated = findings(this.schema, this.evaluators, { rowCount: this.read, columns }, stopped);
    const outcome = validationOutcome(this.contract, evaluated, {
      rows: { read: this.read, valid: this.valid, quarantined: this.quarantined },
      columns,
      stopped,
      source: this.options.source,
      validationTime: this.options.now?.() ?? new Date(),
    });
    return {
      ...outcome,
      ...(this.profiler ? { profile: this.profiler.finish() } : {}),
      ...(this.samples ? { quarantineSamples: this.samples.entries } : {}),
    };
  }
}

/** Each expectation's finding (the schema's first) at the end of the input, or why it was not evaluated. */
export function findings(
  schema: SchemaConformance,
  evaluators: readonly Evaluator[],
  table: TableFacts,
  stopped: string | undefined,
): Evaluated[] {
  return [schema, ...evaluators].map((evaluator) => ({
    evaluator,
    finding:
      stopped === undefined || evaluator === schema || evaluator.needsColumns
        ? evaluator.finish(table)
        : notEvaluated(evaluator.config, 'validation stopped: the header lacks required columns'),
  }));
}

/** The line feeds in a text or its bytes (a CRLF has one; a shard starts after a line feed). */
function countLineBreaks(text: string | Uint8Array): number {
  let count = 0;
  if (typeof text === 'string') {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  } else {
    for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) count++;
  }
  return count;
}
