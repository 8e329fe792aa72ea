/**
 * The SQL views `sluice query` gives each dataset over the local lake: `<dataset>` (curated),
 * `<dataset>_quarantine` and `<dataset>_runs`. Each view is typed from the contract (curated and
 * quarantine) or from the run record's shape (runs), so a dataset with no files yet, or files in
 * JSON Lines, still has its columns with their types; Parquet parts bring their own types.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Contract } from '../../lambdas/shared/contract.js';
import { quoteIdentifier, quoteLiteral } from './query-sql.js';

/** The views of one dataset, by their SQL names. */
export function viewNames(dataset: string): { curated: string; quarantine: string; runs: string } {
  return { curated: dataset, quarantine: `${dataset}_quarantine`, runs: `${dataset}_runs` };
}

/**
 * The DuckDB type of a value that a JSON Schema describes, as curated holds it: integer → BIGINT,
 * number → DOUBLE, boolean, string → VARCHAR (`format: date` → DATE, `date-time` → TIMESTAMPTZ),
 * an object with properties → STRUCT, an array with items → a LIST. `null` beside one other type
 * is that type (every column is nullable); anything else (several types, no type) is JSON.
 */
export function duckdbType(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return 'JSON';
  const s = schema as Record<string, unknown>;
  const declared = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type];
  const types = declared.filter((t) => t !== 'null');
  const type =
    types.length === 2 && types.includes('integer') && types.includes('number') ? 'number' : types[0];
  if (types.length > 2 || (types.length === 2 && type !== 'number')) return 'JSON';
  switch (type) {
    case 'integer':
      return 'BIGINT';
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'string':
      if (s.format === 'date') return 'DATE';
      if (s.format === 'date-time') return 'TIMESTAMPTZ';
      return 'VARCHAR';
    case 'object': {
      const properties = Object.entries((s.properties ?? {}) as Record<string, unknown>);
      if (properties.length === 0) return 'JSON';
      return `STRUCT(${properties.map(([name, p]) => `${quoteIdentifier(name)} ${duckdbType(p)}`).join(', ')})`;
    }
    case 'array':
      return s.items === undefined || Array.isArray(s.items) ? 'JSON' : `${duckdbType(s.items)}[]`;
    default:
      return 'JSON';
  }
}

/** The columns of a contract's records, in the schema's order, with their DuckDB types. */
export function recordColumns(contract: Contract): Array<[name: string, type: string]> {
  return Object.entries(contract.schema.properties).map(([name, schema]) => [name, duckdbType(schema)]);
}

/** The Hive partition columns of every zone's keys (`dt=YYYY-MM-DD/run=<id>`). */
const PARTITION_COLUMNS: Array<[string, string]> = [
  ['dt', 'DATE'],
  ['run', 'VARCHAR'],
];
const HIVE = `hive_partitioning = true, hive_types = {'dt': 'DATE', 'run': 'VARCHAR'}`;

/**
 * A run record (lambdas/shared/run-record.ts) as a row. `trigger` and the validation statistics
 * differ by source and result, so they stay JSON.
 */
const RUN_RECORD_COLUMNS: Array<[string, string]> = [
  ['dataset', 'VARCHAR'],
  ['runId', 'VARCHAR'],
  ['dt', 'DATE'],
  ['status', 'VARCHAR'],
  ['executionId', 'VARCHAR'],
  ['startedAt', 'TIMESTAMPTZ'],
  ['finishedAt', 'TIMESTAMPTZ'],
  ['trigger', 'JSON'],
  ['source', 'STRUCT(zone VARCHAR, "key" VARCHAR, sha256 VARCHAR, size BIGINT)'],
  ['raw', 'STRUCT("key" VARCHAR, manifestKey VARCHAR, files BIGINT)'],
  [
    'pulled',
    'STRUCT(type VARCHAR, "interval" STRUCT(start TIMESTAMPTZ, "end" TIMESTAMPTZ), ' +
      'watermark STRUCT("column" VARCHAR, "from" VARCHAR, "to" VARCHAR), files BIGINT, records BIGINT, sha256 VARCHAR, size BIGINT)',
  ],
  [
    'validation',
    'STRUCT(success BOOLEAN, promote BOOLEAN, summary VARCHAR, ' +
      'rows STRUCT("read" BIGINT, valid BIGINT, quarantined BIGINT), statistics JSON, ' +
      'reportKey VARCHAR, validatedKey VARCHAR, quarantineKey VARCHAR)',
  ],
  ['promotion', 'STRUCT(curatedKey VARCHAR, size BIGINT, tag VARCHAR)'],
  ['version', 'STRUCT(buildId VARCHAR, tag VARCHAR, "commit" VARCHAR, md5 VARCHAR, changed BOOLEAN)'],
  ['error', 'STRUCT(name VARCHAR, message VARCHAR)'],
  [
    'attempts',
    'STRUCT(status VARCHAR, executionId VARCHAR, startedAt TIMESTAMPTZ, finishedAt TIMESTAMPTZ, error STRUCT(name VARCHAR, message VARCHAR))[]',
  ],
];

/**
 * A quarantined row: where it was, why it failed, and the record as read. The record's values
 * failed the contract, so they are kept as text (`record.amount` is '-12.5' or 'abc'), one field
 * per column of the contract.
 */
