/**
 * The reports the browser tests open: the demo's own run (datasets/orders.yaml on
 * examples/orders.csv, through the engine), one where every expectation passes, one with a
 * failure of every shape of result the page draws, one of 200 columns, one of hostile values, and
 * an index of many runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Contract, loadContractFile, parseContract } from '../../lambdas/shared/contract.js';
import {
  type DataDocsContext,
  type RunIndexEntry,
  renderRunIndex,
  renderValidationHtml,
} from '../../lambdas/validate/data-docs.js';
import { validateStream } from '../../lambdas/validate/engine.js';
import { compareProfiles } from '../../lambdas/validate/profile-drift.js';
import { TREND_RUNS, type TrendPoint } from '../../lambdas/validate/report-trends.js';
import type {
  ExpectationResultDetails,
  ExpectationValidationResult,
  SuiteValidationResult,
} from '../../lambdas/validate/result-format.js';

const root = join(import.meta.dirname, '..', '..');

function validatedOutcome(csv: string | Buffer, contract: Contract) {
  return validateStream(
    Readable.from([Buffer.from(csv)]),
    contract,
    {},
    {
      source: 'input.csv',
      now: () => new Date('2026-11-25T10:00:00Z'),
      quarantineSamples: true,
    },
  );
}

/** The run's page as the validate step writes it: results, column profiles and quarantined rows. */
async function validated(csv: string | Buffer, contract: Contract, context: Partial<DataDocsContext> = {}) {
  const outcome = await validatedOutcome(csv, contract);
  return renderValidationHtml(outcome.result, {
    dataset: contract.name,
    runId: 'r-2026-11-25',
    decision: outcome.decision,
    rows: outcome.rows,
    ...(outcome.profile ? { profile: outcome.profile } : {}),
    ...(outcome.quarantineSamples ? { quarantineSamples: outcome.quarantineSamples } : {}),
    ...context,
  });
}

/**
 * The demo: the example contract on the example file, failures and a warning included, with its
 * drift from an earlier run of the same file whose amounts were ten times larger and whose status
 * column was all one value.
 */
export async function demoReport(): Promise<string> {
  const csv = readFileSync(join(root, 'examples', 'orders.csv'), 'utf8');
  const contract = loadContractFile(join(root, 'datasets', 'orders.yaml'));
  const [head, ...lines] = csv.trimEnd().split('\n');
  const columns = head!.split(',');
  const amount = columns.indexOf('amount');
  const status = columns.indexOf('status');
  const earlierCsv = [
    head,
    ...lines.map((line) =>
      line
        .split(',')
        .map((cell, i) =>
          i === amount && cell !== '' && !Number.isNaN(Number(cell))
            ? String(Number(cell) * 10)
            : i === status
              ? 'paid'
              : cell,
        )
        .join(','),
    ),
  ].join('\n');
  const [earlier, current] = await Promise.all([
    validatedOutcome(earlierCsv, contract),
    validatedOutcome(csv, contract),
  ]);
  return validated(csv, contract, {
    drift: compareProfiles(earlier.profile!, current.profile!, { runId: 'r-2026-11-24', dt: '2026-11-24' }),
    outputs: {
      quarantine:
        's3://sluice-quarantine-123456789012-eu-west-1/orders/dt=2026-11-25/run=r-2026-11-25/rejected-rows.jsonl',
      validated:
        's3://sluice-validated-123456789012-eu-west-1/orders/dt=2026-11-25/run=r-2026-11-25/records.jsonl',
      report:
        's3://sluice-reports-123456789012-eu-west-1/orders/dt=2026-11-25/run=r-2026-11-25/validation.json',
    },
  });
}

/** Every expectation met. */
export function passingReport(): Promise<string> {
  const contract = parseContract(
    `name: orders
source: { type: s3-upload, prefix: landing/orders/ }
format: { type: csv }
schema:
  type: object
  required: [order_id, amount]
  properties:
    order_id: { type: string }
    amount: { type: number, minimum: 0 }
expectations:
  - type: expect_table_columns_to_match_ordered_list
    kwargs: { column_list: [order_id, amount] }
  - type: expect_column_values_to_be_unique
    kwargs: { column: order_id }
  - type: expect_column_values_to_be_between
    kwargs: { column: amount, min_value: 0, max_value: 1000 }
`,
    '<inline>',
  );
  return validated('order_id,amount\nA-1,10\nA-2,20.5\nA-3,0\n', contract);
}

