// How far the workers are through one inventory report, in the findings table (keys in
// shared/findings/table.ts): a marker per data file audited and a count per report, moved together
// in one conditional transaction, so a file delivered twice counts once. The worker that sees the
// count reach the report's file count asks for the report's reconciliation.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { transactWrite, withRetries } from '../findings/dynamodb-writes.ts';
import { inventoryFileKey, inventoryPartitionKey, inventoryPk, inventoryReportKey } from '../findings/table.ts';

export interface ReportProgress {
  bucket: string;
  manifestKey: string;
  files: number;
  filesDone: number;
  /** When a reconcile message was sent (the last file done); sent again by a redelivered last file. */
  reconcileQueuedAt?: string;
  /** When the reconciliation finished: a redelivered reconcile message then does nothing. */
  reconciledAt?: string;
  removed?: number;
  /**
   * Recorded objects its reconciliation kept marked absent (not listed, no HeadObject could answer):
   * the next run reconciles every recorded finding of the bucket, not only a diff's vanished keys, so
   * each mark is cleared or confirmed by the next report (shared/audit/inventory-absence.ts).
   */
  absencesMarked?: number;
  /** Key ranges the reconciliation was fanned out over, and how many are done. */
  partitions?: number;
  partitionsDone?: number;
  /** The report's date (its manifest's creationTimestamp), ISO 8601. */
  reportDate?: string;
  /** The hashes of the policies its files were audited under: one, or the report verifies nothing. */
  policyHashes?: Set<string>;
}

/** A report whose every row was audited and recorded, and whose reconciliation ran: a diff's baseline. */
export interface VerifiedReport {
  manifestKey: string;
  reportDate: string;
  policyHash: string;
  reconciledAt: string;
  /** Recorded objects it left marked absent (ReportProgress.absencesMarked). */
  absencesMarked: number;
}

/** What a file's or a whole report's audit was: the report's date and the policy that judged it. */
export interface AuditedUnder {
  reportDate: string;
  policyHash: string;
}

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
  async lastVerified(bucket: string, before: Date): Promise<VerifiedReport | undefined> {
    let best: VerifiedReport | undefined;
    let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const input: QueryCommandInput = {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :report)',
        ExpressionAttributeValues: { ':pk': inventoryPk(bucket), ':report': 'REPORT#' },
        ConsistentRead: true,
        ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
      };
      const page = await withRetries('Query', () => this.documents.send(new QueryCommand(input)));
      for (const item of page.Items ?? []) {
        const progress = item as ReportProgress;
        const policies = progress.policyHashes ? [...progress.policyHashes] : [];
        if (!progress.reconciledAt || !progress.reportDate || policies.length !== 1 || progress.filesDone < progress.files) continue;
        if (Date.parse(progress.reportDate) >= before.getTime()) continue;
        if (!best || progress.reportDate > best.reportDate) {
          best = { manifestKey: progress.manifestKey, reportDate: progress.reportDate, policyHash: policies[0]!, reconciledAt: progress.reconciledAt, absencesMarked: Number(progress.absencesMarked ?? 0) };
        }
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return best;
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
  async markPartitionDone(bucket: string, manifestKey: string, partition: number, removed: number, keysListed: number, at: string, absencesMarked = 0): Promise<ReportProgress> {
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
            UpdateExpression: 'ADD #done :one, #removed :removed, #marked :marked',
            ExpressionAttributeNames: { '#done': 'partitionsDone', '#removed': 'removed', '#marked': 'absencesMarked' },
            ExpressionAttributeValues: { ':one': 1, ':removed': removed, ':marked': absencesMarked },
          },
        },
      ]);
    } catch (error) {
      if (!(error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')) throw error;
    }
    return (await this.progress(bucket, manifestKey))!;
  }

  async markReconciled(bucket: string, manifestKey: string, at: string, removed: number): Promise<void> {
    await withRetries('UpdateItem', () =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: inventoryReportKey(bucket, manifestKey),
          UpdateExpression: 'SET #reconciled = :at, #removed = :removed',
          ExpressionAttributeNames: { '#reconciled': 'reconciledAt', '#removed': 'removed' },
          ExpressionAttributeValues: { ':at': at, ':removed': removed },
        }),
      ),
    );
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
  report: { bucket: string; manifestKey: string; files: number },
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
        UpdateExpression: 'SET #bucket = :bucket, #manifest = :manifest, #files = :files, #done = :files, #date = :date, #policies = :policy, #reconciled = :at, #removed = :removed, #marked = :marked',
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
        },
      }),
    ),
  );
}
