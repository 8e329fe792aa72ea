import { describe, expect, it } from '@jest/globals';
import { ExpectationRaised } from '../../../lambdas/shared/errors.js';
import { csvContract, resultOf, validate } from './support.js';

/**
 * The GX kwargs that change how an expectation judges or reports, beyond its own arguments:
 * parse_strings_as_datetimes, catch_exceptions and include_config. Columns `a` and `b` hold text.
 */
async function run(type: string, kwargs: Record<string, unknown>, rows: string[]) {
  const contract = csvContract(
    'type: object\nproperties:\n  a: { type: string }\n  b: { type: string }',
    `- type: ${type}\n  kwargs: ${JSON.stringify(kwargs)}`,
  );
  // A row without a comma is a value of `a`, with `b` empty.
  const csv = `a,b\n${rows.map((row) => (row.includes(',') ? row : `${row},`)).join('\n')}\n`;
  const outcome = await validate(csv, contract);
  return { run: outcome, entry: resultOf(outcome, type) };
}

describe('parse_strings_as_datetimes', () => {
  it('in_set compares the set and the values as instants, whatever form they are written in', async () => {
    // Prepare
    const kwargs = {
      column: 'a',
      value_set: ['2026-11-25', 'Dec 24 2026'],
      parse_strings_as_datetimes: true,
    };
    // Act
    const { entry } = await run('expect_column_values_to_be_in_set', kwargs, [
      '2026-11-25T00:00:00Z',
      '20261125',
      '25/11/2026',
      '2026-12-24',
      '2026-11-26',
    ]);
    // Assess
    expect(entry.result).toMatchObject({ unexpected_count: 1, partial_unexpected_list: ['2026-11-26'] });
  });

  it('in_set without it compares the text as written', async () => {
    // Act
    const { entry } = await run(
      'expect_column_values_to_be_in_set',
      { column: 'a', value_set: ['2026-11-25'] },
      ['2026-11-25T00:00:00Z'],
    );
    // Assess
    expect(entry.result.unexpected_count).toBe(1);
  });

  it('in_set finds a value that is not a date-time unexpected, saying so', async () => {
    // Act
    const { entry, run: r } = await run(
      'expect_column_values_to_be_in_set',
      { column: 'a', value_set: ['2026-11-25'], parse_strings_as_datetimes: true },
      ['2026-11-25', 'soon'],
    );
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual(['soon']);
    expect(r.quarantine[0]?.failures[0]?.reason).toBe(
      'must be a date-time in {"2026-11-25"} (as date-times), got "soon"',
    );
  });

  it('not_in_set refuses a value naming a forbidden instant, and lets text that names none pass', async () => {
    // Act
    const { entry } = await run(
      'expect_column_values_to_not_be_in_set',
      { column: 'a', value_set: ['2026-12-25'], parse_strings_as_datetimes: true },
      ['2026-12-25T00:00:00Z', '2026-12-24', 'not a date'],
    );
    // Assess
    expect(entry.result).toMatchObject({
      unexpected_count: 1,
      partial_unexpected_list: ['2026-12-25T00:00:00Z'],
    });
  });

  it('between compares values and bounds as instants', async () => {
    // Act
    const { entry } = await run(
      'expect_column_values_to_be_between',
      {
        column: 'a',
        min_value: '2026-01-01',
        max_value: '2026-12-31T23:59:59Z',
        parse_strings_as_datetimes: true,
      },
      ['20261125', 'Nov 25 2026 10:00', '2027-01-01', 'soon'],
    );
    // Assess
    expect(entry.result.partial_unexpected_list).toEqual(['2027-01-01', 'soon']);
  });

  it('increasing orders by instant, not by text', async () => {
    // Prepare: as text, "2026-11-10" sorts before "2026-11-9".
    const rows = ['2026-11-9', '2026-11-10', 'Nov 11 2026'];
    // Act
    const asDates = await run(
      'expect_column_values_to_be_increasing',
      { column: 'a', parse_strings_as_datetimes: true },
      rows,
    );
    const asText = await run('expect_column_values_to_be_increasing', { column: 'a' }, rows);
    // Assess
    expect(asDates.entry.success).toBe(true);
    expect(asText.entry.success).toBe(false);
  });

  it('decreasing names the previous value as written', async () => {
    // Act
    const { run: r } = await run(
      'expect_column_values_to_be_decreasing',
      { column: 'a', parse_strings_as_datetimes: true },
      ['2026-11-9', '2026-11-10'],
    );
    // Assess
    expect(r.quarantine[0]?.failures[0]?.reason).toBe('must be decreasing: "2026-11-10" follows "2026-11-9"');
  });

  it('max finds the latest instant and reports it as written', async () => {
    // Act
    const { entry } = await run(
      'expect_column_max_to_be_between',
      { column: 'a', max_value: '2026-11-30', parse_strings_as_datetimes: true },
      ['2026-11-9', '2026-11-10', '2026-11-2'],
    );
    // Assess
    expect(entry).toMatchObject({ success: true, result: { observed_value: '2026-11-10' } });
  });

  it('min fails when the earliest instant is below min_value', async () => {
    // Act
    const { entry } = await run(
      'expect_column_min_to_be_between',
      { column: 'a', min_value: '2026-11-05', parse_strings_as_datetimes: true },
      ['2026-11-9', '2026-11-10', '2026-11-2'],
    );
    // Assess
    expect(entry).toMatchObject({ success: false, result: { observed_value: '2026-11-2' } });
  });

  it('a greater than b compares the pair as instants', async () => {
    // Act
    const { entry } = await run(
      'expect_column_pair_values_a_to_be_greater_than_b',
      { column_A: 'a', column_B: 'b', parse_strings_as_datetimes: true },
      ['2026-11-10,2026-11-9', '2026-11-25T10:00:00Z,Nov 25 2026 11:00', 'soon,2026-11-01'],
    );
    // Assess
    expect(entry.result.partial_unexpected_index_list).toEqual([1, 2]);
  });
});

