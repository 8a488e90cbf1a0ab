// DynamoDB adapter of the findings store. Each batch of findings is recorded in one transaction:
// the object states (each conditional on the revision read), their history entries, the counter
// deltas and the fix intents they close commit together or not at all, so concurrent writers never
// lose an update and the counters always equal the states. A transaction cancelled by a concurrent
// writer is re-read and re-planned; throttling and 5xx are retried by dynamodb-writes.ts. A finding
// that matches what is recorded writes nothing.
import { CreateTableCommand, DescribeTableCommand, UpdateTableCommand, waitUntilTableExists, type TableDescription } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KeyLookup } from '../domain/encryption.ts';
import { normalisedPolicy, policyFromNormalised, policyIdOf, type PolicyId } from '../domain/policy-identity.ts';
import type { ResolvedPolicy } from '../domain/policy-model.ts';
import type { Finding, RemediationRecord } from '../domain/finding.ts';
import {
  backoffMs,
  batchGet,
  batchPut,
  counterUpdate,
  failedConditions,
  transactWrite,
  withRetries,
  type TransactItem,
} from './dynamodb-writes.ts';
import { chained } from './history-chain.ts';
import { fixHistoryEntry, objectId, sealedFixEntry, planRecord, planSize, planVersionRecord, versionId_, type PreviousState, type RecordPlan } from './record-decision.ts';
import type {
  FindingsStore,
  StoredFinding,
  FixIntent,
  FixLog,
  KeyAction,
  RecordResult,
  ScanRun,
  AccountsRun,
} from './store.ts';
import { FindingsTableReader, stateItem, fromStateItem } from './reader.ts';
import { keyOutboxItem, outboxItemsForHistory, runOutboxItem, type OutboxDestination, type OutboxItem } from './outbox.ts';
import { outboxPuts } from './change-feed.ts';
import {
  COUNTERS_PK,
  COUNTER_SHARDS,
  INDEXES,
  type IndexName,
  KEYACTIONS_PK,
  KMSKEYS_PK,
  REMEDIATIONS_PK,
  SCANS_PK,
  ACCOUNT_RUNS_PK,
  STATE_SK,
  findingsTableDefinition,
  fixHistorySk,
  historySk,
  intentKey,
  intentsPk,
  keyActionSk,
  objectPk,
  policyKey,
  shardedCounterSk,
  versionSk,
} from './table.ts';

const MAX_TRANSACTION_ITEMS = 100;
// A new object writes two items (state, history): 45 fill a transaction, leaving room for counters.
// With the outbox on it writes four (state, history, outbox item and its change-feed copy): 22 leave the same room.
const OBJECTS_PER_TRANSACTION = 45;
const OBJECTS_PER_TRANSACTION_WITH_OUTBOX = 22;
/** Key states that put every object encrypted under the key at risk. */
const AT_RISK_KEY_STATES = new Set(['Disabled', 'PendingDeletion', 'PendingReplicaDeletion', 'Unavailable']);
/** Re-reads and re-plans after a concurrent writer moved a revision. */
const MAX_REPLANS = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates the findings table if it does not exist; checks its key schema if it does. A table made
 * by a version whose indexes projected ALL has them made again with keys only ('migrated'): an
 * index's projection cannot be changed in place, so each is deleted and created (one per
 * UpdateTable), and its backfill waited for. While one is away, listings through it fail
 * (ValidationException), they never answer an empty list. A migration interrupted between the two
 * (an index of ours missing, the others there) is finished the same way.
 */
