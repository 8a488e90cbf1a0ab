// The S3 Batch Operations jobs sseguard made, kept in the findings table (JOBS partition), and the
// open fix intents that say which objects are tasks of which job. Every write is conditional on the
// state it moves from, with the table's one retry policy (dynamodb-writes.ts).
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RemediationRecord } from '../domain/finding.ts';
import type { PolicyId } from '../domain/policy-identity.ts';
import type { BatchSettings, BatchTarget } from '../domain/batch-settings.ts';
import { chainHeadUpdate, remediationLogPut } from './dynamodb-store.ts';
import { backoffMs, batchGet, failedConditions, queryAll, transactWrite, withRetries, type TransactItem } from './dynamodb-writes.ts';
import { chained } from './history-chain.ts';
import { fromStateItem } from './reader.ts';
import { fixHistoryEntry, objectId, sealedFixEntry } from './record-decision.ts';
import type { FixIntent } from './store.ts';
import { JOBS_PK, STATE_SK, batchIntentKey, batchJobKey, fixHistorySk, objectPk } from './table.ts';

/** Up to four items per object outcome (history, log, intent, chain head): 25 fill a transaction. */
const OUTCOMES_PER_TRANSACTION = 25;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * collecting: objects are being added (a crash here leaves no manifest a job could read: abandoned
 * by the next run); manifest-written: uploaded and recorded, CreateJob not yet answered (resumed
 * with the same token); created: S3 has the job; folded: its report is in the findings.
 */
export const BATCH_JOB_STATES = ['collecting', 'manifest-written', 'created', 'folded', 'abandoned'] as const;
export type BatchJobState = (typeof BATCH_JOB_STATES)[number];

export interface BatchJobRecord {
  recordId: string;
  runId: string;
  bucket: string;
  target: BatchTarget;
  /** The manifest's lines name versions (Bucket, Key, VersionId). */
  versioned: boolean;
  createdAt: string;
  state: BatchJobState;
  settings: BatchSettings;
  /** The policy the job was made under, stored by its hash (POLICIES); absent on jobs from before. */
  policy?: PolicyId;
  manifest?: { bucket: string; key: string; etag: string; sha256: string };
  objects?: number;
  token?: string;
  jobId?: string;
  /** DescribeJob's last status, and its task counts. */
  status?: string;
  succeeded?: number;
  failed?: number;
  failureReason?: string;
  foldedAt?: string;
}

export class BatchJobStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: BatchJobRecord): Promise<void> {
    await withRetries('PutItem', () =>
      this.documents.send(
        new PutCommand({ TableName: this.tableName, Item: { ...batchJobKey(record.recordId), ...record }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
  }

  /** Moves a job from the state read to the next one, with the fields that come with it; false if it had moved already. */
  async update(recordId: string, from: BatchJobState, fields: Partial<BatchJobRecord>): Promise<boolean> {
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
    try {
      await withRetries('UpdateItem', () =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: batchJobKey(recordId),
            UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
            ConditionExpression: '#state = :from',
            ExpressionAttributeNames: { '#state': 'state', ...Object.fromEntries(entries.map(([name], i) => [`#f${i}`, name])) },
            ExpressionAttributeValues: { ':from': from, ...Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value])) },
          }),
        ),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async get(recordId: string): Promise<BatchJobRecord | undefined> {
    const { Item } = await withRetries('GetItem', () => this.documents.send(new GetCommand({ TableName: this.tableName, Key: batchJobKey(recordId), ConsistentRead: true })));
    return Item ? strip(Item) : undefined;
  }

