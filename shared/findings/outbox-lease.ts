// Who may drain the outbox now, and what each destination was last sent. Two deliverers (the CLI's
// `scan` and the stage's outbox-delivery function, or two invocations of it) reading the same page
// would both send it: EventBridge would receive each change twice, as two events. So one deliverer at
// a time holds a lease on the outbox, a conditional write with an expiry:
//
//   pk                 sk              what
//   OUTBOX#LEASE       LEASE           owner, expiresAt (epoch ms): the deliverer draining the outbox now
//   OUTBOX#STATUS      <destination>   last run, last push, items delivered in all, failures of the last run
//
// The holder renews the lease while it works (a heartbeat, every third of its length) and deletes it
// when done; a holder that dies (a killed CLI, a Lambda past its deadline) leaves a lease that expires
// by itself. A holder that fails to renew (someone else took an expired lease: a paused process) stops
// before its next send. Expiry compares clocks of two machines: the lease's length (20 s) is far
// longer than the skew NTP leaves, and a send is still settled per item (destinations dedupe by id).
import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withRetries } from './dynamodb-writes.ts';
import { OUTBOX_LEASE_KEY, OUTBOX_STATUS_PK } from './outbox.ts';

export { OUTBOX_LEASE_KEY, OUTBOX_STATUS_PK };
/** How long a lease lasts unless renewed. */
export const OUTBOX_LEASE_MS = 20_000;

const isConditionFailure = (error: unknown): boolean => (error as Error)?.name === 'ConditionalCheckFailedException';

export interface LeaseOptions {
  /** Who drains: `cli` or `lambda` (shown by GET /deliveries). */
  holder: string;
  leaseMs?: number;
  /** No lease past this instant (epoch ms): a Lambda's deadline. */
  notAfter?: number;
  now?: () => number;
}

export interface HeldLease {
  readonly owner: string;
  /** False once a renewal found the lease taken by another deliverer: stop before the next send. */
  held(): boolean;
  release(): Promise<void>;
}

/** Takes the outbox lease if it is free or expired; undefined when another deliverer holds it. */
export async function acquireOutboxLease(documents: DynamoDBDocumentClient, tableName: string, options: LeaseOptions): Promise<HeldLease | undefined> {
  const owner = randomUUID();
  const leaseMs = options.leaseMs ?? OUTBOX_LEASE_MS;
  const now = options.now ?? Date.now;
  const expiry = () => Math.min(now() + leaseMs, options.notAfter ?? Number.POSITIVE_INFINITY);
  try {
    await withRetries('PutItem', () =>
      documents.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...OUTBOX_LEASE_KEY, owner, holder: options.holder, acquiredAt: new Date(now()).toISOString(), expiresAt: expiry() },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': now() },
        }),
      ),
    );
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
  let held = true;
  const renew = async () => {
    try {
      await withRetries('UpdateItem', () =>
        documents.send(
          new UpdateCommand({
            TableName: tableName,
            Key: OUTBOX_LEASE_KEY,
            UpdateExpression: 'SET expiresAt = :expires',
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner, ':expires': expiry() },
          }),
        ),
      );
    } catch (error) {
      // Taken by another deliverer (ours had expired), or the table cannot be reached: either way
      // this deliverer can no longer tell it is alone, so it stops.
      held = false;
      if (!isConditionFailure(error)) throw error;
    }
  };
  const heartbeat = setInterval(() => void renew().catch(() => undefined), Math.max(1_000, Math.floor(leaseMs / 3)));
  heartbeat.unref();
  return {
    owner,
    held: () => held,
    async release() {
      clearInterval(heartbeat);
      if (!held) return;
      held = false;
      await withRetries('DeleteItem', () =>
        documents.send(
          new DeleteCommand({
            TableName: tableName,
            Key: OUTBOX_LEASE_KEY,
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner },
          }),
        ),
      ).catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
    },
  };
}

/** Waits for the lease up to `waitMs` (polling every second); undefined if it stays held. */
export async function waitForOutboxLease(documents: DynamoDBDocumentClient, tableName: string, options: LeaseOptions & { waitMs: number }): Promise<HeldLease | undefined> {
  const until = Date.now() + options.waitMs;
  for (;;) {
    const lease = await acquireOutboxLease(documents, tableName, options);
    if (lease || Date.now() >= until) return lease;
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, Math.max(0, until - Date.now()))));
  }
}

/** One delivery run's outcome for one destination, added to its status item. */
export async function recordDeliveryStatus(
  documents: DynamoDBDocumentClient,
  tableName: string,
  destination: string,
  run: { at: string; holder: string; delivered: number; failed: number },
): Promise<void> {
  const sets = ['lastRunAt = :at', 'lastRunBy = :by', 'lastRunFailed = :failed', 'lastRunDelivered = :delivered'];
  if (run.delivered > 0) sets.push('lastPushAt = :at');
  if (run.failed > 0) sets.push('lastFailureAt = :at');
  await withRetries('UpdateItem', () =>
    documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: OUTBOX_STATUS_PK, sk: destination },
        UpdateExpression: `SET ${sets.join(', ')} ADD totalDelivered :delivered, totalFailed :failed`,
        ExpressionAttributeValues: { ':at': run.at, ':by': run.holder, ':failed': run.failed, ':delivered': run.delivered },
      }),
    ),
  );
}