describe('allow_relative_error on quantiles', () => {
  it.each([
    [undefined, [2, 3]],
    [false, [2, 3]],
    ['nearest', [2, 3]],
    ['linear', [2.2, 2.5]],
    ['lower', [2, 2]],
    ['higher', [3, 3]],
    ['midpoint', [2.5, 2.5]],
  ])('%j interpolates as pandas does', async (allow_relative_error, values) => {
    // Prepare
    const kwargs = {
      column: 'a',
      quantile_ranges: {
        quantiles: [0.4, 0.5],
        value_ranges: [
          [null, null],
          [null, null],
        ],
      },
      ...(allow_relative_error === undefined ? {} : { allow_relative_error }),
    };
    // Act
    const { entry } = await run('expect_column_quantile_values_to_be_between', kwargs, ['4', '1', '3', '2']);
    // Assess
    expect(entry.result.observed_value).toEqual({ quantiles: [0.4, 0.5], values });
  });
});

describe('catch_exceptions', () => {
  it('by default reports an expectation that cannot be evaluated in exception_info, and the run goes on', async () => {
    // Act
    const { entry, run: r } = await run('expect_column_mean_to_be_between', { column: 'a', min_value: 0 }, [
      '1',
      'abc',
    ]);
    // Assess
    expect(entry.success).toBe(false);
    expect(entry.exception_info).toMatchObject({
      raised_exception: true,
      exception_message: expect.stringContaining('not a number on row 3'),
    });
    expect(r.outcome.rows.read).toBe(2);
  });

  it('false stops the validation with ExpectationRaised naming the expectation and why', async () => {
    // Act
    const running = run(
      'expect_column_mean_to_be_between',
      { column: 'a', min_value: 0, catch_exceptions: false },
      ['1', 'abc'],
    );
    // Assess
    await expect(running).rejects.toThrow(ExpectationRaised);
    await expect(running).rejects.toThrow(
      /expect_column_mean_to_be_between on column 'a' could not be evaluated: .*not a number on row 3.*catch_exceptions is false/,
    );
  });

  it('false changes nothing for an expectation that can be evaluated, even when it fails', async () => {
    // Act
    const { entry } = await run(
      'expect_column_values_to_not_be_null',
      { column: 'a', catch_exceptions: false },
      ['1', ''],
    );
    // Assess
    expect(entry).toMatchObject({ success: false, exception_info: { raised_exception: false } });
  });
});

describe('min_value and max_value both null', () => {
  it.each([
    ['expect_column_mean_to_be_between', { column: 'a' }],
    ['expect_column_unique_value_count_to_be_between', { column: 'a' }],
    ['expect_table_row_count_to_be_between', {}],
    ['expect_table_column_count_to_be_between', {}],
  ])('%s cannot be evaluated, as GX 1.x reports it, instead of passing on anything', async (type, kwargs) => {
    // Act
    const { entry } = await run(type, { ...kwargs, min_value: null, max_value: null }, ['1']);
    // Assess
    expect(entry).toMatchObject({
      success: false,
      exception_info: {
        raised_exception: true,
        exception_message: 'min_value and max_value cannot both be None',
      },
    });
  });
});

describe('include_config', () => {
  it('true: the result carries the expectation config, kwargs included', async () => {
    // Act
    const { entry } = await run(
      'expect_column_values_to_not_be_null',
      { column: 'a', include_config: true },
      ['1'],
    );
    // Assess
    expect(entry.expectation_config).toEqual({
      type: 'expect_column_values_to_not_be_null',
      kwargs: { column: 'a', include_config: true },
      meta: { severity: 'error' },
      severity: 'error',
    });
  });
});
