import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { EXPECTATION_CATALOGUE } from '../../lambdas/shared/expectation-catalogue.js';
import { allCases } from './gx-cases.js';
import { type DifferentialRun, type Disagreement, differential } from './gx-differential.js';

// Every expectation of Sluice's catalogue, run on the same CSV files through the real Great
// Expectations (pandas, the version pinned in requirements.txt) and through Sluice. Where they part,
// the difference must be one docs/expectations.md lists under "Known differences from GX", and
// every difference listed there must still occur: the list is exactly what differs.

const root = join(import.meta.dirname, '..', '..');
const GX_VERSION =
  /^great_expectations==(\S+)/m.exec(readFileSync(join(root, 'requirements.txt'), 'utf8'))?.[1] ?? '?';

/** The known-differences table of docs/expectations.md, one "expectation · scenario · field" per field. */
function documentedDifferences(): string[] {
  const docs = readFileSync(join(root, 'docs', 'expectations.md'), 'utf8');
  const section = docs.split('## Known differences from GX')[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => /^\| `expect_/.test(line))
    .flatMap((line) => {
      const [type, scenario, fields] = line
        .split('|')
        .slice(1, 4)
        .map((cell) => cell.trim().replaceAll('`', ''));
      return fields!.split(',').map((field) => `${type} · ${scenario} · ${field.trim()}`);
    })
    .sort();
}

function keyOf(d: Disagreement): string {
  return `${d.type} · ${d.scenario} · ${d.field}`;
}

function table(run: DifferentialRun, undocumented: number): string {
  const rows = [
    ['GX version', GX_VERSION],
    ['expectations compared', String(run.expectations)],
    ['cases (scenario x result_format)', String(run.cases)],
    ['agreements', String(run.agreements)],
    ['disagreements', String(run.cases - run.agreements)],
    ['  not documented', String(undocumented)],
    ['time (both sides)', `${(run.milliseconds / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k!.length));
  return rows.map(([k, v]) => `${k!.padEnd(width)}  ${v}`).join('\n');
}

describe('Sluice against Great Expectations on generated cases', () => {
  it('agrees with GX on every case of every expectation, apart from the documented differences', async () => {
    // Prepare
    const cases = allCases();
    const documented = documentedDifferences();
    // Act
    const run = await differential(cases);
    // Assess
    const found = [...new Set(run.disagreements.map(keyOf))].sort();
    const undocumented = run.disagreements.filter((d) => !documented.includes(keyOf(d)));
    const undocumentedCases = new Set(undocumented.map((d) => d.id)).size;
    process.stderr.write(`\nGX differential conformance\n${table(run, undocumentedCases)}\n`);
    expect(undocumented.slice(0, 10)).toEqual([]);
    expect(found).toEqual(documented);
    expect(run.expectations).toBe(Object.keys(EXPECTATION_CATALOGUE).length);
  }, 300_000);
});
