// The sweep's dependencies: list buckets and keys, enqueue pages, keep its checkpoint, audit bucket
// posture. No remediator here: the sweep's role cannot change objects.
import type { Config } from '#shared/config.ts';
import type { PostureDependencies } from '#shared/posture/audit-posture.ts';
import { postureDependencies } from '#shared/posture/posture-dependencies.ts';
import { SqsQueues } from '#shared/queue/sqs-queue.ts';
import type { Runtime } from '#shared/runtime.ts';
import { s3CsvInventorySource } from '#shared/inventory/source.ts';
import { planBucketInventory } from '#shared/sweep/inventory-or-listing.ts';
import type { SweepDependencies } from '#shared/sweep/sweep.ts';
import { SweepRuns } from '#shared/findings/sweep-runs.ts';
import { handlerPolicy, handlerRuntime, memoized } from './runtime.ts';

/** What the sweep handler runs on (shared/sweep/sweep.ts SweepDependencies are the sweep's own ports, built from these). */
export interface SweepHandlerDependencies {
  config: Config;
  runtime: Runtime;
  queues: SqsQueues;
  sweepRuns: SweepRuns;
  posture: PostureDependencies;
}

const sweeper = memoized<SweepHandlerDependencies>(async () => {
  const current = handlerRuntime();
  return {
    config: current.config,
    runtime: current,
    queues: new SqsQueues(current.clients.sqs, current.config),
    sweepRuns: new SweepRuns(current.clients.documents, current.config.table),
    posture: postureDependencies(current, await handlerPolicy(), { record: true }),
  };
});

export const sweepDependencies = (): Promise<SweepHandlerDependencies> => sweeper.get();

/** How the sweep asks whether an inventory report covers a bucket (SSEGUARD_SWEEP_INVENTORY=auto). */
export function sweepInventory(deps: SweepHandlerDependencies): NonNullable<SweepDependencies['inventory']> {
  const { s3 } = deps.runtime.clients;
  return {
    plan: (bucket) =>
      planBucketInventory(
        { s3, formats: ['CSV'], source: (destination) => s3CsvInventorySource(s3, destination), lastSwept: (b) => deps.sweepRuns.lastSweptReport(b) },
        bucket,
        { now: new Date(), maxAgeMs: deps.config.sweepInventoryMaxAgeHours * 3_600_000 },
      ),
    report: (bucket, manifestKey, destination) => s3CsvInventorySource(s3, destination).at(bucket, manifestKey),
  };
}
