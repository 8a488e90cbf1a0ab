// The composition root: from a validated configuration, the adapters the audit runs on. The CLI,
// the Lambda handlers and the benchmark all build their dependencies here.
import { routeByBucketRegion, type BucketRegions } from './aws/bucket-regions.ts';
import { createAwsClients, type AwsClients } from './aws/clients.ts';
import { createRegionalClients, type RegionalClients } from './aws/regional-clients.ts';
import type { Config } from './config.ts';
import type { ResolvedPolicy } from './domain/policy.ts';
import { DynamoFindingsStore } from './findings/dynamodb-store.ts';
import { outboxDestinations } from './findings/outbox.ts';
import { KmsKeyInspector } from './inspect/key-inspector.ts';
import { S3ObjectInspector } from './inspect/object-inspector.ts';
import { loadPolicy } from './policy-loader.ts';
import type { ScanDependencies } from './audit/scan.ts';

export interface Runtime {
  config: Config;
  clients: AwsClients;
  /** KMS and S3 clients per Region: a key's calls go to its ARN's Region, a bucket's to its own. */
  regional: RegionalClients;
  /** Each bucket's Region, learnt once; `clients.s3` sends every bucket's calls there. */
  bucketRegions: BucketRegions;
  objects: S3ObjectInspector;
  keys: KmsKeyInspector;
  store: DynamoFindingsStore;
}

export function createRuntime(config: Config, options: { maxSockets?: number; keyTtlMs?: number } = {}): Runtime {
  const clientOptions = {
    endpoints: config.endpoints,
    timeouts: config.timeouts,
    ...(options.maxSockets ? { maxSockets: options.maxSockets } : {}),
  };
  const clients = createAwsClients(clientOptions);
  const regional = createRegionalClients(config.region, { ...clientOptions, home: { kms: clients.kms, s3: clients.s3 } });
  const bucketRegions = routeByBucketRegion(clients.s3, regional);
  return {
    config,
    clients,
    regional,
    bucketRegions,
    objects: new S3ObjectInspector(clients.s3),
    keys: new KmsKeyInspector(regional, options.keyTtlMs ? { ttlMs: options.keyTtlMs } : {}),
    // Pushing changes anywhere needs the outbox written with them (shared/findings/outbox.ts).
    store: new DynamoFindingsStore(clients.documents, config.table, { outbox: outboxDestinations(config.integrations) }),
  };
}

/** Loads the policy (the configured one unless a path is given) and the scan's dependencies. */
export async function scanDependencies(
  runtime: Runtime,
  policyPath = runtime.config.policyPath,
  options: { record?: boolean } = {},
): Promise<ScanDependencies & { policy: ResolvedPolicy }> {
  const policy = await loadPolicy(policyPath, runtime.keys);
  return {
    objects: runtime.objects,
    lister: runtime.objects,
    keys: runtime.keys,
    policy,
    ...(options.record === false ? {} : { store: runtime.store }),
  };
}
