import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Contract } from '../../lambdas/shared/contract.js';
import { runPrefix } from '../../lambdas/shared/keys.js';
import type { Zone } from '../../lambdas/shared/object-store.js';
import { lakeSpillPrefix } from '../../lambdas/shared/run-spill.js';
import {
  acknowledgeReplacedBatchDeletes,
  acknowledgeSpillTagging,
  acknowledgeZonePrefixAccess,
} from '../nag.js';
import type { Lake } from './lake.js';

/** The steps of the state machine that run as a Lambda function. */
export type FunctionStep = 'ingest' | 'validate' | 'promote' | 'recordRun';

/** Key prefixes of one zone bucket, each ending in '/': a dataset's (`orders/`) or a landing prefix. */
export interface ZonePrefixes {
  readonly zone: Zone;
  readonly bucket: Bucket;
  readonly prefixes: readonly string[];
}

/** Where in which zones a function may read and write, and where it may delete. */
export interface ZoneAccess {
  readonly read: readonly ZonePrefixes[];
  readonly put: readonly ZonePrefixes[];
  /** Where the function deletes objects (promote, for `same_source: replace`). */
  readonly deleteUnder?: ZonePrefixes;
  /**
   * Where the function tags the objects it writes (s3:PutObjectTagging): validate, the spill of a
   * sharded run in reports (`<dataset>/dt=…/run=…/spill/`), tagged for the zone's lifecycle to expire.
   */
  readonly tagUnder?: ZonePrefixes;
}

/**
 * The zone access of each step, which is all the bucket access its function gets: only under the
 * prefixes of the datasets the contracts name, since every key a function reads or writes in a
 * zone starts with its dataset (`<dataset>/dt=…/run=…/…`, `<dataset>/runs/…`, lambdas/shared/keys.ts),
 * and in landing only under the contracts' landing prefixes. Some of it depends on the contracts:
 * a step gets a zone only where a contract needs it there. `datasets` are those the function
 * serves (an ingest function in a database's VPC ingests only that database's datasets).
 */
export function zoneAccessOf(
  step: FunctionStep,
  lake: Lake,
  contracts: ReadonlyMap<string, Contract>,
  datasets: readonly string[] = [...contracts.keys()],
): ZoneAccess {
  const served = datasets.map((name) => contracts.get(name)!);
  const under = (zone: Zone, of: readonly Contract[]): ZonePrefixes[] =>
    of.length === 0
      ? []
      : [{ zone, bucket: lake.buckets[zone], prefixes: of.map((c) => `${c.name}/`).sort() }];
  switch (step) {
    case 'ingest': {
      // Ingest reads landing (uploads and partner drops under their prefixes), writes raw (never
      // deletes) and reads it back to spot a batch already ingested, and reads and writes run
      // records, watermarks and interval results in reports.
      const landing = served.flatMap((c) =>
        c.source.type === 's3-upload' || c.source.type === 'partner-drop' ? [c.source.prefix] : [],
      );
      return {
        read: [
          ...(landing.length === 0
            ? []
            : [
                {
                  zone: 'landing' as const,
                  bucket: lake.landingBucket,
                  prefixes: [...new Set(landing)].sort(),
                },
              ]),
          ...under('raw', served),
          ...under('reports', served),
        ],
        put: [...under('raw', served), ...under('reports', served)],
      };
    }
    case 'validate': {
      // Reports are read too: the data docs index lists the dataset's reports and reads its run
      // records; the merge of a batch validated in shards reads back what its shards wrote (their
      // outcomes and the map run's results in reports, their quarantined rows and valid parts).
      // `scope: snapshot` expectations are evaluated over curated, for the contracts that have them.
      // A sharded run's shards and partition checks write the run's spill tagged, so that the
      // reports lifecycle expires it: no function deletes from the lake.
      const snapshotChecked = served.filter((c) => c.expectations.some((e) => e.scope === 'snapshot'));
      return {
        read: [
          ...under('raw', served),
          ...under('reports', served),
          ...under('curated', snapshotChecked),
          ...under('validated', served),
          ...under('quarantine', served),
        ],
        put: [...under('validated', served), ...under('quarantine', served), ...under('reports', served)],
        ...spillsOf(lake, served),
      };
    }
    case 'promote': {
      // With `same_source: replace`, promote finds the earlier batches' sources in their raw
      // manifests and removes the curated batches a newer batch from the same source replaces.
      const replacing = served.filter((c) => c.batches.same_source === 'replace');
      const [deleteUnder] = under('curated', replacing);
      return {
        read: [...under('validated', served), ...under('curated', replacing), ...under('raw', replacing)],
        put: under('curated', served),
        ...(deleteUnder ? { deleteUnder } : {}),
      };
    }
    case 'recordRun':
      return { read: under('reports', served), put: under('reports', served) };
  }
}

