/**
 * Local pipeline runs under faults: each of N runs gets one fault drawn (seeded) from the set the
 * fault tests use, on a fresh lake, and is run again when it failed; its outputs are then compared
 * with an undisturbed run of the same input on another fresh lake. Prints the runs, the faults by
 * kind, the runs a re-run recovered, objects lost and outputs differing (both must be 0), and the
 * wall time against the N undisturbed runs. Everything listens on 127.0.0.1 only.
 *
 *   node --import tsx bench/faults.ts [--runs 200] [--seed 1]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadContracts } from '../lambdas/shared/contract.js';
import type { ObjectStore } from '../lambdas/shared/object-store.js';
import { openLake } from '../src/cli/lake.js';
import {
  type LocalFunction,
  loadDefinition,
  localFunctionArn,
  runExecution,
} from '../src/local/asl-runner.js';
import { startMoto } from '../src/local/moto.js';
import {
  coreFunctions,
  type FunctionId,
  localSubstitutions,
  PIPELINE_ASL,
  runUpload,
} from '../src/local/pipeline.js';
import {
  FAULT_CLOCK,
  FaultyStore,
  faultRunArgs,
  filesWithHashes,
  gitPushFailsOnce,
  InjectedFault,
  OUTPUT_ZONES,
  outputsOf,
  runSluice,
  type S3Fault,
  startS3FaultProxy,
  tagMessages,
} from '../test/support/faults.js';
import { random } from '../test/support/random.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(
    'npm run bench:faults -- [--runs N] [--seed S]\n\n' +
      'Runs N local pipeline runs (default 200), each with one fault drawn with seed S (default 1),\n' +
      're-runs each that failed, and prints the runs, the faults by kind, the runs a re-run recovered,\n' +
      'objects lost and outputs differing from an undisturbed run (both must be 0), and the slowdown\n' +
      'against N undisturbed runs. Only 127.0.0.1 is used (moto and a faulty proxy in front of it).\n',
  );
  process.exit(0);
}
const runs = Number(args.runs);
const next = random(Number(args.seed));
const root = join(import.meta.dirname, '..');
const plain = join(root, 'test', 'fixtures', 'datasets');
const versioned = join(root, 'test', 'fixtures', 'datasets-versioned');

const KINDS = [
  'lake-call-fails',
  'core-throws',
  'core-times-out',
  's3-500',
  's3-503',
  's3-slowdown',
  's3-drop-mid-upload',
  'kill-ValidateBatch',
  'kill-PromoteToCurated',
  'kill-VersionWithDvc',
  'git-push-fails',
] as const;
type Kind = (typeof KINDS)[number];

/** A small orders file whose rows the RNG picks, some of them bound for quarantine. */
function inputFor(dir: string, index: number): string {
  const rows = Array.from({ length: 3 + Math.floor(next() * 20) }, (_, row) => {
    const status = next() < 0.15 ? 'lost' : next() < 0.5 ? 'paid' : 'shipped';
    return `R${index}-${row},${Math.floor(next() * 1000)},${status}`;
  });
  const file = join(dir, 'orders.csv');
  writeFileSync(file, `order_id,amount,status\n${rows.join('\n')}\n`);
  return file;
}

const clock = FAULT_CLOCK;
let buckets = 0;

interface Lake {
  dir: string;
  s3?: string;
  prefix?: string;
}

async function inProcess(
  lake: Lake,
  input: string,
  faults: {
    store?: (store: ObjectStore) => ObjectStore;
    functions?: (f: Record<FunctionId, LocalFunction>) => Record<FunctionId, LocalFunction>;
  } = {},
) {
  const opened = await openLake({ lake: lake.dir, s3Endpoint: lake.s3, bucketPrefix: lake.prefix });
  const store = faults.store ? faults.store(opened.store) : opened.store;
  const contracts = loadContracts(plain);
  const functions = coreFunctions({ store, contracts });
  const { report } = await runUpload({
    dataset: 'orders',
    inputFile: input,
    store,
    contracts,
    functions: faults.functions ? faults.functions(functions) : functions,
    versioning: opened.versioning,
    retryIntervalMs: 0,
    clock,
  });
  return report.status === 'SUCCEEDED';
}

