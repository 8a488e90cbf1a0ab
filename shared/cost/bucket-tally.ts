// S3 adapter for `plan --org`: the counts of one bucket of a member account, from the bucket's own
// newest S3 Inventory report (its configurations name the destination: shared/sweep/inventory-plan.ts
// picks the report the sweep would use, at any age), else by listing it (ListObjectsV2: keys and
// sizes, no encryption — the modes stay unknown). Throttling and 5xx are thrown (a gap), never a count.
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { Policy } from '../domain/policy.ts';
import { s3InventorySource } from '../inventory/source.ts';
import { planBucketInventory } from '../sweep/inventory-or-listing.ts';
import type { InventoryRow } from '../inventory/row.ts';
import { policyWouldFix } from './policy-fix.ts';
import { tallier, type InventoryTally } from './tally.ts';

export interface BucketTally {
  evidence: 'inventory' | 'listing';
  reason?: string;
  inventoryDate?: Date;
  tally: InventoryTally;
  /** With a policy: only the rows it would fix. */
  fixable?: InventoryTally;
}

async function* listedRows(s3: S3Client, bucket: string): AsyncIterable<InventoryRow> {
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket })) {
    for (const object of page.Contents ?? []) if (object.Key) yield { bucket, key: object.Key, isDeleteMarker: false, size: object.Size ?? 0 };
  }
}

export async function tallyBucket(s3: S3Client, bucket: string, options: { partBytes: number; policy?: Policy; now: Date }): Promise<BucketTally> {
  const chosen = await planBucketInventory(
    { s3, formats: ['CSV', 'Parquet'], source: (destination) => s3InventorySource(s3, destination), lastSwept: async () => undefined },
    bucket,
    { now: options.now, maxAgeMs: Number.POSITIVE_INFINITY },
  );
  const tally = tallier({ partBytes: options.partBytes });
  const fixable = options.policy ? tallier({ partBytes: options.partBytes }) : undefined;
  const rows = chosen.use === 'inventory' ? s3InventorySource(s3, chosen.report.destination).allRows(chosen.report) : listedRows(s3, bucket);
  for await (const row of rows) {
    tally.add(row);
    if (options.policy && fixable && policyWouldFix(options.policy, row, options.now)) fixable.add(row);
  }
  return {
    evidence: chosen.use,
    ...(chosen.use === 'listing' ? { reason: chosen.reason } : { inventoryDate: chosen.report.manifest.createdAt }),
    tally: tally.result(),
    ...(fixable ? { fixable: fixable.result() } : {}),
  };
}
