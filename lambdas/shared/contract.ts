import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import contractSchema from '../../datasets/contract.schema.json' with { type: 'json' };
import { describeAjvError, relevantErrors } from './ajv-errors.js';
import { addFormats } from './ajv-formats.js';
import { ConfigurationError, ContractInvalid } from './errors.js';
import { expectationChecks } from './expectation-kwargs.js';
import { parseSchedule } from './schedule.js';

/** A PostgreSQL table or query extracted incrementally by a watermark column (docs/sources.md). */
export interface PostgresSourceConfig {
  type: 'postgres';
  /** Environment variable holding a postgres:// connection string. */
  connection?: string;
  /** Secrets Manager secret holding a connection string or RDS-style JSON. */
  connection_secret?: string;
  table?: string;
  query?: string;
  watermark_column: string;
  batch_size: number;
  horizon_wait_seconds: number;
  lag_seconds: number;
  /** Deployed only: the VPC the database is reachable in; its dataset gets an ingest function there. */
  network?: DatabaseNetworkConfig;
}

/**
 * Where a database is reachable from, by the ids of its VPC, private subnets and security groups
 * (docs/sources.md, "In the database's VPC"). Local runs ignore it.
 */
export interface DatabaseNetworkConfig {
  vpc_id: string;
  /** Private subnets of the VPC from which the database is reachable; the function's ENIs go there. */
  subnet_ids: string[];
  /** The database's security groups: each lets the function's security group in on `port`. */
  security_group_ids: string[];
  port: number;
  /** When given, the stack creates the S3 gateway endpoint (on these route tables) and the Secrets Manager interface endpoint. */
  endpoints?: { route_table_ids: string[] };
}

/** A paged HTTP API pulled on a schedule (docs/sources.md). */
export interface HttpSourceConfig {
  type: 'http';
  url: string;
  params: Record<string, string>;
  headers: Record<string, string>;
  auth?: {
    type: 'bearer' | 'header' | 'basic' | 'query';
    header?: string;
    param?: string;
    secret?: string;
    env?: string;
  };
  paging:
    | { type: 'none' }
    | { type: 'cursor'; cursor_path: string; cursor_param: string }
    | { type: 'page'; page_param: string; start: number; size_param?: string; size?: number }
    | { type: 'link' };
  watermark?: { field: string; param?: string; initial?: string };
  max_pages: number;
  retries: number;
  retry_base_ms: number;
  retry_max_seconds: number;
  timeout_seconds: number;
}

/** Batches of files a partner drops into a folder per batch under its prefix (docs/sources.md). */
export interface PartnerDropSourceConfig {
  type: 'partner-drop';
  prefix: string;
  /** What completes a batch: a marker file, or a manifest listing each file's sha256. */
  complete_when: { marker?: string; manifest?: string };
  deadline_minutes: number;
  suffix?: string;
}

export type SourceConfig =
  | { type: 's3-upload'; prefix: string; suffix?: string }
  | PostgresSourceConfig
  | HttpSourceConfig
  | PartnerDropSourceConfig
  | StreamSourceConfig;

/** Records put on a Kinesis data stream, delivered by Firehose into raw by the hour of `time_field`. */
export interface StreamSourceConfig {
  type: 'stream';
  /** Record field (ISO 8601 text) whose date and hour partition the record in raw. */
  time_field: string;
  /** A partition is closed, and validated, this long after its hour ends. */
  close_after_minutes: number;
  /** How many days back a run looks for partitions holding objects not validated yet. */
  lookback_days: number;
  /** Kinesis shards; on-demand capacity when absent. */
  shards?: number;
  retention_hours: number;
  buffer_seconds: number;
  buffer_mb: number;
}

export type FormatConfig =
  | {
      type: 'csv';
      header: true;
      delimiter: string;
      quote: string;
      encoding: 'utf-8';
      null_values: string[];
    }
  | {
      type: 'jsonl';
      encoding: 'utf-8';
      /**
       * Set when the contract says `format: { type: json, records_path }`: the raw objects are JSON
       * documents (HTTP pages) each holding an array of records, which the validator reads as the
       * JSON Lines of those records (lambdas/validate/raw-batch.ts). Loading the contract turns
       * `type: json` into this, so that every reader of records sees one record format.
       */
      documents?: { records_path?: string };
    };

export type Severity = 'error' | 'warning';

/**
 * What an expectation is evaluated over: each batch as it is validated, or the curated snapshot as
 * it would be after promoting the batch (docs/validation.md, "Snapshot checks").
 */
export type ExpectationScope = 'batch' | 'snapshot';

