// The scheduled sweep: lists every key of the configured buckets and feeds them to the audit queue
// in pages, so that one worker audits objects whatever brought them in. It keeps its place in a
// checkpoint saved after each listing page is enqueued: a run stopped by its time budget (or a
// crash) resumes where it stopped on the next tick. A page enqueued again after a crash between
// send and save is audited again (idempotent) and counted once (page markers).
// A bucket with a usable S3 Inventory report (shared/sweep/inventory-or-listing.ts) is covered by it
// instead: one message per data file, FILES_PER_STEP per checkpoint save, the report named in the
// checkpoint so a resumed run goes on with the same report's next file. A file sent twice after a
// crash is audited once (the worker's per-file marker).
import { randomBytes } from 'node:crypto';
import type { ListedObject } from '../domain/listed-object.ts';
import { MAX_KEYS_PER_SWEEP_MESSAGE, SWEEP_MESSAGE_KIND, type SweepMessage } from '../events/audit-queue-messages.ts';
import { inventoryDiffStartMessage, inventoryFileMessages } from '../inventory/messages.ts';
import type { InventoryDestination, InventoryReport } from '../inventory/source.ts';
import type { InventoryPlan } from './inventory-or-listing.ts';
import { CheckpointConflictError, type BucketCoverage, type SweepCheckpoint, type SweepRuns } from '../findings/sweep-runs.ts';

/** Inventory file messages enqueued per checkpoint save. */
export const FILES_PER_STEP = 100;

export interface SweepDependencies {
  lister: { page(bucket: string, continuationToken?: string): Promise<{ objects: ListedObject[]; nextToken?: string }> };
  queue: { sendToAuditQueue(bodies: string[]): Promise<void> };
  runs: Pick<SweepRuns, 'checkpoint' | 'start' | 'advance' | 'finish'>;
  /** The buckets a new run covers (resolved from the configured globs). */
  buckets: () => Promise<string[]>;
  /** Called when the run reaches a bucket (again, if it resumes before the bucket's first page). */
  onBucketStart?: (bucket: string) => Promise<void>;
  /** Absent: every bucket is listed. Present: asked per bucket whether a report covers it. */
  inventory?: {
    plan(bucket: string): Promise<InventoryPlan>;
    /** The report a resumed run was enqueueing (its manifest read and verified again). */
    report(bucket: string, manifestKey: string, destination: InventoryDestination): Promise<InventoryReport>;
    /**
     * The worker sweeps each report from its diff in Athena (shared/audit/inventory-diff-sweep.ts):
     * one `inventory-diff` message per report instead of one per data file (the worker sends
     * those, in full or for the re-check only, once it knows whether a diff can be had).
     */
    fromDiff?: boolean;
  };
  /** Told once per bucket what covers it (logs and metrics). */
  onCoverage?: (coverage: BucketCoverage) => void;
  clock?: () => Date;
}

export interface SweepOptions {
  /** Asked before each listing page: true stops the run here, to resume on the next call. */
  shouldStop: () => boolean;
  /** A new run starts only this long after the previous one started (resuming is always allowed). */
  minimumIntervalMs?: number;
  lastRunStartedAt?: string;
  /** Inventory file messages per checkpoint save (default FILES_PER_STEP). */
  filesPerStep?: number;
}

export type SweepOutcome =
  | { status: 'finished' | 'paused'; runId: string; pagesEnqueued: number; objectsEnqueued: number; filesEnqueued?: number }
  | { status: 'not-due' | 'busy'; reason: string };

export function sweepMessages(runId: string, firstPage: number, bucket: string, objects: ListedObject[]): string[] {
  const bodies: string[] = [];
  for (let start = 0; start < objects.length; start += MAX_KEYS_PER_SWEEP_MESSAGE) {
    const message: SweepMessage = {
      kind: SWEEP_MESSAGE_KIND,
      runId,
      page: firstPage + bodies.length,
      bucket,
      objects: objects.slice(start, start + MAX_KEYS_PER_SWEEP_MESSAGE).map((o) => ({
        key: o.key,
        size: o.size,
        ...(o.etag ? { etag: o.etag } : {}),
        // Listed by ListObjectVersions (a sweep of every version): the worker audits that version.
        ...(o.versionId && o.isLatest !== undefined ? { versionId: o.versionId, isLatest: o.isLatest } : {}),
        ...(o.deleteMarker ? { deleteMarker: true } : {}),
      })),
    };
    bodies.push(JSON.stringify(message));
  }
  return bodies;
}