export async function ensureFindingsTable(dynamodb: DynamoDBClient, tableName: string): Promise<'created' | 'exists' | 'migrated'> {
  const definition = findingsTableDefinition(tableName);
  try {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    const indexes = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
    const missing = Object.keys(INDEXES).filter((name) => !indexes.has(name));
    const keys = (Table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
    const ours = missing.length < Object.keys(INDEXES).length;
    if (keys !== 'pk:HASH,sk:RANGE' || !ours) {
      throw new Error(
        `table ${tableName} exists but is not an sseguard findings table (keys ${keys || 'none'}` +
          `${missing.length ? `, missing indexes ${missing.join(', ')}` : ''})`,
      );
    }
    const stale = (Table?.GlobalSecondaryIndexes ?? []).filter((i) => i.IndexName! in INDEXES && i.Projection?.ProjectionType !== INDEXES[i.IndexName as IndexName].projection);
    for (const { IndexName } of stale) await remakeIndex(dynamodb, definition, IndexName!, 'delete first');
    for (const name of missing) await remakeIndex(dynamodb, definition, name, 'create only');
    return stale.length + missing.length > 0 ? 'migrated' : 'exists';
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

/** How long an emulator's index may take to go or to backfill (AWS: minutes to hours at scale: README). */
const INDEX_WAIT = { attempts: 600, everyMs: 500 };

/** Deletes one index (unless it is gone already) and creates it as the definition says, waiting for each step (DynamoDB: one index per UpdateTable). */
async function remakeIndex(dynamodb: DynamoDBClient, definition: ReturnType<typeof findingsTableDefinition>, indexName: string, how: 'delete first' | 'create only'): Promise<void> {
  const wanted = definition.GlobalSecondaryIndexes!.find((index) => index.IndexName === indexName)!;
  const tableName = definition.TableName!;
  const indexOf = (table: TableDescription | undefined) => table?.GlobalSecondaryIndexes?.find((index) => index.IndexName === indexName);
  const waitFor = async (what: string, done: (table: TableDescription | undefined) => boolean) => {
    for (let attempt = 0; attempt < INDEX_WAIT.attempts; attempt++) {
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE' && done(Table)) return;
      await sleep(INDEX_WAIT.everyMs);
    }
    throw new Error(`table ${tableName}: index ${indexName} not ${what} after ${(INDEX_WAIT.attempts * INDEX_WAIT.everyMs) / 1000} s`);
  };
  if (how === 'delete first') {
    await dynamodb.send(new UpdateTableCommand({ TableName: tableName, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: indexName } }] }));
    await waitFor('deleted', (table) => indexOf(table) === undefined);
  }
  await dynamodb.send(
    new UpdateTableCommand({
      TableName: tableName,
      AttributeDefinitions: definition.AttributeDefinitions,
      GlobalSecondaryIndexUpdates: [{ Create: { IndexName: indexName, KeySchema: wanted.KeySchema, Projection: wanted.Projection } }],
    }),
  );
  await waitFor('active', (table) => indexOf(table)?.IndexStatus === 'ACTIVE');
}

export { addCounts, countsFrom, fromStateItem, stateItem, type Item } from './reader.ts';

/** A fix's entry in the remediation log the report's "recent remediations" reads (written once). */
export function remediationLogPut(tableName: string, bucket: string, key: string, record: RemediationRecord): TransactItem {
  const { at, ...rest } = record;
  return {
    Put: {
      TableName: tableName,
      Item: { pk: REMEDIATIONS_PK, sk: `${at}#${bucket}/${key}`, bucket, key, at, ...rest },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** The state's chain head is still the one read (none read: it still has none). */
const headCondition = (head: string | undefined): string => (head ? 'chainHead = :readHead' : 'attribute_not_exists(chainHead)');
const headValue = (head: string | undefined) => (head ? { ':readHead': head } : {});

/** Moves the object's chain head to `head`, if the state is still at the revision and head read. */
export function chainHeadUpdate(tableName: string, state: StoredFinding, head: string): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: { pk: objectPk(state.bucket, state.key), sk: STATE_SK },
      UpdateExpression: 'SET chainHead = :head',
      ConditionExpression: `rev = :expected AND ${headCondition(state.chainHead)}`,
      ExpressionAttributeValues: { ':head': head, ':expected': state.rev, ...headValue(state.chainHead) },
    },
  };
}

const keyStateOf = (key: KeyLookup): string | undefined => (key.status === 'described' ? key.state : undefined);

/** The account and Region a finding names (another change adds them; absent, the caller's account). */
function accountOf(finding: Finding | undefined): { account?: string; region?: string } {
  const named = finding as (Finding & { account?: unknown; region?: unknown }) | undefined;
  return {
    ...(typeof named?.account === 'string' ? { account: named.account } : {}),
    ...(typeof named?.region === 'string' ? { region: named.region } : {}),
  };
}

function runSummaryOf(run: ScanRun & { bytes?: number; notAudited?: number }) {
  return {
    runId: run.id,
    bucket: run.bucket,
    prefix: run.prefix,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    objects: run.objects,
    bytes: run.bytes ?? 0,
    notAudited: run.notAudited ?? 0,
    verdicts: Object.fromEntries(Object.entries(run.verdicts).filter((entry): entry is [string, number] => typeof entry[1] === 'number')),
  };
}

export class DynamoFindingsStore extends FindingsTableReader implements FindingsStore, FixLog {
  // Writers start at different shards so that separate processes rarely pick the same one.
  private nextShard = Math.floor(Math.random() * COUNTER_SHARDS);

