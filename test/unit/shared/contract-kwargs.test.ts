import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { ContractInvalid } from '../../../lambdas/shared/errors.js';

/** Lines 1–9: the contract up to its expectations; the one expectation is on line 10, its kwargs from line 12. */
const head = [
  'name: orders',
  'source: { type: s3-upload, prefix: landing/orders/ }',
  'format: { type: csv }',
  'schema:',
  '  type: object',
  '  properties:',
  '    id: { type: string }',
  '    ordered_at: { type: string }',
  'expectations:',
];

/** The contract with one expectation whose kwargs are given line by line (under `kwargs:` on line 11). */
function contract(type: string, kwargs: string[]): string {
  return [...head, `  - type: ${type}`, '    kwargs:', ...kwargs.map((line) => `      ${line}`)].join('\n');
}

function problems(text: string): string {
  try {
    parseContract(text, 'datasets/orders.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ContractInvalid);
    return (error as Error).message;
  }
  throw new Error('the contract was accepted');
}

describe('regular expressions in kwargs', () => {
  it.each([
    ['expect_column_values_to_match_regex', ['column: id', 'regex: "([a-z"'], 'regex', 13],
    ['expect_column_values_to_not_match_regex', ['column: id', 'regex: "a{2,1}"'], 'regex', 13],
    [
      'expect_column_values_to_match_regex_list',
      ['column: id', 'regex_list:', '  - "^A"', '  - "([a-z"'],
      'regex_list/1',
      15,
    ],
    [
      'expect_column_values_to_not_match_regex_list',
      ['column: id', 'regex_list:', '  - "+x"', '  - "^B"'],
      'regex_list/0',
      14,
    ],
  ])('refuses a bad regex in %s with its line and JSON path', (type, kwargs, pointer, line) => {
    // Act
    const message = problems(contract(type, kwargs));
    // Assess
    expect(message).toContain(
      `datasets/orders.yaml:${line} at /expectations/0/kwargs/${pointer}: ${type}: not a valid regular expression`,
    );
    expect(message).toContain('JavaScript syntax with the u flag');
  });

  it('reports every bad regex of a list, each at its own line', () => {
    // Act
    const message = problems(
      contract('expect_column_values_to_match_regex_list', [
        'column: id',
        'regex_list:',
        '  - "(a"',
        '  - "ok"',
        '  - "[b"',
      ]),
    );
    // Assess
    expect(message).toContain('(2 problems)');
    expect(message).toContain('datasets/orders.yaml:14 at /expectations/0/kwargs/regex_list/0');
    expect(message).toContain('datasets/orders.yaml:16 at /expectations/0/kwargs/regex_list/2');
  });

  it("says how to write Python's named groups", () => {
    // Act
    const message = problems(
      contract('expect_column_values_to_match_regex', ['column: id', 'regex: "^(?P<year>\\\\d{4})$"']),
    );
    // Assess
    expect(message).toContain("Python's (?P<name>…) is written (?<name>…)");
  });

  it('accepts regexes that compile with the u flag', () => {
    // Act
    const load = () =>
      parseContract(
        contract('expect_column_values_to_not_match_regex_list', [
          'column: id',
          'regex_list: ["^\\\\d+$", "\\\\p{L}"]',
        ]),
        'datasets/orders.yaml',
      );
    // Assess
    expect(load).not.toThrow();
  });
});

describe('regular expressions that cannot be matched in linear time', () => {
  it.each([
    [
      'a backreference',
      'regex: "^(a+)\\\\1$"',
      'a backreference (\\1, \\k<name>) cannot be matched in linear time',
    ],
    [
      'a named backreference',
      'regex: "(?<x>a)\\\\k<x>"',
      'a backreference (\\1, \\k<name>) cannot be matched in linear time',
    ],
    ['a lookahead', 'regex: "^(?!test)\\\\w+"', 'lookahead and lookbehind'],
    ['a lookbehind', 'regex: "(?<=@)example"', 'lookahead and lookbehind'],
  ])('refuses %s at load, with its line and the reason', (_, regexLine, reason) => {
    // Act
    const message = problems(contract('expect_column_values_to_match_regex', ['column: id', regexLine]));
    // Assess
    expect(message).toContain(
      'datasets/orders.yaml:13 at /expectations/0/kwargs/regex: expect_column_values_to_match_regex: regular expression refused: ',
    );
    expect(message).toContain(reason);
  });

  it('refuses a lookahead in a regex list at the entry that has it', () => {
    // Act
    const message = problems(
      contract('expect_column_values_to_not_match_regex_list', [
        'column: id',
        'regex_list:',
        '  - "^x"',
        '  - "a(?=b)"',
      ]),
    );
    // Assess
    expect(message).toContain('(1 problem)');
    expect(message).toContain('datasets/orders.yaml:15 at /expectations/0/kwargs/regex_list/1');
  });

  it('refuses a lookahead in a json_schema kwarg', () => {
    // Act
    const message = problems(
      contract('expect_column_values_to_match_json_schema', [
        'column: id',
        'json_schema: { type: string, pattern: "^(?!x)" }',
      ]),
    );
    // Assess
    expect(message).toContain('at /expectations/0/kwargs/json_schema');
    expect(message).toContain('lookahead and lookbehind');
  });

  it('refuses a record schema pattern or patternProperties key RE2 cannot run, at its own line', () => {
    // Prepare
    const text = [
      'name: orders',
      'source: { type: s3-upload, prefix: landing/orders/ }',
      'format: { type: jsonl }',
      'schema:',
      '  type: object',
      '  properties:',
      '    id:',
      '      type: string',
      '      pattern: "^(\\\\d)\\\\1$"',
      '    tags:',
      '      type: object',
      '      patternProperties:',
      '        "^(?!_)": { type: string }',
      'expectations: []',
    ].join('\n');
    // Act
    const message = problems(text);
    // Assess
    expect(message).toContain('(2 problems)');
    expect(message).toMatch(
      /orders\.yaml:9 at \/schema\/properties\/id\/pattern: pattern "\^\(\\d\)\\1\$": a backreference/,
    );
    expect(message).toMatch(
      /orders\.yaml:13 at \/schema\/properties\/tags\/patternProperties\/\^\(\?!_\): pattern "\^\(\?!_\)": lookahead/,
    );
  });

  it('accepts the regexes of the GX gallery that RE2 runs: classes, counts, named groups, Unicode properties', () => {
    // Act
    const load = () =>
      parseContract(
        contract('expect_column_values_to_match_regex_list', [
          'column: id',
          'regex_list: ["^[\\\\w.+-]+@[\\\\w-]+\\\\.[a-z]{2,}$", "^(?<year>\\\\d{4})-\\\\d{2}$", "\\\\p{Lu}\\\\u00e9"]',
        ]),
        'datasets/orders.yaml',
      );
    // Assess
    expect(load).not.toThrow();
  });
});

describe('include_config and catch_exceptions', () => {
  it('accepts include_config and catch_exceptions either way', () => {
    for (const [include, caught] of [
      [true, false],
      [false, true],
    ]) {
      // Act
      const parsed = parseContract(
        contract('expect_column_values_to_not_be_null', [
          'column: id',
          `include_config: ${include}`,
          `catch_exceptions: ${caught}`,
        ]),
        'datasets/orders.yaml',
      );
      // Assess
      expect(parsed.expectations[0]?.kwargs).toMatchObject({
        include_config: include,
        catch_exceptions: caught,
      });
    }
  });

  it('refuses an include_config that is not a boolean', () => {
    // Act
    const message = problems(
      contract('expect_column_values_to_not_be_null', ['column: id', 'include_config: no-thanks']),
    );
    // Assess
    expect(message).toContain('/expectations/0/kwargs/include_config');
  });
});

describe('parse_strings_as_datetimes', () => {
  it.each([
    ['expect_column_values_to_be_between', ['column: ordered_at', 'min_value: 5'], 'min_value', 13],
    ['expect_column_max_to_be_between', ['column: ordered_at', 'max_value: "soon"'], 'max_value', 13],
    [
      'expect_column_values_to_be_in_set',
      ['column: ordered_at', 'value_set:', '  - "2026-11-25"', '  - "2026-02-30"'],
      'value_set/1',
      15,
    ],
    ['expect_column_values_to_not_be_in_set', ['column: ordered_at', 'value_set: [1]'], 'value_set/0', 13],
  ])('refuses %s with a bound or value that is not a date-time', (type, kwargs, pointer, line) => {
    // Act
    const message = problems(contract(type, [...kwargs, 'parse_strings_as_datetimes: true']));
    // Assess
    expect(message).toContain(`datasets/orders.yaml:${line} at /expectations/0/kwargs/${pointer}: ${type}:`);
    expect(message).toMatch(
      /with parse_strings_as_datetimes, .* must be a date-time text such as "2026-11-25"/,
    );
  });

  it('accepts date-time bounds and sets in the forms the dateutil-parseable expectation reads', () => {
    // Act
    const load = () =>
      parseContract(
        contract('expect_column_values_to_be_in_set', [
          'column: ordered_at',
          'value_set: ["2026-11-25", "25/11/2026", "Nov 25 2026 10:00", "2026-11-25T10:00:00Z"]',
          'parse_strings_as_datetimes: true',
        ]),
        'datasets/orders.yaml',
      );
    // Assess
    expect(load).not.toThrow();
  });

  it('is refused where it is not applied, naming where it is', () => {
    // Act
    const message = problems(
      contract('expect_column_distinct_values_to_be_in_set', [
        'column: ordered_at',
        'value_set: ["2026-11-25"]',
        'parse_strings_as_datetimes: true',
      ]),
    );
    // Assess
    expect(message).toContain(
      "datasets/orders.yaml:14 at /expectations/0/kwargs/parse_strings_as_datetimes: expect_column_distinct_values_to_be_in_set: unexpected property 'parse_strings_as_datetimes'",
    );
    expect(message).toContain('values are compared as date-times only by expect_column_values_to_be_between');
    expect(message).toContain('expect_column_values_to_be_in_set');
  });
});

describe('other kwargs the validator could not honour', () => {
  it('names the kwargs an expectation takes when it is given another', () => {
    // Act
    const message = problems(contract('expect_column_values_to_be_unique', ['column: id', 'strict: true']));
    // Assess
    expect(message).toContain(
      "datasets/orders.yaml:13 at /expectations/0/kwargs/strict: expect_column_values_to_be_unique: unexpected property 'strict'",
    );
    expect(message).toContain('expect_column_values_to_be_unique takes column, mostly, result_format');
  });

  it('suggests the kwarg meant when one is misspelt, with the kwargs the expectation takes', () => {
    // Act
    const message = problems(contract('expect_column_values_to_be_unique', ['colum: id']));
    // Assess
    expect(message).toContain(
      "at /expectations/0/kwargs/colum: expect_column_values_to_be_unique: unexpected property 'colum'; did you mean 'column'?",
    );
    expect(message).toContain('expect_column_values_to_be_unique takes column, mostly, result_format');
  });

  it('suggests nothing for a kwarg that is far from every kwarg taken', () => {
    // Act
    const message = problems(contract('expect_column_values_to_be_unique', ['column: id', 'strict: true']));
    // Assess
    expect(message).not.toContain('did you mean');
  });

  it('says that conditional expectations are not supported', () => {
    // Act
    const message = problems(
      contract('expect_column_values_to_not_be_null', ['column: id', 'row_condition: \'ordered_at>"2026"\'']),
    );
    // Assess
    expect(message).toContain('datasets/orders.yaml:13 at /expectations/0/kwargs/row_condition');
    expect(message).toContain('conditional expectations are not supported');
  });

  it('refuses a strftime format with a directive the validator does not read', () => {
    // Act
    const message = problems(
      contract('expect_column_values_to_match_strftime_format', [
        'column: ordered_at',
        'strftime_format: "%c"',
      ]),
    );
    // Assess
    expect(message).toContain('datasets/orders.yaml:13 at /expectations/0/kwargs/strftime_format');
    expect(message).toContain('%c is not supported; the directives read here are %Y %y %m %d');
  });

  it('refuses a json_schema that does not compile, such as one with a bad pattern', () => {
    // Act
    const message = problems(
      contract('expect_column_values_to_match_json_schema', [
        'column: id',
        'json_schema:',
        '  type: string',
        '  pattern: "([a-z"',
      ]),
    );
    // Assess
    expect(message).toContain('datasets/orders.yaml:14 at /expectations/0/kwargs/json_schema');
    expect(message).toContain('not a usable JSON Schema');
  });

  it('refuses allow_relative_error: true, which asks for approximate quantiles', () => {
    // Act
    const message = problems(
      contract('expect_column_quantile_values_to_be_between', [
        'column: id',
        'quantile_ranges: { quantiles: [0.5], value_ranges: [[0, 1]] }',
        'allow_relative_error: true',
      ]),
    );
    // Assess
    expect(message).toContain('datasets/orders.yaml:14 at /expectations/0/kwargs/allow_relative_error');
    expect(message).toContain('name a pandas interpolation: linear, lower, higher, midpoint or nearest');
  });

  it('refuses quantile_ranges without one value range per quantile', () => {
    // Act
    const message = problems(
      contract('expect_column_quantile_values_to_be_between', [
        'column: id',
        'quantile_ranges:',
        '  quantiles: [0.25, 0.5, 0.75]',
        '  value_ranges: [[0, 1], [1, 2]]',
      ]),
    );
    // Assess
    expect(message).toContain(
      'datasets/orders.yaml:15 at /expectations/0/kwargs/quantile_ranges/value_ranges',
    );
    expect(message).toContain('3 quantiles and 2 value_ranges; give one [min, max] range per quantile');
  });
});
