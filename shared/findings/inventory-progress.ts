// How far the workers are through one inventory report, in the findings table (keys in
// shared/findings/table.ts): a marker per data file audited and a count per report, moved together
// in one conditional transaction, so a file delivered twice counts once. The worker that sees the
// count reach the report's file count asks for the report's reconciliation.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchPut, queryAll, queryPages, transactWrite, withRetries } from '../findings/dynamodb-writes.ts';
import {
  INVENTORY_ABSENT_PREFIX,
  inventoryAbsentKey,
  inventoryCarriedPageKey,
  inventoryFileKey,
  inventoryPartitionKey,
  inventoryPk,
  inventoryRangeSliceKey,
  inventoryRemovingKey,
  inventoryRemovingPrefix,
  inventoryReportFilesPk,
  inventoryReportKey,
  inventorySweptKey,
  sweepCoverageKey,
} from '../findings/table.ts';

export interface ReportProgress {
  bucket: string;
  manifestKey: string;
  files: number;
  filesDone: number;
  /** When a reconcile message was sent (the last file done). */
  reconcileQueuedAt?: string;
  /** When a worker claimed the sending of the reconcile message (claimReconcile): one sends it, not every last file. */
  reconcileClaimedAt?: string;
  /** When the reconciliation finished: a redelivered reconcile message then does nothing. */
  reconciledAt?: string;
  removed?: number;
  /**
   * Recorded objects its reconciliation kept marked absent (not listed, no HeadObject could answer):
   * the next run reconciles every recorded finding of the bucket, not only a diff's vanished keys, so
   * each mark is cleared or confirmed by the next report (shared/audit/inventory-absence.ts).
   */
  absencesMarked?: number;
  /**
   * Of the marks, those only a report's diff settles (the Athena diff slices note them as ABSENT#
   * items, and count them here rather than in absencesMarked): the next sweep from its diff settles
   * them (settleCarriedAbsences); any other next run reconciles every recorded finding.
   */
  absencesCarried?: number;
  /**
   * Recorded objects its reconciliation kept because no HeadObject could answer (throttled, failing,
   * timed out, denied): whether they are gone is unknown, a coverage gap as the CLI's `notAudited`.
   */
  keptUnanswered?: number;
  /** Set when reconciled: `partial` when objects were kept unanswered (keptUnanswered), else `complete`. */
  coverage?: ReportCoverage;
  /** Key ranges the reconciliation was fanned out over, and how many are done. */
  partitions?: number;
  partitionsDone?: number;
  /** The report's date (its manifest's creationTimestamp), ISO 8601. */
  reportDate?: string;
  /** The hashes of the policies its files were audited under: one, or the report verifies nothing. */
  policyHashes?: Set<string>;
  /** Absent: an S3 Inventory report; 'metadata-table': a metadata-table run (its manifestKey is the query's result). */
  evidence?: 'metadata-table';
  /** How a report of the Lambda tier with an Athena diff is swept, chosen once (chooseSweepMode). */
  sweepMode?: ReportSweepMode['mode'];
  /** With `athena`: the diff query whose result drives the sweep. */
  diffQueryId?: string;
  /** With `full`: why the report is read in full rather than from its diff. */
  diffFallback?: string;
}

/** A reconciled report's coverage, as a run's (`Run Completed`): `partial` when some objects' existence is unknown. */
export type ReportCoverage = 'complete' | 'partial';

/** A report's coverage: complete unless its reconciliation kept objects no HeadObject could answer for. */
export const reportCoverage = (progress: Pick<ReportProgress, 'keptUnanswered'>): ReportCoverage => ((progress.keptUnanswered ?? 0) > 0 ? 'partial' : 'complete');

/**
 * A report of the Lambda tier with an Athena diff configured is swept from the diff's answer
 * (`athena`: its data files then count one more, the diff's result) or, when no diff can be had,
 * from every row of every data file (`full`), and the reason is kept.
 */
export type ReportSweepMode = { mode: 'athena'; queryId: string } | { mode: 'full'; reason: string };

/** A report whose every row was audited and recorded, and whose reconciliation ran: a diff's baseline. */
export interface VerifiedReport {
  manifestKey: string;
  reportDate: string;
  policyHash: string;
  reconciledAt: string;
  /** Recorded objects it left marked absent (ReportProgress.absencesMarked). */
  absencesMarked: number;
  /** Marks it carries for the next report's diff only (ReportProgress.absencesCarried). */
  absencesCarried: number;
}

