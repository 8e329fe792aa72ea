import { describe, expect, it } from '@jest/globals';
import { recordBuilder } from '../../../lambdas/validate/record-builder.js';
import { coercerFor } from '../../../lambdas/validate/record-schema.js';

describe('recordBuilder', () => {
  it('types each cell by its column and leaves empty and null cells out of the record', () => {
    // Prepare
    const build = recordBuilder(
      ['id', 'amount', 'note'],
      [undefined, coercerFor({ type: 'number' }), undefined],
      new Set(['NA']),
    );
    const values: unknown[] = [];
    // Act
    const record = build(['a1', '12.50', 'NA'], values);
    // Assess
    expect([record, values]).toEqual([{ id: 'a1', amount: 12.5 }, ['a1', 12.5, null]]);
  });

  it('treats only the empty cell as null when the contract names no null values', () => {
    // Prepare
    const build = recordBuilder(['a', 'b'], [undefined, undefined], undefined);
    const values: unknown[] = [];
    // Act
    const record = build(['', 'NA'], values);
    // Assess
    expect([record, values]).toEqual([{ b: 'NA' }, [null, 'NA']]);
  });

  it('keeps column names that are not identifiers as they are: quotes, backslashes, line separators, digits', () => {
    // Prepare
    const header = ['it\'s "quoted"', 'back\\slash', 'line\u2028separator', '0', 'constructor', '$' + '{x}'];
    const build = recordBuilder(
      header,
      header.map(() => undefined),
      undefined,
    );
    // Act
    const record = build(['1', '2', '3', '4', '5', '6'], []);
    // Assess
    expect(Object.entries(record).sort()).toEqual(header.map((name, c) => [name, String(c + 1)]).sort());
  });
});
