// Every S3 call goes to the bucket's Region. Asked in another Region, S3 answers 301 PermanentRedirect
// or 400 AuthorizationHeaderMalformed (a HEAD: a bare 400, which HeadObject would otherwise read as
// "SSE-C object"). The Region of each bucket is learnt once and kept: from ListBuckets' BucketRegion
// when a listing passes by, else from HeadBucket (BucketRegion, or the x-amz-bucket-region header of
// its redirect or denial). GetBucketLocation would need one more permission and says no more.
//
// Why not the SDK's followRegionRedirects: it costs a failed round trip per call to every bucket
// outside the client's Region (it caches nothing), and it swaps the Region on the client's shared
// configuration for the duration of the retry, which concurrent calls on the same client then see.
import {
  CreateBucketCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  type HeadBucketCommandOutput,
  type ListBucketsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { isTransientServiceError } from './errors.ts';
import type { RegionalClients } from './regional-clients.ts';

type Send = (command: unknown, options?: unknown) => Promise<unknown>;

/** The Region S3 names in an error's x-amz-bucket-region header (a redirect, a denial), if any. */
export function bucketRegionInError(error: unknown): string | undefined {
  const headers = (error as { $response?: { headers?: Record<string, string | undefined> } } | undefined)?.$response?.headers;
  return headers?.['x-amz-bucket-region'] || undefined;
}

export class BucketRegions {
  private readonly known = new Map<string, Promise<string | undefined>>();

  /** `send`: a client's own send, unrouted (these questions are answered from any Region). */
  constructor(private readonly send: Send) {}

  remember(bucket: string, region: string | undefined): void {
    if (region) this.known.set(bucket, Promise.resolve(region));
  }

  /** The bucket's Region; undefined when S3 will not say (no such bucket): the call itself then says why. */
  regionOf(bucket: string): Promise<string | undefined> {
    const cached = this.known.get(bucket);
    if (cached) return cached;
    const asked = this.ask(bucket);
    this.known.set(bucket, asked);
    // Throttled or failing is weather, and a bucket that does not exist yet may be created: ask again later.
    const forget = () => {
      if (this.known.get(bucket) === asked) this.known.delete(bucket);
    };
    asked.then((region) => region || forget(), forget);
    return asked;
  }

  private async ask(bucket: string): Promise<string | undefined> {
    // HeadBucket needs s3:ListBucket, which every role that lists a bucket has; S3 names the Region
    // in its answer, and in the x-amz-bucket-region header of a redirect or a 403 as well.
    try {
      const head = (await this.send(new HeadBucketCommand({ Bucket: bucket }))) as HeadBucketCommandOutput;
      return head.BucketRegion || undefined;
    } catch (error) {
      const named = bucketRegionInError(error);
      if (named) return named;
      if (isTransientServiceError(error)) throw error;
      return undefined;
    }
  }
}

/**
 * Makes `s3` send each call that names a bucket to the client of the bucket's Region (the home
 * Region's calls stay on `s3` itself); ListBuckets answers teach it the Regions they name. Every
 * caller of `s3` (audit, remediation, posture, inventory) follows buckets without knowing of it.
 */
export function routeByBucketRegion(s3: S3Client, regional: Pick<RegionalClients, 'home' | 's3For'>): BucketRegions {
  const direct: Send = s3.send.bind(s3) as Send;
  const regions = new BucketRegions(direct);
  const routed = async (command: unknown, options?: unknown): Promise<unknown> => {
    const bucket = (command as { input?: { Bucket?: unknown } }).input?.Bucket;
    // A bucket being created has no Region yet: CreateBucket names it (LocationConstraint).
    if (typeof bucket !== 'string' || command instanceof CreateBucketCommand) {
      const answer = await direct(command, options);
      if (command instanceof ListBucketsCommand) {
        for (const listed of (answer as ListBucketsCommandOutput).Buckets ?? []) if (listed.Name) regions.remember(listed.Name, listed.BucketRegion);
      }
      return answer;
    }
    const region = await regions.regionOf(bucket);
    if (!region || region === regional.home) return direct(command, options);
    return (regional.s3For(region).send as Send)(command, options);
  };
  s3.send = routed as S3Client['send'];
  return regions;
}