  /** Whether each change also writes an outbox item for Security Hub and EventBridge (shared/delivery/). */
  readonly outbox: boolean;
  /** The destinations each outbox item is for (the writer's settings); none: no outbox. */
  private readonly outboxDestinations: readonly OutboxDestination[];

  constructor(documents: DynamoDBDocumentClient, tableName: string, options: { outbox?: readonly OutboxDestination[] } = {}) {
    super(documents, tableName);
    this.outboxDestinations = options.outbox ?? [];
    this.outbox = this.outboxDestinations.length > 0;
  }

  async record(findings: Finding[]): Promise<RecordResult> {
    const undecided: Finding[] = [];
    const recheck: NonNullable<RecordResult['recheck']> = [];
    const current = findings.filter((f) => f.isLatest !== false);
    const noncurrent = findings.filter((f) => f.isLatest === false);
    const perTransaction = this.outbox ? OBJECTS_PER_TRANSACTION_WITH_OUTBOX : OBJECTS_PER_TRANSACTION;
    for (let start = 0; start < current.length; start += perTransaction) {
      const chunk = await this.recordChunk(current.slice(start, start + perTransaction));
      undecided.push(...chunk.undecided);
      recheck.push(...chunk.recheck);
    }
    for (let start = 0; start < noncurrent.length; start += perTransaction) {
      await this.recordVersions(noncurrent.slice(start, start + perTransaction));
    }
    return { undecided, recheck };
  }

  /** Noncurrent versions: their own items beside the object's state, written only on change. */
  private async recordVersions(findings: Finding[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const keys = [...new Map(findings.map((f) => [versionId_(f), { pk: objectPk(f.bucket, f.key), sk: versionSk(f.versionId) }])).values()];
      const previous = new Map<string, PreviousState>();
      for (const item of await batchGet(this.documents, this.tableName, keys)) {
        const state = fromStateItem(item);
        previous.set(versionId_(state), state);
      }
      const plan = planVersionRecord(findings, previous);
      const shard = this.nextShard;
      this.nextShard = (this.nextShard + 1) % COUNTER_SHARDS;
      const items: TransactItem[] = [
        ...plan.states.map(({ state, expectedRev }): TransactItem => {
          const { pk: _pk, sk: _sk, ...attributes } = { pk: '', sk: '', ...state };
          return {
            Put: {
              TableName: this.tableName,
              Item: { ...attributes, pk: objectPk(state.bucket, state.key), sk: versionSk(state.versionId) },
              ...(expectedRev === undefined
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : { ConditionExpression: 'rev = :expected', ExpressionAttributeValues: { ':expected': expectedRev } }),
            },
          };
        }),
        ...[...plan.counters].map(([sk, deltas]) => counterUpdate(this.tableName, { pk: COUNTERS_PK, sk: shardedCounterSk(sk, shard) }, deltas)),
        // A noncurrent version's change goes out too, as its own finding (one Security Hub Id per version).
        ...(this.outbox
          ? plan.states.flatMap(({ state }) => {
              const before = previous.get(versionId_(state));
              const { bucket, key, auditedAt, rev, verdict, mode, kmsKeyArn, versionId, etag, reasons, size } = state;
              const entry = { auditedAt, rev, verdict, mode, kmsKeyArn, versionId, etag, reasons, ...(before ? { previousVerdict: before.verdict } : {}) };
              const change = { bucket, key, entry, size, noncurrent: true, ...accountOf(state) };
              return outboxItemsForHistory(change, `${versionSk(versionId)}#${rev}`, false).flatMap((item) => outboxPuts(this.tableName, item, this.outboxDestinations));
            })
          : []),
      ];
      try {
        await transactWrite(this.documents, items, `recording ${findings.length} noncurrent versions`);
        return;
      } catch (error) {
        if (!failedConditions(error) || attempt >= MAX_REPLANS) throw error;
        await sleep(backoffMs(attempt));
      }
    }
  }