export interface ExpectationConfig {
  type: string;
  kwargs: Record<string, unknown>;
  meta?: Record<string, unknown>;
  severity: Severity;
  /** Set by the loader (batch unless the contract says snapshot); absent in configs built in code, which are batch. */
  scope?: ExpectationScope;
}

export interface RecordSchema {
  type: 'object';
  properties: Record<string, Record<string, unknown>>;
  required?: string[];
  [keyword: string]: unknown;
}

export interface Contract {
  name: string;
  description?: string;
  owner?: string;
  source: SourceConfig;
  format: FormatConfig;
  schedule: string | null;
  partition: { by: 'ingest-date' } | { column: string };
  schema: RecordSchema;
  expectations: ExpectationConfig[];
  on_failure: 'quarantine' | 'reject';
  /**
   * What a new batch from the same source (landing key, partner batch folder, data interval)
   * means for the curated snapshot: added to it, or superseding the earlier batch's rows there.
   */
  batches: { same_source: 'append' | 'replace' };
  version: { dvc: boolean; tag: string };
}

/** One problem found in a contract: where (a JSON path inside the file, and its line) and what was expected. */
export interface ContractProblem {
  path: string;
  line?: number;
  message: string;
}

// verbose: a pattern error can then quote the value and an example from the schema.
const ajv = addFormats(new Ajv2020({ allErrors: true, useDefaults: true, strict: false, verbose: true }));
const validateContractShape = ajv.compile(contractSchema);
const checkExpectations = expectationChecks(ajv);
export interface ParseOptions {
  /**
   * Receives the problem of a `name` that differs from the file name instead of refusing the
   * contract: for a contract used on its own (`sluice validate`), outside datasets/, where that
   * rule keeps one contract per dataset name.
   */
  onNameMismatch?: (message: string) => void;
}

/**
 * Parses and checks one contract. `where` names the file in messages.
 * Throws `ContractInvalid` listing every problem, each with its path and line.
 */
export function parseContract(text: string, where: string, options: ParseOptions = {}): Contract {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = lineCounter.linePos(first.pos[0]);
    throw new ContractInvalid(
      `${where}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML or JSON: ${first.message.split('\n')[0]}`,
    );
  }
  const data: unknown = doc.toJS();
  const lineOf = (path: Array<string | number>): number | undefined => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
      const offset = node?.range?.[0] ?? (depth === 0 ? doc.contents?.range?.[0] : undefined);
      if (offset !== undefined && (depth > 0 || isMap(doc.contents) || isSeq(doc.contents))) {
        return lineCounter.linePos(offset).line;
      }
    }
    return undefined;
  };

  const problems: ContractProblem[] = [];
  if (!validateContractShape(data)) {
    // A schedule is explained by what EventBridge refuses in it, rather than by the schema's pattern.
    const schedule = (data as { schedule?: unknown } | null)?.schedule;
    const scheduleProblem = typeof schedule === 'string' ? scheduleProblemOf(schedule) : undefined;
    if (scheduleProblem) {
      problems.push({ path: '/schedule', line: lineOf(['schedule']), message: scheduleProblem });
    }
    for (const error of relevantErrors(validateContractShape.errors ?? [])) {
      if (scheduleProblem && error.instancePath === '/schedule') continue;
      const path = pointerToPath(error.instancePath);
      problems.push({
        path: error.instancePath || '/',
        line: lineOf(path),
        message: describeAjvError(error),
      });
    }
    throw contractError(where, problems);
  }
  const contract = data as unknown as Contract;
  const declared = contract.format as unknown as { type: string; records_path?: string; encoding: 'utf-8' };
  if (declared.type === 'json') {
    contract.format = {
      type: 'jsonl',
      encoding: declared.encoding,
      documents: declared.records_path === undefined ? {} : { records_path: declared.records_path },
    };
  }
  contract.schedule ??= null;
  contract.partition ??= { by: 'ingest-date' };
  contract.version = {
    dvc: contract.version?.dvc ?? false,
    tag: contract.version?.tag ?? '{dataset}@{date}-{run}',
  };
  for (const expectation of contract.expectations) expectation.kwargs ??= {};

  const expectedName = basename(where, extname(where));
  if (where !== '<inline>' && contract.name !== expectedName) {
    const message = `dataset name '${contract.name}' must match the file name '${expectedName}'`;
    if (options.onNameMismatch) options.onNameMismatch(`${where}: ${message}`);
    else problems.push({ path: '/name', line: lineOf(['name']), message });
  }
  problems.push(...checkSemantics(contract).map((p) => ({ ...p, line: lineOf(pointerToPath(p.path)) })));
  if (problems.length > 0) throw contractError(where, problems);
  return contract;
}

