import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadContractFile } from '../../../lambdas/shared/contract.js';
import { OdcsUnsupported } from '../../../lambdas/shared/errors.js';
import { exportOdcs } from '../../../src/cli/odcs-export.js';
import { importOdcs } from '../../../src/cli/odcs-import.js';
import { odcsExamples, odcsSchemaProblems } from '../../support/odcs.js';

// The spec's own examples (ODCS v3.1.0, test/fixtures/odcs/): each schema object is imported,
// exported, checked against the official JSON Schema and imported again.

const root = join(import.meta.dirname, '..', '..', '..');
const examples = odcsExamples();
const objectsOf = (document: Record<string, unknown>) =>
  ((document.schema ?? []) as Array<{ name: string; properties?: unknown[] }>).filter(
    (o) => (o.properties ?? []).length > 0,
  );
const importable = examples.flatMap(({ file, document }) =>
  objectsOf(document).map((object) => ({ file, document, object: object.name })),
);

function refusalOf(action: () => unknown): OdcsUnsupported {
  try {
    action();
  } catch (error) {
    if (error instanceof OdcsUnsupported) return error;
    throw error;
  }
  throw new Error('expected OdcsUnsupported');
}

describe("the ODCS v3.1.0 spec's examples", () => {
  it('hold schema objects with properties in twelve of their eighteen files, 82 objects in all', () => {
    // Assess: the loops below see every example, or they check less than they say
    expect(examples).toHaveLength(18);
    expect(new Set(importable.map((i) => i.file)).size).toBe(12);
    expect(importable).toHaveLength(82);
  });

  it('export, object by object, to documents the official JSON Schema accepts', () => {
    const failures: string[] = [];
    for (const { file, document, object } of importable) {
      // Act
      let exported: unknown;
      try {
        const { contract } = importOdcs(structuredClone(document), { where: file, object });
        exported = exportOdcs(contract, { where: file });
      } catch (error) {
        if (error instanceof OdcsUnsupported && /sql rules|engine 'soda'/.test(error.message)) continue;
        throw error;
      }
      // Assess
      for (const problem of odcsSchemaProblems(exported)) failures.push(`${file} ${object}: ${problem}`);
    }
    expect(failures).toEqual([]);
  });

  it('import, export and import again to the same contract', () => {
    let compared = 0;
    for (const { file, document, object } of importable) {
      // Prepare
      let first: ReturnType<typeof importOdcs>;
      try {
        first = importOdcs(structuredClone(document), { where: file, object });
      } catch (error) {
        if (error instanceof OdcsUnsupported && /sql rules|engine 'soda'/.test(error.message)) continue;
        throw error;
      }
      // Act
      const exported = exportOdcs(first.contract, { where: file });
      const again = importOdcs(exported, { where: 'exported', object });
      // Assess
      expect({ file, object, contract: again.contract }).toEqual({ file, object, contract: first.contract });
      expect(again.yaml).toBe(first.yaml);
      compared++;
    }
    expect(compared).toBe(80);
  });

  it('export each object back to what the example said of it, but for values ODCS takes by default', () => {
    // Prepare: what a property says by default, and key positions in the properties' order
    const defaults: Record<string, unknown> = {
      required: false,
      unique: false,
      primaryKey: false,
      primaryKeyPosition: -1,
    };
    const canonical = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(canonical)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value as Record<string, unknown>)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, v]) => [k, canonical(v)]),
            )
          : value;
    const said = (object: Record<string, unknown>) => {
      const properties = object.properties as Array<Record<string, unknown>>;
      const keys = properties.filter((p) => p.primaryKey === true);
      // Key positions that follow the properties' order say what their order says.
      const inOrder = keys.every(
        (p, i) => p.primaryKeyPosition === undefined || p.primaryKeyPosition === i + 1,
      );
      return canonical({
        ...object,
        properties: properties.map((p) => {
          const kept = Object.fromEntries(Object.entries(p).filter(([k, v]) => defaults[k] !== v));
          if (inOrder) delete kept.primaryKeyPosition;
          return kept;
        }),
      });
    };
    let compared = 0;
    for (const { file, document, object } of importable) {
      let exported: Record<string, unknown>;
      try {
        // Act
        const { contract } = importOdcs(structuredClone(document), { where: file, object });
        exported = exportOdcs(contract, { where: file });
      } catch (error) {
        if (error instanceof OdcsUnsupported && /sql rules|engine 'soda'/.test(error.message)) continue;
        throw error;
      }
      // Assess
      const original = (document.schema as Array<Record<string, unknown>>).find((o) => o.name === object)!;
      const back = (exported.schema as Array<Record<string, unknown>>)[0]!;
      expect({ file, object: said(back) }).toEqual({ file, object: said(original) });
      const { schema: _a, apiVersion: _b, ...top } = document;
      const { schema: _c, apiVersion, ...exportedTop } = exported;
      expect({ file, top: canonical(exportedTop) }).toEqual({ file, top: canonical(top) });
      expect(apiVersion).toBe('v3.1.0');
      compared++;
    }
    expect(compared).toBe(80);
  });

  it('refuse the rules Sluice cannot run, each by its position and with the reason', () => {
    // Prepare
    const example = (name: string) => examples.find((e) => e.file === name)!.document;
    // Act
    const sql = refusalOf(() =>
      importOdcs(example('quality--column-accuracy.odcs.yaml'), { where: 'accuracy' }),
    );
    const soda = refusalOf(() =>
      importOdcs(example('quality--column-custom.odcs.yaml'), { where: 'custom' }),
    );
    // Assess
    expect(sql.message).toMatch(
      /^accuracy: 1 problem with the contract:\n {2}schema\[0\]\.properties\[0\]\.quality\[0\]: sql rules are not run: /,
    );
    expect(sql.message).toMatch(
      /no table to run on; write it as a library metric or a Great Expectations expectation/,
    );
    expect(soda.message.split('\n').slice(1)).toEqual([
      "  schema[0].properties[0].quality[0]: custom rules of engine 'soda' are not run: Sluice runs Great Expectations expectations (engine: great-expectations)",
      "  schema[0].properties[0].quality[1]: custom rules of engine 'soda' are not run: Sluice runs Great Expectations expectations (engine: great-expectations)",
    ]);
  });

  it('refuse a contract without a schema object, or whose object has no properties, saying so', () => {
    const refused = examples
      .filter(({ document }) => objectsOf(document).length === 0)
      .map(
        ({ file, document }) =>
          [file, refusalOf(() => importOdcs(document, { where: file })).message] as const,
      );
    // Assess
    expect(refused.map(([file]) => file)).toEqual([
      'roles--service-and-operational-roles.odcs.yaml',
      'schema--kafka-schemaregistry.odcs.yaml',
      'server--azure-server.odcs.yaml',
      'server--kafka-server.odcs.yaml',
      'sla--database-table-sla.odcs.yaml',
      'stakeholders--basic-four-dpo.odcs.yaml',
    ]);
    for (const [file, message] of refused) {
      expect(message).toMatch(
        /the contract has no schema object: a Sluice dataset is the records of one object|schema\[0\]\.properties: none: a Sluice record schema needs at least one column/,
      );
      expect(message.startsWith(`${file}: `)).toBe(true);
    }
  });
});

