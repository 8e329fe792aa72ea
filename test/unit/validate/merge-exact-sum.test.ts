import { describe, expect, it } from '@jest/globals';
import { ExactSum } from '../../../lambdas/validate/exact-sum.js';
import { random } from '../../support/random.js';

/** A double as an exact integer count of 2^-1074. */
function scaled(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const exponent = (high >>> 20) & 0x7ff;
  const mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  const m = exponent === 0 ? mantissa : mantissa | (1n << 52n);
  const magnitude = m << BigInt(Math.max(exponent, 1) - 1);
  return x < 0 ? -magnitude : magnitude;
}

/** The next double after x, away from zero. */
function awayFromZero(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}

function values(seed: number, count: number): number[] {
  const next = random(seed);
  return Array.from({ length: count }, () => {
    const sign = next() < 0.5 ? -1 : 1;
    const kind = next();
    if (kind < 0.3) return (sign * Math.round(next() * 1e8)) / 100;
    if (kind < 0.6) return sign * next() * 2 ** Math.floor(next() * 200 - 100);
    if (kind < 0.8) return sign * next() * 2 ** Math.floor(next() * 2000 - 1000);
    return sign * 2 ** Math.floor(next() * 60);
  });
}

function sumOf(xs: readonly number[]): number {
  const sum = new ExactSum();
  for (const x of xs) sum.add(x);
  return sum.value();
}

describe('ExactSum', () => {
  it('rounds the exact sum to a nearest double, for values of every magnitude', () => {
    for (let seed = 1; seed <= 30; seed++) {
      // Prepare
      const xs = values(seed, 500);
      const exact = xs.reduce((total, x) => total + scaled(x), 0n);
      // Act
      const result = sumOf(xs);
      // Assess: no double lies between the exact sum and the result.
      const error = exact - scaled(result);
      const up = scaled(awayFromZero(result)) - scaled(result);
      expect({ seed, within: 2n * (error < 0n ? -error : error) <= (up < 0n ? -up : up) }).toEqual({
        seed,
        within: true,
      });
    }
  });

  it('gives the same bits whatever the order and grouping of the values', () => {
    for (let seed = 1; seed <= 30; seed++) {
      // Prepare
      const xs = values(seed, 300);
      const cut = Math.floor(xs.length / 3);
      const left = new ExactSum();
      for (const x of xs.slice(0, cut)) left.add(x);
      const merged = new ExactSum();
      for (const x of xs.slice(cut)) merged.add(x);
      // Act
      merged.addAll(JSON.parse(JSON.stringify(left.state())));
      // Assess
      expect([seed, merged.value(), sumOf([...xs].reverse())]).toEqual([seed, sumOf(xs), sumOf(xs)]);
    }
  });

  it('adds 1 + 1 to 1e16 where a running sum rounds them away', () => {
    // Act and Assess
    expect(sumOf([1e16, 1, 1])).toBe(10000000000000002);
    expect(1e16 + 1 + 1).toBe(1e16);
  });
});
