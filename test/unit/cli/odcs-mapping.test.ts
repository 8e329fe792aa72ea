import { describe, expect, it } from '@jest/globals';
import { type Contract, parseContract } from '../../../lambdas/shared/contract.js';
import { ConfigurationError, OdcsUnsupported } from '../../../lambdas/shared/errors.js';
import { exportOdcs } from '../../../src/cli/odcs-export.js';
import { importOdcs } from '../../../src/cli/odcs-import.js';
import { odcsExamples, odcsSchemaProblems } from '../../support/odcs.js';

type Json = Record<string, unknown>;

/** An ODCS v3.1.0 contract of one object with these properties and object-level rules. */
function odcs(properties: Json[], quality?: Json[], more: Json = {}): Json {
  const object: Json = { name: 'orders', properties };
  if (quality) object.quality = quality;
  return {
    apiVersion: 'v3.1.0',
    kind: 'DataContract',
    id: 'c-1',
    version: '1.0.0',
    status: 'active',
    schema: [object],
    ...more,
  };
}

const imported = (document: unknown) => importOdcs(document, { where: 'orders.odcs.yaml' }).contract;

function refusalOf(action: () => unknown): OdcsUnsupported {
  try {
    action();
  } catch (error) {
    if (error instanceof OdcsUnsupported) return error;
    throw error;
  }
  throw new Error('expected OdcsUnsupported');
}

/** A Sluice contract of the orders columns with these expectations. */
function sluiceContract(expectations: Json[], extra = 'format: { type: csv }'): Contract {
  return parseContract(
    `name: orders
source: { type: s3-upload, prefix: orders/ }
schema:
  type: object
  required: [order_id]
  properties:
    order_id: { type: string }
    amount: { type: number, minimum: 0 }
    status: { type: string }
expectations: ${JSON.stringify(expectations)}
${extra}`,
    '<inline>',
  );
}

const exportedObject = (contract: Contract) =>
  (exportOdcs(contract, { where: 'orders' }).schema as Json[])[0]!;