/** 200 columns with long names: a column list of 200 in the observed value, 200 rows in the table. */
export function wideReport(): Promise<string> {
  const names = Array.from(
    { length: 200 },
    (_, i) => `measurement_of_a_rather_long_name_${String(i).padStart(3, '0')}`,
  );
  const contract = parseContract(
    `name: wide
source: { type: s3-upload, prefix: landing/wide/ }
format: { type: csv }
schema:
  type: object
  properties:
${names.map((n) => `    ${n}: { type: string }`).join('\n')}
expectations:
  - type: expect_table_columns_to_match_set
    kwargs: { column_set: ${JSON.stringify(names.slice(1))} }
${names.map((n) => `  - type: expect_column_values_to_not_be_null\n    kwargs: { column: ${n} }`).join('\n')}
`,
    '<inline>',
  );
  const row = names.map((_, i) => (i % 7 === 0 ? '' : `value-${i}-${'x'.repeat(i % 40)}`)).join(',');
  return validated(`${names.join(',')}\n${row}\n${row}\n`, contract);
}

/** Markup, script, CSS escapes, an unbroken 5,000-character value, bidi controls, in every place a value appears. */
export const HOSTILE = [
  '<script>window.__sluicePwned = 1; alert(1)</script>',
  '<img src="http://127.0.0.1:9/pixel.gif" onerror="alert(2)">',
  '</style><style>body{background:url(http://127.0.0.1:9/bg.png)}</style>',
  '"><svg onload=alert(3)>',
  'javascript:alert(4)',
  `${'W'.repeat(5000)}`,
  '\u202Egnp.exe\u202C \u200B\u200B zero-width',
  '👩‍👩‍👧‍👦'.repeat(50),
];

export function hostileReport(): Promise<string> {
  const contract = parseContract(
    `name: hostile
source: { type: s3-upload, prefix: landing/hostile/ }
format: { type: csv }
schema:
  type: object
  properties:
    name: { type: string }
expectations:
  - type: expect_column_values_to_be_in_set
    kwargs: { column: name, value_set: [${JSON.stringify(HOSTILE[0])}, ${JSON.stringify(HOSTILE[5])}] }
  - type: expect_column_values_to_match_regex
    kwargs: { column: name, regex: "^ok$" }
    severity: warning
  - type: expect_column_distinct_values_to_be_in_set
    kwargs: { column: name, value_set: [ok] }
  - type: expect_column_most_common_value_to_be_in_set
    kwargs: { column: name, value_set: [ok] }
`,
    '<inline>',
  );
  const csv = `name\n${HOSTILE.map((v) => `"${v.replaceAll('"', '""')}"`).join('\n')}\n`;
  return validated(csv, contract, {
    runId: HOSTILE[3],
    decision: { promote: false, reasons: HOSTILE, warnings: HOSTILE },
    outputs: { quarantine: `/tmp/${HOSTILE[1]}/${HOSTILE[5]}`, report: HOSTILE[4] },
  });
}

function failed(
  type: string,
  kwargs: Record<string, unknown>,
  result: ExpectationResultDetails,
  exception?: string,
): ExpectationValidationResult {
  return {
    success: false,
    expectation_config: { type, kwargs, severity: 'error' },
    result,
    exception_info: {
      raised_exception: exception !== undefined,
      exception_message: exception ?? null,
      exception_traceback: null,
    },
  };
}

