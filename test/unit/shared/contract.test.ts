import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadContracts, loadContractsLeniently, parseContract } from '../../../lambdas/shared/contract.js';
import { ConfigurationError, ContractInvalid } from '../../../lambdas/shared/errors.js';

const base = [
  'name: orders',
  'source: { type: s3-upload, prefix: landing/orders/ }',
  'format: { type: csv }',
  'schema:',
  '  type: object',
  '  properties:',
  '    id: { type: string }',
  '    amount: { type: number }',
];

function problems(lines: string[]): string {
  try {
    parseContract(lines.join('\n'), 'datasets/orders.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ContractInvalid);
    return (error as Error).message;
  }
  throw new Error('the contract was accepted');
}

describe('contract loader', () => {
  it('loads the example contracts in datasets/', () => {
    const contracts = loadContracts(join(import.meta.dirname, '..', '..', '..', 'datasets'));
    expect(contracts.get('orders')?.source).toEqual({ type: 's3-upload', prefix: 'orders/' });
  });

  it('fills defaults: csv delimiter, on_failure quarantine, ingest-date partition, severity error', () => {
    const contract = parseContract(
      [
        ...base,
        'expectations:',
        '  - type: expect_column_values_to_be_unique',
        '    kwargs: { column: id }',
      ].join('\n'),
      'datasets/orders.yaml',
    );
    expect(contract.format).toMatchObject({ type: 'csv', delimiter: ',', quote: '"', header: true });
    expect(contract.on_failure).toBe('quarantine');
    expect(contract.partition).toEqual({ by: 'ingest-date' });
    expect(contract.expectations[0]?.severity).toBe('error');
  });

  it('refuses an unknown expectation with its path, line and a likely name', () => {
    const message = problems([
      ...base,
      'expectations:',
      '  - type: expect_column_values_to_be_uniqe',
      '    kwargs: { column: id }',
    ]);
    expect(message).toContain('datasets/orders.yaml:10 at /expectations/0/type');
    expect(message).toContain("did you mean 'expect_column_values_to_be_unique'");
  });

  it('refuses kwargs GX would refuse', () => {
    const message = problems([
      ...base,
      'expectations:',
      '  - type: expect_column_values_to_be_between',
      '    kwargs: { column: amount, mostly: 1.5 }',
    ]);
    expect(message).toMatch(
      /\/expectations\/0\/kwargs\/mostly: expect_column_values_to_be_between: must be <= 1/,
    );
  });

  it('refuses between without any bound', () => {
    const message = problems([
      ...base,
      'expectations:',
      '  - type: expect_column_values_to_be_between',
      '    kwargs: { column: amount }',
    ]);
    expect(message).toMatch(/min_value/);
  });

  it('refuses an expectation on a column the schema does not have', () => {
    const message = problems([
      ...base,
      'expectations:',
      '  - type: expect_column_values_to_not_be_null',
      '    kwargs: { column: amuont }',
    ]);
    expect(message).toContain("unknown column 'amuont'; the schema has id, amount");
  });

  it('refuses a regular expression that does not compile', () => {
    const message = problems([
      ...base,
      'expectations:',
      '  - type: expect_column_values_to_match_regex',
      '    kwargs: { column: id, regex: "([a-z" }',
    ]);
    expect(message).toContain('not a valid regular expression');
  });

  // The validator compiles the schema without checking it against the meta-schema again: this is where it is checked.
  it.each([
    [
      '    quantity: { type: numeric }',
      'data/properties/quantity/type must be equal to one of the allowed values',
    ],
    ['    quantity: { type: integer, minimum: "1" }', 'data/properties/quantity/minimum must be number'],
    ['    quantity: { type: string, maxLength: -1 }', 'data/properties/quantity/maxLength must be >= 0'],
  ])('refuses a schema the JSON Schema meta-schema refuses: %s', (property, why) => {
    const message = problems([...base, property]);
    expect(message).toContain('datasets/orders.yaml:5 at /schema: not a usable JSON Schema');
    expect(message).toContain(why);
  });

  it('refuses a name that does not match the file name', () => {
    expect(() => parseContract(base.join('\n'), 'datasets/payments.yaml')).toThrow(
      /must match the file name 'payments'/,
    );
  });

  it('passes a name that does not match the file name to onNameMismatch, for a contract used on its own', () => {
    // Prepare
    const warnings: string[] = [];
    // Act
    const contract = parseContract(base.join('\n'), 'suites/payments.yaml', {
      onNameMismatch: (message) => warnings.push(message),
    });
    // Assess
    expect(contract.name).toBe('orders');
    expect(warnings).toEqual([
      "suites/payments.yaml: dataset name 'orders' must match the file name 'payments'",
    ]);
  });

  it('refuses broken YAML with its line', () => {
    expect(() => parseContract('name: [orders\nsource: {', 'datasets/orders.yaml')).toThrow(
      /datasets\/orders.yaml:\d+:\d+: not valid YAML/,
    );
  });

  it("keeps a metadata block as written: team, support, SLA and other tools' fields", () => {
    // Act
    const contract = parseContract(
      [
        ...base,
        'metadata:',
        '  team: { members: [{ username: ana, role: owner }] }',
        '  support: [{ channel: "#orders", tool: slack }]',
        '  sla: [{ property: latency, value: 4, unit: d }]',
        '  odcs: { id: 53581432, status: active }',
      ].join('\n'),
      'datasets/orders.yaml',
    );
    // Assess
    expect(contract.metadata).toEqual({
      team: { members: [{ username: 'ana', role: 'owner' }] },
      support: [{ channel: '#orders', tool: 'slack' }],
      sla: [{ property: 'latency', value: 4, unit: 'd' }],
      odcs: { id: 53581432, status: 'active' },
    });
  });

  it('refuses metadata support or SLA that is not a list, with its path', () => {
    const message = problems([...base, 'metadata:', '  support: "#orders on slack"', '  sla: 4 days']);
    expect(message).toContain('at /metadata/support');
    expect(message).toContain('at /metadata/sla');
  });

  it('lists every problem at once', () => {
    const message = problems([
      'name: Orders!',
      'source: { type: ftp }',
      'format: { type: xml }',
      'schema: { type: object, properties: {} }',
    ]);
    expect(message).toMatch(/\(\d+ problems\)/);
    expect(message).toContain('/name');
    expect(message).toContain('/source/type');
    expect(message).toContain('/format/type');
  });
});

describe('loading a directory of contracts', () => {
  const good = (name: string) =>
    [
      `name: ${name}`,
      `source: { type: s3-upload, prefix: landing/${name}/ }`,
      'format: { type: csv }',
      'schema: { type: object, properties: { id: { type: string } } }',
      '',
    ].join('\n');

  it('keeps the usable contracts and lists every broken one with its problems', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-contracts-'));
    writeFileSync(join(dir, 'orders.yaml'), good('orders'));
    writeFileSync(join(dir, 'x.yaml'), `${good('x')}expectations:\n  - type: expect_nothing\n`);
    writeFileSync(join(dir, 'y.yaml'), 'name: [\n');
    // Act
    const { contracts, broken } = loadContractsLeniently(dir);
    // Assess
    expect([...contracts.keys()]).toEqual(['orders']);
    expect(broken.map((b) => [b.dataset, b.file])).toEqual([
      ['x', join(dir, 'x.yaml')],
      ['y', join(dir, 'y.yaml')],
    ]);
    expect(broken[0]!.error).toBeInstanceOf(ContractInvalid);
    expect(broken[0]!.error.message).toContain(`${join(dir, 'x.yaml')}:6 at /expectations/0/type`);
  });

  it('names a contracts directory that does not exist as a configuration error', () => {
    // Prepare
    const dir = join(mkdtempSync(join(tmpdir(), 'sluice-contracts-')), 'missing');
    // Act
    const load = () => loadContracts(dir);
    // Assess
    expect(load).toThrow(ConfigurationError);
    expect(load).toThrow(`the contracts directory ${dir} does not exist`);
  });
});
