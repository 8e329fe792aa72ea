import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { type Contract, loadContracts, loadStandaloneContractFile, parseContract } from './contract.js';
import { ConfigurationError, ContractInvalid } from './errors.js';
import { contractSetChanges, type SchemaChange } from './schema-evolution.js';

/**
 * The contracts a change is compared with (`sluice check --against`, CDK context
 * `contractBaseline`): a contract file, a directory of contracts, or a git ref (tag, branch,
 * commit) at which `datasetsDir` is read from its repository's history. Read by synth and the
 * CLI, never by a Lambda.
 */
export function loadBaseline(against: string, datasetsDir: string): Baseline {
  if (existsSync(against)) {
    if (statSync(against).isDirectory()) {
      return { contracts: loadContracts(against), what: against, oneContract: false };
    }
    // A contract kept aside (orders.previous.yaml) is compared by its `name`, not its file name.
    const contract = loadStandaloneContractFile(against, () => undefined);
    return { contracts: new Map([[contract.name, contract]]), what: against, oneContract: true };
  }
  return {
    contracts: contractsAtRef(against, datasetsDir),
    what: `${against}:${relative(process.cwd(), datasetsDir) || '.'}`,
    oneContract: false,
  };
}

export interface Baseline {
  contracts: Map<string, Contract>;
  /** Where they were read, for messages: the file, the directory, or `<ref>:<directory>`. */
  what: string;
  /** A single contract file: it speaks for its own dataset only, not for the others being gone. */
  oneContract: boolean;
}

/**
 * The changes of `current` since the baseline. A single baseline file, or `onlyCurrent` (contract
 * files named on their own), compares only the datasets in `current`; the datasets in `skip`
 * (contracts that do not load now, reported as broken) are not compared, rather than reported gone.
 */
export function changesSince(
  baseline: Baseline,
  current: ReadonlyMap<string, Contract>,
  options: { onlyCurrent?: boolean; skip?: readonly string[] } = {},
): SchemaChange[] {
  const all = !baseline.oneContract && !options.onlyCurrent;
  const compared = new Map(
    [...baseline.contracts].filter(
      ([name]) => !(options.skip ?? []).includes(name) && (all || current.has(name)),
    ),
  );
  return contractSetChanges(compared, current);
}

/** The contracts of `datasetsDir` as they were at git `ref`, parsed as synth parses them. */
export function contractsAtRef(ref: string, datasetsDir: string): Map<string, Contract> {
  if (!existsSync(datasetsDir)) {
    throw new ConfigurationError(`the contracts directory ${datasetsDir} does not exist`);
  }
  const top = git(
    datasetsDir,
    ['rev-parse', '--show-toplevel'],
    () =>
      `${datasetsDir} is not inside a git repository, so the baseline '${ref}' cannot be read from its history; give a contract file or directory instead`,
  ).trim();
  const commit = git(
    datasetsDir,
    ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`],
    () =>
      `'${ref}' is neither a file, a directory nor a git ref (tag, branch or commit) of ${top}; a shallow clone may lack it (git fetch --tags)`,
  ).trim();
  const dir = relative(realpathSync(top), realpathSync(datasetsDir)).split('\\').join('/');
  const listing = git(top, ['ls-tree', '--name-only', commit, '--', dir === '' ? '.' : `${dir}/`], () => '');
  const contracts = new Map<string, Contract>();
  for (const path of listing
    .split('\n')
    .filter((p) => /\.(ya?ml|json)$/.test(p) && !p.endsWith('.schema.json'))) {
    const text = git(top, ['show', `${commit}:${path}`], () => `cannot read ${path} at ${ref}`);
    // `where` keeps the file's own name last, so the name check compares it with the contract's name.
    const where = `${ref}:${path.includes('/') ? path : `./${path}`}`;
    try {
      const contract = parseContract(text, where);
      contracts.set(contract.name, contract);
    } catch (error) {
      if (!(error instanceof ContractInvalid)) throw error;
      throw new ContractInvalid(
        `the baseline contract ${basename(path)} at ${ref} no longer loads, so changes cannot be compared with it:\n${error.message}`,
        { cause: error },
      );
    }
  }
  return contracts;
}

function git(cwd: string, args: string[], why: () => string): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new ConfigurationError(why() || `git ${args.join(' ')} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
