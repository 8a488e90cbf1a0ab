// DynamoDB adapter of the findings store. Each batch of findings is recorded in one transaction:
// the object states (each conditional on the revision read), their history entries, the counter
// deltas and the fix intents they close commit together or not at all, so concurrent writers never
// lose an update and the counters always equal the states. A transaction cancelled by a concurrent
// writer is re-read and re-planned; throttling and 5xx are retried by dynamodb-writes.ts. A finding
// that matches what is recorded writes nothing.
import { CreateTableCommand, DescribeTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { PutCommand, paginateQuery, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KeyLookup } from '../domain/encryption.ts';
import type { Finding, RemediationRecord } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';
import {
  backoffMs,
  batchGet,
  batchPut,
  counterUpdate,
  failedConditions,
  transactWrite,
  withRetries,
  type Item,
  type TransactItem,
} from './dynamodb-writes.ts';
import { fixHistoryEntry, objectId, planRecord, planSize, type PreviousState, type RecordPlan } from './record-plan.ts';
import type {
  Counts,
  FindingFilter,
  FindingsStore,
  FixIntent,
  FixLog,
  HistoryEntry,
  RecordResult,
  ScanRun,
  StoredFinding,
  Summary,
} from './store.ts';
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
  fixHistorySk,
  historySk,
  intentKey,
  objectPk,
  shardedCounterSk,
} from './table.ts';

const MAX_TRANSACTION_ITEMS = 100;
// A new object writes two items (state, history): 45 fill a transaction, leaving room for counters.
const OBJECTS_PER_TRANSACTION = 45;
/** Re-reads and re-plans after a concurrent writer moved a revision. */
const MAX_REPLANS = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

export type { Item };

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

export class DynamoFindingsStore implements FindingsStore, FixLog {
  // Writers start at different shards so that separate processes rarely pick the same one.
  private nextShard = Math.floor(Math.random() * COUNTER_SHARDS);

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async record(findings: Finding[]): Promise<RecordResult> {
    const undecided: Finding[] = [];
    for (let start = 0; start < findings.length; start += OBJECTS_PER_TRANSACTION) {
      undecided.push(...(await this.recordChunk(findings.slice(start, start + OBJECTS_PER_TRANSACTION))));
    }
    return { undecided };
  }

  /** Records one chunk; returns the findings whose order only a fresh HeadObject can tell. */
  private async recordChunk(findings: Finding[]): Promise<Finding[]> {
    for (let attempt = 1; ; attempt++) {
      const { states, intents } = await this.previous(findings);
      const plan = planRecord(findings, states, intents);
      if (planSize(plan) > MAX_TRANSACTION_ITEMS) {
        // Many distinct buckets and keys in one batch: halve it until each half fits.
        const half = Math.ceil(findings.length / 2);
        return [...(await this.recordChunk(findings.slice(0, half))), ...(await this.recordChunk(findings.slice(half)))];
      }
      const shard = this.nextShard;
      this.nextShard = (this.nextShard + 1) % COUNTER_SHARDS;
      try {
        await transactWrite(this.documents, this.transactItems(plan, shard), `recording ${findings.length} findings`);
        return plan.undecided;
      } catch (error) {
        // A concurrent writer moved a revision (or recorded the same fix): re-read and re-plan.
        if (!failedConditions(error) || attempt >= MAX_REPLANS) {
          throw new Error(`could not record ${findings.length} findings after ${attempt} attempts: ${(error as Error).message}`, { cause: error });
        }
        await sleep(backoffMs(attempt));
      }
    }
  }

  private transactItems(plan: RecordPlan, shard: number): TransactItem[] {
    const TableName = this.tableName;
    const states = plan.states.map(({ state, expectedRev }): TransactItem => ({
      Put: {
        TableName,
        Item: stateItem(state),
        ...(expectedRev === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: 'rev = :expected', ExpressionAttributeValues: { ':expected': expectedRev } }),
      },
    }));
    const history = plan.history.map(({ bucket, key, entry, sk }): TransactItem => ({
      Put: {
        TableName,
        // A fix has its own entry per intent; an overtaken fix shares its rev with the state it left alone.
        Item: { pk: objectPk(bucket, key), sk: sk ? fixHistorySk(sk) : `${historySk(entry.auditedAt, entry.rev)}${entry.overtaken ? '#fix' : ''}`, ...entry },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }));
    const counters = [...plan.counters].map(([sk, deltas]) => counterUpdate(TableName, { pk: COUNTERS_PK, sk: shardedCounterSk(sk, shard) }, deltas));
    // Every fix also goes to the remediation log the report's "recent remediations" reads.
    const remediations = plan.remediations.map(({ bucket, key, record }) => this.remediationLogItem(bucket, key, record));
    const deletes = plan.deletes.map(({ bucket, key, expectedRev }): TransactItem => ({
      Delete: {
        TableName,
        Key: { pk: objectPk(bucket, key), sk: STATE_SK },
        ConditionExpression: 'rev = :expected',
        ExpressionAttributeValues: { ':expected': expectedRev },
      },
    }));
    const intents = plan.closedIntents.map((intent) => this.closeIntentItem(intent));
    return [...states, ...deletes, ...history, ...remediations, ...intents, ...counters];
  }