  /** Records one chunk; returns the findings whose order only a fresh HeadObject can tell, and those to recheck. */
  private async recordChunk(findings: Finding[]): Promise<Required<RecordResult>> {
    for (let attempt = 1; ; attempt++) {
      const { states, intents } = await this.previous(findings);
      const plan = planRecord(findings, states, intents);
      if (planSize(plan) + 2 * this.outboxItems(plan, findings).length > MAX_TRANSACTION_ITEMS) {
        // Many distinct buckets and keys in one batch: halve it until each half fits.
        const half = Math.ceil(findings.length / 2);
        const [first, second] = [await this.recordChunk(findings.slice(0, half)), await this.recordChunk(findings.slice(half))];
        return { undecided: [...first.undecided, ...second.undecided], recheck: [...first.recheck, ...second.recheck] };
      }
      const shard = this.nextShard;
      this.nextShard = (this.nextShard + 1) % COUNTER_SHARDS;
      try {
        const outbox = this.outboxItems(plan, findings).flatMap((item) => outboxPuts(this.tableName, item, this.outboxDestinations));
        await transactWrite(this.documents, [...this.transactItems(plan, shard), ...outbox], `recording ${findings.length} findings`);
        return { undecided: plan.undecided, recheck: plan.recheck };
      } catch (error) {
        // A concurrent writer moved a revision (or recorded the same fix): re-read and re-plan.
        if (!failedConditions(error) || attempt >= MAX_REPLANS) {
          throw new Error(`could not record ${findings.length} findings after ${attempt} attempts: ${(error as Error).message}`, { cause: error });
        }
        await sleep(backoffMs(attempt));
      }
    }
  }

  /** The history item's sort key, as transactItems writes it. */
  private static historyItemSk({ entry, sk }: RecordPlan['history'][number]): string {
    return sk ? fixHistorySk(sk) : `${historySk(entry.auditedAt, entry.rev)}${entry.overtaken ? '#fix' : ''}`;
  }

  /** One outbox item per change the plan records (none when the outbox is off or nothing changed). */
  private outboxItems(plan: RecordPlan, findings: Finding[]): OutboxItem[] {
    if (!this.outbox) return [];
    const byObject = new Map(findings.map((f) => [objectId(f), f]));
    return plan.history.flatMap((history) => {
      const finding = byObject.get(objectId(history));
      const change = {
        bucket: history.bucket,
        key: history.key,
        entry: history.entry,
        ...(finding && !history.entry.removed ? { size: finding.size } : {}),
        ...accountOf(finding),
      };
      // A fix's own entry (reconciled or overtaken) did not change what the object is now.
      return outboxItemsForHistory(change, DynamoFindingsStore.historyItemSk(history), Boolean(history.sk || history.entry.overtaken));
    });
  }

  private transactItems(plan: RecordPlan, shard: number): TransactItem[] {
    const TableName = this.tableName;
    const states = plan.states.map(({ state, expectedRev, expectedHead }): TransactItem => ({
      Put: {
        TableName,
        Item: stateItem(state),
        ...(expectedRev === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: `rev = :expected AND ${headCondition(expectedHead)}`, ExpressionAttributeValues: { ':expected': expectedRev, ...headValue(expectedHead) } }),
      },
    }));
    // The history grew but the state stays: its chain head moves, if it is still the one read.
    const chainHeads = plan.chainHeads.map(({ bucket, key, expectedRev, previousHead, head }): TransactItem => ({
      Update: {
        TableName,
        Key: { pk: objectPk(bucket, key), sk: STATE_SK },
        UpdateExpression: 'SET chainHead = :head',
        ConditionExpression: `rev = :expected AND ${headCondition(previousHead)}`,
        ExpressionAttributeValues: { ':head': head, ':expected': expectedRev, ...headValue(previousHead) },
      },
    }));
    const history = plan.history.map(({ bucket, key, entry, sk }): TransactItem => ({
      Put: {
        TableName,
        // A fix has its own entry per intent; an overtaken fix shares its rev with the state it left alone.
        Item: { pk: objectPk(bucket, key), sk: DynamoFindingsStore.historyItemSk({ bucket, key, entry, ...(sk ? { sk } : {}) }), ...entry },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    }));
    const counters = [...plan.counters].map(([sk, deltas]) => counterUpdate(TableName, { pk: COUNTERS_PK, sk: shardedCounterSk(sk, shard) }, deltas));
    // Every fix also goes to the remediation log the report's "recent remediations" reads.
    const remediations = plan.remediations.map(({ bucket, key, record }) => this.remediationLogItem(bucket, key, record));
    const deletes = plan.deletes.map(({ bucket, key, expectedRev, expectedHead }): TransactItem => ({
      Delete: {
        TableName,
        Key: { pk: objectPk(bucket, key), sk: STATE_SK },
        ConditionExpression: `rev = :expected AND ${headCondition(expectedHead)}`,
        ExpressionAttributeValues: { ':expected': expectedRev, ...headValue(expectedHead) },
      },
    }));
    const intents = plan.closedIntents.map((intent) => this.closeIntentItem(intent));
    return [...states, ...chainHeads, ...deletes, ...history, ...remediations, ...intents, ...counters];
  }

