// Where the audit workers are in one inventory data file: rows audited and recorded so far, moved
// forward slice by slice with a conditional write, so a retried or duplicated message resumes from
// the last recorded slice instead of restarting, and two deliveries of one message never both move
// it (the second sees its expected position gone and stops). Items of the findings table (keys in
// table.ts: INVFILE#<sha256 manifest> / CHECKPOINT#<sha256 data file>).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll, withRetries } from './dynamodb-writes.ts';
import { inventoryFileCheckpointKey, inventoryReportFilesPk } from './table.ts';

export interface InventoryFileCheckpoint {
  /** Rows of the data file audited and recorded, from its first row. */
  rowsDone: number;
  /** The position a continuation message was sent for: a stale delivery behind it stops. */
  continuationFrom?: number;
}

export class InventoryFileCheckpoints {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(manifestKey: string, fileKey: string): Promise<InventoryFileCheckpoint> {
    const { Item } = await withRetries('GetItem', () =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: inventoryFileCheckpointKey(manifestKey, fileKey), ConsistentRead: true })),
    );
    if (!Item) return { rowsDone: 0 };
    return { rowsDone: Number(Item.rowsDone), ...(Item.continuationFrom === undefined ? {} : { continuationFrom: Number(Item.continuationFrom) }) };
  }

  /**
   * Moves the checkpoint from `from` to `to` rows; false when it is no longer at `from` (another
   * delivery moved it). `sampleKeys` (keys of the message's rows) join the file's sample, from which
   * the reconciliation draws its key ranges.
   */
  async advance(manifestKey: string, fileKey: string, from: number, to: number, at: string, sampleKeys?: string[]): Promise<boolean> {
    const sampleKey = sampleKeys?.length ? sampleKeys : undefined;
    const sample = sampleKey === undefined ? '' : ', #samples = list_append(if_not_exists(#samples, :none), :sample)';
    const moved = await this.conditional(
      manifestKey,
      fileKey,
      from,
      `SET #done = :to, #at = :at${sample}`,
      { ':to': to, ':at': at, ...(sampleKey === undefined ? {} : { ':none': [], ':sample': sampleKey }) },
      { '#at': 'at', ...(sampleKey === undefined ? {} : { '#samples': 'sampleKeys' }) },
    );
    if (moved) return true;
    // A retried write whose first answer was lost finds its own work done.
    return (await this.read(manifestKey, fileKey)).rowsDone === to;
  }

  /** Notes that a continuation message for position `from` is on the queue; false when the checkpoint moved on. */
  async continuationSent(manifestKey: string, fileKey: string, from: number): Promise<boolean> {
    if (await this.conditional(manifestKey, fileKey, from, 'SET #cont = :from', {}, { '#cont': 'continuationFrom' })) return true;
    return (await this.read(manifestKey, fileKey)).continuationFrom === from;
  }

  /** Rows of every data file of the report audited so far, and the keys sampled from them (one Query of the report's file items). */
  async reportTotals(manifestKey: string): Promise<{ rows: number; sampleKeys: string[] }> {
    let rows = 0;
    const sampleKeys: string[] = [];
    const files = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :checkpoint)',
      ExpressionAttributeValues: { ':pk': inventoryReportFilesPk(manifestKey), ':checkpoint': 'CHECKPOINT#' },
      ConsistentRead: true,
    });
    for (const item of files) {
      rows += Number(item.rowsDone ?? 0);
      sampleKeys.push(...((item.sampleKeys as string[] | undefined) ?? []));
    }
    return { rows, sampleKeys };
  }

  private async conditional(
    manifestKey: string,
    fileKey: string,
    from: number,
    update: string,
    values: Record<string, unknown>,
    names: Record<string, string>,
  ): Promise<boolean> {
    try {
      await withRetries('UpdateItem', () =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: inventoryFileCheckpointKey(manifestKey, fileKey),
            UpdateExpression: update,
            // Row 0 is where a file with no checkpoint item stands.
            ConditionExpression: from === 0 ? 'attribute_not_exists(#done) OR #done = :from' : '#done = :from',
            ExpressionAttributeNames: { '#done': 'rowsDone', ...names },
            ExpressionAttributeValues: { ':from': from, ...values },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
