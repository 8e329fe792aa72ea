import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { freshProject, type Project, sluice } from './support/cli.js';
import { COVERED, documented, root, words } from './support/documented.js';

// docs/reading.md as a reader follows it: its `sluice query` lines, its SQL blocks (in DuckDB) and
// its Python blocks (in the project's Python, with pandas and pyarrow), each taken from the page,
// on a lake that `sluice run` made from the example orders. Curated parts are JSON Lines or
// Parquet: every snippet runs on a copy of the lake with its parts in each format. The deployed
// snippets cannot run here; they must parse, and their SQL must run on the local views.

const PAGE = 'docs/reading.md';
const PYTHON = join(root, '.venv', 'bin', 'python');
type Format = 'jsonl' | 'parquet';

let made: Project;
let tag: string;

beforeAll(() => {
  const fresh = freshProject();
  // The page's paths are the default lake's, `.sluice` in the working directory.
  made = { dir: fresh.dir, lake: join(fresh.dir, '.sluice') };
  const run = sluice(made, ['sluice', 'run', 'orders', '--input', 'examples/orders.csv']);
  if (run.status !== 0) throw new Error(`sluice run failed:\n${run.stdout}\n${run.stderr}`);
  tag = /^version\s+(orders@\S+)/m.exec(run.stdout)![1]!;
}, 180_000);

/** The code blocks of the page with this info string, in order, and the heading each is under. */
function blocks(language: string): Array<{ heading: string; code: string }> {
  const found: Array<{ heading: string; code: string }> = [];
  let heading = '';
  for (const match of readFileSync(join(root, PAGE), 'utf8').matchAll(
    /^(## .*)$|^```(\w+)\n([\s\S]*?)^```$/gm,
  )) {
    if (match[1]) heading = match[1];
    else if (match[2] === language) found.push({ heading, code: match[3]! });
  }
  if (found.length === 0) throw new Error(`${PAGE} has no ${language} block`);
  return found;
}

const isDeployed = (block: { heading: string }) => block.heading.startsWith('## Deployed');

/** SQL run in DuckDB with relative paths resolved from a directory, as the CLI run there would. */
async function duckdb(dir: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`SET file_search_path = '${dir}'`);
    return (await connection.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A copy of the project whose curated parts are all in `format`, rewritten by DuckDB where they were not. */
async function projectAs(format: Format): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), `sluice-reading-${format}-`));
  cpSync(made.dir, dir, { recursive: true });
  const curated = join(dir, '.sluice', 'lake', 'curated', 'orders');
  const other = format === 'parquet' ? '.jsonl' : '.parquet';
  for (const file of readdirSync(curated, { recursive: true }) as string[]) {
    if (!/part-\d{5}\.\w+$/.test(file) || !file.endsWith(other)) continue;
    const from = join(curated, file);
    const to = from.slice(0, -other.length) + (format === 'parquet' ? '.parquet' : '.jsonl');
    const read = format === 'parquet' ? `read_json('${from}')` : `read_parquet('${from}')`;
    await duckdb(
      dir,
      `COPY (SELECT * FROM ${read}) TO '${to}' (FORMAT ${format === 'parquet' ? 'parquet' : 'json'})`,
    );
    rmSync(from);
  }
  return { dir, lake: join(dir, '.sluice') };
}

