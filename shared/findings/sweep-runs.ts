// Where a sweep keeps its place and its tally, in the findings table:
//   SWEEP  CHECKPOINT              the run in progress: buckets, position, continuation token
//   SWEEPS <runId>                 one item per run (ids begin with the start instant, so they sort by it)
//   SWEEP#<runId>  PAGE#<n>        marks a page as counted, so a page enqueued twice counts once
//   SWEEP#<runId>  BUCKET#<b>      what covered a bucket in the run (inventory report, or listing and why)
//   INVENTORY#<bucket> SWEPT       the inventory report the last run sent for a bucket
// Every write is conditional: two sweeps cannot both advance the same checkpoint.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll, transactWrite, withRetries } from './dynamodb-writes.ts';
import { SWEEPS_PK, SWEEP_CHECKPOINT_KEY, inventorySweptKey, sweepCoverageKey, sweepPageKey, sweepRunKey } from './table.ts';
import type { InventoryDestination } from '../inventory/source.ts';
import type { Finding } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';
import { countSweepPage, type SweepPageRef } from './sweep-page-count.ts';

export interface SweepCheckpoint {
  runId: string;
  startedAt: string;
  buckets: string[];
  bucketIndex: number;
  continuationToken?: string;
  /** Number of the next sweep message (page) to enqueue, across all buckets of the run. */
  nextPage: number;
  objectsEnqueued: number;
  /** The bucket in progress is covered by this inventory report: its data files are being enqueued. */
  inventory?: InventoryInProgress;
  /** Optimistic lock: each save expects the version it read. */
  version: number;
}

export interface InventoryInProgress {
  manifestKey: string;
  reportDate: string;
  destination: InventoryDestination;
  files: number;
  /** Index of the next data file (manifest order) to enqueue. */
  nextFile: number;
}

/**
 * What covered one bucket in a run: an inventory report (one message per data file), or a listing
 * and why. An inventory report's outcome is added when the workers have reconciled it: `coverage`
 * `partial` when objects it did not list were kept because no HeadObject could answer (how many:
 * `keptUnanswered`), else `complete` (InventoryReportProgress.markReconciled).
 */
export type BucketCoverage =
  | {
      bucket: string;
      evidence: 'inventory';
      manifestKey: string;
      reportDate: string;
      files: number;
      reconciledAt?: string;
      coverage?: 'complete' | 'partial';
      keptUnanswered?: number;
      removed?: number;
    }
  | { bucket: string; evidence: 'listing'; reason: string };