/** A failure of each shape a result takes: scalar, list, object, null and string observed values, samples, counts, exceptions. */
export function everyObservedKindReport(): string {
  const columns = Array.from({ length: 40 }, (_, i) => `customer_lifetime_value_bucket_${i}`);
  const results: ExpectationValidationResult[] = [
    failed('expect_table_row_count_to_be_between', { min_value: 1, max_value: 10 }, { observed_value: 0 }),
    failed(
      'expect_table_columns_to_match_set',
      { column_set: columns.slice(2), exact_match: true },
      { observed_value: columns, details: { mismatched: { unexpected: columns.slice(0, 2), missing: [] } } },
    ),
    failed(
      'expect_column_quantile_values_to_be_between',
      {
        column: 'amount',
        quantile_ranges: {
          quantiles: [0.05, 0.25, 0.5, 0.75, 0.95],
          value_ranges: [
            [0, 1],
            [1, 2],
            [2, 3],
            [3, 4],
            [4, 5],
          ],
        },
      },
      {
        observed_value: {
          quantiles: [0.05, 0.25, 0.5, 0.75, 0.95],
          values: [0.123456789, 1.5, 2.75, 12.5, 99999.125],
        },
        details: { success_details: [false, true, true, false, false] },
      },
    ),
    failed(
      'expect_column_distinct_values_to_be_in_set',
      { column: 'status', value_set: ['placed', 'paid', 'shipped'] },
      {
        observed_value: null,
        element_count: 300,
        unexpected_count: 3,
        partial_unexpected_list: [
          'lost',
          'Shipped',
          'returned-to-sender-after-three-failed-delivery-attempts',
        ],
      },
    ),
    failed(
      'expect_column_most_common_value_to_be_in_set',
      { column: 'comment', value_set: ['ok'] },
      { observed_value: `a comment with no spaces: ${'x'.repeat(900)}` },
    ),
    failed(
      'expect_column_values_to_match_regex',
      { column: 'email', regex: '^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$' },
      {
        element_count: 1_000_000,
        unexpected_count: 123_456,
        unexpected_percent: 12.3456,
        missing_count: 12,
        partial_unexpected_counts: Array.from({ length: 20 }, (_, i) => ({
          value: `not-an-email-${i}-${'y'.repeat(i * 10)}`,
          count: 20 - i,
        })),
        partial_unexpected_index_list: Array.from({ length: 20 }, (_, i) => i * 17 + 2),
        unexpected_rows: [{ order_id: 'ORD-1', email: 'not-an-email' }],
      },
    ),
    failed(
      'expect_rows_to_match_contract_schema',
      {},
      {
        element_count: 300,
        unexpected_count: 2,
        partial_unexpected_list: [
          { column: 'amount', problem: 'must be >= 0' },
          {
            column: 'customer_id',
            problem: `must have required property 'customer_id' ${'(the value is empty) '.repeat(20)}`,
          },
        ],
      },
    ),
    failed(
      'expect_column_pair_values_a_to_be_greater_than_b',
      { column_A: 'shipped_at', column_B: 'ordered_at', or_equal: true },
      { element_count: 300, unexpected_count: 1, partial_unexpected_list: [['2026-11-01', '2026-11-02']] },
    ),
    failed(
      'expect_column_values_to_match_json_schema',
      {
        column: 'payload',
        json_schema: {
          type: 'object',
          properties: Object.fromEntries(columns.map((c) => [c, { type: 'number' }])),
        },
      },
      {},
      `the column 'payload' is not in the file; the file's columns are ${columns.join(', ')}`,
    ),
  ];
  const result: SuiteValidationResult = {
    success: false,
    results,
    statistics: {
      evaluated_expectations: 9,
      successful_expectations: 0,
      unsuccessful_expectations: 9,
      success_percent: 0,
    },
    meta: {
      expectation_suite_name: 'orders',
      validation_time: '2026-11-25T10:00:00.000Z',
      batch_spec: { path: `landing/orders/${'very-long-folder-name/'.repeat(10)}orders.csv`, format: 'csv' },
      rows: { read: 300, valid: 0, quarantined: 300 },
      on_failure: 'quarantine',
      stopped_early: 'the quarantine share passed max_quarantine_percent after 300 rows',
    },
  };
  return renderValidationHtml(result, {
    dataset: 'orders',
    runId: 'r-every-kind',
    decision: { promote: false, reasons: results.map((r) => `${r.expectation_config.type} failed`) },
    rows: result.meta.rows,
  });
}

/** An index of 60 runs, some with long summaries and run ids. */
export function indexReport(): string {
  const runs: RunIndexEntry[] = Array.from({ length: 60 }, (_, i) => ({
    dt: `2026-11-${String((i % 28) + 1).padStart(2, '0')}`,
    runId: i % 10 === 0 ? `${HOSTILE[3]}-${'r'.repeat(80)}-${i}` : `r-${i}`,
    href: `dt=2026-11-01/run=r-${i}/validation.html`,
    jsonHref: `dt=2026-11-01/run=r-${i}/validation.json`,
    status: i % 3 === 0 ? 'not promoted' : 'promoted',
    summary:
      i % 4 === 0
        ? `${HOSTILE[1]} ${'3 of 9 expectations met; '.repeat(30)}${HOSTILE[5]}`
        : '9 of 9 expectations met',
  }));
  // The trend charts of the newest 30 runs: rows, quarantine rate, expectations met, duration, tag.
  const trends: TrendPoint[] = runs.slice(0, TREND_RUNS).map((run, i) => ({
    runId: run.runId,
    time: `2026-11-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z`,
    rows: i === 3 ? undefined : { read: 1000 + i * 37, quarantined: (i * 7) % 50 },
    expectations: { met: 9 - (i % 4), evaluated: 9 },
    durationSeconds: i === 5 ? null : 20 + ((i * 13) % 40),
    tag: i % 2 === 0 ? `orders@2026-11-${String((i % 28) + 1).padStart(2, '0')}-${HOSTILE[4]}` : undefined,
  }));
  return renderRunIndex(`orders-${HOSTILE[0]}`, runs, trends);
}
