import { describe, expect, it } from '@jest/globals';
import { FirstOccurrences } from '../../../lambdas/validate/first-occurrences.js';
import { random } from '../../support/random.js';

describe('FirstOccurrences', () => {
  it('returns -1 for a new value and the first record for a value seen before', () => {
    // Prepare
    const seen = new FirstOccurrences();
    seen.findOrAdd('a', 0, 2);
    // Act
    const entry = seen.findOrAdd('a', 5, 9);
    // Assess
    expect([seen.firstIndex(entry), seen.firstLine(entry)]).toEqual([0, 2]);
  });

  it('keeps values of different types apart: 1, "1" and true are three values', () => {
    // Prepare
    const seen = new FirstOccurrences();
    // Act
    const found = [1, '1', true].map((value, i) => seen.findOrAdd(value, i, i));
    // Assess
    expect([found, seen.size]).toEqual([[-1, -1, -1], 3]);
  });

  it('treats -0 and 0 as the same value, as a Map does', () => {
    // Prepare
    const seen = new FirstOccurrences();
    seen.findOrAdd(0, 0, 0);
    // Act
    const entry = seen.findOrAdd(-0, 1, 1);
    // Assess
    expect(entry).not.toBe(-1);
  });

  it('compares objects by their JSON text', () => {
    // Prepare
    const seen = new FirstOccurrences();
    seen.findOrAdd({ a: [1, 2] }, 0, 0);
    // Act
    const found = [seen.findOrAdd({ a: [1, 2] }, 1, 1), seen.findOrAdd({ a: [2, 1] }, 2, 2)];
    // Assess
    expect(found.map((entry) => entry !== -1)).toEqual([true, false]);
  });

  it('agrees with a Map over many values, through every growth of the table', () => {
    // Prepare
    const seen = new FirstOccurrences();
    const reference = new Map<unknown, number>();
    const values = Array.from({ length: 50_000 }, (_, i) => {
      const k = (i * 7919) % 20_011;
      return k % 3 === 0 ? k : k % 3 === 1 ? `v${k}` : `long value number ${k} with some more text é😀`;
    });
    // Act
    const mismatches = values.filter((value, index) => {
      const entry = seen.findOrAdd(value, index, index + 2);
      const first = reference.get(value);
      if (first === undefined) reference.set(value, index);
      return entry === -1 ? first !== undefined : seen.firstIndex(entry) !== first;
    });
    // Assess
    expect([mismatches.length, seen.size]).toEqual([0, reference.size]);
  });

  it('says a value is repeated only the first time it is marked', () => {
    // Prepare
    const seen = new FirstOccurrences();
    seen.findOrAdd('x', 0, 0);
    const entry = seen.findOrAdd('x', 1, 1);
    // Act
    const marks = [seen.markRepeated(entry), seen.markRepeated(entry)];
    // Assess
    expect(marks).toEqual([true, false]);
  });

  it('gives the line of each first record when records span lines, lines are blank or files change', () => {
    // Prepare: line − index changes at index 3 (a record over two lines) and 6 (a new file).
    const lines = [2, 3, 4, 6, 7, 8, 2, 3];
    const seen = new FirstOccurrences();
    lines.forEach((line, index) => {
      seen.findOrAdd(`k${index}`, index, line);
    });
    // Act
    const found = lines.map((_, index) => seen.firstLine(seen.findOrAdd(`k${index}`, 100 + index, 200)));
    // Assess
    expect(found).toEqual(lines);
  });

  it('treats NaN as one value, as a Map does, and keeps 1 and 1.5 apart', () => {
    // Prepare
    const seen = new FirstOccurrences();
    // Act
    const found = [Number.NaN, Number.NaN, 1, 1.5, 1].map((value, i) => seen.findOrAdd(value, i, i));
    // Assess
    expect(found).toEqual([-1, 0, -1, -1, 1]);
  });

  it('finds the same values after reserving room up front as without', () => {
    // Prepare
    const seen = new FirstOccurrences();
    seen.findOrAdd('before', 0, 2);
    // Act
    seen.reserve(100_000, 12);
    const found = [
      seen.findOrAdd('before', 1, 3),
      seen.findOrAdd('after', 2, 4),
      seen.findOrAdd('after', 3, 5),
    ];
    // Assess
    expect([found, seen.firstLine(found[2]!)]).toEqual([[0, -1, 1], 4]);
  });

  it('finds keys of one length, and keeps finding them once a key of another length comes', () => {
    // Prepare: 6-character keys (some repeated, out of order), then shorter and longer ones, then all again.
    const next = random(5);
    const same = Array.from({ length: 3000 }, () => `K${String(Math.floor(next() * 2000)).padStart(5, '0')}`);
    const mixed = ['', 'x', 'K00001', 'longer-key-here', ...same.slice(0, 50), 7, true];
    const values = [...same, ...mixed, ...same.slice().reverse(), ...mixed];
    const reference = new Map<unknown, number>();
    const seen = new FirstOccurrences();
    // Act
    const wrong = values.filter((value, index) => {
      const entry = seen.findOrAdd(value, index, index + 2);
      const first = reference.get(value);
      if (first === undefined) reference.set(value, index);
      return entry === -1 ? first !== undefined : seen.firstIndex(entry) !== first;
    });
    // Assess
    expect([wrong, seen.size]).toEqual([[], reference.size]);
  });

  describe('keys that arrive in increasing order', () => {
    /** The keys findOrAdd misplaces: a new key reported as seen, or a repeat given the wrong first record. */
    function mismatches(seen: FirstOccurrences, values: unknown[]): unknown[] {
      const reference = new Map<unknown, number>();
      return values.filter((value, index) => {
        const entry = seen.findOrAdd(value, index, index + 2);
        const first = reference.get(value);
        if (first === undefined) reference.set(value, index);
        return entry === -1 ? first !== undefined : seen.firstIndex(entry) !== first;
      });
    }

    it('finds a repeat of the last key, then every earlier key once one comes out of order', () => {
      // Prepare: sorted ids with a few repeated at once, then older ids again, then sorted again.
      const sorted = Array.from({ length: 5000 }, (_, i) => `ORD-${String(i).padStart(6, '0')}`);
      const values = [
        ...sorted.flatMap((id, i) => (i % 97 === 0 ? [id, id] : [id])),
        sorted[10],
        sorted[4999],
        'ORD-999999',
        sorted[0],
      ];
      // Act
      const seen = new FirstOccurrences();
      // Assess
      expect([mismatches(seen, values), seen.size]).toEqual([[], 5001]);
    });

    it('compares numbers as numbers: 9 then 10 is in order, -0 repeats 0, NaN ends the ordered run', () => {
      // Prepare
      const values = [1, 2, 9, 10, 10, 100, 0.5, 0, -0, Number.NaN, 2, Number.NaN, 1e21, 1e21];
      // Act
      const seen = new FirstOccurrences();
      // Assess
      expect(mismatches(seen, values)).toEqual([]);
    });

    it('keeps kinds apart when the kind changes within the run: "2" after 1 is a new key', () => {
      // Prepare (one object twice: the Map that checks compares objects by identity)
      const object = { a: 1 };
      const values = [1, 2, '2', '3', 2, true, '3', object, object];
      // Act
      const seen = new FirstOccurrences();
      // Assess
      expect([mismatches(seen, values), seen.size]).toEqual([[], 6]);
    });

    it('orders text as JS compares strings: prefixes, characters over 255 and surrogates, widening on the way', () => {
      // Prepare: sorted by UTF-16 code unit (JS's default sort), some repeated at once, then all again shuffled.
      const next = random(11);
      const alphabet = ['a', 'b', 'é', 'ÿ', '中', '😀', '\ud83d'];
      const keys = new Set<string>();
      while (keys.size < 3000) {
        let key = '';
        for (let n = 1 + Math.floor(next() * 5); n > 0; n--)
          key += alphabet[Math.floor(next() * alphabet.length)];
        keys.add(key);
      }
      const sorted = [...keys].sort();
      const shuffled = [...sorted].sort(() => next() - 0.5);
      const values = [...sorted.flatMap((key, i) => (i % 7 === 0 ? [key, key] : [key])), ...shuffled];
      // Act
      const seen = new FirstOccurrences();
      // Assess
      expect([mismatches(seen, values), seen.size]).toEqual([[], 3000]);
    });

    it('builds the table of the reserved size at the first key out of order, and finds keys from then on', () => {
      // Prepare
      const seen = new FirstOccurrences();
      seen.reserve(20_000, 8);
      const values = Array.from({ length: 10_000 }, (_, i) => `k${String(i).padStart(7, '0')}`);
      // Act: in order, then every key again in reverse, then new keys out of order.
      const found = mismatches(seen, [...values, ...[...values].reverse(), 'a', 'b', 'a']);
      // Assess
      expect([found, seen.size]).toEqual([[], 10_002]);
    });
  });
});
