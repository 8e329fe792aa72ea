import { Command, CommanderError, Option } from 'commander';
import { resultFormatLevelsText } from '../../lambdas/shared/result-format-levels.js';
import { EXIT } from './exit-codes.js';

const EXIT_CODES_HELP =
  '\nExit codes:\n' +
  '  0    ok\n' +
  '  1    the run failed, the file did not pass validation, or check found a broken contract or an incompatible change\n' +
  '  2    usage or configuration error (unknown option or command, missing argument, bad contract or lake)\n' +
  '  130  interrupted (Ctrl-C or SIGTERM)\n';

/** Parses the command line and runs one command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = sluiceProgram((code) => {
    exitCode = code;
  });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    // Commander has printed its message (and the hint to --help) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    process.stderr.write(`sluice: ${(error as Error).name}: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  return exitCode;
}

/** Receives the exit code of the command that ran. */
type Finish = (code: number) => void;

/** The `sluice` program: its global options and every command, each reporting its exit code to `finish`. */
function sluiceProgram(finish: Finish): Command {
  const program = new Command()
    .name('sluice')
    .description(
      'Sluice lands data write-once in a zoned lake, validates it against its contract and promotes what passes.\n' +
        'Locally it runs the same state machine definition that AWS runs.',
    )
    .showHelpAfterError('(sluice --help lists the commands)')
    // Usage errors exit 2, apart from a failed run's 1; set before the subcommands, which inherit it.
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP)
    .addOption(new Option('--datasets <dir>', 'directory of dataset contracts').default('datasets'))
    .addOption(new Option('--lake <dir>', 'local lake directory (persists between runs)').default('.sluice'));
  addRunCommand(program, finish);
  addContractCommands(program, finish);
  addHistoryCommands(program, finish);
  addDeployedCommands(program, finish);
  addVersionCommands(program, finish);
  addQueryCommand(program, finish);
  addDoctorCommand(program, finish);
  addCostCommand(program, finish);
  return program;
}

/** `sluice run`: the whole pipeline, locally, for one dataset. */
function addRunCommand(program: Command, finish: Finish): void {
  program
    .command('run')
    .description('run the pipeline locally for one dataset: land the input, validate, promote, record')
    .argument('<dataset>', 'dataset name (a contract in --datasets)')
    .option(
      '-i, --input <path>',
      'file to upload to the dataset landing prefix (s3-upload), or a folder of files to drop (partner-drop; without it, the scheduled deadline check)',
    )
    .option(
      '--interval-start <time>',
      'pulled sources: start of the data interval (default: last whole interval)',
    )
    .option('--interval-end <time>', 'pulled sources: end of the data interval')
    .option(
      '--force',
      "pulled sources: take an interval that is off the schedule's grid or has not ended (refused otherwise: it is pulled once)",
    )
    .option('--events', 'print every history event, as the console Events tab does')
    .option('--json', 'print the execution report as JSON instead of tables')
    .option('--s3-endpoint <url>', 'use an S3 API (moto, LocalStack) instead of the lake directory')
    .option('--bucket-prefix <prefix>', 'with --s3-endpoint: zone buckets are <prefix>-<zone>', 'sluice')
    .option(
      '--count-requests',
      'count the object-store calls of the run by zone and print them (with --json: as storeCalls); see sluice cost',
    )
    .option(
      '--workers <n>',
      "shards of a batch larger than its contract's format.shard_mb validated at once, each in a worker thread (default: the number of cores)",
    )
    .addOption(new Option('--progress-seconds <n>', 'seconds between progress lines').default('1').hideHelp())
    .addOption(
      new Option(
        '--received-at <time>',
        "an upload's arrival time, as its S3 event gives it (dates the run's partitions); default now",
      ).hideHelp(),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  sluice run orders --input examples/orders.csv\n  sluice run orders -i orders.csv --events\n' +
        '  sluice run shop-orders --interval-start 2026-11-25T12:00:00Z --interval-end 2026-11-25T13:00:00Z\n' +
        '  sluice run shop-orders --interval-start 2026-11-25T12:00:00Z --interval-end 2026-11-25T12:30:00Z --force\n' +
        '\nEach run writes OpenLineage events to reports/<dataset>/lineage/; SLUICE_OPENLINEAGE_URL also sends\n' +
        '  them to a lineage server (http(s)://…, e.g. Marquez /api/v1/lineage), to console or to file:<path>\n' +
        '  (docs/lineage.md).\n',
    )
    .action(async (dataset: string, options) => {
      const { runCommand } = await import('./run.js');
      finish(await runCommand(dataset, { ...program.opts(), ...options }));
    });
}