describe('importOdcs: schema properties', () => {
  it("turns logicalType and logicalTypeOptions into the column's JSON Schema, keeping what JSON Schema cannot say", () => {
    // Prepare
    const example = odcsExamples().find((e) => e.file === 'data-types--all-data-types.odcs.yaml')!.document;
    // Act
    const { properties } = imported(example).schema;
    // Assess
    expect(properties.account_id).toEqual({
      type: 'string',
      minLength: 11,
      maxLength: 11,
      pattern: 'ACC[0-9]{8}',
      'x-odcs': { physicalType: 'string' },
    });
    expect(properties.txn_ref_date).toMatchObject({ type: 'string', format: 'date' });
    expect(properties.txn_timestamp).toMatchObject({ type: 'string', format: 'iso-date-time' });
    expect(properties.txn_time).toMatchObject({ type: 'string', format: 'iso-time' });
    expect(properties.age).toEqual({
      type: 'integer',
      minimum: 18,
      exclusiveMaximum: 100,
      'x-odcs': { physicalType: 'int', logicalTypeOptions: { format: 'i64' } },
    });
    expect(properties.customer_details).toMatchObject({
      type: 'object',
      required: ['num_children', 'date_of_birth'],
      maxProperties: 5,
    });
  });

  it('types a date written in another pattern than ISO as text, keeping its logicalType for export', () => {
    // Prepare
    const document = odcs([
      { name: 'day', logicalType: 'date', logicalTypeOptions: { format: 'dd/MM/yyyy' } },
    ]);
    // Act
    const contract = imported(document);
    const property = (exportedObject(contract).properties as Json[])[0];
    // Assess
    expect(contract.schema.properties.day).toEqual({
      type: 'string',
      'x-odcs': { logicalType: 'date', logicalTypeOptions: { format: 'dd/MM/yyyy' } },
    });
    expect(property).toEqual({
      name: 'day',
      logicalType: 'date',
      logicalTypeOptions: { format: 'dd/MM/yyyy' },
    });
  });

  it('makes required properties required, keeps physicalType, classification and examples, and writes them back', () => {
    // Prepare
    const property = {
      name: 'email',
      logicalType: 'string',
      physicalType: 'varchar(255)',
      classification: 'restricted',
      required: true,
      businessName: 'Customer email',
      description: 'Where receipts go',
      examples: ['a@example.com'],
      logicalTypeOptions: { format: 'email' },
    };
    // Act
    const contract = imported(odcs([property]));
    const exported = (exportedObject(contract).properties as Json[])[0];
    // Assess
    expect(contract.schema.required).toEqual(['email']);
    expect(contract.schema.properties.email).toEqual({
      type: 'string',
      format: 'email',
      description: 'Where receipts go',
      title: 'Customer email',
      examples: ['a@example.com'],
      'x-odcs': { physicalType: 'varchar(255)', classification: 'restricted' },
    });
    expect(exported).toEqual(property);
  });

  it('checks unique and primary-key properties with uniqueness expectations, a compound key in its key order', () => {
    // Prepare
    const document = odcs([
      { name: 'order_id', logicalType: 'string', primaryKey: true, primaryKeyPosition: 2 },
      { name: 'tenant', logicalType: 'string', primaryKey: true, primaryKeyPosition: 1 },
      { name: 'email', logicalType: 'string', unique: true },
    ]);
    // Act
    const contract = imported(document);
    const properties = exportedObject(contract).properties as Json[];
    // Assess
    expect(contract.expectations.map((e) => [e.type, e.kwargs])).toEqual([
      ['expect_column_values_to_be_unique', { column: 'email' }],
      ['expect_compound_columns_to_be_unique', { column_list: ['tenant', 'order_id'] }],
    ]);
    expect(properties.map((p) => [p.name, p.primaryKey, p.primaryKeyPosition, p.unique])).toEqual([
      ['order_id', true, 2, undefined],
      ['tenant', true, 1, undefined],
      ['email', undefined, undefined, true],
    ]);
  });

  it('keeps team, support and SLA in the metadata, the team name as owner, and exports them back', () => {
    // Prepare
    const example = odcsExamples().find((e) => e.file === 'all--full-example.odcs.yaml')!.document;
    // Act
    const { contract } = importOdcs(structuredClone(example), { where: 'full', object: 'receivers' });
    const exported = exportOdcs(contract, { where: 'receivers' });
    // Assess
    expect(contract.owner).toBe('my-team');
    expect(contract.metadata?.support).toEqual(example.support);
    expect(contract.metadata?.sla).toEqual(example.slaProperties);
    expect(contract.metadata?.team).toEqual({ ...(example.team as Json), name: undefined });
    for (const key of [
      'id',
      'version',
      'status',
      'team',
      'support',
      'slaProperties',
      'roles',
      'price',
      'servers',
    ]) {
      expect({ key, value: exported[key] }).toEqual({ key, value: example[key] });
    }
  });

  it('refuses what is not an ODCS v3 data contract, saying what it expected', () => {
    // Act
    const v2 = refusalOf(() => imported({ ...odcs([{ name: 'id' }]), apiVersion: 'v2.2.2' }));
    const kind = refusalOf(() => imported({ ...odcs([{ name: 'id' }]), kind: 'DataProduct' }));
    const list = refusalOf(() => imported(['orders']));
    // Assess
    expect(v2.message).toBe(
      'orders.odcs.yaml: apiVersion v2.2.2: Sluice reads ODCS v3 (v3.0.x and v3.1.0) contracts',
    );
    expect(kind.message).toBe('orders.odcs.yaml: kind "DataProduct": expected DataContract');
    expect(list.message).toMatch(
      /^orders\.odcs\.yaml: not an ODCS data contract: expected a YAML or JSON object/,
    );
  });

  it('imports the object --object names, and asks for one when the contract has several', () => {
    // Prepare
    const document = odcs([{ name: 'id' }]);
    (document.schema as Json[]).push({ name: 'refunds', properties: [{ name: 'refund_id' }] });
    // Act
    const chosen = importOdcs(document, { where: 'two.yaml', object: 'refunds' }).contract;
    // Assess
    expect(chosen.name).toBe('refunds');
    expect(Object.keys(chosen.schema.properties)).toEqual(['refund_id']);
    expect(() => importOdcs(document, { where: 'two.yaml' })).toThrow(ConfigurationError);
    expect(() => importOdcs(document, { where: 'two.yaml' })).toThrow(
      'two.yaml describes 2 schema objects (orders, refunds); a Sluice contract is one dataset: name one with --object',
    );
  });
});

