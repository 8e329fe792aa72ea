import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { SuiteUnsupported } from '../../../lambdas/shared/errors.js';
import { exportGxSuite, importGxSuite } from '../../../src/cli/gx-suite.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'gx');
const suiteFile = (name: string) => JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as unknown;

function refusalOf(action: () => unknown): SuiteUnsupported {
  try {
    action();
  } catch (error) {
    if (error instanceof SuiteUnsupported) return error;
    throw error;
  }
  throw new Error('expected SuiteUnsupported');
}

describe('importGxSuite', () => {
  it('turns a GX 1.x suite into a contract, mapping critical, warning and info to error and warning', () => {
    // Act
    const { contract } = importGxSuite(suiteFile('orders.gx1.json'), { name: 'orders', where: 'suite.json' });
    // Assess
    expect(contract.expectations.map((e) => [e.type, e.severity])).toEqual([
      ['expect_table_columns_to_match_ordered_list', 'error'],
      ['expect_column_values_to_not_be_null', 'error'],
      ['expect_column_values_to_be_between', 'warning'],
      ['expect_column_values_to_be_in_set', 'warning'],
    ]);
    expect(contract.expectations[1]!.kwargs).toEqual({ column: 'order_id' });
    expect(contract.expectations[3]!.meta).toEqual({
      description: 'status is one we know',
      gx_severity: 'info',
    });
  });

  it('builds the schema from the columns the expectations name, typed where an expectation implies a type', () => {
    // Act
    const { contract } = importGxSuite(suiteFile('orders.gx1.json'), { name: 'orders', where: 'suite.json' });
    // Assess
    expect(Object.keys(contract.schema.properties)).toEqual(['order_id', 'amount', 'status']);
    expect(contract.schema.properties).toEqual({
      order_id: {},
      amount: { type: 'number' },
      status: { type: 'string' },
    });
  });

  it('reads a GX 0.x suite (expectation_suite_name, expectation_type), keeping kwargs and meta', () => {
    // Act
    const { contract, yaml } = importGxSuite(suiteFile('orders.gx0.json'), {
      name: 'orders',
      where: 'suite.json',
    });
    // Assess
    expect(contract.expectations.map((e) => e.type)).toEqual([
      'expect_column_values_to_not_be_null',
      'expect_column_values_to_be_between',
      'expect_column_values_to_match_regex',
    ]);
    expect(contract.expectations[1]!.kwargs).toMatchObject({ mostly: 0.9, result_format: 'SUMMARY' });
    expect(contract.expectations[1]!.meta).toEqual({ notes: 'refunds are negative and go elsewhere' });
    expect(contract.expectations.every((e) => e.severity === 'error')).toBe(true);
    expect(parseContract(yaml, 'orders.yaml').name).toBe('orders');
  });

  it('takes the schema and format of a sample when given one', () => {
    // Prepare
    const sample = {
      format: { type: 'csv', header: true, delimiter: ';' },
      schema: {
        type: 'object' as const,
        required: ['order_id'],
        properties: { order_id: { type: 'integer' }, amount: { type: 'number' }, status: { type: 'string' } },
      },
    };
    // Act
    const { contract } = importGxSuite(suiteFile('orders.gx1.json'), { name: 'orders', where: 's', sample });
    // Assess
    expect(contract.schema.properties.order_id).toEqual({ type: 'integer' });
    expect(contract.format).toMatchObject({ type: 'csv', delimiter: ';' });
  });

  it('refuses what Sluice cannot run, naming each expectation by its position and why', () => {
    // Act
    const error = refusalOf(() =>
      importGxSuite(suiteFile('unsupported.gx0.json'), { name: 'legacy', where: 'legacy.json' }),
    );
    // Assess
    expect(error.name).toBe('SuiteUnsupported');
    const lines = error.message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^expectations\[1\]: expect_column_values_to_match_like_pattern is not an expectation Sluice runs/,
    );
    expect(lines[1]).toMatch(
      /^expectations\[2\]: .*row_condition .*conditional expectations .*not supported/,
    );
    expect(lines[2]).toMatch(/^expectations\[3\]\/kwargs\/allow_cross_type_comparisons: /);
  });

  it('refuses a column the sample lacks, at the expectation that names it', () => {
    // Prepare
    const sample = {
      format: { type: 'csv', header: true },
      schema: { type: 'object' as const, properties: { order_id: { type: 'integer' } } },
    };
    // Act
    const error = refusalOf(() =>
      importGxSuite(suiteFile('orders.gx0.json'), { name: 'orders', where: 'o.json', sample }),
    );
    // Assess
    expect(error.message).toMatch(/expectations\[1\]\/kwargs\/column: .*amount/);
    expect(error.message).toMatch(/expectations\[2\]\/kwargs\/column: .*status/);
  });

  it('refuses a severity GX does not have', () => {
    // Prepare
    const suite = {
      name: 's',
      expectations: [{ type: 'expect_column_to_exist', kwargs: { column: 'a' }, severity: 'fatal' }],
    };
    // Act
    const error = refusalOf(() => importGxSuite(suite, { name: 's', where: 's.json' }));
    // Assess
    expect(error.message).toMatch(
      /expectations\[0\]: severity "fatal" is not one of GX's critical, warning, info/,
    );
  });

  it('refuses a file that is not a suite', () => {
    // Act
    const error = refusalOf(() => importGxSuite({ name: 'x' }, { name: 'x', where: 'x.json' }));
    // Assess
    expect(error.message).toMatch(/x\.json: not a Great Expectations suite/);
  });
});

