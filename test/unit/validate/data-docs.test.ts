import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { FsObjectStore } from '../../../lambdas/shared/fs-object-store.js';
import { validateBatch } from '../../../lambdas/validate/core.js';
import {
  renderRunIndex,
  renderValidationHtml,
  runsFromKeys,
  spacedJson,
} from '../../../lambdas/validate/data-docs.js';
import { csvContract, validate } from './support.js';

const XSS = '<script>alert(1)</script>';
const contract = csvContract(
  'type: object\nproperties:\n  name: { type: string }',
  `- type: expect_column_values_to_be_in_set\n  kwargs: { column: name, value_set: [ok] }\n- type: expect_column_values_to_match_regex\n  kwargs: { column: name, regex: "^o" }\n  severity: warning`,
);

describe('the HTML data docs of a run', () => {
  it('escapes every value from the data: a script in a cell stays text', async () => {
    // Prepare
    const run = await validate(`name\nok\n"${XSS}"\n`, contract);
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      runId: 'r1',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
    });
    // Assess
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('is self-contained: inline CSS, nothing fetched from the network', async () => {
    // Prepare
    const run = await validate('name\nok\n', contract);
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
    });
    // Assess
    expect(html).toMatch(/<style>/);
    expect(html).not.toMatch(/<link|<script|src=|@import|url\(/i);
  });

  it('shows each expectation with its outcome and severity, and links the quarantine object', async () => {
    // Prepare
    const run = await validate('name\nok\nbad\n', contract);
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
      outputs: { quarantine: 's3://lake-quarantine/orders/dt=2026-11-25/run=r1/rejected-rows.jsonl' },
    });
    // Assess
    expect(html).toContain('expect_column_values_to_be_in_set');
    expect(html).toContain('severity warning');
    expect(html).toContain(
      'href="https://s3.console.aws.amazon.com/s3/object/lake-quarantine?prefix=orders%2Fdt%3D2026-11-25',
    );
    expect(html).toContain('&quot;bad&quot; × 1');
  });
});

describe('long values in the HTML data docs', () => {
  const longContract = csvContract(
    'type: object\nproperties:\n  name: { type: string }',
    '- type: expect_column_values_to_be_in_set\n  kwargs: { column: name, value_set: [ok] }',
  );

  it('cuts a value longer than a cell with … and keeps the whole of it, escaped, in a details element', async () => {
    // Prepare
    const long = `<b>${'x'.repeat(400)}</b>`;
    const run = await validate(`name\n"${long}"\n`, longContract);
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
    });
    // Assess
    const details =
      /<details class="long"><summary>(.*?)<\/summary><div class="whole">(.*?)<\/div><\/details>/.exec(html);
    expect(details?.[1]).toMatch(/^&quot;&lt;b&gt;x+… <span class="muted">\(409 characters\)<\/span>$/);
    expect(details?.[2]).toBe(`&quot;&lt;b&gt;${'x'.repeat(400)}&lt;/b&gt;&quot;`);
  });

  it('shows three unexpected samples in the row and the rest of the first ten in a details element', async () => {
    // Prepare
    const names = Array.from({ length: 12 }, (_, i) => `bad-${i}`);
    const run = await validate(`name\n${names.join('\n')}\n`, longContract);
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
    });
    // Assess
    const cells = [...html.matchAll(/<td data-label="Unexpected samples">(.*?)<\/td>/g)].map(
      (m) => m[1] ?? '',
    );
    const cell = cells.find((c) => c.includes('bad-')) ?? '';
    const [shown, more] = cell.split('<details class="more">');
    expect(shown?.match(/<li>/g)).toHaveLength(3);
    expect(more).toMatch(/^<summary>7 more<\/summary>/);
    expect(more?.match(/<li>/g)).toHaveLength(7);
  });

  it('cuts a long value between characters, never inside an emoji', async () => {
    // Prepare
    // The cut falls at the 119th unit of the quoted value: on the first emoji's first half.
    const run = await validate(`name\n"${'a'.repeat(117)}${'😀'.repeat(10)}"\n`, longContract);
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
    });
    // Assess
    expect(html).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(html).toContain(`<summary>&quot;${'a'.repeat(117)}… `);
  });

  it('writes lists with a space after each comma, so a column list wraps between names', () => {
    expect(spacedJson(['order_id', 'amount', { a: [1, null] }])).toBe(
      '["order_id", "amount", {"a": [1, null]}]',
    );
  });

  it("shows the contract schema's unexpected values as the column and the sentence", async () => {
    // Prepare
    const schemaContract = csvContract('type: object\nproperties:\n  amount: { type: number, minimum: 0 }');
    const run = await validate('amount\n-1\n', schemaContract);
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
    });
    // Assess
    expect(html).toContain('<li><code>amount</code>: must be &gt;= 0 × 1</li>');
  });
});

describe('the index of runs', () => {
  it('lists the runs found under the dataset prefix, newest first, escaping their ids', () => {
    // Prepare
    const keys = [
      'orders/dt=2026-11-24/run=a/validation.json',
      'orders/dt=2026-11-25/run=b/validation.json',
      'orders/dt=2026-11-25/run=b/validation.html',
      'orders/runs/b.json',
      'other/dt=2026-11-25/run=c/validation.json',
    ];
    // Act
    const runs = runsFromKeys('orders', keys);
    const html = renderRunIndex('orders', [
      ...runs,
      { dt: '2026-11-23', runId: XSS, href: 'x', jsonHref: 'y' },
    ]);
    // Assess
    expect(runs.map((r) => r.runId)).toEqual(['a', 'b']);
    expect(html.indexOf('run=b/validation.html')).toBeLessThan(html.indexOf('run=a/validation.html'));
    expect(html).not.toContain('<script');
  });
});

describe('validateBatch writes the data docs', () => {
  it('puts validation.html next to validation.json and rebuilds reports/<dataset>/index.html', async () => {
    // Prepare
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-docs-')));
    await store.put('raw', 'orders/dt=2026-11-25/run=r1/in.csv', `name\nok\n"${XSS}"\n`);
    // Act
    const out = await validateBatch(
      { dataset: 'orders', runId: 'r1', dt: '2026-11-25', rawKey: 'orders/dt=2026-11-25/run=r1/in.csv' },
      { store, contracts: new Map([['orders', contract]]) },
    );
    // Assess
    expect([out.htmlReportKey, out.reportsIndexKey]).toEqual([
      'orders/dt=2026-11-25/run=r1/validation.html',
      'orders/index.html',
    ]);
    const page = await store.readText('reports', out.htmlReportKey);
    const index = await store.readText('reports', out.reportsIndexKey);
    expect(page).toContain('rejected-rows.jsonl');
    expect(page).not.toContain('<script');
    expect(index).toContain('dt=2026-11-25/run=r1/validation.html');
  });
});