describe.each<Format>(['jsonl', 'parquet'])('docs/reading.md on a lake with %s parts', (format) => {
  it('runs each sluice query line, the versions included', async () => {
    // Prepare
    const project = await projectAs(format);
    // Act
    const results = documented(COVERED.query).map((command) => ({
      command: command.text,
      result: sluice(project, words(command, { '<tag>': tag })),
    }));
    // Assess
    for (const { command, result } of results) {
      expect({ command, stderr: result.stderr, status: result.status }).toEqual({
        command,
        stderr: '',
        status: 0,
      });
    }
    const onPage = results.filter((_, i) => documented(COVERED.query)[i]!.where.startsWith(PAGE));
    const [byStatus, quarantine, runs, version, at] = onPage.map((r) => r.result.stdout);
    expect(byStatus).toMatch(/^status\s+orders\s+amount\n/);
    expect(byStatus).toMatch(/^\(6 rows\)$/m);
    expect(quarantine!.split('\r\n')[0]).toBe('row,reason,amount');
    expect(quarantine!.trim().split('\r\n')).toHaveLength(11);
    expect(JSON.parse(runs!)).toEqual([{ runId: expect.any(String), status: 'SUCCEEDED', quarantined: 10 }]);
    expect(version).toMatch(/^290$/m);
    expect(at).toMatch(/^290$/m);
  });

  it('runs each SQL block in DuckDB', async () => {
    // Prepare
    const project = await projectAs(format);
    const local = blocks('sql').filter((b) => !isDeployed(b));
    // A block that reads curated parts of the other format has nothing to read here.
    const runnable = local.filter(
      (b) => !b.code.includes(`part-*.${format === 'parquet' ? 'jsonl' : 'parquet'}`),
    );
    // Act
    const results = [];
    for (const block of runnable) results.push(await duckdb(project.dir, block.code));
    // Assess
    expect(runnable.length).toBe(local.length - 1);
    for (const [index, rows] of results.entries()) {
      const block = runnable[index]!;
      if (block.code.includes('/curated/')) {
        expect(rows.map((r) => r.status)).toEqual([
          'cancelled',
          'delivered',
          'paid',
          'placed',
          'refunded',
          'shipped',
        ]);
        expect(rows.reduce((sum, r) => sum + Number(r.orders), 0)).toBe(290);
      } else {
        expect(rows.length).toBeGreaterThanOrEqual(10);
        expect(rows[0]).toEqual({
          row: '19',
          column: 'amount',
          expectation: expect.any(String),
          reason: 'must be >= 0, got -12.5',
        });
      }
    }
  });

  it('runs the Python blocks in order, a version restored with sluice checkout', async () => {
    // Prepare
    const project = await projectAs(format);
    const checkout = sluice(project, ['sluice', 'checkout', tag, 'v1']);
    expect(checkout.status).toBe(0);
    const local = blocks('python').filter((b) => !isDeployed(b));
    // Act
    const outputs = local.map((_, index) =>
      spawnSync(
        PYTHON,
        [
          '-c',
          local
            .slice(0, index + 1)
            .map((b) => b.code)
            .join('\n'),
        ],
        {
          cwd: project.dir,
          encoding: 'utf8',
          timeout: 120_000,
        },
      ),
    );
    // Assess
    for (const output of outputs)
      expect({ stderr: output.stderr, status: output.status }).toEqual({ stderr: '', status: 0 });
    const printed = outputs.map((o) => o.stdout).join('\n');
    expect(printed).toMatch(/^290 orders$/m);
    expect(printed).toMatch(/'cancelled': \d/);
    expect(printed).toMatch(/^290 orders in the version$/m);
    expect(printed).toMatch(/^19 \['amount: must be >= 0, got -12\.5'/m);
    expect(printed).toMatch(/^10 rows in quarantine$/m);
  });
});

describe('the deployed snippets of docs/reading.md', () => {
  it('parse as Python, and their SQL runs unchanged on the local views', () => {
    // Prepare
    const deployed = blocks('python').filter(isDeployed);
    const statements = deployed.flatMap((b) => [...b.code.matchAll(/"(SELECT [^"]+)"/g)].map((m) => m[1]!));
    // Act
    const parsed = deployed.map((b) =>
      spawnSync(PYTHON, ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], {
        input: b.code,
        encoding: 'utf8',
      }),
    );
    const queried = statements.map((sql) => sluice(made, ['sluice', 'query', sql, '--json']));
    // Assess
    expect(parsed.map((p) => p.status)).toEqual(deployed.map(() => 0));
    expect(statements.length).toBeGreaterThanOrEqual(2);
    for (const result of queried) {
      expect(result.stderr).toBe('');
      expect((JSON.parse(result.stdout) as unknown[]).length).toBeGreaterThan(0);
    }
  });
});