/** The spill folders of the datasets' runs in reports: where validate writes tagged objects. */
function spillsOf(lake: Lake, served: readonly Contract[]): { tagUnder?: ZonePrefixes } {
  if (served.length === 0) return {};
  return {
    tagUnder: {
      zone: 'reports',
      bucket: lake.buckets.reports,
      prefixes: served
        .map((c) => lakeSpillPrefix(runPrefix({ dataset: c.name, dt: '*', runId: '*' })))
        .sort(),
    },
  };
}

/**
 * Grants a function's role its zone access: s3:GetObject and s3:PutObject (with
 * s3:AbortMultipartUpload, to clean up its own multipart uploads) on `<prefix>*` of each bucket,
 * and s3:ListBucket on a bucket it reads only for those prefixes (`s3:prefix`). S3 answers a read
 * of a missing key with 404 rather than 403 only when s3:ListBucket allows that key as s3:prefix,
 * so the condition also keeps "not there yet" answers working under the granted prefixes. The
 * lake key: kms:Decrypt to read, kms:GenerateDataKey (and kms:Decrypt, for multipart uploads) to write.
 *
 * Deletes are s3:DeleteObject alone (never versions), on the given prefixes only: the bucket
 * keeps a removed batch as a noncurrent version, and the DVC versions that held it keep their copy.
 * Tagging is s3:PutObjectTagging on the given prefixes only, which a PutObject with `Tagging`
 * needs besides s3:PutObject (the tagged prefixes lie within the function's put prefixes).
 */
export function grantZoneAccess(role: IRole, access: ZoneAccess): void {
  const keys = new Map<IKey, Set<string>>();
  const useKey = (bucket: Bucket, actions: readonly string[]) => {
    if (!bucket.encryptionKey) return;
    const set = keys.get(bucket.encryptionKey) ?? new Set<string>();
    for (const action of actions) set.add(action);
    keys.set(bucket.encryptionKey, set);
  };
  for (const { bucket, prefixes } of access.read) {
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: objectsUnder(bucket, prefixes) }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } },
      }),
    );
    useKey(bucket, ['kms:Decrypt']);
  }
  for (const { bucket, prefixes } of access.put) {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: objectsUnder(bucket, prefixes),
      }),
    );
    useKey(bucket, ['kms:GenerateDataKey', 'kms:Decrypt']);
  }
  for (const [key, actions] of keys) key.grant(role, ...[...actions].sort());
  acknowledgeZonePrefixAccess(role, access);
  if (access.tagUnder) {
    const { bucket, prefixes } = access.tagUnder;
    role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:PutObjectTagging'], resources: objectsUnder(bucket, prefixes) }),
    );
    acknowledgeSpillTagging(
      role,
      bucket,
      prefixes.map((prefix) => `${prefix}*`),
    );
  }
  if (!access.deleteUnder) return;
  const { bucket, prefixes } = access.deleteUnder;
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['s3:DeleteObject'], resources: objectsUnder(bucket, prefixes) }),
  );
  acknowledgeReplacedBatchDeletes(
    role,
    bucket,
    prefixes.map((prefix) => `${prefix}*`),
  );
}

function objectsUnder(bucket: Bucket, prefixes: readonly string[]): string[] {
  return prefixes.map((prefix) => bucket.arnForObjects(`${prefix}*`));
}