/** The commands about contracts and files, without the lake: check, validate, suggest, import, export. */
function addContractCommands(program: Command, finish: Finish): void {
  program
    .command('check')
    .description('check every dataset contract, as synth and the Lambdas do at load, and list the datasets')
    .argument('[files...]', 'contract files (default: every contract in --datasets)')
    .option(
      '--against <baseline>',
      'also say whether each change since <baseline> (a git ref, or a contract file or directory) keeps the curated tables readable; exits 1 if one does not',
    )
    .option(
      '--json',
      'print the datasets, the broken contracts and (with --against) the changes as JSON instead of a table',
    )
    .action(async (files: string[], options: { against?: string; json?: boolean }) => {
      const { checkCommand } = await import('./check.js');
      finish(await checkCommand(files, { ...program.opts(), ...options }));
    });

  program
    .command('validate')
    .description(
      'validate a local CSV, JSON Lines or JSON array file against a contract, without the lake; exits 1 if it would not be promoted',
    )
    .argument('<contract>', "contract file (YAML or JSON); a name other than the file's is a warning here")
    .argument('<file>', "CSV, JSON Lines or JSON file, read as the contract's format says")
    .option('--result-format <level>', `${resultFormatLevelsText()} for every expectation`)
    .option(
      '--json [file]',
      'write the GX-shaped validation result as JSON to the file; without one, print it instead of the table',
    )
    .option('--html <file>', 'write the data docs as a self-contained HTML page')
    .option(
      '--workers <n>',
      "shards validated at once in worker threads, for a file larger than the contract's format.shard_mb (default: the machine's cores)",
    )
    .action(async (contract: string, file: string, options) => {
      const { validateCommand } = await import('./validate.js');
      finish(await validateCommand(contract, file, options));
    });

  program
    .command('suggest')
    .description(
      'profile a CSV, JSON Lines or JSON array file in one pass and print a starting contract (YAML) that accepts it',
    )
    .argument('<file>', 'CSV, JSON Lines or JSON array file')
    .option(
      '--name <name>',
      'dataset name: a-z, 0-9, - and _, starting with a letter (default: from the file name)',
    )
    .option(
      '--format <format>',
      'csv, jsonl or json (a JSON array of records); default: a file starting with [ is json, with { jsonl, else csv',
    )
    .option('--delimiter <char>', "CSV delimiter, e.g. ';' or tab (default: detected among , ; tab |)")
    .action(async (file: string, options) => {
      const { suggestCommand } = await import('./suggest.js');
      finish(await suggestCommand(file, options));
    });

  const importing = program
    .command('import')
    .description("turn another tool's suite or contract into a Sluice contract");
  importing
    .command('gx')
    .description(
      'turn a Great Expectations suite (1.x or 0.x JSON) into a contract (YAML); refuses, by position, what Sluice cannot run',
    )
    .argument('<suite>', 'GX expectation suite JSON file')
    .requiredOption('--name <name>', 'dataset name of the contract')
    .option(
      '--sample <file>',
      'CSV, JSON Lines or JSON file to take the record schema and format from (as suggest)',
    )
    .option('--out <file>', 'write the contract there instead of printing it')
    .action(async (suite: string, options) => {
      const { importGxCommand } = await import('./gx-commands.js');
      finish(await importGxCommand(suite, options));
    });

  importing
    .command('odcs')
    .description(
      'turn an Open Data Contract Standard v3 contract (YAML or JSON) into a contract (YAML); refuses, by position, what Sluice cannot run',
    )
    .argument('<contract>', 'ODCS contract file, e.g. orders.odcs.yaml')
    .option('--object <name>', 'the schema object to import, when the contract describes several')
    .option('--name <name>', "dataset name of the contract (default: the object's name)")
    .option('--out <file>', 'write the contract there instead of printing it')
    .action(async (contract: string, options) => {
      const { importOdcsCommand } = await import('./odcs-commands.js');
      finish(await importOdcsCommand(contract, options));
    });

  const exporting = program.command('export').description("write a contract in another tool's format");
  exporting
    .command('gx')
    .description("write a dataset's expectations as a Great Expectations 1.x suite (JSON)")
    .argument('<contract>', 'dataset name (a contract in --datasets) or contract file')
    .option('--out <file>', 'write the suite there instead of printing it')
    .action(async (contract: string, options) => {
      const { exportGxCommand } = await import('./gx-commands.js');
      finish(await exportGxCommand(contract, { ...program.opts(), ...options }));
    });

  exporting
    .command('odcs')
    .description("write a dataset's contract as an Open Data Contract Standard v3.1.0 contract (YAML)")
    .argument('<contract>', 'dataset name (a contract in --datasets) or contract file')
    .option(
      '--bucket <name>',
      "the curated zone's bucket (stack output CuratedBucketName): adds an s3 server for the dataset",
    )
    .option('--out <file>', 'write the ODCS contract there instead of printing it')
    .action(async (contract: string, options) => {
      const { exportOdcsCommand } = await import('./odcs-commands.js');
      finish(await exportOdcsCommand(contract, { ...program.opts(), ...options }));
    });
}