describe('a Sluice contract exported as ODCS', () => {
  it('validates against the official schema and imports back with the same settings, schema and expectations', () => {
    // Prepare
    const contract = loadContractFile(join(root, 'datasets', 'orders.yaml'));
    // Act
    const exported = exportOdcs(contract, { where: 'orders', bucket: 'sluice-curated-123' });
    const again = importOdcs(structuredClone(exported), { where: 'orders.odcs.yaml' }).contract;
    // Assess
    expect(odcsSchemaProblems(exported)).toEqual([]);
    const { metadata, expectations, ...rest } = again;
    const { expectations: original, ...originalRest } = contract;
    expect(rest).toEqual(originalRest);
    // ODCS keeps a property's rules with the property: the expectations come back grouped by column.
    const sorted = (list: typeof original) => list.map(({ meta: _meta, ...e }) => JSON.stringify(e)).sort();
    expect(sorted(expectations)).toEqual(sorted(original));
    expect(metadata?.odcs?.servers).toEqual([
      expect.objectContaining({ type: 's3', location: 's3://sluice-curated-123/orders/', format: 'json' }),
    ]);
  });

  it('exports the same document again after a round trip through import', () => {
    // Prepare
    const contract = loadContractFile(join(root, 'datasets', 'orders.yaml'));
    const exported = exportOdcs(contract, { where: 'orders' });
    // Act
    const again = exportOdcs(importOdcs(structuredClone(exported), { where: 'x' }).contract, { where: 'x' });
    // Assess
    expect(again).toEqual(exported);
  });
});