/** The pipeline with ValidateBatch given 1 s and a core that never answers. */
async function timedOut(lake: Lake, input: string, content: string): Promise<boolean> {
  const definition = loadDefinition(PIPELINE_ASL, localSubstitutions()) as unknown as {
    States: Record<string, { TimeoutSeconds?: number }>;
  };
  const state = definition.States.ValidateBatch;
  if (state) state.TimeoutSeconds = 1;
  const { store } = await openLake({ lake: lake.dir });
  const functions: Record<FunctionId, LocalFunction> = {
    ...coreFunctions({ store, contracts: loadContracts(plain) }),
    validate: () => new Promise(() => undefined),
  };
  await store.put('landing', 'landing/orders/orders.csv', content);
  const report = await runExecution({
    definition: definition as never,
    functions: new Map(Object.entries(functions).map(([id, fn]) => [localFunctionArn(id), fn])),
    tasks: { VersionWithDvc: async () => ({}) },
    input: {
      dataset: 'orders',
      trigger: {
        type: 's3-upload',
        bucket: 'landing',
        key: 'landing/orders/orders.csv',
        size: Buffer.byteLength(content),
        time: clock().toISOString(),
      },
    },
    name: `orders-timeout-${input.length}`,
    retryIntervalMs: 0,
  });
  return report.status === 'SUCCEEDED';
}

const cli = (lakeDir: string, input: string) => faultRunArgs(lakeDir, versioned, input);

/** A fault, then a re-run when it failed; returns whether the first attempt failed. */
async function faulted(
  kind: Kind,
  lake: Lake,
  input: string,
  content: string,
  moto: string,
): Promise<boolean> {
  const s3: Partial<Record<Kind, S3Fault>> = {
    's3-500': { status: 500, code: 'InternalError' },
    's3-503': { status: 503, code: 'ServiceUnavailable' },
    's3-slowdown': { status: 503, code: 'SlowDown' },
    's3-drop-mid-upload': 'drop',
  };
  const fault = s3[kind];
  if (fault) {
    const proxy = await startS3FaultProxy(moto, [
      {
        method: fault === 'drop' ? 'PUT' : next() < 0.5 ? 'PUT' : 'GET',
        times: 1 + Math.floor(next() * 2),
        fault,
      },
    ]);
    try {
      const at = { ...lake, s3: proxy.endpoint };
      const ok = await inProcess(at, input);
      if (!ok) await inProcess(at, input);
      return !ok;
    } finally {
      await proxy.close();
    }
  }
  if (kind === 'lake-call-fails') {
    const zone = (['validated', 'curated', 'quarantine', 'reports'] as const)[Math.floor(next() * 4)];
    const ok = await inProcess(lake, input, {
      store: (store) => new FaultyStore(store, [{ method: 'put', zone, times: 1 }]),
    });
    if (!ok) await inProcess(lake, input);
    return !ok;
  }
  if (kind === 'core-throws') {
    const id: 'validate' | 'promote' = next() < 0.5 ? 'validate' : 'promote';
    const ok = await inProcess(lake, input, {
      functions: (f) => ({
        ...f,
        [id]: async () => {
          throw new InjectedFault(`${id} failed on purpose`);
        },
      }),
    });
    if (!ok) await inProcess(lake, input);
    return !ok;
  }
  if (kind === 'core-times-out') {
    const ok = await timedOut(lake, input, content);
    if (!ok) await inProcess(lake, input);
    return !ok;
  }
  if (kind === 'git-push-fails') {
    const shim = gitPushFailsOnce(join(lake.dir, '..'));
    const env = { ...process.env, PATH: `${shim.bin}:${process.env.PATH}` };
    const first = await runSluice(cli(lake.dir, input), { env });
    if (first.code !== 0) await runSluice(cli(lake.dir, input), { env });
    return first.code !== 0;
  }
  const step = kind.replace('kill-', '');
  const first = await runSluice(cli(lake.dir, input), { killAt: step });
  if (first.code !== 0) await runSluice(cli(lake.dir, input));
  return first.code !== 0;
}

