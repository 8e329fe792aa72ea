/**
 * `sluice query "<SQL>"`: SQL over the local lake with DuckDB. Every dataset in --datasets gets
 * three views (query-views.ts): `<dataset>` (curated), `<dataset>_quarantine`, `<dataset>_runs`;
 * `--version <tag>` makes `<dataset>` read a DVC version instead, and `<dataset> AT '<tag>'` reads
 * one inside the SQL. A version is restored as `sluice checkout` restores it (git checkout of the
 * tag, `dvc pull`, every file's md5 checked) into a temporary directory, and read from there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBResult } from '@duckdb/node-api';
import { type Contract, loadContractsLeniently } from '../../lambdas/shared/contract.js';
import { ConfigurationError, QueryFailed, SluiceError } from '../../lambdas/shared/errors.js';
import type { LocalVersioning } from '../local/version-step.js';
import { checkoutVersion } from '../local/versions.js';
import { EXIT } from './exit-codes.js';
import { type LakeOptions, openLake } from './lake.js';
import { csvField, tableCell, toJson, toText } from './query-output.js';
import { quoteIdentifier, rewriteVersionReferences, sqlName, type ViewKind } from './query-sql.js';
import { curatedParts, curatedViewSql, datasetViews, viewNames } from './query-views.js';
import { table } from './table.js';

export interface QueryOptions extends LakeOptions {
  datasets: string;
  json?: boolean;
  csv?: boolean;
  /** Version tags whose dataset's view reads that version. */
  version?: string[];
  /** Rows the table shows at most (`--json` and `--csv` print every row). */
  maxRows?: string;
}

/** DuckDB's errors about the text of the SQL (what was typed), as opposed to ones while running it. */
const SQL_TEXT_ERRORS = /^(Parser|Binder|Catalog|Syntax) Error\b/;

export async function queryCommand(sql: string, options: QueryOptions): Promise<number> {
  const restored: string[] = [];
  try {
    return await query(sql, options, restored);
  } catch (error) {
    if (!(error instanceof SluiceError)) throw error;
    process.stderr.write(`sluice: ${error.name}: ${error.message}\n`);
    const aboutTheText =
      error instanceof QueryFailed && SQL_TEXT_ERRORS.test((error.cause as Error | undefined)?.message ?? '');
    return error instanceof QueryFailed && !aboutTheText ? EXIT.failed : EXIT.usage;
  } finally {
    for (const dir of restored) rmSync(dir, { recursive: true, force: true });
  }
}

async function query(sql: string, options: QueryOptions, restored: string[]): Promise<number> {
  if (options.json && options.csv) throw new ConfigurationError('--json and --csv both given; choose one');
  const maxRows = Number(options.maxRows ?? 100);
  if (!Number.isInteger(maxRows) || maxRows < 0) {
    throw new ConfigurationError(`--max-rows ${options.maxRows}: expected a whole number of rows, 0 or more`);
  }
  const contracts = datasetsOf(options.datasets);
  const lake = await openLake(options);
  if (lake.spec.type !== 'directory')
    throw new ConfigurationError('sluice query reads a local lake directory');
  const zones = lake.spec.root;

  const rewritten = rewriteVersionReferences(sql, viewKindIn(contracts));
  const versionOf = new Map<string, string>();
  for (const tag of options.version ?? []) {
    const dataset = datasetOfTag(tag, contracts, '--version');
    if (versionOf.has(dataset)) {
      throw new ConfigurationError(
        `--version ${tag} and --version ${versionOf.get(dataset)}: one version per dataset; read another inside the SQL with ${sqlName(dataset)} AT '<tag>'`,
      );
    }
    versionOf.set(dataset, tag);
  }
  const versionDirs = restoreVersions(
    new Set([...versionOf.values(), ...rewritten.references.map((r) => r.tag)]),
    contracts,
    lake.versioning,
    restored,
  );

  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    // Timestamps print in UTC whatever the machine's zone, as the lake stores them.
    await connection.run(`SET TimeZone = 'UTC'`);
    const curatedDirs = new Map([...versionOf].map(([dataset, tag]) => [dataset, versionDirs.get(tag)!]));
    const views = await createViews(connection, contracts, zones, curatedDirs);
    for (const reference of new Map(rewritten.references.map((r) => [r.view, r])).values()) {
      const contract = contracts.get(reference.dataset)!;
      const sql = curatedViewSql(contract, curatedParts(versionDirs.get(reference.tag)!));
      await createView(connection, reference.view, sql);
    }
    const result = await runStatements(connection, rewritten.sql, views, lake.where);
    watchStdout();
    if (options.json) await printJson(result, lake.where);
    else if (options.csv) await printCsv(result, lake.where);
    else await printTable(result, maxRows, lake.where);
    return EXIT.ok;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * Restores each version as `sluice checkout` does, into a temporary directory (listed in `restored`,
 * removed when the command ends); returns each tag's `data/<dataset>/` directory.
 */
function restoreVersions(
  tags: ReadonlySet<string>,
  contracts: ReadonlyMap<string, Contract>,
  versioning: LocalVersioning,
  restored: string[],
): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const tag of tags) {
    const dataset = datasetOfTag(tag, contracts, `AT '${tag}'`);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-query-'));
    restored.push(dir);
    checkoutVersion(versioning, tag, join(dir, 'checkout'));
    dirs.set(tag, join(dir, 'checkout', 'data', dataset));
  }
  return dirs;
}

