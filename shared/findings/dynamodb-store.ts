// DynamoDB adapter of the findings store. Each batch of findings is recorded in one transaction:
// the object states (each conditional on the revision read), their history entries and the
// counter deltas commit together or not at all, so concurrent writers never lose an update and
// the counters always equal the states. A transaction cancelled by a concurrent writer is re-read,
// re-planned and retried with backoff, a bounded number of times.
import { CreateTableCommand, DescribeTableCommand, TransactionCanceledException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  PutCommand,
  TransactWriteCommand,
  paginateQuery,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KeyLookup } from '../domain/encryption.ts';
import type { Finding } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';
import { objectId, planRecord, planSize, type PreviousState, type RecordPlan } from './record-plan.ts';
import type { Counts, FindingFilter, FindingsStore, HistoryEntry, ScanRun, StoredFinding, Summary } from './store.ts';
import {
  COUNTERS_PK,
  COUNTER_SHARDS,
  INDEXES,
  KMSKEYS_PK,
  REMEDIATIONS_PK,
  SCANS_PK,
  STATE_SK,
  counterOfShard,
  counterSk,
  findingsTableDefinition,
  historySk,
  objectPk,
  shardedCounterSk,
} from './table.ts';

const MAX_TRANSACTION_ITEMS = 100;
// A new object writes two items (state, history): 45 fill a transaction, leaving room for counters.
const OBJECTS_PER_TRANSACTION = 45;
const MAX_ATTEMPTS = 8;
const RETRYABLE_CANCELLATIONS = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Exponential backoff with full jitter, capped at 2 s. */
const backoff = (attempt: number) => sleep(Math.random() * Math.min(2000, 25 * 2 ** attempt));

