import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// What `sluice` says, and exits with, when it is used wrongly, as a user runs it.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env,
  });

const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `sluice-${name}-`));

/** A contracts directory holding the example orders contract and, optionally, more files. */
function contractsDir(extra: Record<string, string> = {}): string {
  const dir = tempDir('contracts');
  copyFileSync(join(root, 'datasets', 'orders.yaml'), join(dir, 'orders.yaml'));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A contract of dataset `x` whose expectation names a kwarg that does not exist. */
const brokenX = [
  'name: x',
  'source: { type: s3-upload, prefix: landing/x/ }',
  'format: { type: csv }',
  'schema: { type: object, properties: { id: { type: string } } }',
  'expectations:',
  '  - type: expect_column_values_to_be_unique',
  '    kwargs: { colum: id }',
  '',
].join('\n');

/** A contract of dataset `y` with an unknown expectation. */
const brokenY = [
  'name: y',
  'source: { type: s3-upload, prefix: landing/y/ }',
  'format: { type: csv }',
  'schema: { type: object, properties: { id: { type: string } } }',
  'expectations:',
  '  - type: expect_column_values_to_be_uniq',
  '    kwargs: { column: id }',
  '',
].join('\n');

describe('sluice usage errors', () => {
  it.each([
    ['an unknown option', ['run', 'orders', '--nope']],
    ['a missing argument', ['run']],
    ['an unknown command', ['runn', 'orders']],
  ])('exits 2 on %s, apart from the 1 of a failed run', (_what, args) => {
    // Act
    const result = sluice(args);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^error: /m);
  });

  it('lists the exit codes in --help and exits 0', () => {
    // Act
    const result = sluice(['--help']);
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /Exit codes:\n\s+0\s+ok\n\s+1\s+the run failed.*\n\s+2\s+usage or configuration error.*\n\s+130\s+interrupted/,
    );
  });
});

describe('sluice with a lake or contracts directory that cannot be used', () => {
  it('says a dataset has no runs yet, with where it looked, and exits 0', () => {
    // Prepare
    const lake = tempDir('lake');
    // Act
    const result = sluice(['--lake', lake, 'runs', 'orders']);
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      `no runs recorded for 'orders' yet (looked in ${join(lake, 'lake', 'reports', 'orders', 'runs')}/)`,
    );
    expect(result.stderr).toBe('');
  });

  it('says there is no such dataset when neither a contract nor a run names it, and exits 2', () => {
    // Prepare
    const lake = tempDir('lake');
    // Act
    const result = sluice(['--lake', lake, '--datasets', contractsDir(), 'runs', 'acme-late']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("no dataset 'acme-late'");
    expect(result.stderr).toContain('known datasets: orders');
    expect(result.stderr).not.toContain('not a usable object key');
  });

  it.each([
    ['run', 'orders', '--input', 'examples/orders.csv'],
    ['versions', 'orders'],
    ['runs', 'orders'],
    ['query', 'SELECT count(*) FROM orders'],
  ])('refuses a --lake that names a file, for %s, and exits 2', (...args) => {
    // Prepare
    const file = join(tempDir('lake'), 'a-file');
    writeFileSync(file, 'not a lake');
    // Act
    const result = sluice(['--lake', file, ...args]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`ConfigurationError: --lake ${file} is not a directory`);
    expect(result.stderr).not.toContain('ENOTDIR');
  });

  it('says the --datasets directory does not exist, and exits 2', () => {
    // Prepare
    const missing = join(tempDir('contracts'), 'missing');
    // Act
    const result = sluice(['--datasets', missing, 'check']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`the contracts directory ${missing} does not exist`);
    expect(result.stderr).not.toContain('ENOENT');
  });

  it('says an empty --datasets directory holds no contracts, and exits 2', () => {
    // Prepare
    const empty = tempDir('contracts');
    // Act
    const result = sluice(['--datasets', empty, 'check']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`no dataset contracts in ${empty}`);
    expect(result.stdout).not.toContain('0 contracts OK');
  });
});

