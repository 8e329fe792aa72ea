import { describe, expect, it } from '@jest/globals';
import type { Contract } from '../../../lambdas/shared/contract.js';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { curatedColumns, curatedFormatOf, glueTypeOf } from '../../../lambdas/shared/curated-columns.js';

/** A contract of dataset `events` with these `schema.properties` and `required`. */
function contractWith(properties: Record<string, unknown>, required: string[] = []): Contract {
  return parseContract(
    JSON.stringify({
      name: 'events',
      source: { type: 's3-upload', prefix: 'events/' },
      format: { type: 'jsonl' },
      schema: { type: 'object', required, properties },
    }),
    'datasets/events.json',
  );
}

describe('Glue types of JSON Schema types', () => {
  it.each([
    [{ type: 'integer' }, 'bigint'],
    [{ type: 'number' }, 'double'],
    [{ type: 'boolean' }, 'boolean'],
    [{ type: 'string' }, 'string'],
    [{ type: 'string', format: 'date' }, 'date'],
    [{ type: 'string', format: 'date-time' }, 'timestamp'],
    [{ type: 'string', format: 'email' }, 'string'],
    [{ type: 'array', items: { type: 'integer' } }, 'array<bigint>'],
    // An array without items is a JSON text column in the Parquet files, so a string in the table.
    [{ type: 'array' }, 'string'],
    [
      { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'integer' } } },
      'struct<city:string,zip:bigint>',
    ],
    [{ type: 'object' }, 'string'],
    [
      {
        type: 'array',
        items: { type: 'object', properties: { at: { type: 'string', format: 'date-time' } } },
      },
      'array<struct<at:timestamp>>',
    ],
    [{ enum: ['a', 'b'] }, 'string'],
    [{ enum: [1, 2.5] }, 'double'],
    [{ const: 3 }, 'bigint'],
    [{ type: ['string', 'integer'] }, 'string'],
    [{}, 'string'],
  ])('maps %j to %s', (schema, type) => {
    expect(glueTypeOf(schema).type).toBe(type);
  });

  it('reads a type that lists null as the other type, nullable', () => {
    expect(glueTypeOf({ type: ['integer', 'null'] })).toEqual({ type: 'bigint', nullable: true });
    expect(glueTypeOf({ type: 'integer' })).toEqual({ type: 'bigint', nullable: false });
    expect(glueTypeOf({ enum: ['a', null] })).toEqual({ type: 'string', nullable: true });
  });
});

describe('curated columns of a contract', () => {
  it('lists the properties in order, nullable unless required and not allowing null, with descriptions as comments', () => {
    // Prepare
    const contract = contractWith(
      {
        id: { type: 'string', description: 'The event id' },
        at: { type: 'string', format: 'date-time' },
        score: { type: ['number', 'null'] },
      },
      ['id', 'at', 'score'],
    );
    // Act
    const columns = curatedColumns(contract);
    // Assess
    expect(columns).toEqual([
      { name: 'id', type: 'string', nullable: false, comment: 'The event id' },
      { name: 'at', type: 'timestamp', nullable: false },
      { name: 'score', type: 'double', nullable: true },
    ]);
  });

  it('makes a column that is not required nullable', () => {
    expect(curatedColumns(contractWith({ n: { type: 'integer' } }))).toEqual([
      { name: 'n', type: 'bigint', nullable: true },
    ]);
  });

  it('reads the curated format as parquet when the contract does not name one, and as the contract says otherwise', () => {
    // Prepare
    const contract = contractWith({ n: { type: 'integer' } });
    const jsonl = { ...contract, curated: { format: 'jsonl' } } as Contract;
    // Assess
    expect(curatedFormatOf(contract)).toBe('parquet');
    expect(curatedFormatOf(jsonl)).toBe('jsonl');
  });
});
