import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { contractsAtRef, loadBaseline } from '../../lambdas/shared/contract-baseline.js';
import { ConfigurationError, ContractInvalid } from '../../lambdas/shared/errors.js';

/** A contract file's text for dataset `name` with one string column. */
const contractText = (name: string, column = 'id') =>
  JSON.stringify({
    name,
    source: { type: 's3-upload', prefix: `${name}/` },
    format: { type: 'csv', header: true },
    schema: { type: 'object', properties: { [column]: { type: 'string' } } },
  });

/** A git repository whose top directory holds `files`, committed and tagged `v1`. */
function repository(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-baseline-repo-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Sluice', '-c', 'user.email=sluice@example.com', ...args], {
      cwd: dir,
      stdio: 'pipe',
    });
  git('init', '-q');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  git('add', '.');
  git('commit', '-qm', 'contracts');
  git('tag', 'v1');
  return dir;
}

describe('contracts at a git ref', () => {
  it('reads the contracts of a directory at the top of the repository as they were at the ref', () => {
    // Prepare
    const dir = repository({
      'orders.json': contractText('orders', 'order_id'),
      'README.md': '# contracts\n',
    });
    writeFileSync(join(dir, 'orders.json'), contractText('orders', 'changed_since'));
    // Act
    const contracts = contractsAtRef('v1', dir);
    // Assess
    expect([...contracts.keys()]).toEqual(['orders']);
    expect(Object.keys(contracts.get('orders')!.schema.properties)).toEqual(['order_id']);
  });

  it('refuses a baseline contract that does not load, naming the file and the ref', () => {
    // Prepare
    const dir = repository({ 'orders.json': '{ "name": "orders" }' });
    // Act
    const read = () => contractsAtRef('v1', dir);
    // Assess
    expect(read).toThrow(ContractInvalid);
    expect(read).toThrow(/^the baseline contract orders\.json at v1 no longer loads/);
  });

  it('refuses a directory outside any git repository with what to give instead', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-no-repo-'));
    // Act
    const read = () => loadBaseline('v1', dir);
    // Assess
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(/is not inside a git repository.*give a contract file or directory instead/);
  });
});
