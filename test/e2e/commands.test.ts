import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { odcsSchemaProblems } from '../support/odcs.js';
import { CDK, freshProject, program, sluice, sluiceAsync } from './support/cli.js';
import { shopOrders, writeContract } from './support/contracts.js';
import { COVERED, documented, root, words } from './support/documented.js';
import { type FakeSfn, fakeStepFunctions } from './support/fake-sfn.js';

// The documented commands that need no pipeline run: help, check, validate, suggest; and those
// that need AWS (start, backfill, deployed history, cdk deploy and bootstrap), run against a
// Step Functions API on loopback or checked against the CLI's own help.

const servers: FakeSfn[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('documented commands without a lake', () => {
  it('lists every command in sluice --help', () => {
    // Prepare
    const [help] = documented(COVERED.help);
    // Act
    const result = sluice(freshProject(), words(help!));
    // Assess
    expect(result.status).toBe(0);
    for (const command of [
      'run',
      'check',
      'validate',
      'suggest',
      'runs',
      'history',
      'start',
      'backfill',
      'versions',
      'checkout',
      'query',
    ])
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('checks the contracts in datasets/ and lists them', () => {
    // Prepare
    const [check] = documented(COVERED.check);
    // Act
    const result = sluice(freshProject(), words(check!));
    // Assess
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^orders\s+s3-upload\s+csv\s/m);
    expect(result.stdout).toMatch(/1 contract OK/);
  });

  it('checks contract changes since a git tag: a widened type is refused with its reason, an added nullable column accepted', () => {
    // Prepare: the project's contracts in git, tagged as deployed, then a type widened, or a column added
    const project = freshProject();
    const git = (...args: string[]) =>
      program(project.dir, 'git', ['-c', 'user.name=Sluice', '-c', 'user.email=sluice@example.com', ...args]);
    git('init', '-q');
    git('add', 'datasets');
    git('commit', '-qm', 'contracts as deployed');
    git('tag', 'last-deploy');
    const contract = join(project.dir, 'datasets', 'orders.yaml');
    const deployed = readFileSync(contract, 'utf8');
    const commands = documented(COVERED.checkAgainst);
    expect(commands.map((c) => c.where.split(':')[0])).toEqual(['README.md', 'docs/deploy.md']);
    for (const command of commands) {
      writeFileSync(contract, deployed.replace('quantity: { type: integer', 'quantity: { type: number'));
      // Act
      const refused = sluice(project, words(command));
      writeFileSync(contract, deployed.replace(/^( {4}email: .*\n)/m, '$1    coupon: { type: string }\n'));
      const accepted = sluice(project, words(command));
      // Assess
      expect([command.where, refused.status, accepted.status]).toEqual([command.where, 1, 0]);
      expect(refused.stdout).toMatch(
        /^incompatible: orders\.quantity widened: the Parquet files already promoted hold INT64/m,
      );
      expect(accepted.stdout).toMatch(/^ok: orders\.coupon added: /m);
    }
  });

  it('validates a file against a contract without a lake, writing the data docs and the JSON result', () => {
    // Prepare: the README's line and docs/validation.md's, whose [--options] are all given
    const project = freshProject();
    const commands = documented(COVERED.validate);
    expect(commands).toHaveLength(2);
    for (const validate of commands) {
      // Act
      const result = sluice(project, words(validate));
      // Assess: the example has quarantined rows but would be promoted
      expect([validate.where, result.status]).toEqual([validate.where, 0]);
      expect(result.stdout).toMatch(/rows read 300, valid 290, quarantined 10/);
      expect(result.stdout).toMatch(/Would be promoted/);
    }
    expect(readFileSync(join(project.dir, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/i);
    expect(readFileSync(join(project.dir, 'out.html'), 'utf8')).toMatch(/^<!doctype html>/i);
    const result = JSON.parse(readFileSync(join(project.dir, 'out.json'), 'utf8')) as {
      success: boolean;
      results: Array<{ result: Record<string, unknown> }>;
    };
    expect(result.success).toBe(false);
    // SUMMARY result format: partial lists, no full unexpected_list
    expect(result.results.some((r) => 'partial_unexpected_list' in r.result)).toBe(true);
    expect(result.results.some((r) => 'unexpected_list' in r.result)).toBe(false);
  });

  it('validates a file over the shard size in shards on worker threads, with the counts one pass gives', () => {
    // Prepare: big.csv is the example's rows 210 times over (about 4.3 MB, over the 4 MiB from
    // which progress shows); one pass first, with the contract as shipped (256 MiB shards), then
    // in shards of 1 MiB
    const [command] = documented(COVERED.validateWorkers);
    const project = freshProject();
    const [header, ...rows] = readFileSync(join(project.dir, 'examples', 'orders.csv'), 'utf8')
      .trimEnd()
      .split('\n');
    writeFileSync(
      join(project.dir, 'big.csv'),
      `${[header, ...Array.from({ length: 210 }, () => rows).flat()].join('\n')}\n`,
    );
    const onePass = sluice(project, words(command!));
    const contract = join(project.dir, 'datasets', 'orders.yaml');
    const shipped = readFileSync(contract, 'utf8');
    writeFileSync(contract, shipped.replace('format: { type: csv,', 'format: { type: csv, shard_mb: 1,'));
    // Act
    const sharded = sluice(project, words(command!));
    // Assess
    expect(shipped).toContain('format: { type: csv,');
    expect(sharded.status).toBe(onePass.status);
    expect(sharded.stderr).toMatch(/shards (\d+)\/\1/);
    expect(onePass.stderr).not.toMatch(/shards \d+\/\d+/);
    const counts = (stdout: string) => /rows read [\d,]+, valid [\d,]+, quarantined [\d,]+/.exec(stdout)?.[0];
    expect(counts(onePass.stdout)).toMatch(/^rows read 63,000, /);
    expect(counts(sharded.stdout)).toBe(counts(onePass.stdout));
  });

  it('suggests a contract from a file, which sluice check then accepts', () => {
    // Prepare: my.csv and my-export.csv are the example file, export.csv and 'My Export.csv' the
    // same rows with ';' between cells; `> datasets/….yaml` is done by writing the output there.
    const project = freshProject();
    const example = readFileSync(join(project.dir, 'my.csv'), 'utf8');
    const semicolons = example.replaceAll(',', ';');
    writeFileSync(join(project.dir, 'my-export.csv'), example);
    writeFileSync(join(project.dir, 'export.csv'), semicolons);
    writeFileSync(join(project.dir, 'My Export.csv'), semicolons);
    const suggests = documented(COVERED.suggest);
    expect(suggests.length).toBeGreaterThanOrEqual(2);
    const [check] = documented(COVERED.check);
    // Act
    const printed = suggests.map((suggest) => {
      const [command, redirect] = suggest.text.split(' > ');
      const result = sluice(project, words({ ...suggest, text: command! }));
      if (redirect) writeFileSync(join(project.dir, redirect), result.stdout);
      return { suggest, result };
    });
    const checked = sluice(project, words(check!));
    // Assess
    for (const { suggest, result } of printed) {
      expect([suggest.where, result.status, result.stderr]).toEqual([suggest.where, 0, expect.any(String)]);
      const name = suggest.text.match(/--name (\S+)/)?.[1];
      if (name) expect(result.stdout).toMatch(new RegExp(`^name: ${name}$`, 'm'));
      // every suggestion finds the example's columns, whatever the delimiter
      expect(result.stdout).toMatch(/^ {4}order_id:/m);
    }
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(0);
    expect(checked.stdout).toMatch(/^my-export\s+s3-upload\s+csv\s/m);
    expect(checked.stdout).toMatch(/2 contracts OK/);
  });

  it('exports a dataset as a GX suite and imports the suite back into a contract sluice check accepts', () => {
    // Prepare: suite.json is the suite the export wrote, as a GX user would hand it back
    const project = freshProject();
    const [exportGx] = documented(COVERED.exportGx);
    const [importGx] = documented(COVERED.importGx);
    const [check] = documented(COVERED.check);
    const before = readFileSync(join(project.dir, 'datasets', 'orders.yaml'), 'utf8');
    // Act
    const exported = sluice(project, words(exportGx!));
    writeFileSync(join(project.dir, 'suite.json'), readFileSync(join(project.dir, 'orders.suite.json')));
    const imported = sluice(project, words(importGx!));
    const checked = sluice(project, words(check!));
    // Assess
    expect([exported.status, exported.stderr]).toEqual([0, '']);
    expect(imported.status).toBe(0);
    expect(checked.status).toBe(0);
    expect(checked.stdout).toMatch(/^orders\s+s3-upload\s+csv\s/m);
    const suite = JSON.parse(readFileSync(join(project.dir, 'orders.suite.json'), 'utf8')) as {
      expectations: Array<{ type: string; severity: string }>;
    };
    const after = readFileSync(join(project.dir, 'datasets', 'orders.yaml'), 'utf8');
    expect(after).not.toBe(before);
    for (const { type } of suite.expectations) expect(after).toContain(`type: ${type}`);
    expect(suite.expectations.map((e) => e.severity)).toContain('warning');
  });

  it('exports a dataset as an ODCS contract and imports it back into a contract sluice check accepts, every documented line', () => {
    // Prepare: the README's lines, then docs/contracts-interop.md's, which add --bucket, --object and --name
    const project = freshProject();
    const exports = documented(COVERED.exportOdcs);
    const imports = documented(COVERED.importOdcs);
    const [check] = documented(COVERED.check);
    const before = readFileSync(join(project.dir, 'datasets', 'orders.yaml'), 'utf8');
    // Act
    const exported = exports.map((c) =>
      sluice(project, words(c, { '<curated-bucket>': 'sluice-curated-0a1b' })),
    );
    const document = parse(readFileSync(join(project.dir, 'orders.odcs.yaml'), 'utf8')) as {
      servers: unknown[];
    };
    const imported = imports.map((c) => sluice(project, words(c)));
    const checked = sluice(project, words(check!));
    // Assess
    expect([exports.length, imports.length]).toEqual([2, 2]);
    expect(exported.map((r) => [r.status, r.stderr])).toEqual([
      [0, ''],
      [0, ''],
    ]);
    expect(odcsSchemaProblems(document)).toEqual([]);
    expect(document.servers).toEqual([
      expect.objectContaining({ type: 's3', location: 's3://sluice-curated-0a1b/orders/' }),
    ]);
    expect(imported.map((r) => r.status)).toEqual([0, 0]);
    expect(checked.status).toBe(0);
    expect(checked.stdout).toMatch(/^orders\s+s3-upload\s+csv\s/m);
    const after = readFileSync(join(project.dir, 'datasets', 'orders.yaml'), 'utf8');
    expect(after).not.toBe(before);
    for (const type of before.match(/expect_[a-z_]+/g) ?? []) expect(after).toContain(`type: ${type}`);
  });

  it('prints the monthly cost of each documented sluice cost command, as a table or as JSON', () => {
    // Prepare
    const commands = documented(COVERED.cost);
    const project = freshProject();
    for (const command of commands) {
      // Act
      const result = sluice(project, words(command));
      // Assess
      expect({ where: command.where, status: result.status, stderr: result.stderr }).toEqual({
        where: command.where,
        status: 0,
        stderr: '',
      });
      if (command.text.includes('--json')) {
        expect(JSON.parse(result.stdout)).toMatchObject({ dataset: 'orders', region: 'us-east-1' });
      } else {
        expect(result.stdout).toMatch(/^Monthly AWS cost of 'orders': \$[\d,]+\.\d\d$/m);
      }
    }
  });

  it('checks an account before deploying with sluice doctor, and says what to set without credentials', () => {
    // Prepare: no AWS credentials anywhere (no account is reachable here)
    const project = freshProject();
    const empty = join(project.dir, 'empty-aws-file');
    writeFileSync(empty, '');
    const env = Object.fromEntries(
      Object.keys(process.env)
        .filter((k) => k.startsWith('AWS_'))
        .map((k) => [k, '']),
    );
    const doctors = documented(COVERED.doctor);
    for (const doctor of doctors) {
      // Act
      const result = sluice(project, words(doctor), {
        env: {
          ...env,
          AWS_SHARED_CREDENTIALS_FILE: empty,
          AWS_CONFIG_FILE: empty,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_REGION: 'eu-west-1',
        },
      });
      // Assess: the options as documented are accepted (a usage error exits 2), and the failed
      // check (exit 1) names what to set
      expect([doctor.where, result.status]).toEqual([doctor.where, 1]);
      expect(result.stdout + result.stderr).toMatch(/FAIL\s+credentials\s.*(AWS_PROFILE|AWS_REGION)/);
    }
  });
});

describe('documented commands against a deployed stack', () => {
  /** A project with docs/sources.md's shop-orders contract, whose schedule the commands use. */
  function deployedProject() {
    const project = freshProject();
    writeContract(project.dir, shopOrders('public.orders'));
    return project;
  }

  it('starts one interval with sluice start, the last whole one or the one given', async () => {
    // Prepare
    const sfn = await fakeStepFunctions();
    servers.push(sfn);
    const project = deployedProject();
    const starts = documented(COVERED.start);
    // Act
    const results = [];
    for (const start of starts) results.push(await sluiceAsync(project, words(start), { env: sfn.env }));
    // Assess
    for (const [i, result] of results.entries()) {
      expect([starts[i]!.where, result.stderr, result.status]).toEqual([starts[i]!.where, '', 0]);
      expect(result.stdout).toMatch(/^started shop-orders-\d{8}T\d{6}Z for /m);
    }
    const started = sfn.calls.filter((c) => c.action === 'StartExecution');
    expect(started).toHaveLength(starts.length);
    expect(started.map((c) => c.input.name)).toContain('shop-orders-20261125T100000Z');
    expect(started[0]!.input.stateMachineArn).toBe(sfn.stateMachineArn);
  });

  it('backfills a week of intervals with sluice backfill, skipping those started before', async () => {
    // Prepare: every interval was started before, so the backfill starts nothing and waits for nothing
    const sfn = await fakeStepFunctions(() => true);
    servers.push(sfn);
    const project = deployedProject();
    const backfills = documented(COVERED.backfill);
    // Act
    for (const backfill of backfills) {
      // Act
      const result = await sluiceAsync(project, words(backfill), { env: sfn.env });
      // Assess: rate(1 hour) from 2026-11-01 to 2026-11-08 is 168 intervals, oldest first
      expect([backfill.where, result.stderr, result.status]).toEqual([backfill.where, '', 0]);
      const names = sfn.calls
        .splice(0)
        .filter((c) => c.action === 'StartExecution')
        .map((c) => c.input.name);
      expect(names).toHaveLength(168);
      expect([names[0], names.at(-1)]).toEqual([
        'shop-orders-20261101T000000Z',
        'shop-orders-20261107T230000Z',
      ]);
    }
  });

  it('prints the history of a deployed execution by its name or ARN', async () => {
    // Prepare: <execution-arn> is an execution of the state machine the environment names
    const sfn = await fakeStepFunctions();
    servers.push(sfn);
    const project = deployedProject();
    const histories = documented(COVERED.deployedHistory);
    const arn = `${sfn.stateMachineArn.replace(':stateMachine:', ':execution:')}:shop-orders-20261125T100000Z`;
    // Act
    const results = [];
    for (const history of histories)
      results.push(await sluiceAsync(project, words(history, { '<execution-arn>': arn }), { env: sfn.env }));
    // Assess
    for (const [i, result] of results.entries()) {
      expect([histories[i]!.where, result.stderr, result.status]).toEqual([histories[i]!.where, '', 0]);
      expect(result.stdout).toMatch(/^Execution shop-orders-\d{8}T\d{6}Z: SUCCEEDED/m);
    }
    expect(sfn.calls.filter((c) => c.action === 'GetExecutionHistory')).toHaveLength(histories.length);
  });

  it('documents only cdk deploy and bootstrap options and context keys that exist', () => {
    // Prepare: these need an AWS account; what can go stale offline is an option of the cdk CLI
    // or a context key the app no longer reads.
    const commands = documented(COVERED.cdkDeploy);
    const app = readFileSync(join(root, 'infra', 'app.ts'), 'utf8');
    const helps = new Map<string, string>();
    for (const command of commands) {
      const [, sub, ...rest] = words(command);
      // Act
      if (!helps.has(sub!)) helps.set(sub!, program(root, CDK, [sub!, '--help']).stdout);
      // Assess
      for (const option of rest.filter((w) => w.startsWith('-')))
        expect([
          command.where,
          option,
          helps.get(sub!)!.includes(option === '-c' ? '--context, -c' : option),
        ]).toEqual([command.where, option, true]);
      for (const [i, word] of rest.entries()) {
        if (rest[i - 1] !== '-c') continue;
        const key = word.split('=')[0];
        expect([command.where, key, app.includes(`context('${key}')`)]).toEqual([command.where, key, true]);
      }
      if (sub === 'bootstrap' && rest[0]) expect(rest[0]).toMatch(/^aws:\/\/\d{12}\/[a-z]+-[a-z]+-\d$/);
    }
    expect([...helps.keys()].sort()).toEqual(['bootstrap', 'deploy']);
  });

  it('documents cdk synth as the CLI spells it, for the app cdk.json names', () => {
    // Prepare: a synth takes half a minute here, and test/infra synthesizes the same app; the
    // command itself must still be the CLI's and the app's entry point must exist.
    const [synth] = documented(COVERED.cdkSynth);
    const app = (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { app: string }).app;
    // Act
    const help = program(root, CDK, [...words(synth!).slice(1), '--help']);
    // Assess
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/cdk synth/);
    expect(existsSync(join(root, app.split(' ').at(-1)!))).toBe(true);
  });
});
