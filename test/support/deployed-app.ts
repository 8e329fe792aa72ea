import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isNativeError } from 'node:util/types';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { buildApp } from '../../infra/app.js';
import { ZONES, type Zone } from '../../lambdas/shared/object-store.js';
import { type LakeBuckets, S3ObjectStore } from '../../lambdas/shared/s3-object-store.js';
import { bucketsFor, ensureBuckets } from '../../src/cli/lake.js';
import type { LocalFunction } from '../../src/local/asl-runner.js';
import { motoEndpoint } from './moto-lake.js';

// What `cdk deploy` would upload and create, read back from a synthesized cloud assembly: the
// bundled asset of each Lambda function, its environment from the template, and the state machine
// definition after its substitutions. Tests run these artifacts, not the TypeScript sources.

const REPO_ROOT = join(import.meta.dirname, '..', '..');

type Intrinsic = { Ref: string } | { 'Fn::GetAtt': [string, string] } | { 'Fn::Join': [string, unknown[]] };

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

/** One deployed Lambda function as the template and the asset manifest describe it. */
export interface DeployedFunction {
  logicalId: string;
  /** Construct path inside the stack, e.g. `Functions/Ingest`. */
  path: string;
  /** The bundled file Lambda loads: `index.mjs` of the asset CDK zips and uploads. */
  entry: string;
  /** The export the template's `Handler` names. */
  exportName: string;
  /** `Environment.Variables` as the template has them, bucket references unresolved. */
  environment: Record<string, unknown>;
}

export interface DeployedApp {
  outdir: string;
  stackName: string;
  template: CfnTemplate;
  functions: DeployedFunction[];
  /** The function whose construct path is `path` (e.g. `Functions/Ingest`). */
  functionAt(path: string): DeployedFunction;
  /** The zone each bucket of the template holds, by the bucket's logical id. */
  zoneOfBucket: ReadonlyMap<string, Zone>;
}

/**
 * Synthesizes the CDK app into a fresh cdk.out directory (bundling every function with the
 * construct's esbuild settings) and reads back what a deployment would use.
 */