/** Every usable contract; a broken one is named and skipped, as the commands on one dataset do. */
function datasetsOf(dir: string): Map<string, Contract> {
  const { contracts, broken } = loadContractsLeniently(dir);
  if (contracts.size === 0 && broken.length === 0) {
    throw new ConfigurationError(
      `no dataset contracts in ${dir} (*.yaml, *.yml or *.json); --datasets names the directory that holds them`,
    );
  }
  if (broken.length > 0) {
    process.stderr.write(
      `sluice: ${broken.length} contract${broken.length === 1 ? ' is' : 's are'} broken and ${broken.length === 1 ? 'has' : 'have'} no views ` +
        `(${broken.map((b) => b.file).join(', ')}); 'sluice check' lists the problems\n`,
    );
  }
  return contracts;
}

function viewKindIn(contracts: ReadonlyMap<string, Contract>): (name: string) => ViewKind {
  const kinds = new Map<string, ViewKind>();
  for (const dataset of contracts.keys()) {
    const names = viewNames(dataset);
    kinds.set(names.quarantine, { kind: 'other', dataset });
    kinds.set(names.runs, { kind: 'other', dataset });
  }
  for (const dataset of contracts.keys()) kinds.set(dataset, { kind: 'curated', dataset });
  return (name) => kinds.get(name);
}

/** The dataset a version tag belongs to (`<dataset>@…`), which must have a contract. */
function datasetOfTag(tag: string, contracts: ReadonlyMap<string, Contract>, where: string): string {
  const at = tag.indexOf('@');
  const dataset = at > 0 ? tag.slice(0, at) : '';
  if (!dataset) {
    throw new ConfigurationError(
      `${where}: '${tag}' is not a version tag; expected <dataset>@<version>, as 'sluice versions <dataset>' lists`,
    );
  }
  if (!contracts.has(dataset)) {
    throw new ConfigurationError(
      `${where}: no dataset '${dataset}' (the tag's dataset); known datasets: ${[...contracts.keys()].join(', ') || '(none)'}`,
    );
  }
  return dataset;
}

/** Creates each dataset's views; returns their names. A name two datasets would both use goes to the first. */
async function createViews(
  connection: DuckDBConnection,
  contracts: ReadonlyMap<string, Contract>,
  zones: string,
  curatedDirs: ReadonlyMap<string, string>,
): Promise<string[]> {
  const created: string[] = [];
  // Curated views first: a dataset named like another's quarantine view keeps its own name.
  const all = [...contracts.values()].map((contract) => datasetViews(contract, { zones, curatedDirs }));
  for (const view of [...all.map((views) => views[0]!), ...all.flatMap((views) => views.slice(1))]) {
    if (created.includes(view.name)) {
      process.stderr.write(
        `sluice: no view ${sqlName(view.name)} for this dataset's zone: a dataset of that name has it\n`,
      );
      continue;
    }
    await createView(connection, view.name, view.sql);
    created.push(view.name);
  }
  return created;
}

