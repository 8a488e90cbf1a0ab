// The audit worker's dependencies: audit, fix once, record; dead-letter what cannot be parsed; count
// sweep pages; read inventory data files and track each report's progress. Each handler has its own module so that its bundle, and so its role, holds only what
// it uses (stacks/settings.ts, checked by test/unit/stacks-iam.test.ts).
import type { Context } from 'aws-lambda';
import type { InventoryFileAuditDependencies } from '#shared/audit/inventory-file-audit.ts';
import { idempotentFix } from '#shared/audit/idempotent-fix.ts';
import { createRemediator } from '#shared/audit/remediator.ts';
import type { Config } from '#shared/config.ts';
import { InventoryReportProgress } from '#shared/findings/inventory-progress.ts';
import { s3CsvInventorySource } from '#shared/inventory/source.ts';
import { SqsQueues } from '#shared/queue/sqs-queue.ts';
import { countSweepPage } from '#shared/findings/sweep-page-count.ts';
import type { SweepRuns } from '#shared/findings/sweep-runs.ts';
import { handlerPolicy, handlerRuntime, memoized } from './runtime.ts';

/** The audit worker: audit, fix once, record; dead-letter what cannot be parsed; count sweep pages. */
export interface WorkerDependencies extends InventoryFileAuditDependencies {
  config: Config;
  queues: SqsQueues;
  sweepRuns: Pick<SweepRuns, 'countPage'>;
  /** Lets the idempotency store see the invocation's deadline. */
  registerLambdaContext(context: Context): void;
}

const worker = memoized<WorkerDependencies>(async () => {
  const current = handlerRuntime();
  const audit = { objects: current.objects, keys: current.keys, policy: await handlerPolicy() };
  const queues = new SqsQueues(current.clients.sqs, current.config);
  const idempotency = idempotentFix(current.clients.dynamodb, current.config.idempotencyTable, { leaseBaseMs: current.config.fixLeaseBaseMs });
  return {
    ...audit,
    config: current.config,
    store: current.store,
    remediator: createRemediator({ ...audit, s3: current.clients.s3, fixOnce: idempotency.fixOnce, fixLog: current.store }),
    registerLambdaContext: idempotency.registerLambdaContext,
    queues,
    // Inventory file messages: the report's destination as the message names it; reconcile messages go back on the audit queue.
    inventory: (destination) => s3CsvInventorySource(current.clients.s3, destination),
    progress: new InventoryReportProgress(current.clients.documents, current.config.table),
    queue: queues,
    sweepRuns: { countPage: (page, findings) => countSweepPage(current.clients.documents, current.config.table, page, findings) },
  };
});

export const workerDependencies = (): Promise<WorkerDependencies> => worker.get();
