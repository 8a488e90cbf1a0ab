// Whether the sweep covers a bucket from its S3 Inventory report or by listing and HEAD. Chosen per
// bucket, when the run reaches it (SSEGUARD_SWEEP_INVENTORY=auto):
//
// | # | what the bucket has                                                              | the sweep    |
// |---|----------------------------------------------------------------------------------|--------------|
// | 1 | no inventory configuration that is enabled, unfiltered, CSV (in Lambda), and lists | listing, why |
// |   | the columns decide.ts needs (EncryptionStatus, ETag, BucketKeyStatus, Size)       |              |
// | 2 | no verified report under any such configuration's destination (or unreadable)     | listing, why |
// | 3 | a newest report older than the allowed age (default: the sweep interval)          | listing, why |
// | 4 | a newest report no newer than the one the last sweep sent for this bucket          | listing, why |
// | 5 | otherwise                                                                         | that report: one message per data file |
//
// AWS rules relied on (S3 API reference, ListBucketInventoryConfigurations and
// InventoryConfiguration): the list is paginated by ContinuationToken / NextContinuationToken
// while IsTruncated; each configuration has Id, IsEnabled, Filter.Prefix (optional),
// IncludedObjectVersions, OptionalFields, and Destination.S3BucketDestination { Bucket (an ARN),
// Prefix, Format CSV | ORC | Parquet }. A filtered report does not list the whole bucket, so it
// cannot stand in for a sweep of it. A throttled or failing call is weather: it is thrown, and the
// tick is retried, rather than falling back to a full HEAD sweep because of it.
import { ListBucketInventoryConfigurationsCommand, type InventoryConfiguration, type S3Client } from '@aws-sdk/client-s3';
import { isTransientServiceError, errorFacts } from '../aws/errors.ts';
import { InventoryError } from '../inventory/errors.ts';
import type { InventoryReport, InventorySource, InventoryDestination } from '../inventory/source.ts';
import type { LastSweptReport } from '../findings/sweep-runs.ts';

/** Optional fields the per-row decision needs (shared/inventory/decide.ts); Bucket and Key are always there. */
export const SWEEP_REQUIRED_FIELDS = ['EncryptionStatus', 'ETag', 'BucketKeyStatus', 'Size'] as const;

export type InventoryPlan = { use: 'inventory'; report: InventoryReport; configId: string } | { use: 'listing'; reason: string };

export interface InventoryPlanDependencies {
  s3: S3Client;
  /** Report formats the source reads (the Lambda functions: CSV only). */
  formats: readonly string[];
  source: (destination: InventoryDestination) => InventorySource;
  lastSwept: (bucket: string) => Promise<LastSweptReport | undefined>;
}

/** Why a configuration cannot stand in for a sweep, or undefined when it can. `formats`: what the reader reads (Lambda: CSV). */
export function unusableConfiguration(config: InventoryConfiguration, formats: readonly string[] = ['CSV', 'Parquet']): string | undefined {
  const destination = config.Destination?.S3BucketDestination;
  if (!config.IsEnabled) return 'disabled';
  if (config.Filter?.Prefix) return `filtered to ${config.Filter.Prefix}`;
  if (!formats.includes(destination?.Format ?? '')) return `format ${destination?.Format ?? 'unknown'} (read here: ${formats.join(', ')})`;
  const missing = SWEEP_REQUIRED_FIELDS.filter((f) => !(config.OptionalFields ?? []).includes(f));
  if (missing.length > 0) return `no ${missing.join(', ')} field`;
  return undefined;
}

export const destinationOf = (config: InventoryConfiguration): InventoryDestination => {
  const destination = config.Destination!.S3BucketDestination!;
  return { bucket: (destination.Bucket ?? '').replace(/^arn:[^:]+:s3:::/, ''), prefix: (destination.Prefix ?? '').replace(/^\/+|\/+$/g, '') };
};

async function configurations(s3: S3Client, bucket: string): Promise<InventoryConfiguration[]> {
  const found: InventoryConfiguration[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListBucketInventoryConfigurationsCommand({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
    found.push(...(page.InventoryConfigurationList ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

export async function planBucketInventory(
  deps: InventoryPlanDependencies,
  bucket: string,
  options: { now: Date; maxAgeMs: number },
): Promise<InventoryPlan> {
  let configs: InventoryConfiguration[];
  try {
    configs = await configurations(deps.s3, bucket);
  } catch (error) {
    if (isTransientServiceError(error)) throw error;
    return { use: 'listing', reason: `inventory configurations not readable: ${errorFacts(error).name}: ${errorFacts(error).message}` };
  }
  const rejected: string[] = [];
  let best: { report: InventoryReport; configId: string } | undefined;
  for (const config of [...configs].sort((a, b) => (a.Id ?? '').localeCompare(b.Id ?? ''))) {
    const why = unusableConfiguration(config, deps.formats);
    if (why) {
      rejected.push(`${config.Id}: ${why}`);
      continue;
    }
    try {
      const report = await deps.source(destinationOf(config)).newest(bucket, { configId: config.Id! });
      if (!best || report.manifest.createdAt > best.report.manifest.createdAt) best = { report, configId: config.Id! };
    } catch (error) {
      if (isTransientServiceError(error)) throw error;
      rejected.push(`${config.Id}: ${error instanceof InventoryError ? error.message : `${errorFacts(error).name}: ${errorFacts(error).message}`}`);
    }
  }
  if (!best) {
    return { use: 'listing', reason: configs.length === 0 ? 'no inventory configuration' : `no usable inventory report (${rejected.join('; ')})` };
  }
  const createdAt = best.report.manifest.createdAt;
  const age = options.now.getTime() - createdAt.getTime();
  if (age > options.maxAgeMs) {
    return { use: 'listing', reason: `newest inventory report (${createdAt.toISOString()}) is older than ${Math.round(options.maxAgeMs / 3_600_000)} h` };
  }
  const swept = await deps.lastSwept(bucket);
  if (swept && (swept.manifestKey === best.report.location.key || Date.parse(swept.reportDate) >= createdAt.getTime())) {
    return { use: 'listing', reason: `no inventory report newer than the one last swept (${swept.reportDate})` };
  }
  return { use: 'inventory', ...best };
}