export interface SweepRun {
  runId: string;
  startedAt: string;
  finishedAt?: string;
  buckets: string[];
  pagesEnqueued: number;
  objectsEnqueued: number;
  pagesAudited: number;
  objectsAudited: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** Inventory data-file messages enqueued (each audited by the worker, counted in the report's progress). */
  filesEnqueued?: number;
}

/** The inventory report the last sweep sent for a bucket: the next run's report must be newer. */
export interface LastSweptReport {
  manifestKey: string;
  reportDate: string;
}

export class CheckpointConflictError extends Error {
  override name = 'CheckpointConflictError';
}

const CHECKPOINT_KEY = SWEEP_CHECKPOINT_KEY;
export { SWEEPS_PK };
const runKey = (run: { runId: string }) => sweepRunKey(run.runId);

export class SweepRuns {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async checkpoint(): Promise<SweepCheckpoint | undefined> {
    const { Item } = await withRetries('GetItem', () =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: CHECKPOINT_KEY, ConsistentRead: true })),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...checkpoint } = Item;
    return checkpoint as SweepCheckpoint;
  }

  /** Starts a run: creates its checkpoint (only if no run is in progress) and its run item. */
  async start(run: Pick<SweepCheckpoint, 'runId' | 'startedAt' | 'buckets'>): Promise<SweepCheckpoint> {
    const checkpoint: SweepCheckpoint = { ...run, bucketIndex: 0, nextPage: 0, objectsEnqueued: 0, version: 1 };
    const runItem: SweepRun = { ...run, pagesEnqueued: 0, objectsEnqueued: 0, pagesAudited: 0, objectsAudited: 0, verdicts: {} };
    try {
      await transactWrite(this.documents, [
        { Put: { TableName: this.tableName, Item: { ...CHECKPOINT_KEY, ...checkpoint }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Put: { TableName: this.tableName, Item: { ...runKey(run), ...runItem }, ConditionExpression: 'attribute_not_exists(pk)' } },
      ]);
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw new CheckpointConflictError('another sweep run is in progress');
      throw error;
    }
    return checkpoint;
  }

  /**
   * Saves progress after a page (or a batch of inventory file messages) was enqueued; fails if
   * another sweep moved the checkpoint. `coverage`, given with a bucket's first step, is written
   * beside the run (one item per bucket: a run item listing thousands of buckets would pass
   * DynamoDB's 400 KB) in the same transaction; an inventory coverage also becomes the bucket's
   * last swept report, which the next run's report must be newer than.
   */
  async advance(
    previous: SweepCheckpoint,
    next: Omit<SweepCheckpoint, 'version'>,
    enqueued: { pages: number; objects: number; files?: number },
    coverage?: BucketCoverage,
  ): Promise<SweepCheckpoint> {
    const saved: SweepCheckpoint = { ...next, version: previous.version + 1 };
    if (!saved.continuationToken) delete saved.continuationToken;
    if (!saved.inventory) delete saved.inventory;
    try {
      await transactWrite(this.documents, [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...CHECKPOINT_KEY, ...saved },
            ConditionExpression: 'version = :read',
            ExpressionAttributeValues: { ':read': previous.version },
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: runKey(previous),
            UpdateExpression: 'ADD pagesEnqueued :pages, objectsEnqueued :objects, filesEnqueued :files',
            ExpressionAttributeValues: { ':pages': enqueued.pages, ':objects': enqueued.objects, ':files': enqueued.files ?? 0 },
          },
        },
        ...(coverage ? [{ Put: { TableName: this.tableName, Item: { ...sweepCoverageKey(previous.runId, coverage.bucket), ...coverage } } }] : []),
        ...(coverage?.evidence === 'inventory'
          ? [{
              Put: {
                TableName: this.tableName,
                Item: { ...inventorySweptKey(coverage.bucket), manifestKey: coverage.manifestKey, reportDate: coverage.reportDate, runId: previous.runId },
              },
            }]
          : []),
      ]);
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw new CheckpointConflictError('the sweep checkpoint moved under this run');
      throw error;
    }
    return saved;
  }

  /** Ends the run: stamps its end and removes the checkpoint, so the next tick starts afresh. */
  async finish(checkpoint: SweepCheckpoint, finishedAt: string): Promise<void> {
    await transactWrite(this.documents, [
      {
        Delete: {
          TableName: this.tableName,
          Key: CHECKPOINT_KEY,
          ConditionExpression: 'version = :read',
          ExpressionAttributeValues: { ':read': checkpoint.version },
        },
      },
      {
        Update: {
          TableName: this.tableName,
          Key: runKey(checkpoint),
          UpdateExpression: 'SET finishedAt = :at',
          ExpressionAttributeValues: { ':at': finishedAt },
        },
      },
    ]);
  }

  /** Counts an audited page into its run, once however often the page was delivered (sweep-page-count.ts). */
  async countPage(page: SweepPageRef, findings: Finding[]): Promise<void> {
    await countSweepPage(this.documents, this.tableName, page, findings);
  }

  /** What covered each bucket of a run, by bucket name. */
  async coverage(runId: string): Promise<BucketCoverage[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :bucket)',
      ExpressionAttributeValues: { ':pk': sweepCoverageKey(runId, '').pk, ':bucket': 'BUCKET#' },
    });
    return items.map(({ pk: _pk, sk: _sk, ...item }) => item as BucketCoverage);
  }

  /** The inventory report the last sweep sent for `bucket`. */
  async lastSweptReport(bucket: string): Promise<LastSweptReport | undefined> {
    const { Item } = await withRetries('GetItem', () => this.documents.send(new GetCommand({ TableName: this.tableName, Key: inventorySweptKey(bucket), ConsistentRead: true })));
    return Item ? { manifestKey: String(Item.manifestKey), reportDate: String(Item.reportDate) } : undefined;
  }

  /** Runs newest first. */
  async runs(limit = 20): Promise<SweepRun[]> {
    const { Items = [] } = await withRetries('Query', () => this.documents.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': SWEEPS_PK }, ScanIndexForward: false, Limit: limit }),
    ));
    return Items.map(({ pk: _pk, sk: _sk, ...run }) => run as SweepRun);
  }
}
