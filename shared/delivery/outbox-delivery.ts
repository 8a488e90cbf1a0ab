// The delivery step of the outbox (shared/findings/outbox.ts): reads the changes waiting, hands them
// to each destination behind a small port (EventBridge, Security Hub), and removes an item once every
// destination has taken it. An item a destination could not take after its retries stays for the next
// run; one some destinations took is marked so (conditionally), so they are not sent it again. Run at
// the end of `scan` and by the stage's outbox-delivery function (functions/outbox-delivery.ts, every
// minute), so a crash between the table write and the push is caught up by the next run. One
// deliverer at a time: each run holds the outbox lease (shared/findings/outbox-lease.ts) while it
// reads and sends, so two deliverers never send the same item as two events.
import { DeleteCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withRetries } from '../findings/dynamodb-writes.ts';
import { OUTBOX_SHARDS, outboxKey, outboxPk, type OutboxItem } from '../findings/outbox.ts';
import { recordDeliveryStatus, waitForOutboxLease, type LeaseOptions } from '../findings/outbox-lease.ts';
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
  /** Another deliverer held the outbox lease all along: this run sent nothing (what waits is its to send). */
  leaseHeldElsewhere?: true;
  /** Stopped before the outbox was empty (out of time, or the lease was lost): the next run goes on. */
  stoppedEarly?: true;
}

export interface DeliveryOptions {
  /** Who drains (`cli`, `lambda`): recorded on the lease and in each destination's status. */
  holder?: string;
  /** How long to wait for a lease another deliverer holds (0: give up at once). */
  waitMs?: number;
  /** The lease's length (tests); default OUTBOX_LEASE_MS, renewed while the run works. */
  leaseMs?: number;
  /** Epoch ms the run must be done by (a Lambda's deadline): the lease never outlives it. */
  notAfter?: number;
  /** Asked before each page: true stops the run there (the rest waits for the next run). */
  shouldStop?: () => boolean;
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

export async function deliverOutbox(documents: DynamoDBDocumentClient, tableName: string, destinations: Destination[], options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const result: DeliveryResult = { delivered: {}, failed: {}, completed: 0 };
  if (destinations.length === 0) return result;
  const holder = options.holder ?? 'cli';
  const leaseOptions: LeaseOptions = { holder, ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}), ...(options.notAfter ? { notAfter: options.notAfter } : {}) };
  const lease = await waitForOutboxLease(documents, tableName, { ...leaseOptions, waitMs: options.waitMs ?? 0 });
  if (!lease) return { ...result, leaseHeldElsewhere: true };
  try {
    await drain(documents, tableName, destinations, result, () => !lease.held() || (options.shouldStop?.() ?? false));
  } finally {
    await lease.release();
  }
  const at = new Date().toISOString();
  for (const destination of destinations) {
    const delivered = result.delivered[destination.name] ?? 0;
    const failed = result.failed[destination.name] ?? 0;
    await recordDeliveryStatus(documents, tableName, destination.name, { at, holder, delivered, failed });
  }
  return result;
}

async function drain(documents: DynamoDBDocumentClient, tableName: string, destinations: Destination[], result: DeliveryResult, stop: () => boolean): Promise<void> {
  const context: DeliveryContext = { keyExposure: counterExposure(documents, tableName) };
  for await (const items of pendingPages(documents, tableName)) {
    if (stop()) {
      result.stoppedEarly = true;
      return;
    }
    const taken = new Map<string, Set<string>>(items.map((item) => [item.id, new Set(item.delivered ?? [])]));
    for (const destination of destinations) {
      if (stop()) {
        result.stoppedEarly = true;
        break;
      }
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
}