/** Checks that need more than the JSON Schema: known expectations, their kwargs, columns that exist. */
function checkSemantics(contract: Contract): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const columns = new Set(Object.keys(contract.schema.properties));

  for (const name of contract.schema.required ?? []) {
    if (!columns.has(name)) {
      problems.push({
        path: '/schema/required',
        message: `required column '${name}' is not among schema.properties`,
      });
    }
  }
  if ('column' in contract.partition && !columns.has(contract.partition.column)) {
    problems.push({
      path: '/partition/column',
      message: `partition column '${contract.partition.column}' is not among schema.properties (${[...columns].join(', ')})`,
    });
  }
  const sampleTag = contract.version.tag
    .replaceAll('{dataset}', contract.name)
    .replaceAll('{date}', '2026-01-31')
    .replaceAll('{run}', '0123456789abcdef');
  if (!/^[A-Za-z0-9][A-Za-z0-9._@/-]*$/.test(sampleTag) || /\.\.|@\{|\/\/|\.lock$|[/.]$/.test(sampleTag)) {
    problems.push({
      path: '/version/tag',
      message: `'${contract.version.tag}' does not make a valid git tag (e.g. '${sampleTag}'); use letters, digits, . _ @ / - and {dataset}, {date}, {run}`,
    });
  }
  const scheduleProblem = contract.schedule === null ? undefined : scheduleProblemOf(contract.schedule);
  if (scheduleProblem) problems.push({ path: '/schedule', message: scheduleProblem });
  problems.push(...checkSource(contract));
  if (contract.batches.same_source === 'replace' && contract.source.type === 'stream') {
    problems.push({
      path: '/batches/same_source',
      message: `a stream's micro-batches each carry records not seen before, and none corrects an earlier one; a stream appends (same_source: append)`,
    });
  }
  try {
    ajv.compile(contract.schema);
  } catch (error) {
    problems.push({ path: '/schema', message: `not a usable JSON Schema: ${(error as Error).message}` });
  }
  problems.push(...checkExpectations(contract.expectations, columns));
  return problems;
}