/** What happened: the runs recorded in the local lake, and the history of a local or deployed execution. */
function addHistoryCommands(program: Command, finish: Finish): void {
  program
    .command('runs')
    .description('list the recorded runs of a dataset in the local lake, newest first')
    .argument('<dataset>', 'dataset name')
    .option('--json', 'print the run records as JSON')
    .action(async (dataset: string, options) => {
      const { runsCommand } = await import('./inspect.js');
      finish(await runsCommand(dataset, { ...program.opts(), ...options }));
    });

  program
    .command('history')
    .description(
      'print the execution history of a run, as the console shows it: a local run by its name, or a ' +
        'deployed execution by ARN, name or dataset (with --state-machine-arn or $SLUICE_STATE_MACHINE_ARN)',
    )
    .argument(
      '<execution>',
      'local execution name as printed by sluice run, or a deployed execution ARN, name or dataset',
    )
    .option('--events', 'print every event, not only the steps')
    .option('--json', 'print the execution and its events as JSON')
    .option('--local', 'read the local lake even when a deployed state machine is configured')
    .addOption(
      new Option(
        '--state-machine-arn <arn>',
        'the deployed state machine (default: $SLUICE_STATE_MACHINE_ARN)',
      ),
    )
    .addOption(
      new Option('--outputs-file <file>', 'cdk deploy --outputs-file output holding StateMachineArn'),
    )
    .action(async (execution: string, options) => {
      const isDeployed =
        !options.local &&
        (execution.startsWith('arn:') || options.stateMachineArn || process.env.SLUICE_STATE_MACHINE_ARN);
      if (isDeployed) {
        const { deployedHistoryCommand } = await import('./deployed-history.js');
        finish(await deployedHistoryCommand(execution, options));
        return;
      }
      const { historyCommand } = await import('./inspect.js');
      finish(await historyCommand(execution, { ...program.opts(), ...options }));
    });
}

