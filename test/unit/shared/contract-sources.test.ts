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

  it("accepts the network of a database reachable only in its VPC, with PostgreSQL's port by default", () => {
    // Prepare
    const lines = [
      'name: shop',
      'source:',
      '  type: postgres',
      '  connection_secret: shop/db',
      '  table: orders',
      '  watermark_column: id',
      '  network:',
      '    vpc_id: vpc-0a1b2c3d4e5f67890',
      '    subnet_ids: [subnet-0a1b2c3d, subnet-0b1c2d3e4f5a67890]',
      '    security_group_ids: [sg-0a1b2c3d4e5f67890]',
      '    endpoints: { route_table_ids: [rtb-0a1b2c3d] }',
      ...rest,
    ];
    // Act
    const contract = parseContract(lines.join('\n'), '<inline>');
    // Assess
    expect(contract.source).toMatchObject({
      network: {
        vpc_id: 'vpc-0a1b2c3d4e5f67890',
        subnet_ids: ['subnet-0a1b2c3d', 'subnet-0b1c2d3e4f5a67890'],
        security_group_ids: ['sg-0a1b2c3d4e5f67890'],
        port: 5432,
        endpoints: { route_table_ids: ['rtb-0a1b2c3d'] },
      },
    });
  });

  it('refuses malformed VPC, subnet, security group and route table ids with their line and an example', () => {
    // Act
    const message = problems([
      'name: shop',
      'source:',
      '  type: postgres',
      '  connection_secret: shop/db',
      '  table: orders',
      '  watermark_column: id',
      '  network:',
      '    vpc_id: vpc-123',
      '    subnet_ids: [subnet-0a1b2c3d, sn-0a1b2c3d]',
      '    security_group_ids: [SG-0A1B2C3D]',
      '    port: 70000',
      '    endpoints: { route_table_ids: [rt-0a1b2c3d] }',
      ...rest,
    ]);
    // Assess
    expect(message).toContain(
      'datasets/shop.yaml:8 at /source/network/vpc_id: expected a value like "vpc-0a1b2c3d4e5f67890", got "vpc-123"',
    );
    expect(message).toContain(
      'datasets/shop.yaml:9 at /source/network/subnet_ids/1: expected a value like "subnet-0a1b2c3d4e5f67890", got "sn-0a1b2c3d"',
    );
    expect(message).toContain(
      'datasets/shop.yaml:10 at /source/network/security_group_ids/0: expected a value like "sg-0a1b2c3d4e5f67890", got "SG-0A1B2C3D"',
    );
    expect(message).toContain('datasets/shop.yaml:11 at /source/network/port: must be <= 65535');
    expect(message).toContain(
      'datasets/shop.yaml:12 at /source/network/endpoints/route_table_ids/0: expected a value like "rtb-0a1b2c3d4e5f67890", got "rt-0a1b2c3d"',
    );
    expect(message).toMatch(/\(5 problems\)/);
  });

  it('refuses a network without subnets or security groups, and a field it does not know', () => {
    // Act
    const message = problems([
      'name: shop',
      'source:',
      '  type: postgres',
      '  connection_secret: shop/db',
      '  table: orders',
      '  watermark_column: id',
      '  network:',
      '    vpc_id: vpc-0a1b2c3d',
      '    subnets: [subnet-0a1b2c3d]',
      '    security_group_ids: []',
      ...rest,
    ]);
    // Assess
    expect(message).toMatch(/shop\.yaml:8 at \/source\/network: missing required property 'subnet_ids'/);
    expect(message).toMatch(/shop\.yaml:8 at \/source\/network: unexpected property 'subnets'/);
    expect(message).toMatch(
      /shop\.yaml:10 at \/source\/network\/security_group_ids: must NOT have fewer than 1 items/,
    );
  });

  it('refuses a network on a source other than postgres', () => {
    expect(
      problems([
        'name: shop',
        'source: { type: http, url: "https://api.example.com/orders", network: { vpc_id: vpc-0a1b2c3d } }',
        ...rest,
      ]),
    ).toMatch(/shop\.yaml:2 at \/source: unexpected property 'network'/);
  });

  it('reads format json as the JSON Lines of documents, for http sources, uploads and partner drops', () => {
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
      max_record_bytes: 8 * 1024 * 1024,
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
        'source: { type: postgres, connection_secret: shop/db, table: public.orders, watermark_column: id }',
        'format: { type: json }',
        rest[1]!,
      ]),
    ).toMatch(/at \/format\/type: format json .* is read from uploads, partner drops and http sources/);
  });

  it('accepts format json for an uploaded file: a JSON array of records', () => {
    // Act
    const contract = parseContract(
      [
        'name: shop',
        'source: { type: s3-upload, prefix: landing/shop/ }',
        'format: { type: json }',
        rest[1]!,
      ].join('\n'),
      '<inline>',
    );
    // Assess
    expect(contract.format).toEqual({
      type: 'jsonl',
      encoding: 'utf-8',
      documents: {},
      max_record_bytes: 8 * 1024 * 1024,
    });
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
