import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// `sluice check --against <baseline>` as a user runs it: a dataset repository with its contracts
// in git, a tag at the deployed state, and the contract changed in the working tree since.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[], cwd: string) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });

/** The `orders` contract with these columns (name: JSON Schema), the first one required. */
function ordersContract(columns: Record<string, string>): string {
  const [first] = Object.keys(columns);
  return [
    'name: orders',
    'source: { type: s3-upload, prefix: orders/ }',
    'format: { type: csv, header: true }',
    'schema:',
    '  type: object',
    `  required: [${first}]`,
    '  properties:',
    ...Object.entries(columns).map(([name, schema]) => `    ${name}: ${schema}`),
    '',
  ].join('\n');
}

const DEPLOYED = { order_id: '{ type: string }', amount: '{ type: integer }', note: '{ type: string }' };

/** A git repository whose datasets/orders.yaml is tagged `deployed` as DEPLOYED, then changed to `now`. */
function repositoryWith(now: Record<string, string>): { dir: string; datasets: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-check-against-'));
  const datasets = join(dir, 'datasets');
  mkdirSync(datasets);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Sluice Test', '-c', 'user.email=test@example.com', ...args], {
      cwd: dir,
      stdio: 'pipe',
    });
  git('init', '-q');
  writeFileSync(join(datasets, 'orders.yaml'), ordersContract(DEPLOYED));
  git('add', '.');
  git('commit', '-qm', 'orders as deployed');
  git('tag', 'deployed');
  writeFileSync(join(datasets, 'orders.yaml'), ordersContract(now));
  return { dir, datasets };
}

describe('sluice check --against a git ref', () => {
  it('exits 1 and names each change readers cannot follow: a removed column and a widened type', () => {
    // Prepare
    const { dir, datasets } = repositoryWith({ order_id: '{ type: string }', amount: '{ type: number }' });
    // Act
    const result = sluice(['--datasets', datasets, 'check', '--against', 'deployed'], dir);
    // Assess
    expect(result.stderr).toBe('');
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^orders\s+amount\s+widened\s+bigint -> double\s+NO$/m);
    expect(result.stdout).toMatch(/^orders\s+note\s+removed\s+string\s+NO$/m);
    expect(result.stdout).toMatch(/^incompatible: orders\.amount widened: .*INT64/m);
    expect(result.stdout).toMatch(/2 changes are not backward compatible/);
  });

  it('exits 0 when the only change is an added nullable column', () => {
    // Prepare
    const { dir, datasets } = repositoryWith({ ...DEPLOYED, coupon: '{ type: [string, "null"] }' });
    // Act
    const result = sluice(['--datasets', datasets, 'check', '--against', 'deployed'], dir);
    // Assess
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^orders\s+coupon\s+added\s+string\s+yes$/m);
    expect(result.stdout).toMatch(/every change is backward compatible/);
  });

  it('compares with a contract file kept aside, by its dataset name', () => {
    // Prepare
    const { dir, datasets } = repositoryWith({ order_id: '{ type: string }', amount: '{ type: integer }' });
    const previous = join(dir, 'orders.previous.yaml');
    writeFileSync(previous, ordersContract(DEPLOYED));
    // Act
    const result = sluice(['--datasets', datasets, 'check', '--against', previous], dir);
    // Assess
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^orders\s+note\s+removed\s+string\s+NO$/m);
  });

  it('reports a contract broken since the baseline as broken, not as a dataset that is gone', () => {
    // Prepare
    const { dir, datasets } = repositoryWith(DEPLOYED);
    writeFileSync(join(datasets, 'orders.yaml'), `${ordersContract(DEPLOYED)}on_failure: sometimes\n`);
    // Act
    const result = sluice(['--datasets', datasets, 'check', '--against', 'deployed'], dir);
    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ContractInvalid: .*orders\.yaml/);
    expect(result.stdout).not.toMatch(/orders\s+\(dataset\)\s+removed/);
    expect(result.stdout).toMatch(/no change to the columns of any curated table/);
  });

  it('exits 2 naming the baseline when it is neither a file nor a git ref', () => {
    // Prepare
    const { dir, datasets } = repositoryWith(DEPLOYED);
    // Act
    const result = sluice(['--datasets', datasets, 'check', '--against', 'no-such-tag'], dir);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/'no-such-tag' is neither a file, a directory nor a git ref/);
  });
});
