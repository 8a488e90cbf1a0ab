// The one way a process builds what a posture audit runs on: the CLI's `posture` and `scan` and the
// sweep all call this, so a bucket is inspected, evaluated and recorded the same way everywhere.
import type { ResolvedPolicy } from '../domain/policy.ts';
import { outboxDestinations } from '../findings/outbox.ts';
import { PostureStore } from '../findings/posture-store.ts';
import type { Runtime } from '../runtime.ts';
import type { PostureDependencies } from './audit-posture.ts';
import { S3BucketInspector } from './bucket-inspector.ts';

export function postureDependencies(
  runtime: Pick<Runtime, 'config' | 'clients' | 'keys'> & Partial<Pick<Runtime, 'bucketRegions'>>,
  policy: ResolvedPolicy,
  options: { record: boolean },
): PostureDependencies {
  return {
    buckets: new S3BucketInspector(runtime.clients.s3, runtime.keys, runtime.config.region, runtime.bucketRegions),
    policy,
    ...(options.record
      ? { store: new PostureStore(runtime.clients.documents, runtime.config.table, { outbox: outboxDestinations(runtime.config.integrations) }) }
      : {}),
  };
}