export async function sweep(deps: SweepDependencies, options: SweepOptions): Promise<SweepOutcome> {
  const clock = deps.clock ?? (() => new Date());
  let checkpoint = await deps.runs.checkpoint();
  if (!checkpoint) {
    const due = !options.lastRunStartedAt || clock().getTime() - Date.parse(options.lastRunStartedAt) >= (options.minimumIntervalMs ?? 0);
    if (!due) return { status: 'not-due', reason: `last run started ${options.lastRunStartedAt}` };
    const startedAt = clock().toISOString();
    try {
      checkpoint = await deps.runs.start({ runId: `${startedAt}~${randomBytes(3).toString('hex')}`, startedAt, buckets: await deps.buckets() });
    } catch (error) {
      if (error instanceof CheckpointConflictError) return { status: 'busy', reason: error.message };
      throw error;
    }
  }

  let pagesEnqueued = 0;
  let objectsEnqueued = 0;
  let filesEnqueued = 0;
  // The report of the bucket in progress, once read in this invocation.
  let report: InventoryReport | undefined;
  while (checkpoint.bucketIndex < checkpoint.buckets.length) {
    if (options.shouldStop()) return { status: 'paused', runId: checkpoint.runId, pagesEnqueued, objectsEnqueued, ...(filesEnqueued ? { filesEnqueued } : {}) };
    const bucket = checkpoint.buckets[checkpoint.bucketIndex]!;
    let coverage: BucketCoverage | undefined;
    let inventory = checkpoint.inventory;
    if (!checkpoint.continuationToken && !inventory) {
      // The bucket's first step (again, if the run stopped before saving it): choose its evidence.
      await deps.onBucketStart?.(bucket);
      const plan: InventoryPlan = deps.inventory ? await deps.inventory.plan(bucket) : { use: 'listing', reason: 'inventory not enabled for the sweep' };
      if (plan.use === 'inventory') {
        report = plan.report;
        inventory = {
          manifestKey: report.location.key,
          reportDate: report.manifest.createdAt.toISOString(),
          destination: { bucket: report.destination.bucket, prefix: report.destination.prefix },
          files: report.manifest.files.length,
          nextFile: 0,
        };
        coverage = { bucket, evidence: 'inventory', manifestKey: inventory.manifestKey, reportDate: inventory.reportDate, files: inventory.files };
      } else {
        coverage = { bucket, evidence: 'listing', reason: plan.reason };
      }
      deps.onCoverage?.(coverage);
    }

    if (inventory) {
      // Resumed mid-report: the manifest is read (and verified) again; its file order is fixed.
      if (!report || report.location.key !== inventory.manifestKey) report = await deps.inventory!.report(bucket, inventory.manifestKey, inventory.destination);
      const bodies = deps.inventory!.fromDiff
        ? [JSON.stringify(inventoryDiffStartMessage(report))]
        : inventoryFileMessages(report)
            .slice(inventory.nextFile, inventory.nextFile + (options.filesPerStep ?? FILES_PER_STEP))
            .map((message) => JSON.stringify(message));
      await deps.queue.sendToAuditQueue(bodies);
      const nextFile = deps.inventory!.fromDiff ? inventory.files : inventory.nextFile + bodies.length;
      const next: Omit<SweepCheckpoint, 'version'> =
        nextFile < inventory.files
          ? { ...checkpoint, inventory: { ...inventory, nextFile } }
          : { ...checkpoint, inventory: undefined, bucketIndex: checkpoint.bucketIndex + 1, continuationToken: undefined };
      checkpoint = await deps.runs.advance(checkpoint, next, { pages: 0, objects: 0, files: bodies.length }, coverage);
      filesEnqueued += bodies.length;
      continue;
    }

    const { objects, nextToken } = await deps.lister.page(bucket, checkpoint.continuationToken);
    const bodies = sweepMessages(checkpoint.runId, checkpoint.nextPage, bucket, objects);
    await deps.queue.sendToAuditQueue(bodies);
    const next: Omit<SweepCheckpoint, 'version'> = {
      ...checkpoint,
      nextPage: checkpoint.nextPage + bodies.length,
      objectsEnqueued: checkpoint.objectsEnqueued + objects.length,
      ...(nextToken ? { continuationToken: nextToken } : { bucketIndex: checkpoint.bucketIndex + 1, continuationToken: undefined }),
    };
    checkpoint = await deps.runs.advance(checkpoint, next, { pages: bodies.length, objects: objects.length }, coverage);
    pagesEnqueued += bodies.length;
    objectsEnqueued += objects.length;
  }
  await deps.runs.finish(checkpoint, clock().toISOString());
  return { status: 'finished', runId: checkpoint.runId, pagesEnqueued, objectsEnqueued, ...(filesEnqueued ? { filesEnqueued } : {}) };
}