  private remediationLogItem(bucket: string, key: string, record: RemediationRecord): TransactItem {
    return remediationLogPut(this.tableName, bucket, key, record);
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
    const keys = [...objects.values()].map((f) => ({ pk: objectPk(f.bucket, f.key), sk: STATE_SK }));
    const states = new Map<string, PreviousState>();
    for (const item of await batchGet(this.documents, this.tableName, keys)) {
      const state = fromStateItem(item);
      states.set(objectId(state), state);
    }
    // Open intents of the batch's buckets: one Query each, empty unless a fix was interrupted.
    const intents = new Map<string, FixIntent>();
    for (const bucket of new Set([...objects.values()].map((f) => f.bucket))) {
      let start: Record<string, unknown> | undefined;
      do {
        const input = {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': intentsPk(bucket) },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        };
        const page = await withRetries('Query', () => this.documents.send(new QueryCommand(input)));
        for (const { pk: _pk, sk: _sk, ...item } of page.Items ?? []) {
          const open = item as unknown as FixIntent;
          if (objects.has(objectId(open))) intents.set(objectId(open), open);
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return { states, intents };
  }

  /** The recorded states of these objects of one bucket, by key: one consistent BatchGet per 100. */
  async statesOf(bucket: string, keys: string[]): Promise<Map<string, StoredFinding>> {
    const items = await batchGet(this.documents, this.tableName, [...new Set(keys)].map((key) => ({ pk: objectPk(bucket, key), sk: STATE_SK })));
    return new Map(items.map((item) => {
      const state = fromStateItem(item);
      return [state.key, state];
    }));
  }

  /** Writes a fix's intent before its S3 call: a crash after the call leaves it for the next audit. */
  async recordIntent(intent: FixIntent): Promise<void> {
    await withRetries('PutItem', () =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...intentKey(intent.bucket, intent.key), ...intent } })),
    );
  }

