import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import contractSchema from '../../datasets/contract.schema.json' with { type: 'json' };
import { describeAjvError, relevantErrors } from './ajv-errors.js';
import { addFormats } from './ajv-formats.js';
import { ConfigurationError, ContractInvalid } from './errors.js';
import { expectationChecks } from './expectation-kwargs.js';
import { linearRegExp, schemaPatternProblems } from './linear-regex.js';
import { parseSchedule } from './schedule.js';
import { type SourceConfig, sourceProblems } from './source-config.js';

export type {
  DatabaseNetworkConfig,
  HttpSourceConfig,
  PartnerDropSourceConfig,
  PostgresSourceConfig,
  SourceConfig,
  StreamSourceConfig,
} from './source-config.js';

export type FormatConfig =
  | {
      type: 'csv';
      header: true;
      delimiter: string;
      quote: string;
      encoding: 'utf-8';
      null_values: string[];
      /** The longest record read, in UTF-8 bytes (default 8 MiB). */
      max_record_bytes: number;
      /** The shard size of a batch validated in shards, in MiB (default DEFAULT_SHARD_MB). */
      shard_mb: number;
    }
  | {
      type: 'jsonl';
      encoding: 'utf-8';
      /** The longest line read (for JSON documents, the longest record), in UTF-8 bytes (default 8 MiB). */
      max_record_bytes: number;
      /** The shard size of a batch validated in shards, in MiB (default DEFAULT_SHARD_MB); JSON documents are not cut. */
      shard_mb?: number;
      /**
       * Set when the contract says `format: { type: json, records_path }`: the raw objects are JSON
       * documents (HTTP pages) each holding an array of records, which the validator reads as the
       * JSON Lines of those records (lambdas/validate/raw-batch.ts). Loading the contract turns
       * `type: json` into this, so that every reader of records sees one record format.
       */
      documents?: { records_path?: string };
    };

/** The file format of a dataset's curated zone (docs/curated.md). */
export type CuratedFormat = 'parquet' | 'jsonl';

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
  /** A median or quantile computed within this relative error instead of exactly (Sluice's, not a GX kwarg). */
  approximate?: { relative_error: number };
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
  /** How the curated zone holds the accepted rows: typed Parquet (the default) or the validated JSON Lines. */
  curated: { format: CuratedFormat };
  version: { dvc: boolean; tag: string };
  /** Kept as written for people and other tools (ODCS team, support, SLA, the rest of an ODCS contract); no run reads it. */
  metadata?: ContractMetadata;
}

export interface ContractMetadata {
  team?: Record<string, unknown> | unknown[];
  support?: Array<Record<string, unknown>>;
  sla?: Array<Record<string, unknown>>;
  odcs?: Record<string, unknown>;
  [key: string]: unknown;
}

/** format.max_record_bytes when the contract does not say (the default of contract.schema.json). */
export const DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;

/** format.shard_mb when the contract does not say (the default of contract.schema.json). */
export const DEFAULT_SHARD_MB = 256;

/** One problem found in a contract: where (a JSON path inside the file, and its line) and what was expected. */
export interface ContractProblem {
  path: string;
  line?: number;
  message: string;
}

// verbose: a pattern error can then quote the value and an example from the schema.
// The linear-time regex engine: compiling a contract's schema then refuses what RE2 cannot run.
const ajv = addFormats(
  new Ajv2020({
    allErrors: true,
    useDefaults: true,
    strict: false,
    verbose: true,
    code: { regExp: linearRegExp },
  }),
);
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
  const declared = contract.format as unknown as {
    type: string;
    records_path?: string;
    encoding: 'utf-8';
    max_record_bytes: number;
  };
  if (declared.type === 'json') {
    contract.format = {
      type: 'jsonl',
      encoding: declared.encoding,
      max_record_bytes: declared.max_record_bytes,
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
  problems.push(
    ...sourceProblems(
      contract.source,
      { type: contract.format.type, jsonDocuments: isJsonDocuments(contract.format) },
      contract.schedule,
    ),
  );
  if (contract.batches.same_source === 'replace' && contract.source.type === 'stream') {
    problems.push({
      path: '/batches/same_source',
      message: `a stream's micro-batches each carry records not seen before, and none corrects an earlier one; a stream appends (same_source: append)`,
    });
  }
  const patternProblems = schemaPatternProblems(contract.schema, '/schema');
  problems.push(...patternProblems.map((p) => ({ path: p.pointer, message: p.message })));
  try {
    ajv.compile(contract.schema);
  } catch (error) {
    if (patternProblems.length === 0) {
      problems.push({ path: '/schema', message: `not a usable JSON Schema: ${(error as Error).message}` });
    }
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