/** Creates the findings table if it does not exist; checks its key schema if it does. */
export async function ensureFindingsTable(dynamodb: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  const definition = findingsTableDefinition(tableName);
  try {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    const indexes = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    const missing = Object.keys(INDEXES).filter((name) => !indexes.has(name));
    const keys = (Table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
    if (keys !== 'pk:HASH,sk:RANGE' || missing.length > 0) {
      throw new Error(
        `table ${tableName} exists but is not an sseguard findings table (keys ${keys || 'none'}` +
          `${missing.length ? `, missing indexes ${missing.join(', ')}` : ''})`,
      );
    }
    return 'exists';
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  try {
    await dynamodb.send(new CreateTableCommand(definition));
  } catch (error) {
    // Another `init` created it between our describe and create.
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 120 }, { TableName: tableName });
  return 'created';
}

export type Item = Record<string, unknown>;

export function stateItem(state: StoredFinding): Item {
  const { byVerdict, byBucket, byKmsKey } = INDEXES;
  return {
    ...state,
    pk: objectPk(state.bucket, state.key),
    sk: STATE_SK,
    // Index keys carry the bucket in the partition key: S3 keys fill DynamoDB's 1 KB sort-key limit.
    [byVerdict.pk]: `${state.verdict}#${state.bucket}`,
    [byVerdict.sk]: state.key,
    [byBucket.pk]: state.bucket,
    [byBucket.sk]: state.key,
    ...(state.kmsKeyArn ? { [byKmsKey.pk]: `${state.kmsKeyArn}#${state.bucket}`, [byKmsKey.sk]: state.key } : {}),
  };
}

const INTERNAL_ATTRIBUTES = ['pk', 'sk', ...Object.values(INDEXES).flatMap(({ pk, sk }) => [pk, sk])];
export function fromStateItem(item: Item): StoredFinding {
  const finding = { ...item };
  for (const name of INTERNAL_ATTRIBUTES) delete finding[name];
  return finding as unknown as StoredFinding;
}

export function countsFrom(item: Item): Counts {
  const counts: Counts = { objects: Number(item.objects ?? 0), bytes: Number(item.bytes ?? 0), verdicts: {}, modes: {} };
  for (const [name, value] of Object.entries(item)) {
    if (typeof value !== 'number' || value === 0) continue;
    if (name.startsWith('verdict:')) counts.verdicts[name.slice(8) as Verdict] = value;
    if (name.startsWith('mode:')) counts.modes[name.slice(5) as keyof Counts['modes']] = value;
  }
  return counts;
}

export function addCounts(into: Counts, more: Counts): Counts {
  into.objects += more.objects;
  into.bytes += more.bytes;
  for (const [verdict, n] of Object.entries(more.verdicts)) {
    into.verdicts[verdict as Verdict] = (into.verdicts[verdict as Verdict] ?? 0) + (n ?? 0);
  }
  for (const [mode, n] of Object.entries(more.modes)) {
    const key = mode as keyof Counts['modes'];
    into.modes[key] = (into.modes[key] ?? 0) + (n ?? 0);
  }
  return into;
}

export class DynamoFindingsStore implements FindingsStore {
  // Writers start at different shards so that separate processes rarely pick the same one.
  private nextShard = Math.floor(Math.random() * COUNTER_SHARDS);

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async record(findings: Finding[]): Promise<void> {
    for (let start = 0; start < findings.length; start += OBJECTS_PER_TRANSACTION) {
      await this.recordChunk(findings.slice(start, start + OBJECTS_PER_TRANSACTION));
    }
  }

  private async recordChunk(findings: Finding[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const plan = planRecord(findings, await this.previousStates(findings));
      if (planSize(plan) > MAX_TRANSACTION_ITEMS) {
        // Many distinct buckets and keys in one batch: halve it until each half fits.
        const half = Math.ceil(findings.length / 2);
        await this.recordChunk(findings.slice(0, half));
        await this.recordChunk(findings.slice(half));
        return;
      }
      if (plan.states.length === 0 && plan.deletes.length === 0 && plan.history.length === 0) return;
      const shard = this.nextShard;
      this.nextShard = (this.nextShard + 1) % COUNTER_SHARDS;
      try {
        await this.documents.send(new TransactWriteCommand({ TransactItems: this.transactItems(plan, shard) }));
        return;
      } catch (error) {
        const retryable =
          error instanceof TransactionCanceledException &&
          (error.CancellationReasons ?? []).every((r) => RETRYABLE_CANCELLATIONS.has(r.Code ?? 'None'));
        if (!retryable || attempt >= MAX_ATTEMPTS) {
          const why = error instanceof TransactionCanceledException
            ? (error.CancellationReasons ?? []).map((r) => r.Code).join(',')
            : (error as Error).message;
          throw new Error(`could not record ${findings.length} findings after ${attempt} attempts: ${why}`, { cause: error });
        }
        await backoff(attempt);
      }
    }
  }

  private transactItems(plan: RecordPlan, shard: number) {
    const TableName = this.tableName;
    const states = plan.states.map(({ state, expectedRev }) => ({
      Put: {
        TableName,
        Item: stateItem(state),
        ...(expectedRev === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'rev = :expected', ExpressionAttributeValues: { ':expected': expectedRev } }),
      },
    }));
    const history = plan.history.map(({ bucket, key, entry }) => ({
      Put: {
        TableName,
        // An overtaken fix shares its rev with the state it left alone: its own sort key suffix.
        Item: { pk: objectPk(bucket, key), sk: `${historySk(entry.auditedAt, entry.rev)}${entry.overtaken ? '#fix' : ''}`, ...entry },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }));
    const counters = [...plan.counters].map(([sk, deltas]) => {
      const entries = [...deltas];
      return {
        Update: {
          TableName,
          Key: { pk: COUNTERS_PK, sk: shardedCounterSk(sk, shard) },
          UpdateExpression: `ADD ${entries.map((_, i) => `#a${i} :d${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#a${i}`, name])),
          ExpressionAttributeValues: Object.fromEntries(entries.map(([, delta], i) => [`:d${i}`, delta])),
        },
      };
    });
    // Every fix also goes to the remediation log the report's "recent remediations" reads newest
    // first, in the same transaction as the object's history entry.
    const remediations = plan.history
      .filter(({ entry }) => entry.remediation)
      .map(({ bucket, key, entry }) => {
        const { at, ...rest } = entry.remediation!;
        return {
          Put: {
            TableName,
            Item: { pk: REMEDIATIONS_PK, sk: `${at}#${bucket}/${key}`, bucket, key, at, ...rest },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        };
      });
    const deletes = plan.deletes.map(({ bucket, key, expectedRev }) => ({
      Delete: {
        TableName,
        Key: { pk: objectPk(bucket, key), sk: STATE_SK },
        ConditionExpression: 'rev = :expected',
        ExpressionAttributeValues: { ':expected': expectedRev },
      },
    }));
    return [...states, ...deletes, ...history, ...remediations, ...counters];
  }

  private async previousStates(findings: Finding[]): Promise<Map<string, PreviousState>> {
    const ids = [...new Set(findings.map(objectId))];
    const byId = new Map(findings.map((f) => [objectId(f), f]));
    let keys = ids.map((id) => ({ pk: objectPk(byId.get(id)!.bucket, byId.get(id)!.key), sk: STATE_SK }));
    const previous = new Map<string, PreviousState>();
    for (let attempt = 1; keys.length > 0; attempt++) {
      const result = await this.documents.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of result.Responses?.[this.tableName] ?? []) {
        const state = fromStateItem(item);
        previous.set(objectId(state), state);
      }
      keys = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof keys;
      if (keys.length > 0) {
        if (attempt >= MAX_ATTEMPTS) throw new Error(`could not read ${keys.length} previous states: throttled`);
        await backoff(attempt);
      }
    }
    return previous;
  }

  async recordKeys(keys: KeyLookup[], checkedAt: Date): Promise<void> {
    const items = keys.map((key) => ({ PutRequest: { Item: { pk: KMSKEYS_PK, sk: key.arn, ...key, checkedAt: checkedAt.toISOString() } } }));
    for (let start = 0; start < items.length; start += 25) {
      let pending = items.slice(start, start + 25);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const result = await this.documents.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
        if (pending.length > 0) {
          if (attempt >= MAX_ATTEMPTS) throw new Error(`could not record ${pending.length} key facts: throttled`);
          await backoff(attempt);
        }
      }
    }
  }

  async recordScan(run: ScanRun): Promise<void> {
    await this.documents.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: SCANS_PK, sk: `${run.startedAt}#${run.id}`, ...run } }),
    );
  }

  private async *queryItems(input: Omit<QueryCommandInput, 'TableName'>): AsyncIterable<Item[]> {
    for await (const page of paginateQuery({ client: this.documents, pageSize: 1000 }, { TableName: this.tableName, ...input })) {
      yield (page.Items ?? []) as Item[];
    }
  }

  private async allItems(pk: string): Promise<Item[]> {
    const items: Item[] = [];
    for await (const page of this.queryItems({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } })) {
      items.push(...page);
    }
    return items;
  }

  /** Every counter, its shards summed: one Query of the counters partition, never a table scan. */
  private async counters(): Promise<Map<string, Counts>> {
    const counters = new Map<string, Counts>();
    for (const item of await this.allItems(COUNTERS_PK)) {
      const counter = counterOfShard(String(item.sk));
      counters.set(counter, addCounts(counters.get(counter) ?? countsFrom({}), countsFrom(item)));
    }
    return counters;
  }

  async summary(): Promise<Summary> {
    const summary: Summary = { overall: countsFrom({}), buckets: {}, kmsKeys: {}, keyFacts: {} };
    for (const [counter, counts] of await this.counters()) {
      if (counter === counterSk.all) summary.overall = counts;
      else if (counter.startsWith('BUCKET#')) summary.buckets[counter.slice(7)] = counts;
      else if (counter.startsWith('KMSKEY#')) summary.kmsKeys[counter.slice(7)] = counts;
    }
    for (const item of await this.allItems(KMSKEYS_PK)) {
      const { pk: _pk, sk, ...facts } = item;
      summary.keyFacts[String(sk)] = facts as unknown as Summary['keyFacts'][string];
    }
    return summary;
  }

  /** Buckets the table holds findings for, from the counters (never a table scan). */
  async recordedBuckets(): Promise<string[]> {
    return [...(await this.counters())]
      .filter(([counter, counts]) => counter.startsWith('BUCKET#') && counts.objects > 0)
      .map(([counter]) => counter.slice(7))
      .sort();
  }

  async *findings(filter: FindingFilter = {}): AsyncIterable<StoredFinding[]> {
    const buckets = filter.bucket ? [filter.bucket] : await this.recordedBuckets();
    for (const bucket of buckets) {
      const [index, partition] = filter.kmsKeyArn
        ? (['byKmsKey', `${filter.kmsKeyArn}#${bucket}`] as const)
        : filter.verdict
          ? (['byVerdict', `${filter.verdict}#${bucket}`] as const)
          : (['byBucket', bucket] as const);
      const verdictFilter = filter.kmsKeyArn && filter.verdict;
      for await (const page of this.queryItems({
        IndexName: index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEXES[index].pk, ...(verdictFilter ? { '#verdict': 'verdict' } : {}) },
        ExpressionAttributeValues: { ':pk': partition, ...(verdictFilter ? { ':verdict': filter.verdict } : {}) },
        ...(verdictFilter ? { FilterExpression: '#verdict = :verdict' } : {}),
      })) {
        if (page.length > 0) yield page.map(fromStateItem);
      }
    }
  }

  async history(bucket: string, key: string): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    for await (const page of this.queryItems({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :hist)',
      ExpressionAttributeValues: { ':pk': objectPk(bucket, key), ':hist': 'HIST#' },
    })) {
      for (const { pk: _pk, sk: _sk, ...entry } of page) entries.push(entry as unknown as HistoryEntry);
    }
    return entries;
  }
}


/** The table Powertools idempotency keeps its records in (key `id`, expiry in `expiration`). */
export async function ensureIdempotencyTable(dynamodb: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return 'exists';
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 120 }, { TableName: tableName });
  return 'created';
}
