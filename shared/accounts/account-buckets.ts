// An account's buckets and their Regions, as a multi-account run and the Organization sweep see
// them: ListBuckets with the account's role (BucketRegion, else GetBucketLocation), filtered by the
// bucket globs and the Regions chosen. Apart from account-scan.ts so the audit worker's bundle
// carries this, not the whole multi-account scan.
import { GetBucketLocationCommand, paginateListBuckets, type S3Client } from '@aws-sdk/client-s3';
import { parseBucketSelection, selectBuckets } from '../domain/bucket-selection.ts';
import type { AccountClientPool } from './client-pool.ts';

export interface BucketScope {
  /** Bucket globs, "!glob" excludes; default every bucket the role can see. */
  buckets?: string[];
  /** Only buckets in these Regions; default every Region the account has buckets in. */
  regions?: string[];
}

/**
 * A bucket's Region: ListBuckets' BucketRegion, else GetBucketLocation (endpoints and emulators that
 * leave BucketRegion out); its empty answer means us-east-1 and the legacy "EU" eu-west-1.
 */
async function regionOf(s3: S3Client, bucket: string, listed: string | undefined): Promise<string> {
  if (listed) return listed;
  const { LocationConstraint } = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
  if (!LocationConstraint) return 'us-east-1';
  return LocationConstraint === 'EU' ? 'eu-west-1' : LocationConstraint;
}

export interface AccountBucket {
  name: string;
  region: string;
}

/** The account's buckets with their Regions (ListBuckets gives BucketRegion), filtered. */
export async function accountBuckets(pool: AccountClientPool, account: string, region: string, options: BucketScope): Promise<AccountBucket[]> {
  const { s3 } = pool.clientsFor(account, region);
  const listed: { name: string; region?: string }[] = [];
  for await (const page of paginateListBuckets({ client: s3 }, {})) {
    for (const bucket of page.Buckets ?? []) if (bucket.Name) listed.push({ name: bucket.Name, ...(bucket.BucketRegion ? { region: bucket.BucketRegion } : {}) });
  }
  const chosen = new Set(selectBuckets(parseBucketSelection(options.buckets ?? []), listed.map((b) => b.name)));
  const found = await Promise.all(listed.filter((b) => chosen.has(b.name)).map(async (b) => ({ name: b.name, region: await regionOf(s3, b.name, b.region) })));
  return found.filter((b) => !options.regions?.length || options.regions.includes(b.region)).sort((a, b) => (a.name < b.name ? -1 : 1));
}

