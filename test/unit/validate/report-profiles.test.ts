import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { recordRun } from '../../../lambdas/record-run/core.js';
import { FsObjectStore } from '../../../lambdas/shared/fs-object-store.js';
import { type ValidateOutput, validateBatch } from '../../../lambdas/validate/core.js';
import { renderValidationHtml } from '../../../lambdas/validate/data-docs.js';
import { csvContract, validate } from './support.js';

const HOSTILE = '<script>alert(1)</script>';

const contract = csvContract(
  'type: object\nproperties:\n  id: { type: string }\n  amount: { type: number, minimum: 0 }\n  status: { type: string }',
  [
    '- type: expect_column_values_to_be_in_set\n  kwargs: { column: status, value_set: [paid, shipped] }',
    '- type: expect_column_kl_divergence_to_be_less_than\n  kwargs: { column: amount, tail_weight_holdout: 0.01, threshold: 100 }',
  ].join('\n'),
);

/** n rows: amounts from `base`, statuses paid/shipped and, every `odd`th row, an unexpected one. */
function orders(n: number, base: number, odd: string, every = 7): string {
  const rows = Array.from(
    { length: n },
    (_, i) => `O${i},${base + (i % 40)},${i % every === 3 ? odd : i % 2 ? 'paid' : 'shipped'}`,
  );
  return `id,amount,status\n${rows.join('\n')}\n`;
}

async function runBatch(
  store: FsObjectStore,
  runId: string,
  dt: string,
  csv: string,
): Promise<ValidateOutput> {
  const rawKey = `orders/dt=${dt}/run=${runId}/in.csv`;
  await store.put('raw', rawKey, csv);
  return validateBatch(
    { dataset: 'orders', runId, dt, rawKey },
    { store, contracts: new Map([['orders', contract]]) },
  );
}

/** The run's record as the state machine's Record step writes it when the run has been promoted and versioned. */
async function recordPromoted(
  store: FsObjectStore,
  out: ValidateOutput,
  runId: string,
  dt: string,
  start: string,
) {
  await recordRun(
    {
      status: 'SUCCEEDED',
      startedAt: start,
      state: {
        dataset: 'orders',
        ingest: { runId, dt, rawKey: 'k', manifestKey: 'm', sha256: 'x', size: 1 },
        validation: {
          success: out.success,
          promote: out.promote,
          summary: out.summary,
          rows: out.rows,
          statistics: out.statistics,
          reportKey: out.reportKey,
          validatedKey: out.validatedKey,
          quarantineKey: out.quarantineKey,
        },
        promotion: { curatedKey: 'c', size: 1 },
        version: { buildId: 'b', exported: [{ Name: 'SLUICE_VERSION_TAG', Value: `orders@${runId}` }] },
      },
    },
    { store, clock: () => new Date(Date.parse(start) + 42_000) },
  );
}

describe('the data docs of a run with its profiles', () => {
  it('draws each column in SVG with a text equivalent, escapes hostile values and has no script', async () => {
    // Prepare
    const run = await validate(`id,amount,status\n${HOSTILE},1,"${HOSTILE}"\nB,2,paid\n`, contract, {
      quarantineSamples: true,
    });
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
      profile: run.outcome.profile!,
      quarantineSamples: run.outcome.quarantineSamples!,
    });
    // Assess
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);
    // The profile charts (the page's expectations-met meter is the layout's, with its own label).
    const svgs = html.match(/<svg class="sl-chart"[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs.length).toBe(3);
    for (const svg of svgs) {
      expect(svg).toMatch(/viewBox="0 0 \d+ \d+" width="100%"/);
      expect(svg).toMatch(/<title id="[^"]+">[^<]+<\/title><desc id="[^"]+">[^<]+<\/desc>/);
    }
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('links a failing expectation to its column’s profile and lists its first quarantined rows with their row numbers', async () => {
    // Prepare
    const run = await validate(orders(200, 10, 'lost', 5), contract, { quarantineSamples: true });
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
      profile: run.outcome.profile!,
      quarantineSamples: run.outcome.quarantineSamples!,
    });
    // Assess
    const anchor = /<section class="sl-card" id="(profile-[0-9a-f]+)"><h3>status<\/h3>/.exec(html)![1];
    expect(html).toContain(`<a href="#${anchor}">profile of status</a>`);
    expect(html).toContain('20 quarantined rows (the first)');
    // Row 5 of the file is the record at index 3, the first with status "lost".
    expect(html).toMatch(/<tr><td>5<\/td><td>[^<]*lost/);
    expect(html.match(/<tr><td>\d+<\/td><td>/g)?.length).toBe(20);
  });
});

describe('validateBatch with an earlier promoted run', () => {
  it('compares the run with it, takes the KL partition from its profile, and draws trends with version tags on the index', async () => {
    // Prepare
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-profiles-')));
    const first = await runBatch(store, 'r1', '2026-11-24', orders(300, 10, 'paid'));
    await recordPromoted(store, first, 'r1', '2026-11-24', '2026-11-24T10:00:00.000Z');
    // Act
    const second = await runBatch(store, 'r2', '2026-11-25', orders(300, 60, 'lost'));
    // Assess
    const stored = JSON.parse(await store.readText('reports', 'orders/dt=2026-11-25/run=r2/profile.json'));
    expect(stored.drift.previous).toEqual({ runId: 'r1', dt: '2026-11-24' });
    const amount = stored.drift.columns.find((c: { column: string }) => c.column === 'amount');
    expect(amount.flags.join(' ')).toMatch(/mean moved/);
    const report = JSON.parse(await store.readText('reports', second.reportKey));
    const kl = report.results.find(
      (r: { expectation_config: { type: string } }) =>
        r.expectation_config.type === 'expect_column_kl_divergence_to_be_less_than',
    );
    expect(kl.expectation_config.meta.partition_source).toBe('the profile of run r1');
    expect(kl.result.observed_value).toBeGreaterThan(1);
    expect(kl.success).toBe(true);
    const page = await store.readText('reports', second.htmlReportKey);
    expect(page).toContain('Drift since the previous promoted run');
    const index = await store.readText('reports', second.reportsIndexKey);
    expect(index).toContain('Trends over the last 2 runs');
    expect(index.match(/<svg /g)?.length).toBe(4);
    expect(index).toContain('<code>orders@r1</code>');
    expect(index).toMatch(/<td>300<\/td><td>0%<\/td><td>3\/3<\/td><td>42 s<\/td>/);
  });

  it('has no drift on the first run of a dataset', async () => {
    // Prepare
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-profiles-')));
    // Act
    const first = await runBatch(store, 'r1', '2026-11-24', orders(50, 10, 'paid'));
    // Assess
    const stored = JSON.parse(await store.readText('reports', 'orders/dt=2026-11-24/run=r1/profile.json'));
    expect(stored.drift).toBeUndefined();
    expect(stored.profile.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'amount', 'status']);
    expect(await store.readText('reports', first.htmlReportKey)).not.toContain('Drift since');
  });
});
