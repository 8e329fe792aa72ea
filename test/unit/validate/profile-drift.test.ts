import { describe, expect, it } from '@jest/globals';
import { compareProfiles, psi, rebin } from '../../../lambdas/validate/profile-drift.js';
import { csvContract, validate } from './support.js';

const contract = csvContract('type: object\nproperties:\n  x: { type: number }\n  c: { type: string }');
const RUN = { runId: 'r0', dt: '2026-11-24' };

async function profileOf(rows: Array<[number | '', string]>) {
  const run = await validate(`x,c\n${rows.map(([x, c]) => `${x},${c}`).join('\n')}\n`, contract);
  return run.outcome.profile!;
}

const steady = (n: number, shift = 0) =>
  Array.from({ length: n }, (_, i): [number, string] => [shift + (i % 50), ['a', 'b', 'c'][i % 3]!]);

describe('drift against the previous promoted run', () => {
  it('flags no column when the data is the same', async () => {
    // Prepare
    const before = await profileOf(steady(600));
    const after = await profileOf(steady(600));
    // Act
    const drift = compareProfiles(before, after, RUN);
    // Assess
    expect(drift.columns.map((c) => [c.column, c.flags])).toEqual([
      ['x', []],
      ['c', []],
    ]);
    expect(drift.columns[0]!.psi).toBeCloseTo(0, 10);
  });

  it('flags a moved mean and distribution, a grown null rate and a changed set of categories', async () => {
    // Prepare
    const before = await profileOf(steady(600));
    const after = await profileOf(
      steady(600, 40).map(([x, c], i): [number | '', string] => [
        i % 5 === 0 ? '' : x,
        i % 2 === 0 ? 'z' : c,
      ]),
    );
    // Act
    const drift = compareProfiles(before, after, RUN);
    // Assess
    const [x, c] = drift.columns;
    expect(x!.flags.join('; ')).toMatch(
      /null rate moved by \+20\.0 points.*mean moved by .* standard deviations.*PSI/,
    );
    expect(x!.psi!).toBeGreaterThan(0.25);
    expect(c!.flags.join('; ')).toMatch(/distribution shifted/);
    expect(drift.previous).toEqual(RUN);
  });

  it('names the columns added and removed since the previous run', async () => {
    // Prepare
    const before = await profileOf(steady(10));
    const after = { ...before, columns: [...before.columns.slice(1), { ...before.columns[0]!, name: 'y' }] };
    // Act
    const drift = compareProfiles(before, after, RUN);
    // Assess
    expect([drift.added, drift.removed]).toEqual([['y'], ['x']]);
  });
});

describe('the population stability index', () => {
  it('is zero for equal shares and grows with the shift', () => {
    // Act and Assess
    expect(psi([10, 20, 30], [1, 2, 3])).toBeCloseTo(0, 12);
    expect(psi([50, 50], [90, 10])).toBeCloseTo(0.4 * Math.log(0.9 / 0.5) + -0.4 * Math.log(0.1 / 0.5), 12);
  });

  it('spreads a bin over the bins it overlaps, with tails below and above', () => {
    // Act
    const counts = rebin({ edges: [-10, 0, 10, 20], counts: [4, 10, 6] }, [0, 5, 10]);
    // Assess
    expect(counts).toEqual([4, 5, 5, 6]);
  });
});
