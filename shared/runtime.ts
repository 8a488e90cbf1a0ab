// The composition root: from a validated configuration, the adapters the audit runs on. The CLI,
// the Lambda handlers and the benchmark all build their dependencies here.
import { createAwsClients, type AwsClients } from './aws/clients.ts';
import type { Config } from './config.ts';
import type { ResolvedPolicy } from './domain/policy.ts';
import { DynamoFindingsStore } from './findings/dynamodb-store.ts';
import { KmsKeyInspector } from './inspect/key-inspector.ts';
import { S3ObjectInspector } from './inspect/object-inspector.ts';
import { loadPolicy } from './policy-loader.ts';
import type { ScanDependencies } from './audit/scan.ts';

export interface Runtime {
  config: Config;
  clients: AwsClients;
  objects: S3ObjectInspector;
  keys: KmsKeyInspector;
  store: DynamoFindingsStore;
}

export function createRuntime(config: Config, options: { maxSockets?: number; keyTtlMs?: number } = {}): Runtime {
  const clients = createAwsClients({
    endpoints: config.endpoints,
    timeouts: config.timeouts,
    ...(options.maxSockets ? { maxSockets: options.maxSockets } : {}),
  });
  return {
    config,
    clients,
    objects: new S3ObjectInspector(clients.s3),
    keys: new KmsKeyInspector(clients.kms, options.keyTtlMs ? { ttlMs: options.keyTtlMs } : {}),
    // Pushing changes anywhere needs the outbox written with them (shared/findings/outbox.ts).
    store: new DynamoFindingsStore(clients.documents, config.table, { outbox: Boolean(config.integrations?.eventBus || config.integrations?.securityHub) }),
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