/** What a file's or a whole report's audit was: the report's date and the policy that judged it. */
export interface AuditedUnder {
  reportDate: string;
  policyHash: string;
}

/** What a reconciling step adds to its report besides its removals (each once, with the step's done marker). */
export interface ReconcileCounts {
  absencesMarked?: number;
  absencesCarried?: number;
  keptUnanswered?: number;
}

const COUNT_NAMES = { '#removed': 'removed', '#marked': 'absencesMarked', '#carried': 'absencesCarried', '#unanswered': 'keptUnanswered' };
const countValues = (counts: ReconcileCounts) => ({ ':marked': counts.absencesMarked ?? 0, ':carried': counts.absencesCarried ?? 0, ':unanswered': counts.keptUnanswered ?? 0 });

export class InventoryReportProgress {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async fileDone(manifestKey: string, fileKey: string): Promise<boolean> {
    const { Item } = await withRetries('GetItem', () =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: inventoryFileKey(manifestKey, fileKey), ConsistentRead: true })),
    );
    return Item !== undefined;
  }

  /** Marks one data file audited and counts it into its report, once however often it was delivered. */
  async markFileDone(report: { bucket: string; manifestKey: string; files: number }, fileKey: string, at: string, under?: AuditedUnder): Promise<ReportProgress> {
    try {
      await transactWrite(this.documents, [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...inventoryFileKey(report.manifestKey, fileKey), fileKey, manifestKey: report.manifestKey, at },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: inventoryReportKey(report.bucket, report.manifestKey),
            // DynamoDB reserves words like BUCKET: every attribute by name.
            UpdateExpression: `SET #bucket = :bucket, #manifest = :manifest, #files = :files${under ? ', #date = :date' : ''} ADD #done :one${under ? ', #policies :policy' : ''}`,
            ExpressionAttributeNames: {
              '#bucket': 'bucket',
              '#manifest': 'manifestKey',
              '#files': 'files',
              '#done': 'filesDone',
              ...(under ? { '#date': 'reportDate', '#policies': 'policyHashes' } : {}),
            },
            ExpressionAttributeValues: {
              ':bucket': report.bucket,
              ':manifest': report.manifestKey,
              ':files': report.files,
              ':one': 1,
              ...(under ? { ':date': under.reportDate, ':policy': new Set([under.policyHash]) } : {}),
            },
          },
        },
      ]);
    } catch (error) {
      // The marker exists: counted on an earlier delivery.
      if (!(error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')) throw error;
    }
    return (await this.progress(report.bucket, report.manifestKey))!;
  }

  async progress(bucket: string, manifestKey: string): Promise<ReportProgress | undefined> {
    const { Item } = await withRetries('GetItem', () =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: inventoryReportKey(bucket, manifestKey), ConsistentRead: true })),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...progress } = Item;
    return progress as ReportProgress;
  }

  /**
   * The newest report of `bucket` dated before `before` that was wholly audited under one policy and
   * reconciled. One Query of the bucket's INVENTORY# partition: an item per report kept, not per object.
   */
  async lastVerified(bucket: string, before: Date, evidence: 'inventory' | 'metadata-table' = 'inventory'): Promise<VerifiedReport | undefined> {
    let best: VerifiedReport | undefined;
    const reports = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :report)',
      ExpressionAttributeValues: { ':pk': inventoryPk(bucket), ':report': 'REPORT#' },
      ConsistentRead: true,
    });
    for (const item of reports) {
      const progress = item as ReportProgress;
      const policies = progress.policyHashes ? [...progress.policyHashes] : [];
      if (!progress.reconciledAt || !progress.reportDate || policies.length !== 1 || progress.filesDone < progress.files) continue;
      // A metadata-table run is no report to diff with, and a report no watermark of the journal.
      if ((progress.evidence ?? 'inventory') !== evidence) continue;
      if (Date.parse(progress.reportDate) >= before.getTime()) continue;
      if (!best || progress.reportDate > best.reportDate) {
        best = { manifestKey: progress.manifestKey, reportDate: progress.reportDate, policyHash: policies[0]!, reconciledAt: progress.reconciledAt, absencesMarked: Number(progress.absencesMarked ?? 0), absencesCarried: Number(progress.absencesCarried ?? 0) };
      }
    }
    return best;
  }

  /**
   * Records how the report is swept, once: the first choice stands (a conditional write), and the
   * one recorded is returned, so a late poll of a query already given up on cannot switch a report
   * half fanned out in full to its diff, or the other way round.
   */
  async chooseSweepMode(bucket: string, manifestKey: string, choice: ReportSweepMode): Promise<ReportSweepMode> {
    try {
      await withRetries('UpdateItem', () =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: inventoryReportKey(bucket, manifestKey),
            UpdateExpression: `SET #bucket = :bucket, #manifest = :manifest, #mode = :mode, ${choice.mode === 'athena' ? '#query = :detail' : '#fallback = :detail'}`,
            ConditionExpression: 'attribute_not_exists(#mode)',
            ExpressionAttributeNames: { '#bucket': 'bucket', '#manifest': 'manifestKey', '#mode': 'sweepMode', ...(choice.mode === 'athena' ? { '#query': 'diffQueryId' } : { '#fallback': 'diffFallback' }) },
            ExpressionAttributeValues: { ':bucket': bucket, ':manifest': manifestKey, ':mode': choice.mode, ':detail': choice.mode === 'athena' ? choice.queryId : choice.reason },
          }),
        ),
      );
      return choice;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const recorded = (await this.progress(bucket, manifestKey))!;
    return recorded.sweepMode === 'athena' ? { mode: 'athena', queryId: recorded.diffQueryId ?? '' } : { mode: 'full', reason: recorded.diffFallback ?? '' };
  }

  /**
   * Notes keys marked absent from this report (ObjectAbsenceMarks): the next report's diff settles
   * them, since a diff names only keys this report listed. One item per key under the report
   * (INVFILE#… / ABSENT#<sha256 key>), never a set on one item: a throttling storm can mark
   * thousands of keys, past DynamoDB's 400 KB per item. A put of the same key again writes the same
   * item: a redelivered page notes nothing twice.
   */
  async noteAbsent(bucket: string, manifestKey: string, keys: string[]): Promise<void> {
    const items = [...new Set(keys)].map((key) => ({ ...inventoryAbsentKey(manifestKey, key), bucket, manifestKey, key }));
    await batchPut(this.documents, this.tableName, items);
  }

  /**
   * One page of the keys noted absent from a report (noteAbsent), at most `limit`, after the
   * position `after` (an earlier page's `next`); `next` is absent when no key can follow.
   */
  async absentKeysPage(manifestKey: string, limit: number, after?: string): Promise<{ keys: string[]; next?: string }> {
    const pk = inventoryReportFilesPk(manifestKey);
    const pages = queryPages(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :absent)',
      ExpressionAttributeValues: { ':pk': pk, ':absent': INVENTORY_ABSENT_PREFIX },
      ConsistentRead: true,
      Limit: limit,
      ...(after ? { ExclusiveStartKey: { pk, sk: after } } : {}),
    });
    // The first page only: a message settles one page and sends the next on (bounded whatever the marks).
    const { value } = await pages.next();
    await pages.return(undefined);
    const items = (value ?? []) as { sk: string; key: string }[];
    const last = items.at(-1);
    return { keys: items.map((item) => item.key), ...(items.length >= limit && last ? { next: last.sk } : {}) };
  }

  async carriedPageDone(manifestKey: string, page: number): Promise<boolean> {
    return this.markerExists(inventoryCarriedPageKey(manifestKey, page));
  }

  /** Marks one page of the carried marks settled and adds what it removed to the report, once however often it was delivered. */
  async markCarriedPageDone(bucket: string, manifestKey: string, page: number, removed: number, keys: number, at: string, counts: ReconcileCounts = {}): Promise<void> {
    await this.countOnce(bucket, manifestKey, { ...inventoryCarriedPageKey(manifestKey, page), manifestKey, page, removed, keys, at }, removed, counts);
  }

  async rangeSliceDone(manifestKey: string, partition: number, slice: number): Promise<boolean> {
    return this.markerExists(inventoryRangeSliceKey(manifestKey, partition, slice));
  }

  /** Marks one slice of a key range reconciled and adds what it removed to the report, once however often it was delivered. */
  async markRangeSliceDone(bucket: string, manifestKey: string, partition: number, slice: number, removed: number, keys: number, at: string, counts: ReconcileCounts = {}): Promise<void> {
    await this.countOnce(bucket, manifestKey, { ...inventoryRangeSliceKey(manifestKey, partition, slice), manifestKey, partition, slice, removed, keys, at }, removed, counts);
  }

  /**
   * Notes the keys a reconciling step is about to remove (one item per key, as noteAbsent): a
   * redelivery after a crash between the removal and the step's done marker finds them, and counts
   * those whose state is gone (removedCount), which its own pass no longer sees.
   */
  async noteRemoving(manifestKey: string, step: string, keys: string[]): Promise<void> {
    await batchPut(this.documents, this.tableName, [...new Set(keys)].map((key) => ({ ...inventoryRemovingKey(manifestKey, step, key), key })));
  }

  /** The keys noted by noteRemoving for `step`, a page at a time. */
  async *removingKeys(manifestKey: string, step: string): AsyncGenerator<string[]> {
    const pages = queryPages(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :step)',
      ExpressionAttributeValues: { ':pk': inventoryReportFilesPk(manifestKey), ':step': inventoryRemovingPrefix(step) },
      ConsistentRead: true,
    });
    for await (const items of pages) if (items.length > 0) yield items.map((item) => String(item.key));
  }

  private async markerExists(key: { pk: string; sk: string }): Promise<boolean> {
    const { Item } = await withRetries('GetItem', () => this.documents.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })));
    return Item !== undefined;
  }

  /** A done marker and its counts added to the report, in one transaction: a marker already there counts nothing. */
  private async countOnce(bucket: string, manifestKey: string, marker: Record<string, unknown>, removed: number, counts: ReconcileCounts): Promise<void> {
    try {
      await transactWrite(this.documents, [
        { Put: { TableName: this.tableName, Item: marker, ConditionExpression: 'attribute_not_exists(pk)' } },
        {
          Update: {
            TableName: this.tableName,
            Key: inventoryReportKey(bucket, manifestKey),
            UpdateExpression: 'ADD #removed :removed, #marked :marked, #carried :carried, #unanswered :unanswered',
            ExpressionAttributeNames: COUNT_NAMES,
            ExpressionAttributeValues: { ':removed': removed, ...countValues(counts) },
          },
        },
      ]);
    } catch (error) {
      if (!(error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')) throw error;
    }
  }

  /**
   * Claims the sending of the report's reconcile message (a conditional write): true for one of the
   * workers whose files completed the report together, so the plan and its Athena queries go out
   * once. A claim older than `staleBefore` that never got to send (its worker crashed in between)
   * may be taken again by the redelivered message; once sent (markReconcileQueued), never.
   */
  async claimReconcile(bucket: string, manifestKey: string, at: string, staleBefore: string): Promise<boolean> {
    try {
      await withRetries('UpdateItem', () =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: inventoryReportKey(bucket, manifestKey),
            UpdateExpression: 'SET #claimed = :at',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#queued) AND (attribute_not_exists(#claimed) OR #claimed < :stale)',
            ExpressionAttributeNames: { '#claimed': 'reconcileClaimedAt', '#queued': 'reconcileQueuedAt' },
            ExpressionAttributeValues: { ':at': at, ':stale': staleBefore },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async markReconcileQueued(bucket: string, manifestKey: string, at: string): Promise<void> {
    await withRetries('UpdateItem', () =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: inventoryReportKey(bucket, manifestKey),
          UpdateExpression: 'SET #queued = :at',
          ExpressionAttributeNames: { '#queued': 'reconcileQueuedAt' },
          ExpressionAttributeValues: { ':at': at },
        }),
      ),
    );
  }

  async planPartitions(bucket: string, manifestKey: string, partitions: number): Promise<void> {
    await withRetries('UpdateItem', () =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: inventoryReportKey(bucket, manifestKey),
          UpdateExpression: 'SET #partitions = :partitions',
          ExpressionAttributeNames: { '#partitions': 'partitions' },
          ExpressionAttributeValues: { ':partitions': partitions },
        }),
      ),
    );
  }

  async partitionDone(manifestKey: string, partition: number): Promise<boolean> {
    const { Item } = await withRetries('GetItem', () =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: inventoryPartitionKey(manifestKey, partition), ConsistentRead: true })),
    );
    return Item !== undefined;
  }

  /** Marks one key range reconciled and adds what it removed to the report, once however often it was delivered. */
  async markPartitionDone(bucket: string, manifestKey: string, partition: number, removed: number, keysListed: number, at: string, counts: ReconcileCounts = {}): Promise<ReportProgress> {
    try {
      await transactWrite(this.documents, [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...inventoryPartitionKey(manifestKey, partition), manifestKey, partition, removed, keysListed, at },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: this.tableName,
            Key: inventoryReportKey(bucket, manifestKey),
            UpdateExpression: 'ADD #done :one, #removed :removed, #marked :marked, #carried :carried, #unanswered :unanswered',
            ExpressionAttributeNames: { '#done': 'partitionsDone', ...COUNT_NAMES },
            ExpressionAttributeValues: { ':one': 1, ':removed': removed, ...countValues(counts) },
          },
        },
      ]);
    } catch (error) {
      if (!(error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')) throw error;
    }
    return (await this.progress(bucket, manifestKey))!;
  }

  /**
   * Marks the report reconciled, with its coverage (reportCoverage of the counts its steps added),
   * and says so on the coverage item of the sweep run that sent it (SWEEP#<runId> BUCKET#<bucket>,
   * when the bucket's last swept report is this one): a run's coverage then reads `partial` with
   * the count of objects kept unanswered, as a `sseguard scan --inventory` run's record does.
   */
  async markReconciled(bucket: string, manifestKey: string, at: string, counted: Pick<ReportProgress, 'removed' | 'keptUnanswered'>): Promise<void> {
    const outcome = { ':at': at, ':removed': counted.removed ?? 0, ':coverage': reportCoverage(counted), ':unanswered': counted.keptUnanswered ?? 0 };
    const names = { '#reconciled': 'reconciledAt', '#removed': 'removed', '#coverage': 'coverage', '#unanswered': 'keptUnanswered' };
    await withRetries('UpdateItem', () =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: inventoryReportKey(bucket, manifestKey),
          UpdateExpression: 'SET #reconciled = :at, #removed = :removed, #coverage = :coverage, #unanswered = :unanswered',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: outcome,
        }),
      ),
    );
    const { Item: swept } = await withRetries('GetItem', () => this.documents.send(new GetCommand({ TableName: this.tableName, Key: inventorySweptKey(bucket), ConsistentRead: true })));
    if (swept?.manifestKey !== manifestKey || typeof swept.runId !== 'string') return;
    try {
      await withRetries('UpdateItem', () =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: sweepCoverageKey(swept.runId as string, bucket),
            UpdateExpression: 'SET #reconciled = :at, #removed = :removed, #coverage = :coverage, #unanswered = :unanswered',
            ConditionExpression: 'attribute_exists(pk) AND #manifest = :manifest',
            ExpressionAttributeNames: { ...names, '#manifest': 'manifestKey' },
            ExpressionAttributeValues: { ...outcome, ':manifest': manifestKey },
          }),
        ),
      );
    } catch (error) {
      // The run's coverage names another report (or none): nothing to say there.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/**
 * A whole report audited and reconciled in one run (`sseguard scan --inventory` without a prefix,
 * nothing left unaudited): the same item a worker fan-out leaves, complete. A function rather than
 * a method, so the functions' bundles (which never call it) leave it out.
 */
export async function markReportVerified(
  documents: DynamoDBDocumentClient,
  tableName: string,
  report: { bucket: string; manifestKey: string; files: number; evidence?: 'metadata-table' },
  under: AuditedUnder,
  at: string,
  removed: number,
  absencesMarked = 0,
): Promise<void> {
  await withRetries('UpdateItem', () =>
    documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: inventoryReportKey(report.bucket, report.manifestKey),
        UpdateExpression: `SET #bucket = :bucket, #manifest = :manifest, #files = :files, #done = :files, #date = :date, #policies = :policy, #reconciled = :at, #removed = :removed, #marked = :marked${report.evidence ? ', #evidence = :evidence' : ''}`,
        ExpressionAttributeNames: {
          '#bucket': 'bucket',
          '#manifest': 'manifestKey',
          '#files': 'files',
          '#done': 'filesDone',
          '#date': 'reportDate',
          '#policies': 'policyHashes',
          '#reconciled': 'reconciledAt',
          '#removed': 'removed',
          '#marked': 'absencesMarked',
          ...(report.evidence ? { '#evidence': 'evidence' } : {}),
        },
        ExpressionAttributeValues: {
          ':bucket': report.bucket,
          ':manifest': report.manifestKey,
          ':files': report.files,
          ':date': under.reportDate,
          ':policy': new Set([under.policyHash]),
          ':at': at,
          ':removed': removed,
          ':marked': absencesMarked,
          ...(report.evidence ? { ':evidence': report.evidence } : {}),
        },
      }),
    ),
  );
}
