import type { Contract } from '../../lambdas/shared/contract.js';
import { changesSince, loadBaseline } from '../../lambdas/shared/contract-baseline.js';
import type { SchemaChange } from '../../lambdas/shared/schema-evolution.js';
import { table } from './table.js';

/**
 * `sluice check --against <baseline>`: each change of the contracts since the baseline that a
 * reader of the curated tables notices, whether it keeps them readable and why. Returns whether
 * every change is backward compatible. With contract files named, only their datasets are compared.
 */
export function reportSchemaChanges(
  contracts: readonly Contract[],
  against: string,
  options: SchemaChangeOptions,
): boolean {
  const { baseline: what, changes, added } = schemaChangesSince(contracts, against, options);
  process.stdout.write(`Against ${what}:\n`);
  if (changes.length > 0) {
    const rows = changes.map((c) => [
      c.dataset,
      c.column || '(dataset)',
      c.kind,
      describeTypes(c),
      c.compatible ? 'yes' : 'NO',
    ]);
    process.stdout.write(`${table(['Dataset', 'Column', 'Change', 'Types', 'Compatible'], rows)}\n\n`);
    for (const change of changes) {
      process.stdout.write(
        `${change.compatible ? 'ok' : 'incompatible'}: ${change.dataset}${change.column ? `.${change.column}` : ''} ${change.kind}: ${change.reason}\n`,
      );
    }
  } else {
    process.stdout.write('no change to the columns of any curated table\n');
  }
  if (added.length > 0) process.stdout.write(`new datasets (nothing to compare): ${added.join(', ')}\n`);
  const refused = changes.filter((c) => !c.compatible);
  process.stdout.write(
    refused.length === 0
      ? 'every change is backward compatible for readers of the curated tables\n'
      : `${refused.length} change${refused.length === 1 ? ' is' : 's are'} not backward compatible for readers of the curated tables\n`,
  );
  return refused.length === 0;
}

export interface SchemaChangeOptions {
  datasets: string;
  onlyNamed: boolean;
  broken: readonly string[];
}

/** The changes since the baseline, what `check --against` prints and `check --against --json` returns. */
export function schemaChangesSince(
  contracts: readonly Contract[],
  against: string,
  options: SchemaChangeOptions,
): { baseline: string; changes: SchemaChange[]; added: string[] } {
  const baseline = loadBaseline(against, options.datasets);
  const current = new Map(contracts.map((c) => [c.name, c]));
  const changes = changesSince(baseline, current, { onlyCurrent: options.onlyNamed, skip: options.broken });
  const added = [...current.keys()].filter((name) => !baseline.contracts.has(name)).sort();
  return { baseline: baseline.what, changes, added };
}

function describeTypes(change: SchemaChange): string {
  if (change.from !== undefined && change.to !== undefined) return `${change.from} -> ${change.to}`;
  return change.to ?? change.from ?? '';
}
