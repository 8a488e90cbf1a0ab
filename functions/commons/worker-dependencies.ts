// The audit worker's dependencies: audit, fix once, record; dead-letter what cannot be parsed; count
// sweep pages; read inventory data files and track each report's progress. Each handler has its own module so that its bundle, and so its role, holds only what
// it uses (stacks/settings.ts, checked by test/unit/stacks-iam.test.ts).
import type { Context } from 'aws-lambda';
import type { InventoryDiffSweepDependencies } from '#shared/audit/inventory-diff-sweep.ts';
import { prepareReportTable, reportDiffState, startRangeKeys, startReportDiff, stopReportDiff } from '#shared/metadata/athena-report-diff.ts';
import { createAthenaClient } from '#shared/metadata/athena-client.ts';
import { idempotentFix } from '#shared/audit/idempotent-fix.ts';
import { baselineCache } from '#shared/audit/inventory-baseline.ts';
import { createRemediator } from '#shared/audit/remediator.ts';
import type { Config } from '#shared/config.ts';
import { ObjectAbsenceMarks } from '#shared/findings/absence-marks.ts';
import { InventoryFileCheckpoints } from '#shared/findings/inventory-checkpoints.ts';
import { InventoryReportProgress } from '#shared/findings/inventory-progress.ts';
import { rangedObjectBytes, s3CsvInventorySource } from '#shared/inventory/source.ts';
import { SqsQueues } from '#shared/queue/sqs-queue.ts';
import { countSweepPage } from '#shared/findings/sweep-page-count.ts';
import type { SweepRuns } from '#shared/findings/sweep-runs.ts';
import { OrgSweepRuns } from '#shared/findings/org-sweep-runs.ts';
import { handlerPolicy, handlerRuntime, memoized } from './runtime.ts';

/** The audit worker: audit, fix once, record; dead-letter what cannot be parsed; count sweep pages. */
export interface WorkerDependencies extends Omit<InventoryDiffSweepDependencies, 'athena' | 'diff'> {
  /** With SSEGUARD_ATHENA_DIFF_TABLE: a report is swept from its diff in Athena (shared/audit/inventory-diff-sweep.ts). */
  athena?: InventoryDiffSweepDependencies['athena'];
  diff?: InventoryDiffSweepDependencies['diff'];
  config: Config;
  queues: SqsQueues;
  sweepRuns: Pick<SweepRuns, 'countPage'>;
  /** A bucket's Region (learnt once): stamped on the central account's own findings. */
  bucketRegion(bucket: string): Promise<string | undefined>;
  /** The Organization sweep's record: accounts, units and pages the worker counts. */
  orgRuns: OrgSweepRuns;
  /** Lets the idempotency store see the invocation's deadline. */
  registerLambdaContext(context: Context): void;
}

const worker = memoized<WorkerDependencies>(async () => {
  const current = handlerRuntime();
  const audit = { objects: current.objects, keys: current.keys, policy: await handlerPolicy() };
  const queues = new SqsQueues(current.clients.sqs, current.config);
  const progress = new InventoryReportProgress(current.clients.documents, current.config.table);
  const idempotency = idempotentFix(current.clients.dynamodb, current.config.idempotencyTable, { leaseBaseMs: current.config.fixLeaseBaseMs });
  return {
    ...audit,
    config: current.config,
    store: current.store,
    remediator: createRemediator({ ...audit, s3: current.clients.s3, fixOnce: idempotency.fixOnce, fixLog: current.store }),
    registerLambdaContext: idempotency.registerLambdaContext,
    bucketRegion: (bucket) => current.bucketRegions.regionOf(bucket),
    queues,
    // Inventory file messages: the report's destination as the message names it; reconcile messages go back on the audit queue.
    inventory: (destination) => s3CsvInventorySource(current.clients.s3, destination),
    checkpoints: new InventoryFileCheckpoints(current.clients.documents, current.config.table),
    absence: new ObjectAbsenceMarks(current.clients.documents, current.config.table),
    ...(current.config.inventoryWork?.keysPerReconcileMessage ? { keysPerReconcileMessage: current.config.inventoryWork.keysPerReconcileMessage } : {}),
    slices: {
      ...(current.config.inventoryWork?.rowsPerMessage ? { rowsPerMessage: current.config.inventoryWork.rowsPerMessage } : {}),
      ...(current.config.inventoryWork?.msPerMessage ? { msPerMessage: current.config.inventoryWork.msPerMessage } : {}),
    },
    progress,
    ...athenaDiff(current),
    resultBytes: (result, from) => rangedObjectBytes(current.clients.s3, result.bucket, result.key, undefined, from),
    // Only rows changed since the bucket's last verified report, plus the rolling re-check; a warm
    // worker keeps the previous report's index for the next file of the same report.
    baseline: { progress, settings: { reverifyDays: current.config.reverifyDays }, cache: baselineCache() },
    queue: queues,
    orgRuns: new OrgSweepRuns(current.clients.documents, current.config.table),
    sweepRuns: { countPage: (page, findings) => countSweepPage(current.clients.documents, current.config.table, page, findings) },
  };
});

/** The diff in Athena, bound to the configured table, workgroup and output location; nothing without SSEGUARD_ATHENA_DIFF_TABLE. */
function athenaDiff(current: ReturnType<typeof handlerRuntime>): Pick<WorkerDependencies, 'athena' | 'diff' | 'rangeKeys'> {
  const settings = current.config.athenaDiff;
  if (!settings) return {};
  const athena = createAthenaClient({ endpoints: current.config.endpoints, timeouts: current.config.timeouts, region: current.config.region });
  // DDL queries (the table, a partition) take seconds; the diff itself is polled by delayed messages.
  const options = { table: settings.table, workGroup: settings.workGroup, outputLocation: settings.outputLocation, timeoutMs: 60_000 };
  return {
    athena: {
      start: (previous, report) => startReportDiff(athena, previous, report, options),
      state: (queryId) => reportDiffState(athena, queryId),
      stop: (queryId) => stopReportDiff(athena, queryId),
    },
    diff: { deadlineMs: settings.deadlineMs, pollSeconds: settings.pollSeconds },
    // A report swept in full asks Athena for each key range's listed keys: no message streams the report.
    rangeKeys: {
      prepare: (report) => prepareReportTable(athena, report, options),
      start: (report, range, attempt) => startRangeKeys(athena, report, range, options, attempt),
      state: (queryId) => reportDiffState(athena, queryId),
      stop: (queryId) => stopReportDiff(athena, queryId),
      resultBytes: (result, from) => rangedObjectBytes(current.clients.s3, result.bucket, result.key, undefined, from),
      deadlineMs: settings.deadlineMs,
      pollSeconds: settings.pollSeconds,
    },
  };
}

export const workerDependencies = (): Promise<WorkerDependencies> => worker.get();