/** The commands that start executions of the deployed pipeline: start, backfill. */
function addDeployedCommands(program: Command, finish: Finish): void {
  const deployed = (command: Command) =>
    command
      .option('--state-machine-arn <arn>', `the deployed state machine (default: $SLUICE_STATE_MACHINE_ARN)`)
      .option('--outputs-file <file>', 'cdk deploy --outputs-file output holding StateMachineArn');

  deployed(
    program
      .command('start')
      .description(
        'start the deployed pipeline for one interval of a dataset now (default: its last whole interval)',
      )
      .argument('<dataset>', 'dataset name (a contract in --datasets)')
      .option('--interval-start <time>', 'start of the data interval, ISO 8601')
      .option('--interval-end <time>', 'end of the data interval, ISO 8601')
      .option(
        '--force',
        "start an interval that is off the schedule's grid or has not ended; ingest is told to take it",
      ),
  ).action(async (dataset: string, options) => {
    const { startCommand } = await import('./start.js');
    finish(await startCommand(dataset, { ...program.opts(), ...options }));
  });

  deployed(
    program
      .command('backfill')
      .description(
        "run every interval of a dataset's schedule between two times on the deployed pipeline, oldest first, " +
          'one execution per interval named <dataset>-<interval start>; intervals started before are not started again',
      )
      .argument('<dataset>', 'dataset name (a contract in --datasets)')
      .requiredOption('--from <time>', 'first interval starts at or after this time (ISO 8601)')
      .requiredOption('--to <time>', 'last interval ends at or before this time (ISO 8601)')
      .option('--max-concurrency <n>', 'executions running at the same time', '4')
      .addOption(
        new Option('--poll-seconds <n>', 'how often to check running executions').default('5').hideHelp(),
      ),
  ).action(async (dataset: string, options) => {
    const { backfillCommand } = await import('./backfill.js');
    finish(await backfillCommand(dataset, { ...program.opts(), ...options }));
  });
}

/** The DVC versions of a dataset: list them, restore one. */
function addVersionCommands(program: Command, finish: Finish): void {
  program
    .command('versions')
    .description('list the DVC versions of a dataset: tag, date, rows, size, md5, validation outcome')
    .argument('<dataset>', 'dataset name')
    .option('--json', 'print the versions as JSON')
    .action(async (dataset: string, options) => {
      const { versionsCommand } = await import('./versions.js');
      finish(await versionsCommand(dataset, { ...program.opts(), ...options }));
    });

  program
    .command('checkout')
    .description('restore a version into a directory with git checkout + dvc pull, and verify its bytes')
    .argument('<tag>', 'version tag, e.g. orders@2026-11-25-8be8c5d56a3841a7 (see sluice versions)')
    .argument('<dir>', 'a new or empty directory')
    .action(async (tag: string, dir: string) => {
      const { checkoutCommand } = await import('./versions.js');
      finish(await checkoutCommand(tag, dir, program.opts()));
    });
}

