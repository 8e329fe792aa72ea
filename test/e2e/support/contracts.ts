import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { yamlBlockAfter } from './documented.js';

/**
 * Contracts of the datasets the documents run (shop-orders, acme-shipments, shop-api, clicks),
 * made from each source's example block in docs/sources.md, so that an example that stops
 * loading fails the tier. The blocks show a source, a format and a schedule; the tests add the
 * name, a schema of the test's data, and point the source at what the test serves.
 */
export function contractFromDocs(
  heading: string,
  name: string,
  schema: Record<string, unknown>,
  source: Record<string, unknown> = {},
): Record<string, unknown> {
  const example = parse(yamlBlockAfter('docs/sources.md', heading)) as {
    source: Record<string, unknown>;
  };
  return { name, ...example, source: { ...example.source, ...source }, schema };
}

/** Writes a contract into the project's `datasets/`. */
export function writeContract(projectDir: string, contract: Record<string, unknown>): void {
  mkdirSync(join(projectDir, 'datasets'), { recursive: true });
  writeFileSync(join(projectDir, 'datasets', `${String(contract.name)}.yaml`), stringify(contract));
}

/** docs/sources.md's PostgreSQL example as `shop-orders`, reading `table` with `connection: SHOP_DB_URL`. */
export function shopOrders(table: string): Record<string, unknown> {
  return contractFromDocs(
    '## PostgreSQL',
    'shop-orders',
    {
      type: 'object',
      required: ['id', 'customer', 'amount'],
      properties: {
        id: { type: 'integer' },
        customer: { type: 'string' },
        amount: { type: 'number', minimum: 0 },
      },
    },
    // The example's commented alternative: the variable docs/sources.md's command exports.
    { connection: 'SHOP_DB_URL', table },
  );
}
