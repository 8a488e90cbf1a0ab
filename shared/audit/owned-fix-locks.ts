// The Powertools DynamoDB persistence layer with an owner on each lock. Powertools' own conditional
// put (no record, an expired record, or an in-progress record past its lease) is kept as it is; the
// record also names its owner (fix-lock-owner.ts). When the put finds a fix in progress whose owner
// is a process of this host that no longer exists, the lock is taken over at once by a second put
// conditional on the record still naming that dead owner: of two reruns, one wins, the other sees
// the winner (alive) and waits. This run's locks still in progress can be released (Ctrl-C).
import { AsyncLocalStorage } from 'node:async_hooks';
import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IdempotencyItemAlreadyExistsError, IdempotencyRecordStatus } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import { ownerState, processProbe, type FixLockOwner, type ProcessProbe } from './fix-lock-owner.ts';

/** Powertools' default attribute names (the table is made by ensureIdempotencyTable with key `id`). */
const ATTR = { key: 'id', status: 'status', expiry: 'expiration', inProgressExpiry: 'in_progress_expiration', data: 'data' } as const;

/** A lock held by someone else, as last seen. */
export interface LockHolder {
  owner?: FixLockOwner;
  /** When the lease ends (ms since the epoch). */
  until?: number;
}

const ownerAttributes = (owner: FixLockOwner): Record<string, AttributeValue> =>
  marshall({
    owner_host: owner.host,
    owner_kind: owner.kind,
    owner_pid: owner.pid,
    owner_nonce: owner.nonce,
    ...(owner.boot ? { owner_boot: owner.boot } : {}),
    ...(owner.started ? { owner_started: owner.started } : {}),
  });

function ownerOf(item: Record<string, unknown>): FixLockOwner | undefined {
  if (typeof item.owner_nonce !== 'string' || typeof item.owner_host !== 'string' || typeof item.owner_pid !== 'number') return undefined;
  return {
    host: item.owner_host,
    kind: item.owner_kind === 'lambda' ? 'lambda' : 'process',
    pid: item.owner_pid,
    nonce: item.owner_nonce,
    ...(typeof item.owner_boot === 'string' ? { boot: item.owner_boot } : {}),
    ...(typeof item.owner_started === 'string' ? { started: item.owner_started } : {}),
  };
}

function recordOf(item: Record<string, unknown>): IdempotencyRecord {
  return new IdempotencyRecord({
    idempotencyKey: item[ATTR.key] as string,
    status: item[ATTR.status] as (typeof IdempotencyRecordStatus)[keyof typeof IdempotencyRecordStatus],
    expiryTimestamp: item[ATTR.expiry] as number,
    inProgressExpiryTimestamp: item[ATTR.inProgressExpiry] as number | undefined,
    responseData: item[ATTR.data] as IdempotencyRecord['responseData'],
  });
}

export class OwnedFixLocks extends DynamoDBPersistenceLayer {
  /** Locks this process holds in progress: key → nothing more is needed to release them. */
  private readonly held = new Set<string>();
  /** Where a lock attempt made inside `watching` leaves the holder it found. */
  private readonly seen = new AsyncLocalStorage<{ holder?: LockHolder }>();
  /** Locks taken over from dead owners (counted for the run's report). */
  takenOver = 0;

  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly table: string,
    private readonly owner: FixLockOwner,
    private readonly probe: ProcessProbe = processProbe,
  ) {
    super({ tableName: table, awsSdkV3Client: dynamodb });
  }

  /** Runs `fn`; `holder()` then tells who held the lock it could not take, if any. */
  watching<T>(fn: () => Promise<T>): { result: Promise<T>; holder: () => LockHolder | undefined } {
    const box: { holder?: LockHolder } = {};
    return { result: this.seen.run(box, fn), holder: () => box.holder };
  }

  protected override async _putRecord(record: IdempotencyRecord): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...this.getKey(record.idempotencyKey),
      ...marshall({ [ATTR.expiry]: record.expiryTimestamp, [ATTR.status]: record.getStatus() }),
      ...(record.inProgressExpiryTimestamp !== undefined ? { [ATTR.inProgressExpiry]: { N: record.inProgressExpiryTimestamp.toString() } } : {}),
      ...ownerAttributes(this.owner),
    };
    const now = Date.now();
    const names = { '#id': ATTR.key, '#expiry': ATTR.expiry, '#in_progress_expiry': ATTR.inProgressExpiry, '#status': ATTR.status };
    const values = { ':now': now / 1000, ':now_in_millis': now, ':inprogress': IdempotencyRecordStatus.INPROGRESS };
    let existing: Record<string, unknown> | undefined;
    try {
      // Powertools' own condition, word for word (DynamoDBPersistenceLayer._putRecord).
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values),
          ConditionExpression:
            'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      this.held.add(record.idempotencyKey);
      return;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      existing = error.Item && unmarshall(error.Item);
    }
    const owner = existing && ownerOf(existing);
    if (existing?.[ATTR.status] === IdempotencyRecordStatus.INPROGRESS && owner && ownerState(owner, this.owner, this.probe) === 'gone') {
      try {
        // Only while the record still names that dead owner: a second rerun that got here too fails.
        await this.dynamodb.send(
          new PutItemCommand({
            TableName: this.table,
            Item: item,
            ExpressionAttributeNames: { '#status': ATTR.status },
            ExpressionAttributeValues: marshall({ ':inprogress': IdempotencyRecordStatus.INPROGRESS, ':dead': owner.nonce }),
            ConditionExpression: '#status = :inprogress AND owner_nonce = :dead',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        this.held.add(record.idempotencyKey);
        this.takenOver += 1;
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        existing = error.Item && unmarshall(error.Item);
      }
    }
    const box = this.seen.getStore();
    if (existing && box) {
      const until = existing[ATTR.inProgressExpiry];
      const holder = ownerOf(existing);
      box.holder = { ...(holder ? { owner: holder } : {}), ...(typeof until === 'number' ? { until } : {}) };
    }
    throw new IdempotencyItemAlreadyExistsError(`Failed to put record for already existing idempotency key: ${record.idempotencyKey}`, existing && recordOf(existing));
  }

  protected override async _updateRecord(record: IdempotencyRecord): Promise<void> {
    await super._updateRecord(record);
    this.held.delete(record.idempotencyKey);
  }

  protected override async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    await super._deleteRecord(record);
    this.held.delete(record.idempotencyKey);
  }

  /** How many locks this process holds in progress. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Deletes this process's locks still in progress (only while the record still names this process). */
  async releaseHeld(): Promise<number> {
    let released = 0;
    for (const key of [...this.held]) {
      try {
        await this.dynamodb.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: this.getKey(key),
            ExpressionAttributeNames: { '#status': ATTR.status },
            ExpressionAttributeValues: marshall({ ':inprogress': IdempotencyRecordStatus.INPROGRESS, ':me': this.owner.nonce }),
            ConditionExpression: '#status = :inprogress AND owner_nonce = :me',
          }),
        );
        released += 1;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      this.held.delete(key);
    }
    return released;
  }
}
