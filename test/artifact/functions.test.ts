import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { SourceMap } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runIdOf } from '../../lambdas/ingest/s3-upload.js';
import { lineagePrefix } from '../../lambdas/shared/keys.js';
import {
  artifactDatasets,
  type DeployedApp,
  type DeployedFunction,
  LambdaFunctionError,
  loadDeployedFunction,
  synthDeployedApp,
  type TestLake,
  testLake,
  type UnavailableFeed,
  unavailableFeed,
} from '../support/deployed-app.js';
import { openLineageProblems } from '../support/openlineage.js';
import { readWithPyarrow } from '../support/pyarrow.js';

// Each Lambda function as deployed: the bundle CDK uploads, loaded in this process with the
// environment the template gives it, invoked against moto. A failure is judged by the errorType
// the Lambda runtime would report, which is what the state machine's Retry and Catch match.

const root = join(import.meta.dirname, '..', '..');
const ordersCsv = join(root, 'examples', 'orders.csv');
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

let feed: UnavailableFeed;
let app: DeployedApp;

beforeAll(async () => {
  feed = await unavailableFeed();
  app = synthDeployedApp({ datasetsDir: artifactDatasets(feed.url) });
});

afterAll(async () => {
  await feed.close();
  rmSync(app.outdir, { recursive: true, force: true });
});

async function load(path: string, lake: TestLake) {
  return loadDeployedFunction(app, app.functionAt(path), lake);
}

async function putLanding(lake: TestLake, key: string, body: Buffer | string) {
  await lake.s3.send(new PutObjectCommand({ Bucket: lake.buckets.landing, Key: key, Body: body }));
}