  private remediationLogItem(bucket: string, key: string, record: RemediationRecord): TransactItem {
    const { at, ...rest } = record;
    return {
      Put: {
        TableName: this.tableName,
        Item: { pk: REMEDIATIONS_PK, sk: `${at}#${bucket}/${key}`, bucket, key, at, ...rest },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Removes an intent only if it is still the one read (a later fix may have begun since). */
  private closeIntentItem(intent: FixIntent): TransactItem {
    return {
      Delete: {
        TableName: this.tableName,
        Key: intentKey(intent.bucket, intent.key),
        ConditionExpression: 'attribute_not_exists(pk) OR id = :id',
        ExpressionAttributeValues: { ':id': intent.id },
      },
    };
  }

  /** The recorded states and open fix intents of the findings' objects: one consistent BatchGet. */
  private async previous(findings: Finding[]): Promise<{ states: Map<string, PreviousState>; intents: Map<string, FixIntent> }> {
    const objects = new Map(findings.map((f) => [objectId(f), f]));
    const keys = [...objects.values()].flatMap((f) => [{ pk: objectPk(f.bucket, f.key), sk: STATE_SK }, intentKey(f.bucket, f.key)]);
    const states = new Map<string, PreviousState>();
    const intents = new Map<string, FixIntent>();
    for (const item of await batchGet(this.documents, this.tableName, keys)) {
      if (item.sk === STATE_SK) {
        const state = fromStateItem(item);
        states.set(objectId(state), state);
      } else {
        const { pk: _pk, sk: _sk, ...intent } = item;
        const open = intent as unknown as FixIntent;
        intents.set(objectId(open), open);
      }
    }
    return { states, intents };
  }

  /** Writes a fix's intent before its S3 call: a crash after the call leaves it for the next audit. */
  async recordIntent(intent: FixIntent): Promise<void> {
    await withRetries('PutItem', () =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...intentKey(intent.bucket, intent.key), ...intent } })),
    );
  }

  /** Records a fix's outcome right after its S3 call: its history entry, the log, the intent closed. */
  async recordOutcome(intent: FixIntent, record: RemediationRecord): Promise<void> {
    const history: TransactItem = {
      Put: {
        TableName: this.tableName,
        Item: { pk: objectPk(intent.bucket, intent.key), sk: fixHistorySk(intent.id), ...fixHistoryEntry(intent, record) },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    try {
      await transactWrite(this.documents, [history, this.remediationLogItem(intent.bucket, intent.key, record), this.closeIntentItem(intent)]);
    } catch (error) {
      const failed = failedConditions(error);
      // A later audit already reconciled this intent (its history entry exists): nothing is missing.
      if (failed?.includes(0)) return;
      // Another fix of the object began since (its intent replaced ours): record ours, leave theirs.
      if (failed?.includes(2)) {
        await transactWrite(this.documents, [history, this.remediationLogItem(intent.bucket, intent.key, record)]).catch((again: unknown) => {
          if (!failedConditions(again)?.includes(0)) throw again;
        });
        return;
      }
      throw error;
    }
  }

  async recordKeys(keys: KeyLookup[], checkedAt: Date): Promise<void> {
    await batchPut(
      this.documents,
      this.tableName,
      keys.map((key) => ({ pk: KMSKEYS_PK, sk: key.arn, ...key, checkedAt: checkedAt.toISOString() })),
    );
  }

  async recordScan(run: ScanRun): Promise<void> {
    await withRetries('PutItem', () =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: { pk: SCANS_PK, sk: `${run.startedAt}#${run.id}`, ...run } })),
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
