// The one table of prices, quotas and rates `sseguard plan` uses. Dated, with the page each line
// comes from; every value can be overridden with a JSON file (`sseguard plan --prices file.json`)
// because prices change and differ by Region and contract.
import { z } from 'zod';

export const PRICES = {
  date: '2026-12-01',
  region: 'us-east-1',
  source: 'aws.amazon.com/s3/pricing (Requests & data retrievals, Management & insights: S3 Inventory, S3 Batch Operations), aws.amazon.com/kms/pricing, aws.amazon.com/dynamodb/pricing/on-demand',
  s3: {
    /** PUT, COPY, POST, LIST requests, S3 Standard. UpdateObjectEncryption is assumed to bill in this class. */
    putCopyPostListPer1000: 0.005,
    /** GET, SELECT and all other requests (HeadObject), S3 Standard. */
    getHeadPer1000: 0.0004,
    /** S3 Inventory: per million objects listed. */
    inventoryPerMillionObjects: 0.0025,
    /** S3 Batch Operations: per job, and per million object operations (plus the requests the job makes). */
    batchPerJob: 0.25,
    batchPerMillionObjects: 1.0,
  },
  dynamodb: {
    /**
     * On-demand request units (the findings table is PAY_PER_REQUEST). A standard write of an item
     * up to 1 KB is 1 WRU, a transactional one 2; a consistent read up to 4 KB is 1 RRU, an eventually
     * consistent one 0.5 (developerguide/capacity-unit-consumption.html).
     */
    writeRequestUnitsPerMillion: 0.625,
    readRequestUnitsPerMillion: 0.125,
  },
  kms: {
    /** Symmetric key requests (Decrypt, Encrypt, GenerateDataKey), beyond the free tier. */
    per10000Requests: 0.03,
  },
  quotas: {
    source: 'docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html (Cryptographic operations (symmetric) request rate); docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html',
    /** KMS symmetric cryptographic operations per second, shared by every caller in the account and Region. */
    kmsPerSecondDefault: 10_000,
    kmsPerSecondByRegion: {
      'us-east-1': 100_000,
      'us-west-2': 100_000,
      'eu-west-1': 100_000,
      'us-east-2': 20_000,
      'ap-northeast-1': 20_000,
      'ap-southeast-1': 20_000,
      'ap-southeast-2': 20_000,
      'eu-central-1': 20_000,
      'eu-west-2': 20_000,
    } as Record<string, number>,
    /** S3 per partitioned prefix, per second. */
    s3WritePerPrefixPerSecond: 3_500,
    s3ReadPerPrefixPerSecond: 5_500,
  },
  assumptions: {
    /** Share of the Region's KMS quota a run may take: the account's applications use KMS too. */
    kmsQuotaShare: 0.5,
    /** KMS calls per object with an S3 Bucket Key, relative to without ("reduces ... by up to 99%"). */
    bucketKeyKmsFactor: 0.01,
    /** Part size of a multipart copy (objects above 5 GiB). */
    multipartPartBytes: 512 * 1024 ** 2,
    /** Share of KMS objects that change between two inventory sweeps (steady state). */
    dailyChangeShare: 0.01,
  },
};

export type Prices = typeof PRICES;

const positive = z.number().nonnegative();
const PricesOverride = z
  .object({
    date: z.string(),
    region: z.string(),
    source: z.string(),
    s3: z
      .object({
        putCopyPostListPer1000: positive,
        getHeadPer1000: positive,
        inventoryPerMillionObjects: positive,
        batchPerJob: positive,
        batchPerMillionObjects: positive,
      })
      .partial()
      .strict(),
    dynamodb: z.object({ writeRequestUnitsPerMillion: positive, readRequestUnitsPerMillion: positive }).partial().strict(),
    kms: z.object({ per10000Requests: positive }).partial().strict(),
    quotas: z
      .object({
        source: z.string(),
        kmsPerSecondDefault: z.number().positive(),
        kmsPerSecondByRegion: z.record(z.string(), z.number().positive()),
        s3WritePerPrefixPerSecond: z.number().positive(),
        s3ReadPerPrefixPerSecond: z.number().positive(),
      })
      .partial()
      .strict(),
    assumptions: z
      .object({
        kmsQuotaShare: z.number().gt(0).max(1),
        bucketKeyKmsFactor: z.number().gt(0).max(1),
        multipartPartBytes: z.number().int().min(5 * 1024 ** 2),
        dailyChangeShare: z.number().min(0).max(1),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

export class PricesError extends Error {}

/** The table with a JSON override merged over it; an unknown or invalid field is an error naming its path. */
export function pricesWith(overrideJson: string | undefined, where = 'prices file'): Prices {
  if (overrideJson === undefined) return PRICES;
  let json: unknown;
  try {
    json = JSON.parse(overrideJson);
  } catch (error) {
    throw new PricesError(`${where} is not JSON: ${(error as Error).message}`);
  }
  const parsed = PricesOverride.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PricesError(`${where}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const o = parsed.data;
  return {
    date: o.date ?? PRICES.date,
    region: o.region ?? PRICES.region,
    source: o.source ?? `${where} over ${PRICES.source}`,
    s3: { ...PRICES.s3, ...o.s3 },
    dynamodb: { ...PRICES.dynamodb, ...o.dynamodb },
    kms: { ...PRICES.kms, ...o.kms },
    quotas: { ...PRICES.quotas, ...o.quotas, kmsPerSecondByRegion: { ...PRICES.quotas.kmsPerSecondByRegion, ...o.quotas?.kmsPerSecondByRegion } },
    assumptions: { ...PRICES.assumptions, ...o.assumptions },
  };
}

export function kmsQuotaFor(prices: Prices, region: string): number {
  return prices.quotas.kmsPerSecondByRegion[region] ?? prices.quotas.kmsPerSecondDefault;
}