async function rawBytes(lake: TestLake, key: string): Promise<Buffer> {
  const out = await lake.s3.send(new GetObjectCommand({ Bucket: lake.buckets.raw, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function uploadEvent(lake: TestLake, key: string) {
  return {
    dataset: 'orders',
    trigger: { type: 's3-upload', bucket: lake.buckets.landing, key, time: '2026-11-25T13:30:00.000Z' },
    executionId: 'arn:aws:states:us-east-1:000000000000:execution:SluiceArtifact:test',
    startedAt: '2026-11-25T13:30:00.000Z',
  };
}

/** The errorType of a failed invocation; fails the test when the invocation succeeded. */
async function errorTypeOf(
  invocation: Promise<unknown>,
): Promise<{ errorType: string; errorMessage: string }> {
  const error = await invocation.then(
    (result) => {
      throw new Error(`expected the invocation to fail, it returned ${JSON.stringify(result)}`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LambdaFunctionError);
  const { errorType, errorMessage } = error as LambdaFunctionError;
  return { errorType, errorMessage };
}

describe('the bundled ingest function', () => {
  it('lands an upload in raw byte for byte, with the environment the template deploys', async () => {
    // Prepare
    const lake = await testLake();
    const key = 'orders/orders.csv';
    const bytes = readFileSync(ordersCsv);
    await putLanding(lake, key, bytes);
    const ingest = await load('Functions/Ingest', lake);
    // Act
    const result = (await ingest(uploadEvent(lake, key))) as { runId: string; rawKey: string };
    // Assess
    expect(result.runId).toBe(runIdOf('orders', key, sha256(bytes)));
    expect(result.rawKey).toMatch(/^orders\/dt=2026-11-25\/run=[0-9a-f]{16}\/orders\.csv$/);
    expect(sha256(await rawBytes(lake, result.rawKey))).toBe(sha256(bytes));
  });

  it('reports ObjectNotFound as the errorType of an upload that is no longer in landing', async () => {
    // Prepare
    const lake = await testLake();
    const ingest = await load('Functions/Ingest', lake);
    // Act
    const failure = await errorTypeOf(ingest(uploadEvent(lake, 'orders/gone.csv')));
    // Assess
    expect(failure.errorType).toBe('ObjectNotFound');
    expect(failure.errorMessage).toContain('orders/gone.csv');
  });

  it('reports SourceUnavailable, the name the state machine retries, when the HTTP source answers 503', async () => {
    // Prepare
    const lake = await testLake();
    const ingest = await load('Functions/Ingest', lake);
    const before = feed.requests();
    // Act
    const failure = await errorTypeOf(
      ingest({
        dataset: 'feed',
        trigger: {
          type: 'schedule',
          time: '2026-11-25T11:00:00.000Z',
          interval: { start: '2026-11-25T10:00:00.000Z', end: '2026-11-25T11:00:00.000Z' },
        },
      }),
    );
    // Assess
    expect(failure.errorType).toBe('SourceUnavailable');
    expect(failure.errorMessage).toContain('HTTP 503');
    expect(feed.requests() - before).toBe(1);
  });
});

describe('the bundled validate function', () => {
  it('reports MalformedInput as the errorType of a CSV whose header names a column twice', async () => {
    // Prepare
    const lake = await testLake();
    const key = 'orders/twice.csv';
    await putLanding(lake, key, 'order_id,order_id\nORD-000001,ORD-000002\n');
    const ingest = await load('Functions/Ingest', lake);
    const validate = await load('Functions/Validate', lake);
    const landed = (await ingest(uploadEvent(lake, key))) as Record<string, unknown>;
    // Act
    const failure = await errorTypeOf(
      validate({
        dataset: 'orders',
        runId: landed.runId,
        dt: landed.dt,
        rawKey: landed.rawKey,
        rawKeys: landed.rawKeys,
      }),
    );
    // Assess
    expect(failure.errorType).toBe('MalformedInput');
    expect(failure.errorMessage).toContain("'order_id' twice");
  });

  it('writes the data docs with the layout that fits a phone: fixed columns in a scroll box, cards, the met bar', async () => {
    // Prepare
    const lake = await testLake();
    const key = 'orders/upload.csv';
    await putLanding(lake, key, readFileSync(ordersCsv));
    const ingest = await load('Functions/Ingest', lake);
    const validate = await load('Functions/Validate', lake);
    const landed = (await ingest(uploadEvent(lake, key))) as Record<string, unknown>;
    // Act
    const out = (await validate({
      dataset: 'orders',
      runId: landed.runId,
      dt: landed.dt,
      rawKey: landed.rawKey,
      rawKeys: landed.rawKeys,
    })) as { htmlReportKey: string };
    // Assess
    const page = await lake.s3.send(
      new GetObjectCommand({ Bucket: lake.buckets.reports, Key: out.htmlReportKey }),
    );
    const html = await page.Body!.transformToString();
    expect(html).toContain('<meta name="viewport" content="width=device-width,initial-scale=1">');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).toContain('<div class="box"><table class="results cards">');
    expect(html).toContain('@media (max-width:48rem)');
    expect(html).toMatch(/<svg class="meter" role="img" aria-label="\d+ of 9 expectations met"/);
    expect(html).toContain('<td data-label="Unexpected samples">');
  });
});

describe('the bundled promote function', () => {
  it('writes the validated rows of an upload to curated as typed Parquet that pyarrow reads', async () => {
    // Prepare
    const lake = await testLake();
    const key = 'orders/orders.csv';
    await putLanding(lake, key, readFileSync(ordersCsv));
    const ingest = await load('Functions/Ingest', lake);
    const validate = await load('Functions/Validate', lake);
    const promote = await load('Functions/Promote', lake);
    const landed = (await ingest(uploadEvent(lake, key))) as Record<string, unknown>;
    const validation = (await validate({
      dataset: 'orders',
      runId: landed.runId,
      dt: landed.dt,
      rawKey: landed.rawKey,
      rawKeys: landed.rawKeys,
    })) as { validatedKey: string; rows: { valid: number; quarantined: number } };
    // Act
    const promotion = (await promote({
      dataset: 'orders',
      runId: landed.runId,
      dt: landed.dt,
      validatedKey: validation.validatedKey,
      rowsQuarantined: validation.rows.quarantined,
    })) as { curatedKey: string; size: number };
    // Assess
    expect(promotion.curatedKey).toMatch(/^orders\/dt=2026-11-25\/run=[0-9a-f]{16}\/part-00000\.parquet$/);
    const out = await lake.s3.send(
      new GetObjectCommand({ Bucket: lake.buckets.curated, Key: promotion.curatedKey }),
    );
    const bytes = Buffer.from(await out.Body!.transformToByteArray());
    expect(bytes.length).toBe(promotion.size);
    const file = join(mkdtempSync(join(tmpdir(), 'sluice-artifact-parquet-')), 'part-00000.parquet');
    writeFileSync(file, bytes);
    const [read] = readWithPyarrow(file);
    expect(read!.columns.map((c) => `${c.name}: ${c.type}`)).toEqual([
      'order_id: string',
      'customer_id: string',
      'order_date: date32[day]',
      'status: string',
      'amount: double',
      'currency: string',
      'quantity: int64',
      'email: string',
    ]);
    expect(read!.rows).toHaveLength(validation.rows.valid);
  });
});

describe('the bundled validate function on a batch of several raw objects', () => {
  it('plans one shard per small object, and refuses a later object whose CSV header differs as MalformedInput', async () => {
    // Prepare
    const lake = await testLake();
    const prefix = 'orders/dt=2026-11-25/run=00000000000000aa/';
    const first = readFileSync(ordersCsv, 'utf8').split('\n').slice(0, 2).join('\n');
    const objects = {
      [`${prefix}part-1.csv`]: `${first}\n`,
      [`${prefix}part-2.csv`]: 'other,columns\nx,y\n',
    };
    for (const [key, body] of Object.entries(objects)) {
      await lake.s3.send(new PutObjectCommand({ Bucket: lake.buckets.raw, Key: key, Body: body }));
    }
    const manifestKey = `${prefix}_manifest.json`;
    const manifest = JSON.stringify({ files: Object.keys(objects).map((key) => ({ key })) });
    await lake.s3.send(new PutObjectCommand({ Bucket: lake.buckets.raw, Key: manifestKey, Body: manifest }));
    const validate = await load('Functions/Validate', lake);
    const run = { dataset: 'orders', runId: '00000000000000aa', dt: '2026-11-25' };
    // Act
    const plan = (await validate({
      action: 'plan-shards',
      ...run,
      rawKey: `${prefix}part-1.csv`,
      manifestKey,
    })) as { key: string; count: number };
    const list = await lake.s3.send(new GetObjectCommand({ Bucket: lake.buckets.reports, Key: plan.key }));
    const items = (await list.Body!.transformToString())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { rawKey: string });
    const failure = await errorTypeOf(validate({ action: 'validate-shard', ...run, shard: items[1] }));
    // Assess
    expect(plan.count).toBe(2);
    expect(items.map((item) => item.rawKey)).toEqual(Object.keys(objects));
    expect(failure.errorType).toBe('MalformedInput');
    expect(failure.errorMessage).toContain("part-2.csv: line 1: the header 'other,columns' differs");
  });
});

describe('error names in the bundles', () => {
  const errorsFile = join(root, 'lambdas', 'shared', 'errors.ts');

  /** Each class of errors.ts with the 0-based lines it spans. */
  function errorClasses(): Array<{ name: string; first: number; last: number }> {
    const lines = readFileSync(errorsFile, 'utf8').split('\n');
    const starts = lines.flatMap((line, index) => {
      const match = /^export (?:abstract )?class (\w+)/.exec(line);
      return match ? [{ name: match[1]!, first: index }] : [];
    });
    return starts.map((start, i) => ({ ...start, last: (starts[i + 1]?.first ?? lines.length) - 1 }));
  }

  /**
   * The error classes a bundle holds, found through its source map (the minifier renamed them),
   * each with its generated code.
   */
  function bundledErrorClasses(fn: DeployedFunction): Map<string, string> {
    const code = readFileSync(fn.entry, 'utf8');
    const map = new SourceMap(JSON.parse(readFileSync(`${fn.entry}.map`, 'utf8')));
    const classes = errorClasses();
    const found = new Map<string, string>();
    let lineStart = 0;
    for (const [lineIndex, line] of code.split('\n').entries()) {
      const offset = lineStart;
      lineStart += line.length + 1;
      for (const match of line.matchAll(/\bclass\b/g)) {
        const origin = map.findEntry(lineIndex, match.index) as {
          originalSource?: string;
          originalLine?: number;
        };
        if (!origin.originalSource?.endsWith('lambdas/shared/errors.ts')) continue;
        const declared = classes.find(
          (c) => c.first <= origin.originalLine! && origin.originalLine! <= c.last,
        );
        // A class can span lines: a template literal in it may hold a line break.
        if (declared) found.set(declared.name, classText(code, offset + match.index));
      }
    }
    return found;
  }

  /**
   * From `class` to its closing brace. Braces inside string and template literals do not count
   * (a message template holds `${…}`); a template's `${…}` is code again, and may nest literals.
   */
  function classText(code: string, from: number): string {
    // Each entry: what the scanner is inside; a template's code part ends at its own closing brace.
    const stack: Array<'code' | 'template' | 'interpolation'> = ['code'];
    let depth = 0;
    for (let i = code.indexOf('{', from); i < code.length; i++) {
      const c = code[i]!;
      const inside = stack.at(-1)!;
      if (inside === 'template') {
        if (c === '\\') i += 1;
        else if (c === '`') stack.pop();
        else if (c === '$' && code[i + 1] === '{') {
          stack.push('interpolation');
          i += 1;
        }
        continue;
      }
      if (c === '"' || c === "'") {
        for (i += 1; i < code.length && code[i] !== c; i++) if (code[i] === '\\') i += 1;
      } else if (c === '`') stack.push('template');
      else if (c === '{') {
        if (inside === 'interpolation') stack.push('interpolation');
        else depth += 1;
      } else if (c === '}') {
        if (inside === 'interpolation') stack.pop();
        else if (--depth === 0) return code.slice(from, i + 1);
      }
    }
    throw new Error(`unbalanced class at column ${from}: ${code.slice(from, from + 200)}`);
  }

  it('every error class a bundle holds sets its own name as a literal', () => {
    for (const fn of app.functions) {
      // Act
      const bundled = bundledErrorClasses(fn);
      // Assess
      expect(bundled.size).toBeGreaterThan(0);
      for (const [name, text] of bundled) {
        if (name === 'SluiceError') continue;
        expect({ bundle: fn.path, name, sets: text.includes(`name="${name}"`) }).toEqual({
          bundle: fn.path,
          name,
          sets: true,
        });
      }
    }
  });

  it('the ingest bundle holds the errors the state machine retries, under their own names', () => {
    // Act
    const bundled = bundledErrorClasses(app.functionAt('Functions/Ingest'));
    // Assess
    expect(bundled.get('SourceUnavailable')).toContain('name="SourceUnavailable"');
    expect(bundled.get('WatermarkConflict')).toContain('name="WatermarkConflict"');
  });

  it('the bundles keep class names, so even the base class without a literal is named', () => {
    for (const fn of app.functions) {
      // Act
      const base = bundledErrorClasses(fn).get('SluiceError');
      // Assess
      expect({ bundle: fn.path, base }).toEqual({
        bundle: fn.path,
        base: expect.stringContaining('"SluiceError"'),
      });
    }
  });
});

describe('the bundled record-run function', () => {
  it('sends the START of a landed run to SLUICE_OPENLINEAGE_URL and keeps it in the reports bucket', async () => {
    // Prepare: a run landed by the bundled ingest, and a lineage server on 127.0.0.1
    const lake = await testLake();
    const key = 'orders/orders.csv';
    await putLanding(lake, key, readFileSync(ordersCsv));
    const event = uploadEvent(lake, key);
    const ingested = (await (
      await load('Functions/Ingest', lake)
    )(event)) as { runId: string; rawKey: string };
    const received: Array<{ eventType: string; inputs: unknown[] }> = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(JSON.parse(body));
        response.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.SLUICE_OPENLINEAGE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/lineage`;
    try {
      const recordRun = await load('Functions/RecordRun', lake);
      // Act
      await recordRun({ status: 'RUNNING', state: { ...event, ingest: ingested }, ...event });
    } finally {
      delete process.env.SLUICE_OPENLINEAGE_URL;
      await new Promise((resolve) => server.close(resolve));
    }
    // Assess
    expect(received.map((e) => [e.eventType, e.inputs])).toEqual([
      ['START', [{ namespace: `s3://${lake.buckets.raw}`, name: ingested.rawKey }]],
    ]);
    expect(openLineageProblems(received[0])).toEqual([]);
    const prefix = lineagePrefix('orders', ingested.runId, event.startedAt);
    const stored = await lake.s3.send(
      new GetObjectCommand({ Bucket: lake.buckets.reports, Key: `${prefix}START.json` }),
    );
    expect(JSON.parse(await stored.Body!.transformToString())).toEqual(received[0]);
  });
});
