import { describe, expect, it } from '@jest/globals';
import type { Contract } from '../../../lambdas/shared/contract.js';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { contractSetChanges, schemaChanges } from '../../../lambdas/shared/schema-evolution.js';

/** The `orders` contract with these `schema.properties` and `required`. */
function orders(properties: Record<string, unknown>, required: string[] = ['order_id']): Contract {
  return parseContract(
    JSON.stringify({
      name: 'orders',
      source: { type: 's3-upload', prefix: 'orders/' },
      format: { type: 'csv', header: true },
      schema: { type: 'object', required, properties },
    }),
    'datasets/orders.json',
  );
}

const BASE = { order_id: { type: 'string' }, amount: { type: 'integer' } };

/** The one change between two contracts, without the dataset and reason. */
function onlyChange(before: Contract, after: Contract) {
  const changes = schemaChanges(before, after);
  expect(changes).toHaveLength(1);
  const { kind, column, from, to, compatible, reason } = changes[0]!;
  expect(reason.length).toBeGreaterThan(20);
  return { kind, column, from, to, compatible };
}

describe('schema evolution of a curated table', () => {
  it('finds no change between a contract and itself', () => {
    expect(schemaChanges(orders(BASE), orders(BASE))).toEqual([]);
  });

  it('accepts an added nullable column: older files read NULL there', () => {
    expect(onlyChange(orders(BASE), orders({ ...BASE, note: { type: 'string' } }))).toEqual({
      kind: 'added',
      column: 'note',
      from: undefined,
      to: 'string',
      compatible: true,
    });
  });

  it('refuses an added required column: older files would give NULL in a column promised never null', () => {
    expect(
      onlyChange(orders(BASE), orders({ ...BASE, note: { type: 'string' } }, ['order_id', 'note'])),
    ).toEqual({ kind: 'added', column: 'note', from: undefined, to: 'string (required)', compatible: false });
  });

  it('refuses a removed column: queries that name it fail', () => {
    expect(onlyChange(orders(BASE), orders({ order_id: { type: 'string' } }))).toEqual({
      kind: 'removed',
      column: 'amount',
      from: 'bigint',
      to: undefined,
      compatible: false,
    });
  });

  it('refuses a widened type (integer to number) in Parquet: Athena does not read INT64 as double', () => {
    expect(onlyChange(orders(BASE), orders({ ...BASE, amount: { type: 'number' } }))).toEqual({
      kind: 'widened',
      column: 'amount',
      from: 'bigint',
      to: 'double',
      compatible: false,
    });
  });

  it('accepts a widened type (integer to number) in JSON Lines, where numbers are text', () => {
    // Prepare
    const before = { ...orders(BASE), curated: { format: 'jsonl' } } as Contract;
    const after = {
      ...orders({ ...BASE, amount: { type: 'number' } }),
      curated: { format: 'jsonl' },
    } as Contract;
    // Act
    const change = onlyChange(before, after);
    // Assess
    expect(change).toMatchObject({ kind: 'widened', compatible: true });
  });

  it('refuses a narrowed type (number to integer)', () => {
    expect(
      onlyChange(
        orders({ ...BASE, amount: { type: 'number' } }),
        orders({ ...BASE, amount: { type: 'integer' } }),
      ),
    ).toEqual({ kind: 'narrowed', column: 'amount', from: 'double', to: 'bigint', compatible: false });
  });

  it('refuses a changed format (string to date)', () => {
    expect(
      onlyChange(
        orders({ ...BASE, day: { type: 'string' } }),
        orders({ ...BASE, day: { type: 'string', format: 'date' } }),
      ),
    ).toEqual({ kind: 'format', column: 'day', from: 'string', to: 'date', compatible: false });
  });

  it('refuses another type change (integer to string)', () => {
    expect(onlyChange(orders(BASE), orders({ ...BASE, amount: { type: 'string' } }))).toMatchObject({
      kind: 'retyped',
      compatible: false,
    });
  });

  it('accepts a required column made nullable, and refuses a nullable column made required', () => {
    // Prepare
    const required = orders(BASE, ['order_id', 'amount']);
    const nullable = orders(BASE, ['order_id']);
    // Assess
    expect(onlyChange(required, nullable)).toMatchObject({
      kind: 'made nullable',
      column: 'amount',
      compatible: true,
    });
    expect(onlyChange(nullable, required)).toMatchObject({
      kind: 'made required',
      column: 'amount',
      compatible: false,
    });
  });

  it('compares the fields of a struct column one by one', () => {
    // Prepare
    const address = (properties: Record<string, unknown>) =>
      orders({ ...BASE, address: { type: 'object', properties } });
    // Act
    const changes = schemaChanges(
      address({ city: { type: 'string' }, zip: { type: 'integer' } }),
      address({ city: { type: 'string' }, street: { type: 'string' } }),
    );
    // Assess
    expect(changes.map((c) => [c.column, c.kind, c.compatible])).toEqual([
      ['address.street', 'added', true],
      ['address.zip', 'removed', false],
    ]);
  });

  it('refuses a changed curated format: one table cannot read both', () => {
    // Prepare
    const jsonl = { ...orders(BASE), curated: { format: 'jsonl' } } as Contract;
    // Act
    const change = onlyChange(orders(BASE), jsonl);
    // Assess
    expect(change).toEqual({
      kind: 'curated format',
      column: '',
      from: 'parquet',
      to: 'jsonl',
      compatible: false,
    });
  });

  it('refuses a removed dataset and ignores a new one, across sets of contracts', () => {
    // Prepare
    const clicks = { ...orders(BASE), name: 'clicks' };
    // Act
    const removed = contractSetChanges(new Map([['orders', orders(BASE)]]), new Map([['clicks', clicks]]));
    // Assess
    expect(removed.map((c) => [c.dataset, c.kind, c.compatible])).toEqual([['orders', 'removed', false]]);
  });
});