describe('importOdcs: quality rules', () => {
  it.each([
    ['nullValues mustBe 0', { metric: 'nullValues', mustBe: 0 }, 'expect_column_values_to_not_be_null', {}],
    [
      'nullValues under 1 percent',
      { metric: 'nullValues', mustBeLessThan: 1, unit: 'percent' },
      'expect_column_values_to_not_be_null',
      { mostly: 0.99 },
    ],
    [
      'missingValues listed',
      { metric: 'missingValues', arguments: { missingValues: ['', 'N/A'] }, mustBeLessOrEqualTo: 0 },
      'expect_column_values_to_not_be_in_set',
      { value_set: ['', 'N/A'] },
    ],
    [
      'invalidValues from a list, up to 5 percent',
      {
        metric: 'invalidValues',
        arguments: { validValues: ['pounds', 'kg'] },
        mustBeLessOrEqualTo: 5,
        unit: 'percent',
      },
      'expect_column_values_to_be_in_set',
      { value_set: ['pounds', 'kg'], mostly: 0.95 },
    ],
    [
      'invalidValues by pattern',
      { metric: 'invalidValues', arguments: { pattern: '^[A-Z]{2}$' }, mustBe: 0 },
      'expect_column_values_to_match_regex',
      { regex: '^[A-Z]{2}$' },
    ],
    [
      'duplicateValues none',
      { metric: 'duplicateValues', mustBeLessThan: 1, unit: 'rows' },
      'expect_column_values_to_be_unique',
      {},
    ],
    [
      'duplicateValues under 2.5 percent',
      { type: 'library', metric: 'duplicateValues', mustBeLessThan: 2.5, unit: 'percent' },
      'expect_column_values_to_be_unique',
      { mostly: 0.975 },
    ],
  ])('turns a property rule (%s) into its expectation on the column', (_, rule, type, kwargs) => {
    // Act
    const contract = imported(odcs([{ name: 'unit', logicalType: 'string', quality: [rule] }]));
    // Assess
    expect(contract.expectations).toHaveLength(1);
    expect(contract.expectations[0]).toMatchObject({
      type,
      kwargs: { column: 'unit', ...kwargs },
      severity: 'error',
    });
  });

  it.each([
    [
      'mustBeBetween [100, 120]: more than 100, fewer than 120',
      { mustBeBetween: [100, 120] },
      'expect_table_row_count_to_be_between',
      { min_value: 101, max_value: 119 },
    ],
    [
      'mustBeGreaterThan 1000000',
      { mustBeGreaterThan: 1000000 },
      'expect_table_row_count_to_be_between',
      { min_value: 1000001 },
    ],
    [
      'mustBeGreaterOrEqualTo 1',
      { mustBeGreaterOrEqualTo: 1 },
      'expect_table_row_count_to_be_between',
      { min_value: 1 },
    ],
    [
      'mustBeLessOrEqualTo 50',
      { mustBeLessOrEqualTo: 50 },
      'expect_table_row_count_to_be_between',
      { max_value: 50 },
    ],
    ['mustBe 12', { mustBe: 12 }, 'expect_table_row_count_to_equal', { value: 12 }],
  ])('turns rowCount %s into a row count expectation', (_, operator, type, kwargs) => {
    // Act
    const contract = imported(odcs([{ name: 'id' }], [{ metric: 'rowCount', ...operator }]));
    // Assess
    expect(contract.expectations[0]).toMatchObject({ type, kwargs });
  });

  it('turns duplicateValues over several properties into a compound uniqueness expectation', () => {
    // Act
    const contract = imported(
      odcs(
        [{ name: 'tenant' }, { name: 'order_id' }],
        [{ metric: 'duplicateValues', mustBe: 0, arguments: { properties: ['tenant', 'order_id'] } }],
      ),
    );
    // Assess
    expect(contract.expectations[0]).toMatchObject({
      type: 'expect_compound_columns_to_be_unique',
      kwargs: { column_list: ['tenant', 'order_id'] },
    });
  });

  it('passes a great-expectations custom rule through, in either spelling of the engine, on the property it is under', () => {
    // Prepare
    const rules = [
      {
        type: 'custom',
        engine: 'great-expectations',
        implementation: {
          type: 'expect_column_values_to_be_between',
          kwargs: { min_value: 0, max_value: 500 },
        },
      },
      {
        type: 'custom',
        engine: 'greatExpectations',
        severity: 'warning',
        implementation: 'type: expect_column_mean_to_be_between\nkwargs:\n  min_value: 1\n',
      },
    ];
    // Act
    const contract = imported(odcs([{ name: 'amount', logicalType: 'number', quality: rules }]));
    const exported = (exportedObject(contract).properties as Json[])[0]!.quality;
    // Assess
    expect(contract.expectations.map((e) => [e.type, e.kwargs, e.severity])).toEqual([
      ['expect_column_values_to_be_between', { min_value: 0, max_value: 500, column: 'amount' }, 'error'],
      ['expect_column_mean_to_be_between', { min_value: 1, column: 'amount' }, 'warning'],
    ]);
    expect(exported).toEqual([
      {
        type: 'custom',
        engine: 'great-expectations',
        implementation: {
          type: 'expect_column_values_to_be_between',
          kwargs: { min_value: 0, max_value: 500, column: 'amount' },
        },
        severity: 'error',
      },
      {
        type: 'custom',
        engine: 'greatExpectations',
        implementation: {
          type: 'expect_column_mean_to_be_between',
          kwargs: { min_value: 1, column: 'amount' },
        },
        severity: 'warning',
      },
    ]);
  });

  it('reports info severity as a warning and exports it as info again', () => {
    // Act
    const contract = imported(
      odcs([{ name: 'id', quality: [{ metric: 'nullValues', mustBe: 0, severity: 'info' }] }]),
    );
    const rule = ((exportedObject(contract).properties as Json[])[0]!.quality as Json[])[0];
    // Assess
    expect(contract.expectations[0]!.severity).toBe('warning');
    expect(rule).toEqual({ metric: 'nullValues', mustBe: 0, severity: 'info' });
  });

  it('keeps text rules in the metadata without running them, and exports them back', () => {
    // Prepare
    const text = { type: 'text', description: 'The email address was verified by the system.' };
    // Act
    const result = importOdcs(odcs([{ name: 'email', quality: [text] }], [text]), { where: 'x' });
    const object = exportedObject(result.contract);
    // Assess
    expect(result.contract.expectations).toEqual([]);
    expect(result.notes).toContain(
      "schema[0].properties[0].quality[0]: a text rule, kept in the contract's metadata; it is not run",
    );
    expect(object.quality).toEqual([text]);
    expect((object.properties as Json[])[0]!.quality).toEqual([text]);
  });

  it('refuses every rule Sluice cannot run in one message, each by its position and with the reason', () => {
    // Prepare
    const document = odcs(
      [
        {
          name: 'email',
          quality: [
            { metric: 'nullValues', mustBeLessThan: 100, unit: 'rows' },
            { metric: 'nullValues', mustBeGreaterThan: 5, unit: 'percent' },
            { metric: 'missingValues', arguments: { missingValues: [null, '', 'N/A'] }, mustBe: 0 },
            { metric: 'freshness', mustBe: 0 },
          ],
        },
      ],
      [
        { type: 'sql', query: 'SELECT COUNT(*) FROM {object}', mustBeLessThan: 3600 },
        {
          type: 'custom',
          engine: 'great-expectations',
          implementation: { type: 'expect_column_values_to_match_like_pattern', kwargs: {} },
        },
        {
          type: 'custom',
          engine: 'great-expectations',
          implementation: 'type: expect_table_row_count_to_be_between\nkwargs:\n  minValue: 10000\n',
        },
      ],
    );
    // Act
    const refusal = refusalOf(() => importOdcs(document, { where: 'orders.odcs.yaml' }));
    // Assess
    const lines = refusal.message.split('\n');
    expect(lines[0]).toBe('orders.odcs.yaml: 9 problems with the contract:');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(
        /^ {2}schema\[0\]\.properties\[0\]\.quality\[0\]: nullValues mustBeLessThan: 100 rows: Sluice tolerates a share of the rows \(GX's mostly\), not a number of them/,
      ),
      expect.stringMatching(
        /^ {2}schema\[0\]\.properties\[0\]\.quality\[1\]: nullValues mustBeGreaterThan: 5: Sluice bounds the bad values from above/,
      ),
      expect.stringMatching(
        /^ {2}schema\[0\]\.properties\[0\]\.quality\[2\]: missingValues lists null and other values/,
      ),
      expect.stringMatching(
        /^ {2}schema\[0\]\.properties\[0\]\.quality\[3\]: metric "freshness" is not one of ODCS's library metrics/,
      ),
      expect.stringMatching(
        /^ {2}schema\[0\]\.quality\[0\]: sql rules are not run: .*\(SELECT COUNT\(\*\) FROM \{object\}\) has no table to run on/,
      ),
      expect.stringMatching(
        /^ {2}schema\[0\]\.quality\[1\]: expect_column_values_to_match_like_pattern is not an expectation Sluice runs/,
      ),
      expect.stringMatching(
        /^ {2}schema\[0\]\.quality\[2\]\/kwargs: .*missing required property 'min_value'/,
      ),
      expect.stringMatching(
        /^ {2}schema\[0\]\.quality\[2\]\/kwargs: .*missing required property 'max_value'/,
      ),
      expect.stringMatching(/^ {2}schema\[0\]\.quality\[2\]\/kwargs\/minValue: .*did you mean 'min_value'\?/),
    ]);
  });
});

