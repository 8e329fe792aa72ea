import { describe, expect, it } from '@jest/globals';
import { GrowingHistogram } from '../../../lambdas/validate/profile-sketches.js';
import { random } from '../../support/random.js';
import { randomCuts, recordStarts, wholeAndSharded } from './merge-support.js';
import { contractFrom, csvContract, validate } from './support.js';

const SCHEMA = `type: object
properties:
  id: { type: string }
  amount: { type: number }
  qty: { type: integer }
  day: { type: string, format: date }
  status: { type: string }`;

const contract = csvContract(SCHEMA);

function column(run: Awaited<ReturnType<typeof validate>>, name: string) {
  const found = run.outcome.profile?.columns.find((c) => c.name === name);
  if (!found) throw new Error(`no profile of ${name}`);
  return found;
}

describe('column profiles in the validation pass', () => {
  it('gives each CSV column its type, nulls, distinct count, moments, histogram and top values', async () => {
    // Prepare
    const csv =
      'id,amount,qty,day,status\nA,10,1,2026-11-01,paid\nB,20,2,2026-11-02,paid\nC,,3,2026-11-03,shipped\nD,30,x,2026-11-03,\n';
    // Act
    const run = await validate(csv, contract);
    // Assess
    expect(run.outcome.profile?.rows).toBe(4);
    const amount = column(run, 'amount');
    expect(amount).toMatchObject({
      type: 'number',
      nulls: 1,
      null_rate: 0.25,
      distinct: { count: 3, exact: true },
    });
    expect(amount.numeric).toEqual({ count: 3, min: 10, max: 30, mean: 20, stdev: 10 });
    expect(amount.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(column(run, 'qty')).toMatchObject({
      type: 'mixed',
      types: { number: 3, string: 1, boolean: 0, other: 0 },
    });
    expect(column(run, 'status').top).toEqual({
      values: [
        { value: 'paid', count: 2 },
        { value: 'shipped', count: 1 },
      ],
      complete: true,
    });
  });

  it('profiles a date column as the instants it names, parsing each distinct date once', async () => {
    // Prepare
    const csv = 'id,day\nA,2026-11-01\nB,2026-11-03\nC,2026-11-03\n';
    // Act
    const run = await validate(csv, csvContract(SCHEMA));
    // Assess
    const day = column(run, 'day');
    expect(day.type).toBe('date');
    expect(day.numeric?.min).toBe(Date.parse('2026-11-01'));
    expect(day.numeric?.max).toBe(Date.parse('2026-11-03'));
    expect(day.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('counts the distinct values of a column past 1,000 with a sketch, within three times its stated error', async () => {
    // Prepare
    const ids = Array.from({ length: 20_000 }, (_, i) => `id-${i}`);
    const csv = `id,status\n${ids.map((id) => `${id},s${id.length % 3}`).join('\n')}\n`;
    // Act
    const run = await validate(csv, contract);
    // Assess
    const distinct = column(run, 'id').distinct;
    expect(distinct.exact).toBe(false);
    expect(Math.abs(distinct.count - 20_000) / 20_000).toBeLessThan(3 * distinct.relative_error!);
    expect(column(run, 'id').top).toBeUndefined();
    expect(column(run, 'status').distinct).toEqual({ count: 3, exact: true });
  });

  it('profiles JSON Lines records, counting a key absent from a record as null there', async () => {
    // Prepare
    const jsonl = contractFrom(
      `name: orders\nsource: { type: s3-upload, prefix: landing/orders/ }\nformat: { type: jsonl }\nschema:\n  ${SCHEMA.replaceAll('\n', '\n  ')}\nexpectations: []\n`,
    );
    // Act
    const run = await validate(
      '{"id":"a","amount":1}\n{"id":"b"}\n{"id":"c","amount":null,"status":"x"}\n',
      jsonl,
    );
    // Assess
    expect(column(run, 'amount')).toMatchObject({ nulls: 2, distinct: { count: 1 } });
    expect(column(run, 'status')).toMatchObject({ nulls: 2, type: 'string' });
  });

  it('is not gathered when profiling is off', async () => {
    // Act
    const run = await validate('id\nA\n', contract, { profile: false });
    // Assess
    expect(run.outcome.profile).toBeUndefined();
  });

  it('merges the profiles of shards into the profile one pass gives', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      // Prepare
      const next = random(seed);
      const rows = Array.from({ length: 400 }, (_, i) => {
        const amount = next() < 0.1 ? '' : (next() * 10 ** (1 + Math.floor(next() * 4))).toFixed(2);
        const day = `2026-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-1${Math.floor(next() * 9)}`;
        return `id${i % 350},${amount},${Math.floor(next() * 50) - 10},${day},${['a', 'b', 'c'][i % 3]}`;
      });
      const text = `id,amount,qty,day,status\n${rows.join('\n')}\n`;
      const cuts = randomCuts(next, recordStarts(text, 'csv'), 1 + Math.floor(next() * 5));
      // Act
      const run = await wholeAndSharded(text, contract, cuts);
      // Assess
      expect(run.merged.profile).toEqual(run.whole.outcome.profile);
    }
  });
});

describe('the widening histogram', () => {
  it('keeps every value in exactly one bin as its bins widen, and merges into the histogram one pass builds', () => {
    // Prepare
    const next = random(7);
    const values = Array.from({ length: 3000 }, () => (next() - 0.3) * 10 ** Math.floor(next() * 6));
    const whole = new GrowingHistogram();
    const parts = [new GrowingHistogram(), new GrowingHistogram(), new GrowingHistogram()];
    // Act
    values.forEach((v, i) => {
      whole.add(v);
      parts[i % 3]!.add(v);
    });
    const merged = new GrowingHistogram();
    for (const part of parts) merged.absorb(JSON.parse(JSON.stringify(part.state())));
    // Assess
    const bins = whole.bins()!;
    expect(bins.counts.reduce((a, b) => a + b, 0)).toBe(values.length);
    expect(bins.counts.length).toBeLessThanOrEqual(32);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(bins.edges[0]!);
    expect(Math.max(...values)).toBeLessThan(bins.edges.at(-1)!);
    expect(merged.bins()).toEqual(bins);
  });
});
