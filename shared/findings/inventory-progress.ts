// How far the workers are through one inventory report, in the findings table (keys in
// shared/findings/table.ts): a marker per data file audited and a count per report, moved together
// in one conditional transaction, so a file delivered twice counts once. The worker that sees the
// count reach the report's file count asks for the report's reconciliation.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { transactWrite, withRetries } from './dynamodb-writes.ts';
import { inventoryFileKey, inventoryReportKey } from './table.ts';

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
  async markFileDone(report: { bucket: string; manifestKey: string; files: number }, fileKey: string, at: string): Promise<ReportProgress> {
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
            UpdateExpression: 'SET #bucket = :bucket, #manifest = :manifest, #files = :files ADD #done :one',
            ExpressionAttributeNames: { '#bucket': 'bucket', '#manifest': 'manifestKey', '#files': 'files', '#done': 'filesDone' },
            ExpressionAttributeValues: { ':bucket': report.bucket, ':manifest': report.manifestKey, ':files': report.files, ':one': 1 },
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
