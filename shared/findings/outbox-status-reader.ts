// What was sent where, read-only (the report API's GET /deliveries): each destination's last run
// and last push (OUTBOX#STATUS items, written by every delivery run), what still waits in the
// outbox (per destination: an item some destinations took is marked so), and who drains now (the
// lease). No write path: the report API's bundle and role stay read-only.
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryAll, withRetries } from './dynamodb-writes.ts';
import { OUTBOX_LEASE_KEY, OUTBOX_SHARDS, OUTBOX_STATUS_PK, outboxPk } from './outbox.ts';

export interface DestinationStatus {
  name: string;
  /** Outbox items this destination has not taken yet. */
  pending: number;
  lastRunAt?: string;
  lastRunBy?: string;
  lastRunDelivered?: number;
  lastRunFailed?: number;
  /** The last run that sent this destination anything. */
  lastPushAt?: string;
  /** The last run that left items it could not take (throttled past every retry, refused). */
  lastFailureAt?: string;
  totalDelivered?: number;
  /** Items left for a next run, added over runs (an item that fails twice counts twice). */
  totalFailed?: number;
}

export interface DeliveriesView {
  /** Items in the outbox (some destination has yet to take them). */
  pending: number;
  oldestPendingAt?: string;
  destinations: DestinationStatus[];
  /** The deliverer holding the outbox lease now, if any. */
  deliverer?: { holder: string; since: string; expiresAt: string };
}

const DESTINATION_ORDER = ['eventbridge', 'securityhub'];

export async function readDeliveries(documents: DynamoDBDocumentClient, tableName: string, now = Date.now()): Promise<DeliveriesView> {
  const statuses = await withRetries('Query', () =>
    documents.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': OUTBOX_STATUS_PK } })),
  );
  const names = new Set<string>((statuses.Items ?? []).map((item) => String(item.sk)));
  // Pending per destination from each item's destinations and `delivered` set: only those and the sort keys are read.
  const waiting: { for?: string[]; delivered: string[] }[] = [];
  let oldest: string | undefined;
  for (let shard = 0; shard < OUTBOX_SHARDS; shard++) {
    const items = await queryAll(documents, {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': outboxPk(shard) },
      ProjectionExpression: 'sk, #delivered, #destinations',
      ExpressionAttributeNames: { '#delivered': 'delivered', '#destinations': 'destinations' },
    });
    for (const item of items) {
      waiting.push({
        ...(item.destinations ? { for: item.destinations as string[] } : {}),
        delivered: [...((item.delivered as Iterable<string> | undefined) ?? [])],
      });
      const at = String(item.sk).split('#')[0]!;
      if (!oldest || at < oldest) oldest = at;
    }
  }
  const lease = (await withRetries('GetItem', () => documents.send(new GetCommand({ TableName: tableName, Key: OUTBOX_LEASE_KEY, ConsistentRead: true })))).Item;
  const byName = new Map((statuses.Items ?? []).map((item) => [String(item.sk), item]));
  const destinations = [...names]
    .sort((a, b) => (DESTINATION_ORDER.indexOf(a) + 1 || 99) - (DESTINATION_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b))
    .map((name): DestinationStatus => {
      const item = byName.get(name) ?? {};
      const text = (field: string) => (typeof item[field] === 'string' ? { [field]: item[field] as string } : {});
      const count = (field: string) => (item[field] === undefined ? {} : { [field]: Number(item[field]) });
      return {
        name,
        pending: waiting.filter((item) => (item.for?.includes(name) ?? true) && !item.delivered.includes(name)).length,
        ...text('lastRunAt'),
        ...text('lastRunBy'),
        ...count('lastRunDelivered'),
        ...count('lastRunFailed'),
        ...text('lastPushAt'),
        ...text('lastFailureAt'),
        ...count('totalDelivered'),
        ...count('totalFailed'),
      };
    });
  const held = lease && Number(lease.expiresAt) > now;
  return {
    pending: waiting.length,
    ...(oldest ? { oldestPendingAt: oldest } : {}),
    destinations,
    ...(held ? { deliverer: { holder: String(lease.holder), since: String(lease.acquiredAt), expiresAt: new Date(Number(lease.expiresAt)).toISOString() } } : {}),
  };
}