describe('exportOdcs', () => {
  it('writes mostly as a percent of bad values, and a plain expectation as a library metric', () => {
    // Prepare
    const contract = sluiceContract([
      { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'amount', mostly: 0.95 } },
      {
        type: 'expect_column_values_to_be_in_set',
        kwargs: { column: 'status', value_set: ['open', 'paid'] },
      },
      { type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1, max_value: 1000 } },
    ]);
    // Act
    const object = exportedObject(contract);
    // Assess
    const properties = object.properties as Json[];
    expect(properties[1]!.quality).toEqual([
      { metric: 'nullValues', mustBeLessOrEqualTo: 5, unit: 'percent', severity: 'error' },
    ]);
    expect(properties[2]!.quality).toEqual([
      { metric: 'invalidValues', mustBe: 0, arguments: { validValues: ['open', 'paid'] }, severity: 'error' },
    ]);
    expect(object.quality).toEqual([{ metric: 'rowCount', mustBeBetween: [0, 1001], severity: 'error' }]);
  });

  it('writes what a library metric cannot say as a great-expectations custom rule, snapshot scope in its meta', () => {
    // Prepare
    const contract = sluiceContract([
      { type: 'expect_column_values_to_be_unique', kwargs: { column: 'order_id' }, scope: 'snapshot' },
      {
        type: 'expect_column_values_to_be_between',
        kwargs: { column: 'amount', min_value: 0, max_value: 100 },
      },
    ]);
    // Act
    const properties = exportedObject(contract).properties as Json[];
    const again = imported(exportOdcs(contract, { where: 'orders' }));
    // Assess
    expect(properties[0]!.quality).toEqual([
      {
        type: 'custom',
        engine: 'great-expectations',
        implementation: {
          type: 'expect_column_values_to_be_unique',
          kwargs: { column: 'order_id' },
          meta: { sluice_scope: 'snapshot' },
        },
        severity: 'error',
      },
    ]);
    expect(again.expectations.map((e) => [e.type, e.scope])).toEqual([
      ['expect_column_values_to_be_unique', 'snapshot'],
      ['expect_column_values_to_be_between', 'batch'],
    ]);
  });

  it('keeps Sluice settings and JSON Schema keywords ODCS has no field for in custom properties, and only those', () => {
    // Prepare
    const contract = sluiceContract(
      [],
      'on_failure: reject\nversion: { dvc: true }\nformat: { type: csv, delimiter: ";" }',
    );
    contract.schema.properties.status = { type: 'string', enum: ['open', 'paid'] };
    // Act
    const exported = exportOdcs(contract, { where: 'orders' });
    const again = imported(structuredClone(exported));
    // Assess
    expect(odcsSchemaProblems(exported)).toEqual([]);
    const settings = (exported.customProperties as Json[]).find((c) => c.property === 'sluice')!
      .value as Json;
    expect(Object.keys(settings).sort()).toEqual(['format', 'on_failure', 'version']);
    const status = ((exported.schema as Json[])[0]!.properties as Json[])[2]!;
    expect(status.customProperties).toEqual([
      { property: 'sluiceJsonSchema', value: { enum: ['open', 'paid'] } },
    ]);
    expect([again.on_failure, again.version.dvc, again.format]).toEqual(['reject', true, contract.format]);
    expect(again.schema.properties.status).toEqual({ type: 'string', enum: ['open', 'paid'] });
  });
});