export function synthDeployedApp(options: { datasetsDir?: string } = {}): DeployedApp {
  const outdir = mkdtempSync(join(tmpdir(), 'sluice-cdk.out-'));
  const stackName = 'SluiceArtifact';
  // The context the CLI passes from cdk.json, so the assets are those `cdk deploy` would build, the
  // construct path of each resource in its metadata, as the CLI asks for by default, and a dataset
  // repository choice, which `cdk deploy` takes with -c.
  const { context } = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const { app } = buildApp({
    datasetsDir: options.datasetsDir,
    appProps: {
      outdir,
      context: {
        ...context,
        stackName,
        datasetsRepository: 'codecommit',
        'aws:cdk:enable-path-metadata': true,
      },
    },
    // cdk-nag is the infra tier's subject; here it would only add time.
    nagChecks: false,
  });
  app.synth();

  const template = JSON.parse(
    readFileSync(join(outdir, `${stackName}.template.json`), 'utf8'),
  ) as CfnTemplate;
  const assets = JSON.parse(readFileSync(join(outdir, `${stackName}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string; packaging?: string } }>;
  };

  const zoneOfBucket = new Map<string, Zone>();
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    const zone = name.replace(/BucketName$/, '').toLowerCase();
    const ref = (output.Value as { Ref?: string }).Ref;
    if (ref && (ZONES as readonly string[]).includes(zone)) zoneOfBucket.set(ref, zone as Zone);
  }

  const functions: DeployedFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const props = resource.Properties as {
      Code: { S3Key?: string };
      Handler: string;
      Environment?: { Variables?: Record<string, unknown> };
    };
    const hash = props.Code.S3Key?.replace(/\.zip$/, '');
    const asset = hash === undefined ? undefined : assets.files[hash];
    // A function with inline code has no asset to load.
    if (asset?.source.packaging !== 'zip') continue;
    const [file, exportName] = splitHandler(props.Handler);
    // The file Lambda's Node.js runtime loads for `<file>.<export>`, in its order of preference.
    const entry = ['.js', '.mjs', '.cjs']
      .map((extension) => join(outdir, asset.source.path, `${file}${extension}`))
      .find((path) => existsSync(path));
    if (!entry) throw new Error(`${logicalId}: the asset holds no ${file}.js, .mjs or .cjs`);
    const cdkPath = String(resource.Metadata?.['aws:cdk:path'] ?? '');
    functions.push({
      logicalId,
      path: cdkPath.replace(`${stackName}/`, '').replace(/\/Resource$/, ''),
      entry,
      exportName,
      environment: props.Environment?.Variables ?? {},
    });
  }

  return {
    outdir,
    stackName,
    template,
    functions,
    zoneOfBucket,
    functionAt(path) {
      const fn = functions.find((f) => f.path === path);
      if (!fn)
        throw new Error(`no bundled function at ${path}; found ${functions.map((f) => f.path).join(', ')}`);
      return fn;
    },
  };
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/** Fresh zone buckets in the shared moto server, named like a deployment's. */
export interface TestLake {
  id: string;
  s3: S3Client;
  buckets: LakeBuckets;
  store: S3ObjectStore;
}

export async function testLake(): Promise<TestLake> {
  const endpoint = motoEndpoint();
  const id = `a${randomBytes(4).toString('hex')}`;
  const buckets = bucketsFor(id);
  const s3 = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await ensureBuckets(s3, buckets);
  return { id, s3, buckets, store: new S3ObjectStore(s3, buckets) };
}

/**
 * The function's environment as deployed: the template's variables with each bucket reference
 * replaced by the test lake's bucket of the same zone. Any other reference is an error, so a
 * variable the test cannot resolve fails loudly instead of running with a wrong value.
 */
export function deployedEnvironment(
  app: DeployedApp,
  fn: DeployedFunction,
  lake: TestLake,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.environment)) {
    if (typeof value === 'string') {
      env[name] = value;
      continue;
    }
    const ref = (value as { Ref?: string }).Ref;
    const zone = ref === undefined ? undefined : app.zoneOfBucket.get(ref);
    if (!zone) throw new Error(`${fn.path}: cannot resolve ${name} = ${JSON.stringify(value)}`);
    env[name] = lake.buckets[zone];
  }
  return env;
}

/**
 * Variables the Lambda service or this machine provide rather than the template: credentials and
 * region, the moto endpoint, and quiet Powertools (no log lines, metrics or traces in test output).
 */
function localEnvironment(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: motoEndpoint(),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
}

/**
 * A failed invocation as Step Functions sees it: the error is the runtime's `errorType`, the cause
 * the JSON of `{ errorType, errorMessage, trace }` (the message here, as the local runner passes a
 * thrown error's message on as the Cause).
 */
export class LambdaFunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    trace: string[],
  ) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    // Step Functions matches Retry and Catch on the errorType; so does the local runner, on `name`.
    this.name = errorType;
  }
}

/**
 * Loads a fresh instance of the bundled module (its module scope reads the environment, as at a
 * cold start) and returns an invocation that behaves like Lambda's: the event and the result cross
 * as JSON, and a thrown error becomes its `errorType` and `errorMessage`, computed as the Node.js
 * runtime interface client computes them (`error.name` of an error, `typeof` of anything else).
 */
export async function loadDeployedFunction(
  app: DeployedApp,
  fn: DeployedFunction,
  lake: TestLake,
): Promise<LocalFunction> {
  // NODE_OPTIONS (--enable-source-maps) is a start-up option of the Lambda's node process, not
  // something the code reads; setting it here would change how this test process starts children.
  const { NODE_OPTIONS: _, ...deployed } = deployedEnvironment(app, fn, lake);
  Object.assign(process.env, deployed, localEnvironment());
  // The query makes a new module instance per lake: a new cold start with this lake's buckets.
  const module = (await import(`${pathToFileURL(fn.entry).href}?lake=${lake.id}`)) as Record<string, unknown>;
  const handler = module[fn.exportName];
  if (typeof handler !== 'function') throw new Error(`${fn.entry} exports no function '${fn.exportName}'`);
  return async (payload: unknown) => {
    let result: unknown;
    try {
      result = await (handler as (event: unknown, context: Context) => Promise<unknown>)(
        JSON.parse(JSON.stringify(payload ?? null)),
        lambdaContext(fn),
      );
    } catch (error) {
      const { errorType, errorMessage, trace } = lambdaErrorOf(error);
      throw new LambdaFunctionError(errorType, errorMessage, trace);
    }
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  };
}

function lambdaErrorOf(error: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  const candidate = error as { name?: unknown; message?: unknown; stack?: unknown } | null | undefined;
  const errorLike =
    typeof candidate?.name === 'string' &&
    typeof candidate.message === 'string' &&
    typeof candidate.stack === 'string';
  if (isNativeError(error) || errorLike) {
    return {
      errorType: String(candidate!.name),
      errorMessage: String(candidate!.message),
      trace: String(candidate!.stack).split('\n'),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

function lambdaContext(fn: DeployedFunction): Context {
  const started = Date.now();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.logicalId,
    functionVersion: '$LATEST',
    invokedFunctionArn: deployedFunctionArn(fn.logicalId),
    memoryLimitInMB: '512',
    awsRequestId: randomBytes(16).toString('hex'),
    logGroupName: `/aws/lambda/${fn.logicalId}`,
    logStreamName: 'artifact-test',
    getRemainingTimeInMillis: () => 900_000 - (Date.now() - started),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The ARN a function of the stack gets here: `Fn::GetAtt [<id>, Arn]` has no account to resolve to. */
export function deployedFunctionArn(logicalId: string): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:${logicalId}`;
}

/**
 * The state machine definition as Step Functions would receive it: the template's DefinitionString
 * with its `${Placeholders}` filled from DefinitionSubstitutions, each function's `Fn::GetAtt Arn`
 * resolved to `deployedFunctionArn` and any other `Ref` to the resource's logical id.
 */
export function deployedDefinition(app: DeployedApp): StateMachineDefinition {
  const machines = Object.values(app.template.Resources).filter(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const props = machines[0]!.Properties as {
    DefinitionString: string | Intrinsic;
    DefinitionSubstitutions?: Record<string, string | Intrinsic>;
  };
  const substitutions = Object.fromEntries(
    Object.entries(props.DefinitionSubstitutions ?? {}).map(([name, value]) => [name, resolve(app, value)]),
  );
  const text = resolve(app, props.DefinitionString).replace(
    /\$\{([A-Za-z0-9_]+)\}/g,
    (match, name: string) => {
      const value = substitutions[name];
      if (value === undefined) throw new Error(`DefinitionString: no substitution for ${match}`);
      return value;
    },
  );
  return JSON.parse(text) as StateMachineDefinition;
}

function resolve(app: DeployedApp, value: unknown): string {
  if (typeof value === 'string') return value;
  const intrinsic = value as Partial<Record<string, unknown>>;
  const getAtt = intrinsic['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) {
    const [id, attribute] = getAtt;
    if (app.template.Resources[id]?.Type === 'AWS::Lambda::Function' && attribute === 'Arn') {
      return deployedFunctionArn(id);
    }
  }
  const ref = intrinsic.Ref as string | undefined;
  if (ref && app.template.Resources[ref]) return ref;
  const join = intrinsic['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map((part) => resolve(app, part)).join(join[0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)} without an account`);
}

/** An HTTP source that is down: every request is answered 503, and counted. */
export interface UnavailableFeed {
  url: string;
  requests(): number;
  close(): Promise<void>;
}

export async function unavailableFeed(): Promise<UnavailableFeed> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('down for maintenance');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/feed.csv`,
    requests: () => requests,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/**
 * The app's own `datasets/orders.yaml` and a dataset `feed` pulled hourly from `feedUrl` without
 * retries of its own, so that a failed request fails the Ingest task at once. The contracts are
 * compiled into the bundles at synth: the feed must be listening before.
 */
export function artifactDatasets(feedUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-artifact-datasets-'));
  copyFileSync(join(REPO_ROOT, 'datasets', 'orders.yaml'), join(dir, 'orders.yaml'));
  writeFileSync(
    join(dir, 'feed.yaml'),
    [
      'name: feed',
      'source:',
      '  type: http',
      `  url: ${feedUrl}`,
      '  retries: 0',
      'format: { type: csv }',
      'schedule: rate(1 hour)',
      'schema:',
      '  type: object',
      '  properties:',
      '    id: { type: string }',
    ].join('\n'),
  );
  return dir;
}