/** What EventBridge would refuse in a schedule expression (it fails to create the rule at deploy). */
function scheduleProblemOf(schedule: string): string | undefined {
  try {
    parseSchedule(schedule);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Source options that depend on each other, which the JSON Schema does not express readably. */
function checkSource(contract: Contract): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const { source } = contract;
  if (source.type === 'postgres') {
    if ((source.table === undefined) === (source.query === undefined)) {
      problems.push({
        path: '/source',
        message: `a postgres source needs exactly one of 'table' and 'query'${source.table ? ', not both' : ''}`,
      });
    }
    if (source.connection === undefined && source.connection_secret === undefined) {
      problems.push({
        path: '/source',
        message: `a postgres source needs 'connection' (an environment variable name) or 'connection_secret' (a Secrets Manager secret)`,
      });
    }
    if (contract.format.type !== 'jsonl') {
      problems.push({
        path: '/format/type',
        message: `a postgres source is extracted as JSON Lines; expected format { type: jsonl }, not '${contract.format.type}'`,
      });
    }
  }
  if (source.type === 'http') problems.push(...checkHttpSource(source, contract.format));
  if (source.type === 'stream' && contract.format.type !== 'jsonl') {
    problems.push({
      path: '/format/type',
      message: `a stream is delivered as JSON Lines (one record per line); expected format { type: jsonl }, not '${contract.format.type}'`,
    });
  }
  if (source.type === 'stream' && !contract.schedule) {
    problems.push({
      path: '/schedule',
      message: `a stream is validated in scheduled micro-batches; give a schedule, e.g. rate(15 minutes)`,
    });
  }
  if (source.type === 'partner-drop') {
    const { marker, manifest } = source.complete_when;
    if ((marker === undefined) === (manifest === undefined)) {
      problems.push({
        path: '/source/complete_when',
        message: `give exactly one of 'marker' (e.g. _SUCCESS) and 'manifest' (e.g. manifest.json, listing each file's sha256)`,
      });
    }
  }
  if (isJsonDocuments(contract.format) && (source.type === 'postgres' || source.type === 'stream')) {
    problems.push({
      path: '/format/type',
      message: `format json (documents holding arrays of records) is read from uploads, partner drops and http sources; a ${source.type} source is jsonl`,
    });
  }
  return problems;
}

function checkHttpSource(source: HttpSourceConfig, format: FormatConfig): ContractProblem[] {
  const problems: ContractProblem[] = [];
  const { paging, auth } = source;
  if (paging.type === 'cursor' && (!paging.cursor_path || !paging.cursor_param)) {
    problems.push({ path: '/source/paging', message: `cursor paging needs cursor_path and cursor_param` });
  }
  if (paging.type === 'cursor' && !isJsonDocuments(format)) {
    problems.push({
      path: '/source/paging/type',
      message: `cursor paging reads the cursor from a JSON page; expected format { type: json }, not '${format.type}'`,
    });
  }
  if (paging.type === 'page' && !paging.page_param) {
    problems.push({ path: '/source/paging', message: `page paging needs page_param` });
  }
  if (source.watermark && format.type === 'csv') {
    problems.push({
      path: '/source/watermark',
      message: `a watermark is read from JSON or JSON Lines records; CSV pages are landed without being parsed`,
    });
  }
  if (auth) {
    if (!auth.secret && !auth.env) {
      problems.push({
        path: '/source/auth',
        message: `auth needs 'secret' (Secrets Manager) or 'env' (an environment variable)`,
      });
    }
    if (auth.type === 'header' && !auth.header) {
      problems.push({ path: '/source/auth', message: `auth type header needs 'header', the header's name` });
    }
    if (auth.type === 'query' && !auth.param) {
      problems.push({
        path: '/source/auth',
        message: `auth type query needs 'param', the query parameter's name`,
      });
    }
  }
  return problems;
}

/** Whether the raw objects are JSON documents holding arrays of records (`format: { type: json }`). */
export function isJsonDocuments(
  format: FormatConfig,
): format is Extract<FormatConfig, { type: 'jsonl' }> & { documents: { records_path?: string } } {
  return format.type === 'jsonl' && format.documents !== undefined;
}

/** Loads one contract file (YAML or JSON). */
export function loadContractFile(file: string): Contract {
  return parseContract(contractText(file), file);
}

/**
 * Loads a contract file used on its own to validate a file, as GX users validate with any suite
 * file: a `name` that differs from the file name is passed to `warn`, not refused.
 */
export function loadStandaloneContractFile(file: string, warn: (message: string) => void): Contract {
  return parseContract(contractText(file), file, { onNameMismatch: warn });
}

function contractText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ContractInvalid(`${file}: cannot read the contract: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Loads every contract in a directory (`*.yaml`, `*.yml`, `*.json` except JSON Schemas), keyed by name. */
export function loadContracts(dir: string): Map<string, Contract> {
  const { contracts, broken } = loadContractsLeniently(dir);
  if (broken.length > 0) throw broken[0]!.error;
  return contracts;
}

/** A contract file that could not be loaded, and why. */
export interface BrokenContract {
  file: string;
  /** The dataset the file would define: its name without the extension, which must be the contract's name. */
  dataset: string;
  error: ContractInvalid;
}

/**
 * Loads every contract in a directory, keeping going past a broken one: the usable contracts by
 * name, and each broken file with its problems. One broken contract need not stop the others.
 */
export function loadContractsLeniently(dir: string): {
  contracts: Map<string, Contract>;
  broken: BrokenContract[];
} {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'ENOTDIR'
          ? 'is not a directory'
          : (error as Error).message;
    throw new ConfigurationError(
      `the contracts directory ${dir} ${why}; --datasets names the directory of dataset contracts (default: datasets)`,
      { cause: error },
    );
  }
  const contracts = new Map<string, Contract>();
  const broken: BrokenContract[] = [];
  for (const file of names.filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json')).sort()) {
    const path = join(dir, file);
    try {
      const contract = loadContractFile(path);
      contracts.set(contract.name, contract);
    } catch (error) {
      if (!(error instanceof ContractInvalid)) throw error;
      broken.push({ file: path, dataset: basename(file, extname(file)), error });
    }
  }
  return { contracts, broken };
}

/** Finds a dataset's contract by name, with the list of known datasets when there is none. */
export function contractNamed(contracts: ReadonlyMap<string, Contract>, name: string): Contract {
  const contract = contracts.get(name);
  if (!contract) {
    throw new ContractInvalid(
      `no contract for dataset '${name}'; known datasets: ${[...contracts.keys()].join(', ') || '(none)'}`,
    );
  }
  return contract;
}

function contractError(where: string, problems: ContractProblem[]): ContractInvalid {
  const lines = problems.map((p) => `  ${where}${p.line ? `:${p.line}` : ''} at ${p.path}: ${p.message}`);
  return new ContractInvalid(
    `${where}: the contract is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
  );
}

function pointerToPath(pointer: string): Array<string | number> {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}