  /**
   * Records a fix's outcome right after its S3 call: its history entry, the log, the intent closed.
   * The entry is linked into the object's history chain after the state's head, which moves with it
   * (conditional on the revision and head read: a writer in between re-reads). An object without a
   * state has no chain to join: its entry is sealed alone.
   */
  async recordOutcome(intent: FixIntent, record: RemediationRecord): Promise<void> {
    let closeIntent = true;
    for (let attempt = 1; ; attempt++) {
      const [item] = await batchGet(this.documents, this.tableName, [{ pk: objectPk(intent.bucket, intent.key), sk: STATE_SK }]);
      const state = item ? fromStateItem(item) : undefined;
      const entry = state ? chained(objectId(intent), fixHistoryEntry(intent, record), state.chainHead) : sealedFixEntry(intent, record);
      const items: TransactItem[] = [
        {
          Put: {
            TableName: this.tableName,
            Item: { pk: objectPk(intent.bucket, intent.key), sk: fixHistorySk(intent.id), ...entry },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        this.remediationLogItem(intent.bucket, intent.key, record),
      ];
      const headAt = items.length;
      if (state) items.push(chainHeadUpdate(this.tableName, state, entry.hash!));
      const intentAt = items.length;
      if (closeIntent) items.push(this.closeIntentItem(intent));
      // The change goes out with its history entry (shared/findings/outbox.ts): the same transaction.
      if (this.outbox) {
        items.push(...outboxItemsForHistory({ bucket: intent.bucket, key: intent.key, entry }, fixHistorySk(intent.id), true).flatMap((item) => outboxPuts(this.tableName, item, this.outboxDestinations)));
      }
      try {
        await transactWrite(this.documents, items);
        return;
      } catch (error) {
        const failed = failedConditions(error);
        // A later audit already reconciled this intent (its history entry exists): nothing is missing.
        if (failed?.includes(0)) return;
        if (!failed || attempt >= MAX_REPLANS) throw error;
        // Another fix of the object began since (its intent replaced ours): record ours, leave theirs.
        if (closeIntent && failed.includes(intentAt)) closeIntent = false;
        // A writer moved the state or its head since it was read: read it again and link after it.
        if (!failed.includes(headAt) && !failed.includes(intentAt)) throw error;
        if (failed.includes(headAt)) await sleep(backoffMs(attempt));
      }
    }
  }

  async recordKeys(keys: KeyLookup[], checkedAt: Date): Promise<void> {
    if (this.outbox) {
      // A key newly at risk is a change, and so is one back from it (enabled again, its deletion
      // cancelled: its finding resolves): its facts and its outbox item are written together.
      const previous = new Map(
        (await batchGet(this.documents, this.tableName, keys.map((key) => ({ pk: KMSKEYS_PK, sk: key.arn })))).map((item) => [String(item.sk), item]),
      );
      const rest: KeyLookup[] = [];
      for (const key of keys) {
        const before = previous.get(key.arn);
        const state = keyStateOf(key);
        const previousState = before === undefined ? undefined : keyStateOf(before as unknown as KeyLookup);
        const wasAtRisk = AT_RISK_KEY_STATES.has(previousState ?? '');
        const atRisk = state !== undefined && AT_RISK_KEY_STATES.has(state);
        // Only a described key is known to be back: one we could not read says nothing of its state.
        const recovered = wasAtRisk && key.status === 'described' && state === 'Enabled';
        // Still at risk in another state (a deletion cancelled leaves the key Disabled): its finding
        // must no longer name a deletion date.
        const movedWhileAtRisk = atRisk && wasAtRisk && previousState !== state;
        if (!state || (atRisk ? wasAtRisk && !movedWhileAtRisk : !recovered)) {
          rest.push(key);
          continue;
        }
        const deletionDate = key.status === 'described' ? key.deletionDate : undefined;
        const item = keyOutboxItem(
          {
            keyArn: key.arn,
            keyState: state,
            ...(deletionDate ? { deletionDate: new Date(deletionDate).toISOString() } : {}),
            ...(before ? { previousState: previousState ?? 'unknown' } : {}),
          },
          checkedAt.toISOString(),
        );
        await transactWrite(this.documents, [
          { Put: { TableName: this.tableName, Item: { pk: KMSKEYS_PK, sk: key.arn, ...key, checkedAt: checkedAt.toISOString() } } },
          ...outboxPuts(this.tableName, item, this.outboxDestinations),
        ]).catch((error: unknown) => {
          // Another writer recorded the same change at the same instant: it is in the outbox once.
          if (!failedConditions(error)) throw error;
        });
      }
      keys = rest;
    }
    await batchPut(
      this.documents,
      this.tableName,
      keys.map((key) => ({ pk: KMSKEYS_PK, sk: key.arn, ...key, checkedAt: checkedAt.toISOString() })),
    );
  }

  async recordKeyAction(action: KeyAction): Promise<void> {
    await withRetries('PutItem', () =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: { pk: KEYACTIONS_PK, sk: keyActionSk(action.at, action.keyArn), ...action } })),
    );
  }

  /** Stores the normalised policy under its hash, once: findings and Batch jobs name it by that hash. */
  async recordPolicy(policy: ResolvedPolicy): Promise<PolicyId> {
    const id = policyIdOf(policy);
    try {
      await withRetries('PutItem', () =>
        this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...policyKey(id.hash), ...id, document: normalisedPolicy(policy) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (error) {
      // Content-addressed: the item there is this very document.
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
    return id;
  }

  /** A policy stored by its hash (recordPolicy), as the evaluator reads it. */
  async policyByHash(hash: string): Promise<ResolvedPolicy | undefined> {
    const { Item } = await withRetries('GetItem', () => this.documents.send(new GetCommand({ TableName: this.tableName, Key: policyKey(hash), ConsistentRead: true })));
    return typeof Item?.document === 'string' ? policyFromNormalised(Item.document) : undefined;
  }

  async recordScan(run: ScanRun): Promise<void> {
    const summary = this.outbox ? runSummaryOf(run) : undefined;
    if (summary) {
      await transactWrite(this.documents, [
        { Put: { TableName: this.tableName, Item: { pk: SCANS_PK, sk: `${run.startedAt}#${run.id}`, ...run } } },
        ...outboxPuts(this.tableName, runOutboxItem(summary), this.outboxDestinations),
      ]).catch((error: unknown) => {
        if (!failedConditions(error)) throw error;
      });
      return;
    }
    await withRetries('PutItem', () =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: { pk: SCANS_PK, sk: `${run.startedAt}#${run.id}`, ...run } })),
    );
  }

  async recordAccountsRun(run: AccountsRun): Promise<void> {
    await withRetries('PutItem', () =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: { pk: ACCOUNT_RUNS_PK, sk: `${run.startedAt}#${run.id}`, ...run } })),
    );
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
