// Resolves the sweep's bucket globs to bucket names: exact names as they are, globs against
// ListBuckets (paginated).
import { paginateListBuckets, type S3Client } from '@aws-sdk/client-s3';
import { isExplicit, parseBucketSelection, selectBuckets } from './bucket-selection.ts';

export async function bucketsToSweep(s3: S3Client, globs: string[]): Promise<string[]> {
  const selection = parseBucketSelection(globs);
  if (selection.include.length === 0 && globs.length === 0) {
    throw new Error('no buckets to sweep: set SSEGUARD_SWEEP_BUCKETS (bucket names or globs, "!glob" to exclude; "*" for every bucket)');
  }
  if (isExplicit(selection)) return selectBuckets(selection, selection.include);
  const names: string[] = [];
  for await (const page of paginateListBuckets({ client: s3 }, {})) {
    for (const bucket of page.Buckets ?? []) if (bucket.Name) names.push(bucket.Name);
  }
  return selectBuckets(selection, names);
}
