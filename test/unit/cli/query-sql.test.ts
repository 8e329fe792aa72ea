import { describe, expect, it } from '@jest/globals';
import { rewriteVersionReferences, type ViewKind } from '../../../src/cli/query-sql.js';

const views: Record<string, ViewKind> = {
  orders: { kind: 'curated', dataset: 'orders' },
  orders_quarantine: { kind: 'other', dataset: 'orders' },
  'shop-orders': { kind: 'curated', dataset: 'shop-orders' },
};
const kindOf = (name: string) => views[name];

describe("rewriting <dataset> AT '<tag>'", () => {
  it("turns a dataset's AT reference into the version's view, keeping the alias", () => {
    // Act
    const { sql, references } = rewriteVersionReferences(
      "SELECT o.status FROM orders AT 'orders@2026-12-01-abc' o JOIN orders n ON o.order_id = n.order_id",
      kindOf,
    );
    // Assess
    expect(sql).toBe(
      'SELECT o.status FROM "orders@2026-12-01-abc" o JOIN orders n ON o.order_id = n.order_id',
    );
    expect(references).toEqual([
      { dataset: 'orders', tag: 'orders@2026-12-01-abc', view: 'orders@2026-12-01-abc' },
    ]);
  });

  it('reads a quoted dataset name, any case of AT, and comments between the words', () => {
    // Act
    const { sql, references } = rewriteVersionReferences(
      `SELECT * FROM "shop-orders" at /* v1 */ 'shop-orders@v1', ORDERS AT 'orders@v2'`,
      kindOf,
    );
    // Assess
    expect(sql).toBe(`SELECT * FROM "shop-orders@v1", "orders@v2"`);
    expect(references.map((r) => r.tag)).toEqual(['shop-orders@v1', 'orders@v2']);
  });

  it('leaves the words alone inside strings, quoted names and comments', () => {
    // Prepare
    const text = [
      "SELECT 'orders AT ''orders@v1''' AS s, \"orders AT 'orders@v1'\" AS q",
      "-- orders AT 'orders@v1'",
      "/* orders AT 'orders@v1' */ FROM orders",
    ].join('\n');
    // Act
    const { sql, references } = rewriteVersionReferences(text, kindOf);
    // Assess
    expect(sql).toBe(text);
    expect(references).toEqual([]);
  });

  it("leaves AT after a name that is no dataset's view, and AT TIME ZONE, for DuckDB", () => {
    // Prepare
    const text = "SELECT ts AT TIME ZONE 'UTC' FROM payments AT 'v1'";
    // Act
    const { sql } = rewriteVersionReferences(text, kindOf);
    // Assess
    expect(sql).toBe(text);
  });

  it("refuses a tag of another dataset, naming the reference and the tag's expected form", () => {
    // Act
    const act = () => rewriteVersionReferences("SELECT * FROM orders AT 'refunds@v1'", kindOf);
    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        message: expect.stringMatching(
          /^orders AT 'refunds@v1': 'refunds@v1' is not a version of 'orders'; expected a tag 'orders@…'/,
        ),
      }),
    );
  });

  it('refuses AT after a quarantine view: a version holds the curated snapshot only', () => {
    // Act
    const act = () => rewriteVersionReferences("SELECT * FROM orders_quarantine AT 'orders@v1'", kindOf);
    // Assess
    expect(act).toThrow(/curated snapshot only; expected orders AT '<tag>'/);
  });

  it('refuses a version of a dataset that has no contract, naming it', () => {
    // Act
    const act = () => rewriteVersionReferences("SELECT * FROM refunds AT 'refunds@v1'", kindOf);
    // Assess
    expect(act).toThrow(/^refunds AT 'refunds@v1': no dataset 'refunds': no contract in --datasets names it/);
  });
});