function quarantineColumns(contract: Contract): Array<[string, string]> {
  const names = Object.keys(contract.schema.properties);
  const record =
    names.length === 0 ? 'JSON' : `STRUCT(${names.map((n) => `${quoteIdentifier(n)} VARCHAR`).join(', ')})`;
  return [
    ['row', 'BIGINT'],
    ['index', 'BIGINT'],
    ['file', 'VARCHAR'],
    ['failures', 'STRUCT("column" VARCHAR, expectation VARCHAR, reason VARCHAR, "value" JSON)[]'],
    ['record', record],
  ];
}

/** A relation with these columns and no rows: what a view is when the lake has no file for it. */
function emptyRelation(columns: Array<[string, string]>): string {
  return `SELECT ${columns.map(([name, type]) => `CAST(NULL AS ${type}) AS ${quoteIdentifier(name)}`).join(', ')} WHERE false`;
}

function columnsArgument(columns: Array<[string, string]>): string {
  return `{${columns.map(([name, type]) => `${quoteLiteral(name)}: ${quoteLiteral(type)}`).join(', ')}}`;
}

function fileList(files: string[]): string {
  return `[${files.map(quoteLiteral).join(', ')}]`;
}

/** The part files of a dataset's curated batches under `root` (`<root>/dt=…/run=…/part-NNNNN.<ext>`). */
export interface CuratedParts {
  jsonl: string[];
  parquet: string[];
}

/**
 * The part files of every promoted batch under a dataset's directory: the curated zone's, or a
 * restored version's `data/<dataset>/`. A batch counts once its first part is there, as promotion
 * writes it last (lambdas/shared/batches.ts, curatedRuns): a promotion under way is not read.
 */
export function curatedParts(datasetDir: string): CuratedParts {
  const parts: CuratedParts = { jsonl: [], parquet: [] };
  for (const dt of subdirectories(datasetDir, /^dt=/)) {
    for (const run of subdirectories(join(datasetDir, dt), /^run=/)) {
      const dir = join(datasetDir, dt, run);
      const files = readdirSync(dir).filter((name) => /^part-\d{5}\.(jsonl|parquet)$/.test(name));
      if (!files.some((name) => name.startsWith('part-00000.'))) continue;
      for (const name of files.sort()) {
        (name.endsWith('.parquet') ? parts.parquet : parts.jsonl).push(join(dir, name));
      }
    }
  }
  return parts;
}

function subdirectories(dir: string, pattern: RegExp): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && pattern.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * The curated view's query: the contract's columns (typed, with no rows) unioned by name with the
 * JSON Lines parts (read with the contract's types) and the Parquet parts (with theirs). A column
 * a file lacks is null there; the partition columns dt and run come from the keys.
 */
export function curatedViewSql(contract: Contract, parts: CuratedParts): string {
  const columns = [...recordColumns(contract), ...PARTITION_COLUMNS];
  const relations = [emptyRelation(columns)];
  if (parts.jsonl.length > 0) {
    relations.push(
      `SELECT * FROM read_json(${fileList(parts.jsonl)}, format = 'newline_delimited', ` +
        `columns = ${columnsArgument(recordColumns(contract))}, ${HIVE}, union_by_name = true)`,
    );
  }
  if (parts.parquet.length > 0) {
    relations.push(`SELECT * FROM read_parquet(${fileList(parts.parquet)}, ${HIVE}, union_by_name = true)`);
  }
  return relations.join('\nUNION ALL BY NAME\n');
}

/** Every view of every dataset, as the statements that create them. */
export interface ViewSources {
  /** The local lake's zone directories (`<lake>/lake`). */
  zones: string;
  /** A dataset whose curated view reads a restored version: the version's `data/<dataset>/` directory. */
  curatedDirs?: ReadonlyMap<string, string>;
}

export function datasetViews(contract: Contract, sources: ViewSources): Array<{ name: string; sql: string }> {
  const names = viewNames(contract.name);
  const curatedDir = sources.curatedDirs?.get(contract.name) ?? join(sources.zones, 'curated', contract.name);
  const quarantine = glob(sources.zones, 'quarantine', contract.name, /^rejected-rows\.jsonl$/);
  const runs = runRecordFiles(join(sources.zones, 'reports', contract.name, 'runs'));
  const qColumns = quarantineColumns(contract);
  return [
    { name: names.curated, sql: curatedViewSql(contract, curatedParts(curatedDir)) },
    {
      name: names.quarantine,
      sql:
        quarantine.length === 0
          ? emptyRelation([...qColumns, ...PARTITION_COLUMNS])
          : `SELECT * FROM read_json(${fileList(quarantine)}, format = 'newline_delimited', ` +
            `columns = ${columnsArgument(qColumns)}, ${HIVE})`,
    },
    {
      name: names.runs,
      sql:
        runs.length === 0
          ? emptyRelation(RUN_RECORD_COLUMNS)
          : `SELECT * FROM read_json(${fileList(runs)}, format = 'auto', columns = ${columnsArgument(RUN_RECORD_COLUMNS)})`,
    },
  ];
}

/** The files named `pattern` in a zone's `<dataset>/dt=…/run=…/` directories. */
function glob(zones: string, zone: string, dataset: string, pattern: RegExp): string[] {
  const root = join(zones, zone, dataset);
  return subdirectories(root, /^dt=/).flatMap((dt) =>
    subdirectories(join(root, dt), /^run=/).flatMap((run) =>
      readdirSync(join(root, dt, run))
        .filter((name) => pattern.test(name))
        .sort()
        .map((name) => join(root, dt, run, name)),
    ),
  );
}

/** A dataset's run records (`runs/<run>.json`); each attempt's own record, a level below, is not one. */
function runRecordFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile() && /^[^.].*\.json$/.test(entry.name))
      .map((entry) => join(dir, entry.name))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