/** `sluice query`: SQL over the local lake with DuckDB, a view per dataset and zone. */
function addQueryCommand(program: Command, finish: Finish): void {
  program
    .command('query')
    .description(
      'run SQL over the local lake with DuckDB: each dataset in --datasets is a view of its curated rows (<dataset>), ' +
        'its quarantined rows (<dataset>_quarantine) and its run records (<dataset>_runs)',
    )
    .argument('<sql>', "the SQL; <dataset> AT '<tag>' reads a DVC version of the curated rows")
    .option('--json', 'print the rows as a JSON array of objects')
    .option('--csv', 'print the rows as CSV (RFC 4180, a header line; NULL is an empty field)')
    .option(
      '--version <tag>',
      "the dataset's view reads this DVC version (as sluice versions lists it) instead of curated; once per dataset",
      (tag: string, tags: string[] = []) => [...tags, tag],
    )
    .option('--max-rows <n>', 'rows the table shows at most; --json and --csv print every row', '100')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice query "SELECT status, count(*) AS orders, sum(amount) AS amount FROM orders GROUP BY status"\n' +
        '  sluice query "SELECT row, failures[1].reason FROM orders_quarantine" --csv\n' +
        '  sluice query "SELECT runId, status FROM orders_runs" --json\n' +
        '  sluice query "SELECT count(*) FROM orders" --version orders@2026-11-25-8be8c5d56a3841a7\n' +
        '  sluice query "SELECT count(*) FROM orders AT \'orders@2026-11-25-8be8c5d56a3841a7\'"\n' +
        '\nA name with a hyphen is quoted in SQL: "shop-orders". Integers beyond 2^53 and decimals wider than\n' +
        '15 digits print exactly, as strings in --json. Exits 2 when the SQL does not parse or names an unknown\n' +
        'view or column, 1 when it fails while running. More: docs/reading.md\n',
    )
    .action(async (sql: string, options) => {
      const { queryCommand } = await import('./query.js');
      finish(await queryCommand(sql, { ...program.opts(), ...options }));
    });
}

/** `sluice doctor`: what a deploy needs of the account, checked before deploying. */
function addDoctorCommand(program: Command, finish: Finish): void {
  program
    .command('doctor')
    .description(
      'before deploying: check the account your credentials name (CDK bootstrap, the dataset repository, Lambda and Step Functions quotas)',
    )
    .option('--profile <name>', 'AWS profile (default: AWS_PROFILE or the default chain)')
    .option('--region <region>', 'AWS region (default: AWS_REGION or the profile)')
    .option(
      '-c, --context <key=value...>',
      'deploy context, as cdk deploy -c takes it (over cdk.json, cdk.context.json)',
    )
    .option('--toolkit-stack-name <name>', 'the CDK bootstrap stack', 'CDKToolkit')
    .addHelpText(
      'after',
      '\nExample:\n  sluice doctor --profile prod --region eu-west-1 -c datasetsRepository=codecommit\n',
    )
    .action(async (options) => {
      const { doctorCommand } = await import('./doctor.js');
      finish(await doctorCommand(options));
    });
}

/** `sluice cost`: what a dataset's pipeline costs a month on AWS, at list prices, every assumption shown. */
function addCostCommand(program: Command, finish: Finish): void {
  program
    .command('cost')
    .description(
      "estimate the monthly AWS cost of a dataset's pipeline at us-east-1 list prices: Lambda, Step Functions " +
        '(Distributed Map child executions included), S3 requests and storage per zone, CodeBuild, KMS; ' +
        'every assumption printed, and how the cost changes with the shard size',
    )
    .argument('<dataset>', 'dataset name (a contract in --datasets)')
    .option('--rows <n>', "rows per batch (default: the lake's run records, else from --bytes)")
    .option('--bytes <n>', "raw bytes per batch (default: the lake's run records, else 100 MB)")
    .option('--files <n>', "objects per batch (default: 1 for s3-upload, else the lake's run records)")
    .option('--runs-per-day <n>', "runs a day (default: from the contract's schedule, else 1)")
    .option(
      '--shard-mb <n>',
      'shard size in MiB; a larger batch takes the sharded branch (default: format.shard_mb, 256)',
    )
    .option('--month <n>', 'the month of operation to cost: storage accumulates (default: 12)')
    .option('--json', 'print the assumptions, per-run counts, monthly lines and shard table as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  sluice cost orders\n  sluice cost orders --bytes 10000000000 --runs-per-day 24\n' +
        '  sluice cost orders --bytes 100000000000 --shard-mb 100 --json\n\nThe model, its prices and their sources: docs/cost.md\n',
    )
    .action(async (dataset: string, options) => {
      const { costCommand } = await import('./cost.js');
      finish(await costCommand(dataset, { ...program.opts(), ...options }));
    });
}
