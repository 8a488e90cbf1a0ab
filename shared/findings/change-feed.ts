// The change feed behind the report API's GET /events: a copy of every outbox item (outbox.ts), written
// in the same transaction as the outbox item and kept after delivery removes the outbox item, so a
// consumer that polls reads every change once, in one stable order, whether or not EventBridge took it.
//
//   pk                 sk                          what
//   FEED#<shard>       <recordedAt>#<id>           one change, as the outbox item had it (kept, like history)
//
// Order is by sort key across the shards: recordedAt (the writer's clock when it built the
// transaction) then the item's id. A transaction can commit a little after its recordedAt (retries
// with backoff), so readers list only items older than FEED_SETTLE_MS: a cursor never passes a
// position that a transaction still in flight could fill.
import { createHash } from 'node:crypto';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withRetries } from './dynamodb-writes.ts';
import type { TransactItem } from './dynamodb-writes.ts';
import { outboxPut, type OutboxDestination, type OutboxItem } from './outbox.ts';

export const FEED_SHARDS = 4;
export const feedPk = (shard: number): string => `FEED#${shard}`;
const shardOf = (id: string): number => parseInt(createHash('sha256').update(`feed|${id}`).digest('hex').slice(0, 8), 16) % FEED_SHARDS;

/**
 * How old an item must be before it is listed: more than DYNAMODB_RETRY's whole backoff (≤ 27 s over
 * 12 attempts) and a slow attempt or two. A transaction retried for longer commits behind cursors
 * already given out (README, "The change feed").
 */
export const FEED_SETTLE_MS = 2 * 60_000;

export type FeedItem = OutboxItem & { recordedAt: string };

/** The outbox item and its feed copy: both go in the change's transaction (the one way to write an outbox item). */
export function outboxPuts(tableName: string, item: OutboxItem, destinations: readonly OutboxDestination[], recordedAt = new Date().toISOString()): TransactItem[] {
  const { delivered: _delivered, ...change } = item;
  return [
    outboxPut(tableName, item, destinations),
    { Put: { TableName: tableName, Item: { pk: feedPk(shardOf(item.id)), sk: `${recordedAt}#${item.id}`, ...change, recordedAt }, ConditionExpression: 'attribute_not_exists(pk)' } },
  ];
}

export interface FeedPage {
  items: FeedItem[];
  /** The position of the last item listed (or the one given, when nothing new has settled). */
  position: string;
}

/**
 * The items after `after` (a sort key; '' from the start) that settled by `now`, oldest first, at most
 * `limit`. Each shard is read from the same position and the pages merged by sort key.
 */
export async function readFeed(documents: DynamoDBDocumentClient, tableName: string, after: string, limit: number, now = new Date()): Promise<FeedPage> {
  const horizon = `${new Date(now.getTime() - FEED_SETTLE_MS).toISOString()}#g`; // ids are hex: '#g' sorts after each
  // From `after` itself (inclusive: BETWEEN), dropped below; '0' sorts before every ISO time.
  const from = after || '0';
  if (from >= horizon) return { items: [], position: after };
  const pages = await Promise.all(
    Array.from({ length: FEED_SHARDS }, (_, shard) =>
      withRetries('Query', () =>
        documents.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': feedPk(shard), ':from': from, ':to': horizon },
            ConsistentRead: true,
            Limit: limit + 1,
          }),
        ),
      ),
    ),
  );
  // A shard cut short (Limit or 1 MB) may hold items past its last one: nothing beyond that is listed.
  let bound = horizon;
  for (const page of pages) {
    const last = page.Items?.at(-1)?.sk as string | undefined;
    if (page.LastEvaluatedKey && last && last < bound) bound = last;
  }
  const items = pages
    .flatMap((page) => page.Items ?? [])
    .filter((item) => (item.sk as string) > after && (item.sk as string) <= bound)
    .sort((a, b) => ((a.sk as string) < (b.sk as string) ? -1 : 1))
    .slice(0, limit);
  return {
    items: items.map(({ pk: _pk, sk: _sk, ...item }) => item as unknown as FeedItem),
    position: items.length > 0 ? (items.at(-1)!.sk as string) : after,
  };
}