async function clean(kind: Kind, lake: Lake, input: string): Promise<void> {
  if (kind.startsWith('kill-') || kind === 'git-push-fails') {
    const result = await runSluice(cli(lake.dir, input));
    if (result.code !== 0) throw new Error(`an undisturbed run failed: ${result.stderr}`);
    return;
  }
  if (!(await inProcess(lake, input))) throw new Error('an undisturbed run failed');
}

/** The outputs a run left, and its tags: through the store for S3, from the directory otherwise. */
async function outputs(lake: Lake, moto: string): Promise<Record<string, string>> {
  if (lake.s3 || lake.prefix) {
    const { store } = await openLake({ lake: lake.dir, s3Endpoint: moto, bucketPrefix: lake.prefix });
    return outputsOf(store);
  }
  const files = filesWithHashes(join(lake.dir, 'lake'));
  const kept = Object.entries(files).filter(
    ([path]) => path.includes('.sluice-tmp-') || OUTPUT_ZONES.some((zone) => path.startsWith(`${zone}/`)),
  );
  const tags = tagMessages(join(lake.dir, 'datasets.git')).map((tag, i) => [`tag ${i}`, tag]);
  return Object.fromEntries([...kept, ...tags]);
}

async function main(): Promise<void> {
  const moto = await startMoto(root);
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-faults-'));
  const injected: Record<string, number> = {};
  let recovered = 0;
  let lost = 0;
  let differing = 0;
  let faultedMs = 0;
  let cleanMs = 0;
  try {
    for (let i = 0; i < runs; i++) {
      const dir = join(work, `run-${i}`);
      const input = inputFor(mkdtempSync(join(work, 'in-')), i);
      const content = readFileSync(input, 'utf8');
      const kind = KINDS[Math.floor(next() * KINDS.length)] as Kind;
      injected[kind] = (injected[kind] ?? 0) + 1;
      const isS3 = kind.startsWith('s3-');
      const lake: Lake = { dir: join(dir, 'faulted'), ...(isS3 ? { prefix: `b${i}x${buckets++}` } : {}) };
      const reference: Lake = {
        dir: join(dir, 'clean'),
        ...(isS3 ? { s3: moto.endpoint, prefix: `c${i}x${buckets++}` } : {}),
      };

      let started = performance.now();
      if (await faulted(kind, lake, input, content, moto.endpoint)) recovered += 1;
      faultedMs += performance.now() - started;
      started = performance.now();
      await clean(kind, reference, input);
      cleanMs += performance.now() - started;

      const got = await outputs(lake, moto.endpoint);
      const want = await outputs(reference, moto.endpoint);
      for (const [key, hash] of Object.entries(want)) {
        if (!(key in got)) lost += 1;
        else if (got[key] !== hash) differing += 1;
      }
      differing += Object.keys(got).filter((key) => !(key in want)).length;
      rmSync(dir, { recursive: true, force: true });
      if ((i + 1) % 20 === 0) {
        console.log(
          `${i + 1}/${runs} runs: ${recovered} recovered by a re-run, ${lost} lost, ${differing} differing`,
        );
      }
    }
  } finally {
    await moto.stop();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nruns                          ${runs} (seed ${args.seed})`);
  console.log('faults injected by kind');
  for (const kind of KINDS) console.log(`  ${kind.padEnd(28)}${injected[kind] ?? 0}`);
  console.log(`runs recovered by a re-run    ${recovered}`);
  console.log(`objects lost                  ${lost}`);
  console.log(`outputs differing             ${differing}`);
  console.log(
    `wall time                     ${(faultedMs / 1000).toFixed(1)} s with faults (re-runs included), ${(cleanMs / 1000).toFixed(1)} s for ${runs} undisturbed runs: ×${(faultedMs / cleanMs).toFixed(2)}`,
  );
  if (lost > 0 || differing > 0) process.exitCode = 1;
}

await main();