describe('exportGxSuite', () => {
  it('gives back the GX 1.x suite it was imported from: types, kwargs, meta and the three severities', () => {
    // Prepare
    const original = suiteFile('orders.gx1.json') as {
      expectations: Array<{ type: string; kwargs: Record<string, unknown>; meta: object; severity: string }>;
    };
    const { contract } = importGxSuite(original, { name: 'orders', where: 'suite.json' });
    // Act
    const suite = exportGxSuite(contract, 'orders.yaml');
    // Assess
    expect(suite.name).toBe('orders');
    expect(suite.expectations).toEqual(
      original.expectations.map(({ type, kwargs, meta, severity }, i) => ({
        type,
        kwargs: Object.fromEntries(Object.entries(kwargs).filter(([k]) => k !== 'batch_id')),
        meta: i === 3 ? { ...meta, description: 'status is one we know' } : meta,
        severity,
      })),
    );
  });

  it('keeps a snapshot scope in meta, and imports it back as a snapshot scope', () => {
    // Prepare
    const contract = parseContract(
      `name: keys
source: { type: s3-upload, prefix: keys/ }
format: { type: csv, header: true }
schema: { type: object, properties: { id: { type: integer } } }
expectations:
  - type: expect_column_values_to_be_unique
    kwargs: { column: id }
    scope: snapshot
`,
      '<inline>',
    );
    // Act
    const suite = exportGxSuite(contract, 'keys.yaml');
    const back = importGxSuite(suite, { name: 'keys', where: 'keys.json' }).contract;
    // Assess
    expect(suite.expectations[0]!.meta).toEqual({ sluice_scope: 'snapshot' });
    expect(back.expectations[0]!.scope).toBe('snapshot');
    expect(back.expectations[0]!.meta).toBeUndefined();
  });

  it('refuses parse_strings_as_datetimes, which GX 1.x does not load, naming the expectation', () => {
    // Prepare
    const contract = parseContract(
      `name: events
source: { type: s3-upload, prefix: events/ }
format: { type: csv, header: true }
schema: { type: object, properties: { at: { type: string } } }
expectations:
  - type: expect_column_values_to_not_be_null
    kwargs: { column: at }
  - type: expect_column_min_to_be_between
    kwargs: { column: at, min_value: '2026-01-01', parse_strings_as_datetimes: true }
`,
      '<inline>',
    );
    // Act
    const error = refusalOf(() => exportGxSuite(contract, 'events.yaml'));
    // Assess
    expect(error.message).toMatch(/events\.yaml: 1 problem/);
    expect(error.message).toMatch(
      /expectations\[1\]: expect_column_min_to_be_between has parse_strings_as_datetimes/,
    );
  });
});
