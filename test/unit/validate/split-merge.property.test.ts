import { describe, expect, it } from '@jest/globals';
import { random } from '../../support/random.js';
import { csvContract, validate } from './support.js';

/**
 * Property: for expectations that judge each row on its own, validating a file split at any row
 * boundary and adding up the parts gives the same row counts and per-expectation element and
 * unexpected counts as validating it whole. (Uniqueness and increasing/decreasing look across
 * rows, and aggregates do not add up, so they are not part of this property.)
 */
const SUITE = `- type: expect_column_values_to_not_be_null
  kwargs: { column: b }
- type: expect_column_values_to_be_null
  kwargs: { column: e, mostly: 0.1 }
- type: expect_column_values_to_be_between
  kwargs: { column: n, min_value: 0, max_value: 50, strict_max: true }
- type: expect_column_values_to_be_in_set
  kwargs: { column: s, value_set: [red, green, blue] }
- type: expect_column_values_to_not_be_in_set
  kwargs: { column: s, value_set: [black] }
- type: expect_column_values_to_match_regex
  kwargs: { column: b, regex: "^[a-c]+$" }
- type: expect_column_values_to_not_match_regex
  kwargs: { column: b, regex: "cc" }
- type: expect_column_values_to_match_regex_list
  kwargs: { column: b, regex_list: ["^a", "^b"], match_on: any }
- type: expect_column_values_to_be_of_type
  kwargs: { column: m, type_: int }
- type: expect_column_value_lengths_to_be_between
  kwargs: { column: b, min_value: 2, max_value: 4 }
- type: expect_column_value_lengths_to_equal
  kwargs: { column: s, value: 3 }
- type: expect_column_values_to_match_strftime_format
  kwargs: { column: d, strftime_format: "%Y-%m-%d" }
- type: expect_column_values_to_be_dateutil_parseable
  kwargs: { column: d }
- type: expect_column_values_to_be_json_parseable
  kwargs: { column: e }
- type: expect_column_pair_values_to_be_equal
  kwargs: { column_A: n, column_B: m }
- type: expect_column_pair_values_a_to_be_greater_than_b
  kwargs: { column_A: n, column_B: m, or_equal: true }
- type: expect_select_column_values_to_be_unique_within_record
  kwargs: { column_list: [n, m] }
- type: expect_multicolumn_sum_to_equal
  kwargs: { column_list: [n, m], sum_total: 60 }`;

const contract = csvContract(
  `type: object
properties:
  n: { type: integer }
  m: { type: number }
  s: { type: string }
  b: { type: string }
  d: { type: string }
  e: { type: string }`,
  SUITE,
);

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

function rows(seed: number, count: number): string[] {
  const next = random(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = pick(next, ['', '-1', '0', '10', '30', '49', '50', '60', 'x']);
    const m = pick(next, ['', '10', '30', '30.5', '50', '0']);
    const s = pick(next, ['', 'red', 'green', 'blue', 'black', 'pink']);
    const b = pick(next, ['', 'a', 'ab', 'abc', 'bcc', 'zzzzz', 'ca']);
    const d = pick(next, ['', '2026-11-25', '2026-02-30', 'tomorrow', '25/11/2026']);
    const e = pick(next, ['', '', '', '1', '"{""a"":1}"', '{oops']);
    out.push([n, m, s, b, d, e].join(','));
  }
  return out;
}

interface Counts {
  rows: { read: number; valid: number; quarantined: number };
  perExpectation: Array<{ element: number; unexpected: number }>;
}

async function counts(lines: string[]): Promise<Counts> {
  const run = await validate(`n,m,s,b,d,e\n${lines.map((l) => `${l}\n`).join('')}`, contract);
  return {
    rows: run.outcome.rows,
    perExpectation: run.outcome.result.results.map((r) => ({
      element: r.result.element_count ?? -1,
      unexpected: r.result.unexpected_count ?? -1,
    })),
  };
}

function add(a: Counts, b: Counts): Counts {
  return {
    rows: {
      read: a.rows.read + b.rows.read,
      valid: a.rows.valid + b.rows.valid,
      quarantined: a.rows.quarantined + b.rows.quarantined,
    },
    perExpectation: a.perExpectation.map((x, i) => ({
      element: x.element + b.perExpectation[i]!.element,
      unexpected: x.unexpected + b.perExpectation[i]!.unexpected,
    })),
  };
}

describe('validating a file in two parts', () => {
  it('adds up to validating it whole, for every seed and split point tried', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      // Prepare
      const next = random(seed * 7919);
      const lines = rows(seed, Math.floor(next() * 60));
      const at = Math.floor(next() * (lines.length + 1));
      // Act
      const whole = await counts(lines);
      const parts = add(await counts(lines.slice(0, at)), await counts(lines.slice(at)));
      // Assess
      expect({ seed, at, ...parts }).toEqual({ seed, at, ...whole });
    }
  });

  it('finds unexpected values for every expectation in the suite (the property is not vacuous)', async () => {
    // Act
    const whole = await counts(rows(3, 400));
    // Assess
    expect(whole.perExpectation.filter((c) => c.unexpected <= 0)).toEqual([]);
  });
});
