import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The commands the documents show, read from their `sh` code blocks, so that a document whose
 * commands stop working fails the e2e tier.
 *
 * How a documented line becomes what a test runs:
 * - a trailing `# comment` is dropped, a line ending in `\` is joined with the next, `npx ` is dropped
 *   (the tests run `bin/sluice.mjs` and `node_modules/.bin/cdk`, which is what `npx` finds), and
 *   `node bin/sluice.mjs` is read as `sluice`;
 * - `[--flag value]` (an optional part, as in docs/validation.md) is given;
 * - `<placeholder>`s and example values are replaced by what earlier steps of the test produced
 *   (a run's execution name, a version's tag, a temporary directory), through `fill`: each test
 *   names what it fills and from where, and a placeholder left unfilled fails the test;
 * - the tests add `--lake <temporary dir>` after `sluice`, so every run starts on a fresh lake.
 */

export const root = join(import.meta.dirname, '..', '..', '..');

export interface DocumentedCommand {
  /** The document, relative to the repository, and the line the command starts on. */
  where: string;
  /** The command as written, `npx ` and comments left out, continuation lines joined. */
  text: string;
}

/** Every command line of the `sh` blocks of README.md and docs/*.md. */
export function documentedCommands(): DocumentedCommand[] {
  const documents = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => `docs/${name}`),
  ];
  return documents.flatMap((document) => commandsOf(document, readFileSync(join(root, document), 'utf8')));
}

function commandsOf(document: string, text: string): DocumentedCommand[] {
  const commands: DocumentedCommand[] = [];
  const lines = text.split('\n');
  let inShell = false;
  let pending: { line: number; text: string } | undefined;
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line.startsWith('```')) {
      inShell = !inShell && line === '```sh';
      continue;
    }
    if (!inShell) continue;
    const code = withoutComment(line);
    if (code === '' && pending === undefined) continue;
    const joined = pending ? `${pending.text} ${code}` : code;
    const start = pending?.line ?? index + 1;
    if (joined.endsWith('\\')) {
      pending = { line: start, text: joined.slice(0, -1).trim() };
      continue;
    }
    pending = undefined;
    commands.push({
      where: `${document}:${start}`,
      text: joined.replace(/^npx /, '').replace(/^node bin\/sluice\.mjs /, 'sluice '),
    });
  }
  return commands;
}

/** The line without a `# comment` that starts outside quotes. */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || line[i - 1] === ' ')) return line.slice(0, i).trim();
  }
  return line.trim();
}

/**
 * What each e2e test file runs of the documented commands. Every documented `sluice` and `cdk`
 * command must match one of these (test/e2e/documented.test.ts), and each test selects its
 * commands with the same pattern, so a command added to a document is run, or the tier fails.
 */
export const COVERED = {
  /** quickstart.test.ts: the README's local path on an s3-upload dataset. */
  runUpload: /^sluice run orders (--input|-i) my\.csv( --events)?$/,
  runs: /^sluice runs orders$/,
  localHistory: /^sluice history (<execution>|orders)$/,
  versions: /^sluice versions orders$/,
  checkout: /^sluice checkout \S+ \S+$/,
  gitCheckoutDvcPull: /^(git clone|git tag --list|git checkout|dvc pull)\b/,
  /** commands.test.ts: commands that need no lake. */
  help: /^sluice --help$/,
  check: /^sluice check$/,
  /** commands.test.ts: the schema-evolution check against a git tag of the project's contracts. */
  checkAgainst: /^sluice check --against last-deploy$/,
  validate: /^sluice validate datasets\/orders\.yaml (my\.csv|examples\/orders\.csv) /,
  /** commands.test.ts: a file over the contract's shard size, validated in shards on worker threads. */
  validateWorkers: /^sluice validate datasets\/orders\.yaml big\.csv --workers \d+$/,
  suggest: /^sluice suggest /,
  /** commands.test.ts: a dataset's expectations out to a GX suite and back in. */
  exportGx: /^sluice export gx /,
  importGx: /^sluice import gx /,
  /** commands.test.ts: a dataset's contract out to ODCS and back in, every documented line. */
  exportOdcs: /^sluice export odcs /,
  importOdcs: /^sluice import odcs /,
  /** commands.test.ts: commands against a deployed stack, run against a Step Functions API on loopback. */
  start: /^sluice start shop-orders\b/,
  backfill: /^sluice backfill shop-orders\b/,
  deployedHistory: /^sluice history (shop-orders-\d{8}T\d{6}Z|<execution-arn>)( |$)/,
  /** commands.test.ts: cdk commands that need an AWS account, checked against the cdk CLI and the app. */
  cdkDeploy: /^cdk (deploy|bootstrap)\b/,
  cdkSynth: /^cdk synth( -c datasetsRepository=\S+)?$/,
  /** commands.test.ts: the monthly cost of a dataset at list prices, with and without a lake. */
  cost: /^sluice cost orders\b/,
  /** commands.test.ts: the pre-flight check, run with no AWS credentials. */
  doctor: /^sluice doctor\b/,
  /** sources.test.ts (the postgres command also runs the http dataset); interrupted.test.ts reruns runUpload. */
  runPartnerDrop: /^sluice run acme-shipments --input \S+$/,
  /** sources.test.ts: the deadline check of partner batches, as the schedule runs it. */
  runPartnerDeadlines: /^sluice run acme-shipments$/,
  runPostgres: /^sluice run shop-orders --interval-start \S+ --interval-end \S+$/,
  /** reading.test.ts: SQL over the local lake, on a lake with JSON Lines parts and one with Parquet parts. */
  query: /^sluice query "/,
} as const;

/** The documented commands a pattern selects; none is an error, since the test would run nothing. */
export function documented(pattern: RegExp): DocumentedCommand[] {
  const found = documentedCommands().filter((c) => pattern.test(c.text));
  if (found.length === 0) throw new Error(`no documented command matches ${pattern}`);
  return found;
}

/**
 * The words of a documented command (quotes removed; no other shell syntax is needed), optional
 * `[…]` parts given, and each placeholder or example value in `fill` replaced.
 */
export function words(command: DocumentedCommand, fill: Record<string, string> = {}): string[] {
  let text = command.text.replace(/\[([^\]]+)\]/g, '$1');
  for (const [from, to] of Object.entries(fill)) text = text.split(from).join(to);
  const unfilled = text.match(/<[a-z-]+>/);
  if (unfilled) throw new Error(`${command.where}: '${unfilled[0]}' in '${command.text}' was not filled`);
  const out: string[] = [];
  for (const match of text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
    out.push(match[1] ?? match[2] ?? match[3]!);
  }
  return out;
}

/** The first `yaml` code block after a heading of a document, e.g. a source's example contract. */
export function yamlBlockAfter(document: string, heading: string): string {
  const text = readFileSync(join(root, document), 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`${document} has no heading '${heading}'`);
  const block = text.slice(at).match(/\n```yaml\n([\s\S]*?)\n```/);
  if (!block) throw new Error(`${document} has no yaml block after '${heading}'`);
  return block[1]!;
}
