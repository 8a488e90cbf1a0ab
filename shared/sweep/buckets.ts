// Resolves the sweep's bucket globs to bucket names: exact names as they are, globs against
// ListBuckets (paginated). A Region choice (--regions, SSEGUARD_SWEEP_REGIONS) then keeps the
// buckets in those Regions; the others are named as skipped by that choice, never dropped silently.
import { paginateListBuckets, type S3Client } from '@aws-sdk/client-s3';
import { isExplicit, parseBucketSelection, selectBuckets } from '../domain/bucket-selection.ts';

/** Only buckets in these Regions (none: every Region the account has buckets in). */
export interface RegionChoice {
  regions: string[];
  /** The bucket's Region (BucketRegions.regionOf); undefined when S3 will not say. */
  regionOf: (bucket: string) => Promise<string | undefined>;
}

export interface SkippedBucket {
  bucket: string;
  region: string;
  /** One line for a log or the terminal. */
  reason: string;
}

/**
 * The buckets in the chosen Regions and those skipped by the choice. A bucket whose Region S3 will
 * not say stays in: auditing it reports the real cause (no such bucket, access denied).
 */
export async function inChosenRegions(buckets: string[], choice: RegionChoice | undefined, flag = '--regions'): Promise<{ buckets: string[]; skipped: SkippedBucket[] }> {
  if (!choice || choice.regions.length === 0) return { buckets, skipped: [] };
  const kept: string[] = [];
  const skipped: SkippedBucket[] = [];
  for (const bucket of buckets) {
    const region = await choice.regionOf(bucket);
    if (region === undefined || choice.regions.includes(region)) kept.push(bucket);
    else skipped.push({ bucket, region, reason: `s3://${bucket} skipped: it is in ${region}, outside ${flag} ${choice.regions.join(',')}` });
  }
  return { buckets: kept, skipped };
}

export async function bucketsToSweep(
  s3: S3Client,
  globs: string[],
  regions?: RegionChoice & { onSkipped?: (skipped: SkippedBucket) => void },
): Promise<string[]> {
  const selection = parseBucketSelection(globs);
  if (selection.include.length === 0 && globs.length === 0) {
    throw new Error('no buckets to sweep: set SSEGUARD_SWEEP_BUCKETS (bucket names or globs, "!glob" to exclude; "*" for every bucket)');
  }
  let selected: string[];
  if (isExplicit(selection)) selected = selectBuckets(selection, selection.include);
  else {
    const names: string[] = [];
    // Each listed bucket's Region (BucketRegion) is remembered by the routed client as the pages pass.
    for await (const page of paginateListBuckets({ client: s3 }, {})) {
      for (const bucket of page.Buckets ?? []) if (bucket.Name) names.push(bucket.Name);
    }
    selected = selectBuckets(selection, names);
  }
  const chosen = await inChosenRegions(selected, regions, 'SSEGUARD_SWEEP_REGIONS');
  for (const skipped of chosen.skipped) regions?.onSkipped?.(skipped);
  return chosen.buckets;
}
