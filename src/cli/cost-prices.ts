/**
 * The AWS list prices `sluice cost` uses: one table, each price with the page it is published on.
 * US East (N. Virginia), on-demand, no free tier, no savings plan; the first tier where a price is
 * tiered (S3 Standard's first 50 TB, Lambda's first 6 billion GB-seconds).
 */
export const PRICES_REGION = 'us-east-1';
/** When the prices below were taken from their pages. List prices change: check the pages before budgeting. */
export const PRICES_AS_OF = '2026-12-01';

export interface Price {
  /** US dollars per `per` units. */
  usd: number;
  per: number;
  /** What is counted, short: `GB-seconds`, `requests`. */
  unit: string;
  /** What the price is for, as its page names it. */
  what: string;
  source: string;
}

const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const STEP_FUNCTIONS = 'https://aws.amazon.com/step-functions/pricing/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const CODEBUILD = 'https://aws.amazon.com/codebuild/pricing/';
const KMS = 'https://aws.amazon.com/kms/pricing/';

export const PRICES = {
  /** Arm (Graviton) functions: the stack deploys every function on arm64 (infra/constructs/sluice-function.ts). */
  lambdaGbSecond: {
    usd: 0.0000133334,
    per: 1,
    unit: 'GB-seconds',
    what: 'Lambda duration, Arm',
    source: LAMBDA,
  },
  lambdaRequests: { usd: 0.2, per: 1_000_000, unit: 'requests', what: 'Lambda requests', source: LAMBDA },
  stepFunctionsTransitions: {
    usd: 0.025,
    per: 1_000,
    unit: 'transitions',
    what: 'Step Functions Standard workflows, state transitions (Distributed Map child executions included)',
    source: STEP_FUNCTIONS,
  },
  s3PutRequests: {
    usd: 0.005,
    per: 1_000,
    unit: 'requests',
    what: 'S3 Standard PUT, COPY, POST, LIST requests',
    source: S3,
  },
  s3GetRequests: {
    usd: 0.0004,
    per: 1_000,
    unit: 'requests',
    what: 'S3 Standard GET, SELECT and all other requests',
    source: S3,
  },
  s3StandardStorage: {
    usd: 0.023,
    per: 1,
    unit: 'GB-months',
    what: 'S3 Standard storage, first 50 TB',
    source: S3,
  },
  s3TieringInfrequent: {
    usd: 0.0125,
    per: 1,
    unit: 'GB-months',
    what: 'S3 Intelligent-Tiering, Infrequent Access tier',
    source: S3,
  },
  s3TieringArchiveInstant: {
    usd: 0.004,
    per: 1,
    unit: 'GB-months',
    what: 'S3 Intelligent-Tiering, Archive Instant Access tier',
    source: S3,
  },
  s3TieringMonitoring: {
    usd: 0.0025,
    per: 1_000,
    unit: 'object-months',
    what: 'S3 Intelligent-Tiering monitoring and automation, objects over 128 KB',
    source: S3,
  },
  s3LifecycleTransitions: {
    usd: 0.01,
    per: 1_000,
    unit: 'requests',
    what: 'S3 Lifecycle transition requests into Intelligent-Tiering',
    source: S3,
  },
  codebuildArmSmall: {
    usd: 0.0034,
    per: 1,
    unit: 'build minutes',
    what: 'CodeBuild on-demand arm1.small (2 vCPUs, 4 GiB)',
    source: CODEBUILD,
  },
  codebuildArmLarge: {
    usd: 0.015,
    per: 1,
    unit: 'build minutes',
    what: 'CodeBuild on-demand arm1.large (8 vCPUs, 16 GiB)',
    source: CODEBUILD,
  },
  kmsRequests: { usd: 0.03, per: 10_000, unit: 'requests', what: 'KMS requests, symmetric key', source: KMS },
  dataTransferInRegion: {
    usd: 0,
    per: 1,
    unit: 'GB',
    what: 'data transfer between S3, Lambda and CodeBuild in the same region (free)',
    source: LAMBDA,
  },
} as const satisfies Record<string, Price>;

/** A price as the tables show it: `$0.025 per 1,000 transitions`. */
export function rateOf(name: PriceName): string {
  const price: Price = PRICES[name];
  const per = price.per === 1 ? '' : `${price.per.toLocaleString('en-US')} `;
  return `$${price.usd} per ${per}${price.per === 1 ? price.unit.replace(/s$/, '') : price.unit}`;
}

export type PriceName = keyof typeof PRICES;

/** The price of `quantity` units. */
export function priceOf(name: PriceName, quantity: number): number {
  const price: Price = PRICES[name];
  return (quantity * price.usd) / price.per;
}
