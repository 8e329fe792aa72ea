import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { ContractInvalid } from '../../../lambdas/shared/errors.js';

const rest = ['format: { type: jsonl }', 'schema: { type: object, properties: { id: { type: integer } } }'];

function problems(lines: string[]): string {
  try {
    parseContract(lines.join('\n'), 'datasets/shop.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ContractInvalid);
    return (error as Error).message;
  }
  throw new Error('the contract was accepted');
}

describe('source options in contracts', () => {
  it('accepts a postgres source and fills its defaults', () => {
    const contract = parseContract(
      [
        'name: shop',
        'source: { type: postgres, connection_secret: shop/db, table: public.orders, watermark_column: id }',
        ...rest,
      ].join('\n'),
      '<inline>',
    );
    expect(contract.source).toEqual({
      type: 'postgres',
      connection_secret: 'shop/db',
      table: 'public.orders',
      watermark_column: 'id',
      batch_size: 10000,
      horizon_wait_seconds: 60,
      lag_seconds: 0,
    });
  });

  it('names the line and what is missing when a postgres source has neither table nor query nor connection', () => {
    const message = problems([
      'name: shop',
      'source:',
      '  type: postgres',
      '  watermark_column: id',
      ...rest,
    ]);
    expect(message).toMatch(
      /datasets\/shop\.yaml:3 at \/source: a postgres source needs exactly one of 'table' and 'query'/,
    );
    expect(message).toMatch(/needs 'connection' \(an environment variable name\) or 'connection_secret'/);
  });

  it('refuses both table and query, an unknown option and a query that is not a SELECT', () => {
    expect(
      problems([
        'name: shop',
        'source: { type: postgres, connection: PG, table: t, query: "SELECT 1", watermark_column: id }',
        ...rest,
      ]),
    ).toMatch(/exactly one of 'table' and 'query', not both/);
    expect(
      problems([
        'name: shop',
        'source: { type: postgres, connection: PG, table: t, watermark_colum: id }',
        ...rest,
      ]),
    ).toMatch(/unexpected property 'watermark_colum'/);
    expect(
      problems([
        'name: shop',
        'source: { type: postgres, connection: PG, query: "DELETE FROM t", watermark_column: id }',
        ...rest,
      ]),
    ).toMatch(/at \/source\/query: must match pattern/);
  });

  it('refuses a postgres source read as CSV, since it is extracted as JSON Lines', () => {
    expect(
      problems([
        'name: shop',
        'source: { type: postgres, connection: PG, table: t, watermark_column: id }',
        'format: { type: csv }',
        rest[1]!,
      ]),
    ).toMatch(/datasets\/shop\.yaml:3 at \/format\/type: a postgres source is extracted as JSON Lines/);
  });

  it('reads format json as the JSON Lines of documents, for http sources only', () => {
    const contract = parseContract(
      [
        'name: shop',
        'source: { type: http, url: "https://api.example.com/orders" }',
        'format: { type: json, records_path: data }',
        rest[1]!,
      ].join('\n'),
      '<inline>',
    );
    expect(contract.format).toEqual({
      type: 'jsonl',
      encoding: 'utf-8',
      documents: { records_path: 'data' },
    });
    expect(contract.source).toMatchObject({
      paging: { type: 'none' },
      max_pages: 100,
      retries: 5,
      params: {},
    });
    expect(
      problems([
        'name: shop',
        'source: { type: s3-upload, prefix: landing/shop/ }',
        'format: { type: json }',
        rest[1]!,
      ]),
    ).toMatch(/at \/format\/type: format json .* is read from http sources/);
  });

  it('names what an http source lacks: cursor settings, an auth credential, a JSON page for a cursor', () => {
    const message = problems([
      'name: shop',
      'source:',
      '  type: http',
      '  url: https://api.example.com/orders',
      '  paging: { type: cursor }',
      '  auth: { type: header }',
      'format: { type: jsonl }',
      rest[1]!,
    ]);
    expect(message).toMatch(/:5 at \/source\/paging: cursor paging needs cursor_path and cursor_param/);
    expect(message).toMatch(/at \/source\/paging\/type: cursor paging reads the cursor from a JSON page/);
    expect(message).toMatch(/at \/source\/auth: auth needs 'secret' \(Secrets Manager\) or 'env'/);
    expect(message).toMatch(/auth type header needs 'header'/);
  });
});
