// The delivery step of the outbox (shared/findings/outbox.ts): reads the changes waiting, hands them
// to each destination behind a small port (EventBridge, Security Hub), and removes an item once every
// destination it is for has taken it. Each item names its destinations when it is written (the
// writer's settings), so a deliverer that has fewer of them (a CLI run with only --event-bus against a
// stage with Security Hub on) sends it to those it has and leaves it for the one that has the rest.
// Each destination that takes an item is marked on it at once (a conditional UpdateItem adding its
// name), and the item is deleted only when the stored item shows every one of its destinations done
// (a conditional DeleteItem), so no deliverer removes what another destination still needs.
// Run at the end of `scan` and by the stage's outbox-delivery function (functions/outbox-delivery.ts,
// every minute), so a crash between the table write and the push is caught up by the next run. One
// deliverer at a time: each run holds the outbox lease (shared/findings/outbox-lease.ts) while it
// reads and sends, so two deliverers never send the same item as two events. Exactly once per
// destination, with one window: a deliverer that dies after a push and before its mark sends that
// item again on the next run, with the same eventId (EventBridge consumers can tell) and the same
// Security Hub finding Id (an update of the one finding, not a second finding).
import { DeleteCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryPages, withRetries } from '../findings/dynamodb-writes.ts';
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
  /** Items removed from the outbox (every destination they are for took them). */
  completed: number;
  /** Items that wait for a destination this deliverer does not have (another deliverer sends them). */
  leftForOthers?: number;
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
async function* pendingPages(documents: DynamoDBDocumentClient, tableName: string, listDelivered: Set<string>): AsyncIterable<OutboxItem[]> {
  for (let shard = 0; shard < OUTBOX_SHARDS; shard++) {
    const pages = queryPages(documents, {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': outboxPk(shard) },
      ConsistentRead: true,
      Limit: PAGE,
    });
    for await (const page of pages) {
      // `delivered` is a string set (a Set once read): a list here, like every other field.
      const items = page.map(({ pk: _pk, sk: _sk, delivered, ...item }) => {
        // An item an earlier version marked holds a list, which ADD cannot extend: it is rewritten as a set.
        if (Array.isArray(delivered)) listDelivered.add(String(item.id));
        return { ...item, ...(delivered ? { delivered: [...(delivered as Iterable<string>)] } : {}) } as unknown as OutboxItem;
      });
      if (items.length > 0) yield items;
    }
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

/** The destinations an item is for: those it names, or (written without them) the deliverer's own. */
const destinationsOf = (item: OutboxItem, own: Destination[]): string[] => item.destinations ?? own.map((d) => d.name);

/** Whether a failed conditional write failed on its condition (the item is gone, or not done yet). */
const conditionFailed = (error: unknown): boolean => (error as Error).name === 'ConditionalCheckFailedException';

async function drain(documents: DynamoDBDocumentClient, tableName: string, destinations: Destination[], result: DeliveryResult, stop: () => boolean): Promise<void> {
  const context: DeliveryContext = { keyExposure: counterExposure(documents, tableName) };
  const own = new Set(destinations.map((d) => d.name));
  const inBatches = async <T>(list: T[], work: (t: T) => Promise<void>) => {
    for (let start = 0; start < list.length; start += SETTLE_CONCURRENCY) await Promise.all(list.slice(start, start + SETTLE_CONCURRENCY).map(work));
  };
  const listDelivered = new Set<string>();
  for await (const items of pendingPages(documents, tableName, listDelivered)) {
    if (stop()) {
      result.stoppedEarly = true;
      return;
    }
    const done = new Map<string, Set<string>>(items.map((item) => [item.id, new Set(item.delivered ?? [])]));
    for (const destination of destinations) {
      if (stop()) {
        result.stoppedEarly = true;
        break;
      }
      const pending = items.filter((item) => destinationsOf(item, destinations).includes(destination.name) && !done.get(item.id)!.has(destination.name));
      if (pending.length === 0) continue;
      const sent = await destination.send(pending, context);
      result.delivered[destination.name] = (result.delivered[destination.name] ?? 0) + sent.size;
      result.failed[destination.name] = (result.failed[destination.name] ?? 0) + pending.length - sent.size;
      // Marked as soon as it is taken, before the next destination is tried: a crash later re-sends
      // to no destination that has it already.
      await inBatches(
        pending.filter((item) => sent.has(item.id)),
        async (item) => {
          done.get(item.id)!.add(destination.name);
          await withRetries('UpdateItem', () =>
            documents.send(
              new UpdateCommand({
                TableName: tableName,
                Key: outboxKey(item),
                ...(listDelivered.has(item.id)
                  ? { UpdateExpression: 'SET delivered = :names', ExpressionAttributeValues: { ':names': new Set(done.get(item.id)) } }
                  : { UpdateExpression: 'ADD delivered :names', ExpressionAttributeValues: { ':names': new Set([destination.name]) } }),
                ConditionExpression: 'attribute_exists(pk)',
              }),
            ),
          ).catch((error: unknown) => {
            // Gone already: another deliverer finished it (its destinations dedupe by id).
            if (!conditionFailed(error)) throw error;
          });
        },
      );
    }
    const finished = items.filter((item) => destinationsOf(item, destinations).every((name) => done.get(item.id)!.has(name)));
    const waiting = items.filter((item) => destinationsOf(item, destinations).some((name) => !own.has(name))).length;
    if (waiting > 0) result.leftForOthers = (result.leftForOthers ?? 0) + waiting;
    await inBatches(finished, async (item) => {
      const names = destinationsOf(item, destinations);
      // Deleted only if the stored item shows every one of its destinations done.
      const values = Object.fromEntries(names.map((name, i) => [`:d${i}`, name]));
      const condition = ['attribute_exists(pk)', ...names.map((_, i) => `contains(delivered, :d${i})`)].join(' AND ');
      const deleted = await withRetries('DeleteItem', () =>
        documents.send(new DeleteCommand({ TableName: tableName, Key: outboxKey(item), ConditionExpression: condition, ...(names.length ? { ExpressionAttributeValues: values } : {}) })),
      ).then(
        () => true,
        (error: unknown) => {
          if (!conditionFailed(error)) throw error;
          return false;
        },
      );
      if (deleted) result.completed += 1;
    });
  }
}