describe('sluice with broken contracts beside good ones', () => {
  it('check reports every broken contract with file:line and reason, then a count, and exits 1', () => {
    // Prepare
    const datasets = contractsDir({ 'x.yaml': brokenX, 'y.yaml': brokenY });
    // Act
    const result = sluice(['--datasets', datasets, 'check']);
    // Assess
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/orders\s+s3-upload/);
    expect(result.stderr).toContain(
      `${join(datasets, 'x.yaml')}:7 at /expectations/0/kwargs/colum: expect_column_values_to_be_unique: unexpected property 'colum'; did you mean 'column'?`,
    );
    expect(result.stderr).toContain(`${join(datasets, 'y.yaml')}:6 at /expectations/0/type`);
    expect(result.stderr).toContain("did you mean 'expect_column_values_to_be_unique'");
    expect(result.stderr).toContain('1 contract OK, 2 broken');
  });

  it('runs a dataset whose contract is good although another contract is broken, naming the broken one', () => {
    // Prepare
    const datasets = contractsDir({ 'x.yaml': brokenX });
    const lake = tempDir('lake');
    // Act
    const result = sluice([
      '--lake',
      lake,
      '--datasets',
      datasets,
      'run',
      'orders',
      '-i',
      'examples/orders.csv',
    ]);
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Execution orders-\S+: SUCCEEDED/);
    expect(result.stderr).toContain(`1 other contract is broken and skipped (${join(datasets, 'x.yaml')})`);
  });

  it("reports a dataset's own broken contract when it is run, and exits 2", () => {
    // Prepare
    const datasets = contractsDir({ 'x.yaml': brokenX });
    const lake = tempDir('lake');
    const input = join(lake, 'x.csv');
    writeFileSync(input, 'id\n1\n');
    // Act
    const result = sluice(['--lake', lake, '--datasets', datasets, 'run', 'x', '-i', input]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`ContractInvalid: ${join(datasets, 'x.yaml')}: the contract is invalid`);
    expect(result.stderr).toContain("did you mean 'column'?");
  });
});

describe('deployed commands without AWS credentials', () => {
  const stateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Sluice';

  /** The environment of a machine with no AWS credentials at all, where the SDK gives up at once. */
  function noCredentials(): NodeJS.ProcessEnv {
    const dir = tempDir('aws');
    writeFileSync(join(dir, 'credentials'), '');
    writeFileSync(join(dir, 'config'), '');
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
    return {
      ...env,
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  /** A contracts directory whose orders dataset runs every hour. */
  function hourlyOrders(): string {
    const dir = contractsDir();
    const text = readFileSync(join(dir, 'orders.yaml'), 'utf8').replace(
      /^schedule: null$/m,
      'schedule: rate(1 hour)',
    );
    writeFileSync(join(dir, 'orders.yaml'), text);
    return dir;
  }

  it.each([
    [
      'start',
      [
        'start',
        'orders',
        '--interval-start',
        '2026-11-25T00:00:00Z',
        '--interval-end',
        '2026-11-25T01:00:00Z',
      ],
    ],
    ['backfill', ['backfill', 'orders', '--from', '2026-11-25T00:00:00Z', '--to', '2026-11-25T02:00:00Z']],
    ['history', ['history', 'orders']],
  ])(
    '%s says how to give credentials, a profile, the region and the state machine, and exits 2',
    (_name, args) => {
      // Prepare
      const datasets = hourlyOrders();
      // Act
      const result = sluice(
        ['--datasets', datasets, ...args, '--state-machine-arn', stateMachineArn],
        noCredentials(),
      );
      // Assess
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('ConfigurationError: CredentialsProviderError:');
      expect(result.stderr).toContain('AWS_PROFILE=<name>');
      expect(result.stderr).toContain("The region is the state machine's (eu-west-1)");
      expect(result.stderr).toContain('StateMachineArn output');
      expect(result.stderr).toContain('--outputs-file');
    },
  );
});
