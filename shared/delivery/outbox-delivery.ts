// The delivery step of the outbox (shared/findings/outbox.ts): reads the changes waiting, hands them
// to each destination behind a small port (EventBridge, Security Hub), and removes an item once every
// destination has taken it. An item a destination could not take after its retries stays for the next
// run; one some destinations took is marked so (conditionally), so they are not sent it again. Run at
// the end of `scan` and by the Lambda functions after they record, so a crash between the table write
// and the push is caught up by the next run.
import { DeleteCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withRetries } from '../findings/dynamodb-writes.ts';
import { OUTBOX_SHARDS, outboxKey, outboxPk, type OutboxItem } from '../findings/outbox.ts';
import { COUNTERS_PK, counterSk } from '../findings/table.ts';

/** One place changes go. `send` returns the ids it delivered; what it could not deliver it leaves out. */
export interface Destination {
  readonly name: string;
  send(items: OutboxItem[], context: DeliveryContext): Promise<Set<string>>;
}

/** What a destination may need to look up beside the items: a key's blast radius. */
export interface DeliveryContext {
  keyExposure(keyArn: string): Promise<{ objects: number; bytes: number }>;
}

export interface DeliveryResult {
  /** destination name → items it took this run. */
  delivered: Record<string, number>;
  /** destination name → items it could not take (left for the next run). */
  failed: Record<string, number>;
  /** Items removed from the outbox (every destination took them). */
  completed: number;
}

const PAGE = 100;
const SETTLE_CONCURRENCY = 16;

/** Reads the outbox, oldest first per shard, a page at a time. */
async function* pendingPages(documents: DynamoDBDocumentClient, tableName: string): AsyncIterable<OutboxItem[]> {
  for (let shard = 0; shard < OUTBOX_SHARDS; shard++) {
    let start: Record<string, unknown> | undefined;
    do {
      const input = {
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': outboxPk(shard) },
        ConsistentRead: true,
        Limit: PAGE,
        ...(start ? { ExclusiveStartKey: start } : {}),
      };
      const page = await withRetries('Query', () => documents.send(new QueryCommand(input)));
      const items = (page.Items ?? []).map(({ pk: _pk, sk: _sk, ...item }) => item as unknown as OutboxItem);
      if (items.length > 0) yield items;
      start = page.LastEvaluatedKey;
    } while (start);
  }
}

/** Objects and bytes (current and noncurrent) encrypted under a key, from its counter shards. */
export function counterExposure(documents: DynamoDBDocumentClient, tableName: string): DeliveryContext['keyExposure'] {
  return async (keyArn) => {
    const prefix = `${counterSk.kmsKey(keyArn)}#`;
    const page = await withRetries('Query', () =>
      documents.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': COUNTERS_PK, ':prefix': prefix },
          ConsistentRead: true,
        }),
      ),
    );
    let objects = 0;
    let bytes = 0;
    for (const item of page.Items ?? []) {
      objects += Number(item.objects ?? 0) + Number(item['noncurrent:objects'] ?? 0);
      bytes += Number(item.bytes ?? 0) + Number(item['noncurrent:bytes'] ?? 0);
    }
    return { objects, bytes };
  };
}

export async function deliverOutbox(documents: DynamoDBDocumentClient, tableName: string, destinations: Destination[]): Promise<DeliveryResult> {
  const result: DeliveryResult = { delivered: {}, failed: {}, completed: 0 };
  if (destinations.length === 0) return result;
  const context: DeliveryContext = { keyExposure: counterExposure(documents, tableName) };
  for await (const items of pendingPages(documents, tableName)) {
    const taken = new Map<string, Set<string>>(items.map((item) => [item.id, new Set(item.delivered ?? [])]));
    for (const destination of destinations) {
      const pending = items.filter((item) => !taken.get(item.id)!.has(destination.name));
      if (pending.length === 0) continue;
      const sent = await destination.send(pending, context);
      result.delivered[destination.name] = (result.delivered[destination.name] ?? 0) + sent.size;
      result.failed[destination.name] = (result.failed[destination.name] ?? 0) + pending.length - sent.size;
      for (const id of sent) taken.get(id)?.add(destination.name);
    }
    // Settled items are removed (or marked) a few at a time: one request each, conditional, retried.
    const settle = async (item: OutboxItem) => {
      const done = taken.get(item.id)!;
      const key = outboxKey(item);
      if (destinations.every((d) => done.has(d.name))) {
        // Gone already: another deliverer finished it (its destinations dedupe by id).
        await withRetries('DeleteItem', () => documents.send(new DeleteCommand({ TableName: tableName, Key: key })));
        result.completed += 1;
      } else if (done.size > (item.delivered ?? []).length) {
        await withRetries('UpdateItem', () =>
          documents.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key,
              UpdateExpression: 'SET delivered = :done',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':done': [...done] },
            }),
          ),
        ).catch((error: unknown) => {
          if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        });
      }
    };
    for (let start = 0; start < items.length; start += SETTLE_CONCURRENCY) {
      await Promise.all(items.slice(start, start + SETTLE_CONCURRENCY).map(settle));
    }
  }
  return result;
}
