import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Contract } from '../../lambdas/shared/contract.js';
import { acknowledgeReplacedBatchDeletes, acknowledgeZoneObjectAccess } from '../nag.js';
import type { Lake } from './lake.js';

/** The steps of the state machine that run as a Lambda function. */
export type FunctionStep = 'ingest' | 'validate' | 'promote' | 'recordRun';

/** Which zones a function may read and write, and where it may delete. */
export interface ZoneAccess {
  readonly read: readonly Bucket[];
  readonly put: readonly Bucket[];
  /** Object prefixes (`<dataset>/*`) of one bucket where the function deletes objects. */
  readonly deleteUnder?: { readonly bucket: Bucket; readonly prefixes: readonly string[] };
}

/**
 * The zone access of each step, which is all the bucket access its function gets. Some of it
 * depends on the contracts: a step gets a zone only when a contract needs it there.
 */
export function zoneAccessOf(
  step: FunctionStep,
  lake: Lake,
  contracts: ReadonlyMap<string, Contract>,
): ZoneAccess {
  const list = [...contracts.values()];
  switch (step) {
    case 'ingest':
      // Ingest reads landing, writes raw (never deletes) and reads it back to spot a batch already
      // ingested, and reads and writes run records to know whether a run already happened.
      return {
        read: [lake.landingBucket, lake.rawBucket, lake.reportsBucket],
        put: [lake.rawBucket, lake.reportsBucket],
      };
    case 'validate': {
      // Curated only where a contract has `scope: snapshot` expectations: they are evaluated over it.
      // The merge of a batch validated in shards reads back what its shards wrote: their outcomes
      // and the map run's results (reports), their quarantined rows and valid parts.
      const snapshotChecked = list.some((c) => c.expectations.some((e) => e.scope === 'snapshot'));
      return {
        read: [
          lake.rawBucket,
          lake.validatedBucket,
          lake.quarantineBucket,
          lake.reportsBucket,
          ...(snapshotChecked ? [lake.curatedBucket] : []),
        ],
        put: [lake.validatedBucket, lake.quarantineBucket, lake.reportsBucket],
      };
    }
    case 'promote': {
      // With `same_source: replace`, promote finds the earlier batches' sources in their raw
      // manifests and removes the curated batches a newer batch from the same source replaces.
      const replacing = list.filter((c) => c.batches.same_source === 'replace').map((c) => c.name);
      if (replacing.length === 0) return { read: [lake.validatedBucket], put: [lake.curatedBucket] };
      return {
        read: [lake.validatedBucket, lake.curatedBucket, lake.rawBucket],
        put: [lake.curatedBucket],
        deleteUnder: { bucket: lake.curatedBucket, prefixes: replacing.map((name) => `${name}/*`) },
      };
    }
    case 'recordRun':
      return { read: [lake.reportsBucket], put: [lake.reportsBucket] };
  }
}

/**
 * Grants a function's role its zone access with the buckets' `grantRead` and `grantPut`.
 *
 * Deletes are s3:DeleteObject alone (not the grant's s3:DeleteObject*, which would include
 * deleting versions), on the given prefixes only: the bucket keeps a removed batch as a
 * noncurrent version, and the DVC versions that held it keep their copy.
 */
export function grantZoneAccess(role: IRole, access: ZoneAccess): void {
  for (const bucket of access.read) bucket.grantRead(role);
  for (const bucket of access.put) bucket.grantPut(role);
  acknowledgeZoneObjectAccess(role, [...new Set([...access.read, ...access.put])]);
  if (!access.deleteUnder) return;
  const { bucket, prefixes } = access.deleteUnder;
  role.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['s3:DeleteObject'],
      resources: prefixes.map((prefix) => bucket.arnForObjects(prefix)),
    }),
  );
  acknowledgeReplacedBatchDeletes(role, bucket, prefixes);
}