async function createView(connection: DuckDBConnection, name: string, sql: string): Promise<void> {
  try {
    await connection.run(`CREATE VIEW ${quoteIdentifier(name)} AS\n${sql}`);
  } catch (error) {
    throw new QueryFailed(
      `cannot read the files of view ${sqlName(name)}: ${(error as Error).message}; expected files Sluice wrote, as the contract describes them`,
      { cause: error },
    );
  }
}

/** Runs each statement of the SQL in order; the last one's result is what is printed. */
async function runStatements(
  connection: DuckDBConnection,
  sql: string,
  views: string[],
  where: string,
): Promise<DuckDBResult> {
  try {
    const statements = await connection.extractStatements(sql);
    if (statements.count === 0)
      throw new ConfigurationError('no SQL statement given; expected e.g. "SELECT count(*) FROM <dataset>"');
    for (let index = 0; index < statements.count - 1; index++) {
      await (await statements.prepare(index)).run();
    }
    return await (await statements.prepare(statements.count - 1)).stream();
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    const message = (error as Error).message.replace(/^Failed to extract statements: /, '');
    const hint = /^Catalog Error\b/.test(message)
      ? `\nthe views here: ${views.map(sqlName).join(', ') || '(none)'} (one per dataset and zone, from --datasets)`
      : '';
    throw new QueryFailed(`the query over the local lake (${where}) failed: ${message}${hint}`, {
      cause: Object.assign(new Error(message), { cause: error }),
    });
  }
}

/** Reads the result's rows chunk by chunk, reporting an error while running the query as QueryFailed. */
async function* rowsOf(result: DuckDBResult, where: string) {
  try {
    for await (const rows of result.yieldRows()) yield rows;
  } catch (error) {
    throw new QueryFailed(
      `the query over the local lake (${where}) failed while running: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** Whether the reader of stdout went away (`sluice query … | head`): the rows left are not printed. */
let readerGone = false;

function watchStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    readerGone = true;
    process.stdout.emit('drain');
  });
}

/** Writes to stdout, waiting while the pipe is full, so a large result is not held in memory. */
async function write(text: string): Promise<void> {
  if (readerGone) return;
  if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

async function printJson(result: DuckDBResult, where: string): Promise<void> {
  const names = result.deduplicatedColumnNames();
  const types = result.columnTypes();
  let first = true;
  await write('[');
  for await (const rows of rowsOf(result, where)) {
    if (readerGone) return;
    let text = '';
    for (const row of rows) {
      const object = Object.fromEntries(names.map((name, i) => [name, toJson(row[i]!, types[i]!, toJson)]));
      text += `${first ? '\n' : ',\n'}  ${JSON.stringify(object)}`;
      first = false;
    }
    await write(text);
  }
  await write(first ? ']\n' : '\n]\n');
}

async function printCsv(result: DuckDBResult, where: string): Promise<void> {
  const types = result.columnTypes();
  await write(`${result.columnNames().map(csvField).join(',')}\r\n`);
  for await (const rows of rowsOf(result, where)) {
    await write(
      rows.map((row) => `${row.map((v, i) => csvField(toText(v, types[i]!))).join(',')}\r\n`).join(''),
    );
  }
}

async function printTable(result: DuckDBResult, maxRows: number, where: string): Promise<void> {
  const types = result.columnTypes();
  const shown: string[][] = [];
  let count = 0;
  for await (const rows of rowsOf(result, where)) {
    for (const row of rows) {
      if (shown.length < maxRows) shown.push(row.map((v, i) => tableCell(toText(v, types[i]!))));
      count++;
    }
  }
  const footer =
    count > shown.length
      ? `(${count.toLocaleString('en-US')} rows, ${shown.length.toLocaleString('en-US')} shown; --csv or --json print every row)`
      : `(${count.toLocaleString('en-US')} row${count === 1 ? '' : 's'})`;
  await write(`${table(result.columnNames(), shown)}\n${footer}\n`);
}