  /** Every recorded job (of one bucket), oldest first. The partition holds one item per job, not per object. */
  async list(bucket?: string): Promise<BatchJobRecord[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': JOBS_PK },
      ConsistentRead: true,
    });
    const jobs = items.map((item) => strip<BatchJobRecord>(item));
    return bucket ? jobs.filter((j) => j.bucket === bucket) : jobs;
  }

  /** Written before the object's manifest line: the object is a task of that job until it is folded. */
  async recordIntent(intent: FixIntent): Promise<void> {
    await withRetries('PutItem', () => this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...batchIntentKey(intent.bucket, intent.key), ...intent } })));
  }

  /** The object's Batch intent, if any. */
  async intentOf(bucket: string, key: string): Promise<FixIntent | undefined> {
    const { Item } = await withRetries('GetItem', () => this.documents.send(new GetCommand({ TableName: this.tableName, Key: batchIntentKey(bucket, key), ConsistentRead: true })));
    return Item ? (strip(Item) as unknown as FixIntent) : undefined;
  }

  /** The Batch intents of these objects of one bucket, by key. */
  async intentsOf(bucket: string, keys: string[]): Promise<Map<string, FixIntent>> {
    const items = await batchGet(this.documents, this.tableName, [...new Set(keys)].map((key) => batchIntentKey(bucket, key)));
    return new Map(items.map((item) => {
      const intent = strip(item) as unknown as FixIntent;
      return [intent.key, intent];
    }));
  }

  /**
   * Records the outcomes of a job's tasks: per object its one fix history entry (keyed by the intent
   * id, written only if absent), the remediation log entry, and its intent removed — together or not at
   * all. Each entry is linked into the object's history chain after the state's head, which moves with
   * it (conditional on the revision and head read: a writer in between makes this chunk re-read and
   * re-link), as `recordOutcome` links a per-object fix; an object without a state is sealed alone. An
   * outcome already recorded (a rerun) is left out; an intent replaced since is left in place.
   */
  async recordOutcomes(outcomes: { intent: FixIntent; record: RemediationRecord }[]): Promise<void> {
    for (let start = 0; start < outcomes.length; start += OUTCOMES_PER_TRANSACTION) {
      let pending = outcomes.slice(start, start + OUTCOMES_PER_TRANSACTION).map((o) => ({ ...o, closeIntent: true }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const stateKeys = new Map(pending.map(({ intent }) => [objectId(intent), { pk: objectPk(intent.bucket, intent.key), sk: STATE_SK }]));
        const states = new Map(
          (await batchGet(this.documents, this.tableName, [...stateKeys.values()])).map((item) => {
            const state = fromStateItem(item);
            return [objectId(state), state];
          }),
        );
        // Which outcome, and which of its writes, each transaction item is.
        const roles: { outcome: number; role: 'history' | 'log' | 'intent' | 'head' }[] = [];
        const items: TransactItem[] = [];
        // Two outcomes of one object (two versions) link one after the other; its head moves once.
        const heads = new Map<string, string>();
        pending.forEach(({ intent, record, closeIntent }, outcome) => {
          const id = objectId(intent);
          const state = states.get(id);
          const entry = state ? chained(id, fixHistoryEntry(intent, record), heads.get(id) ?? state.chainHead) : sealedFixEntry(intent, record);
          if (state) heads.set(id, entry.hash!);
          items.push({
            Put: {
              TableName: this.tableName,
              Item: { pk: objectPk(intent.bucket, intent.key), sk: fixHistorySk(intent.id), ...entry },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          });
          items.push(remediationLogPut(this.tableName, intent.bucket, intent.key, record));
          roles.push({ outcome, role: 'history' }, { outcome, role: 'log' });
          if (closeIntent) {
            items.push({
              Delete: {
                TableName: this.tableName,
                Key: batchIntentKey(intent.bucket, intent.key),
                ConditionExpression: 'attribute_not_exists(pk) OR id = :id',
                ExpressionAttributeValues: { ':id': intent.id },
              },
            });
            roles.push({ outcome, role: 'intent' });
          }
        });
        for (const [id, head] of heads) {
          const state = states.get(id)!;
          items.push(chainHeadUpdate(this.tableName, state, head));
          roles.push({ outcome: -1, role: 'head' });
        }
        try {
          await transactWrite(this.documents, items, `recording ${pending.length} Batch task outcomes`);
          break;
        } catch (error) {
          const failed = failedConditions(error);
          if (!failed || attempt > OUTCOMES_PER_TRANSACTION) throw error;
          const recorded = new Set(failed.filter((i) => roles[i]?.role === 'history' || roles[i]?.role === 'log').map((i) => roles[i]!.outcome));
          const replaced = new Set(failed.filter((i) => roles[i]?.role === 'intent').map((i) => roles[i]!.outcome));
          // A head moved since it was read: the next attempt re-reads the states and links after them.
          if (failed.some((i) => roles[i]?.role === 'head')) await sleep(backoffMs(attempt));
          pending = pending.flatMap((o, i) => (recorded.has(i) ? [] : [replaced.has(i) ? { ...o, closeIntent: false } : o]));
        }
      }
    }
  }
}

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}
