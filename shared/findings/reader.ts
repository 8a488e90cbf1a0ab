// Read side of the findings table: the item codecs, the summary from the counters (never a table
// scan), listings through the indexes and an object's history. No write path: the report API
// bundles this module alone, and its role can only read.
import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { RemediationRecord } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';
import type { Counts, FindingFilter, HistoryEntry, StoredFinding, Summary } from './store.ts';
import type { PolicyId } from '../domain/policy-identity.ts';
import { batchGet, queryPages, scanPages } from './dynamodb-writes.ts';
import { COUNTERS_PK, INDEXES, KMSKEYS_PK, REMEDIATIONS_PK, STATE_SK, counterOfShard, counterSk, objectPk, type IndexName } from './table.ts';

export type Item = Record<string, unknown>;

/**
 * The table's items an index page names, in the page's (index key) order. byVerdict and byKmsKey
 * project keys only (table.ts), so a listing through them reads its items by key, by BatchGetItem under the one retry
 * policy, eventually consistent as the index itself is. The index is read before the items: an
 * item deleted since is left out, and so is one whose key in this index moved since (a verdict
 * changed): a listing never returns an item the index's key condition no longer holds for.
 */
export async function itemsNamedBy(documents: DynamoDBDocumentClient, tableName: string, index: IndexName, entries: Item[]): Promise<Item[]> {
  // An index that projects ALL already named whole items.
  if (entries.length === 0 || INDEXES[index].projection === 'ALL') return entries;
  const { pk, sk } = INDEXES[index];
  const id = (item: Item) => `${String(item.pk)}\u0000${String(item.sk)}`;
  const items = await batchGet(documents, tableName, entries.map((entry) => ({ pk: entry.pk, sk: entry.sk })), false);
  const byId = new Map(items.map((item) => [id(item), item]));
  return entries.flatMap((entry) => {
    const item = byId.get(id(entry));
    return item !== undefined && item[pk] === entry[pk] && item[sk] === entry[sk] ? [item] : [];
  });
}

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
  const noncurrent = { objects: Number(item['noncurrent:objects'] ?? 0), bytes: Number(item['noncurrent:bytes'] ?? 0), verdicts: {} as Partial<Record<Verdict, number>> };
  for (const [name, value] of Object.entries(item)) {
    if (typeof value !== 'number' || value === 0) continue;
    if (name.startsWith('verdict:')) counts.verdicts[name.slice(8) as Verdict] = value;
    if (name.startsWith('mode:')) counts.modes[name.slice(5) as keyof Counts['modes']] = value;
    if (name.startsWith('noncurrent:verdict:')) noncurrent.verdicts[name.slice(19) as Verdict] = value;
  }
  if (noncurrent.objects !== 0 || Object.keys(noncurrent.verdicts).length > 0) counts.noncurrent = noncurrent;
  return counts;
}

export function addCounts(into: Counts, more: Counts): Counts {
  into.objects += more.objects;
  into.bytes += more.bytes;
  if (more.noncurrent) {
    const noncurrent = (into.noncurrent ??= { objects: 0, bytes: 0, verdicts: {} });
    noncurrent.objects += more.noncurrent.objects;
    noncurrent.bytes += more.noncurrent.bytes;
    for (const [verdict, n] of Object.entries(more.noncurrent.verdicts)) {
      noncurrent.verdicts[verdict as Verdict] = (noncurrent.verdicts[verdict as Verdict] ?? 0) + (n ?? 0);
    }
  }
  for (const [verdict, n] of Object.entries(more.verdicts)) {
    into.verdicts[verdict as Verdict] = (into.verdicts[verdict as Verdict] ?? 0) + (n ?? 0);
  }
  for (const [mode, n] of Object.entries(more.modes)) {
    const key = mode as keyof Counts['modes'];
    into.modes[key] = (into.modes[key] ?? 0) + (n ?? 0);
  }
  return into;
}

/** Items per page of the reader's listings: the report streams them a page at a time. */
export const READ_PAGE_SIZE = 1000;

export class FindingsTableReader {
  constructor(
    protected readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  protected async *queryItems(input: Omit<QueryCommandInput, 'TableName'>): AsyncIterable<Item[]> {
    yield* queryPages(this.documents, { TableName: this.tableName, ...input, Limit: READ_PAGE_SIZE });
  }

  /** Every item of one partition (counters, key facts, runs, key actions). */
  async allItems(pk: string): Promise<Item[]> {
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
      else if (counter.startsWith('ACCOUNT#')) (summary.accounts ??= {})[counter.slice(8)] = counts;
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
      // Account, Region and (with a key) the verdict are attributes the index does not hold: checked
      // on the items read (a bucket's account never changes).
      const attributeFilters = [
        ...(filter.kmsKeyArn && filter.verdict ? [['verdict', filter.verdict] as const] : []),
        ...(filter.account ? [['account', filter.account] as const] : []),
        ...(filter.region ? [['region', filter.region] as const] : []),
      ];
      // A range of keys (byBucket only): one bound in the key condition, the other where the sorted pages pass it.
      const range = index === 'byBucket' ? filter.keyRange : undefined;
      const sortCondition = range?.from ? ' AND #sk >= :from' : range?.to !== undefined ? ' AND #sk < :to' : '';
      for await (const page of this.queryItems({
        IndexName: index,
        KeyConditionExpression: `#pk = :pk${sortCondition}`,
        ExpressionAttributeNames: { '#pk': INDEXES[index].pk, ...(sortCondition ? { '#sk': INDEXES[index].sk } : {}) },
        ExpressionAttributeValues: {
          ':pk': partition,
          ...(range?.from ? { ':from': range.from } : range?.to !== undefined && sortCondition ? { ':to': range.to } : {}),
        },
      })) {
        const to = range?.to;
        const inRange = to === undefined ? page : page.filter((item) => Buffer.compare(Buffer.from(String(item[INDEXES.byBucket.sk])), Buffer.from(to)) < 0);
        const items = (await itemsNamedBy(this.documents, this.tableName, index, inRange)).filter((item) => attributeFilters.every(([name, value]) => item[name] === value));
        if (items.length > 0) yield items.map(fromStateItem);
        // Pages come in key order: once one passes the range's end, the rest do too.
        if (inRange.length < page.length) break;
      }
    }
  }

  /**
   * Every item of every object (states, history entries, noncurrent versions), removed objects'
   * history included: what an evidence pack reconstructs the population from. A table scan, made
   * only by `sseguard evidence`, never by the report's listings.
   */
  async *objectItems(): AsyncIterable<Item[]> {
    yield* scanPages(this.documents, { TableName: this.tableName, Limit: READ_PAGE_SIZE, FilterExpression: 'begins_with(pk, :obj)', ExpressionAttributeValues: { ':obj': 'OBJ#' } });
  }

  /**
   * The fixes on record, oldest first: the remediation log, written in the same transaction as each
   * fix's history entry (one Query of its partition, never a read of every object's history).
   */
  async *remediationLog(filter: { bucket?: string } = {}): AsyncIterable<{ bucket: string; key: string; record: RemediationRecord }[]> {
    for await (const page of this.queryItems({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': REMEDIATIONS_PK, ...(filter.bucket ? { ':bucket': filter.bucket } : {}) },
      ...(filter.bucket ? { FilterExpression: '#bucket = :bucket', ExpressionAttributeNames: { '#bucket': 'bucket' } } : {}),
    })) {
      const entries = page.map(({ pk: _pk, sk: _sk, bucket, key, ...record }) => ({ bucket: String(bucket), key: String(key), record: record as unknown as RemediationRecord }));
      if (entries.length > 0) yield entries;
    }
  }

  /**
   * The policies the recorded findings under s3://bucket/prefix were judged under: findings per
   * policy hash (`none`: recorded before findings named their policy). Reads the scope's states
   * through the bucket index, the policy attribute only.
   */
  async policiesIn(bucket: string, prefix = ''): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const { pk, sk } = INDEXES.byBucket;
    for await (const page of this.queryItems({
      IndexName: 'byBucket',
      KeyConditionExpression: prefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
      ExpressionAttributeNames: { '#pk': pk, '#policy': 'policy', ...(prefix ? { '#sk': sk } : {}) },
      ExpressionAttributeValues: { ':pk': bucket, ...(prefix ? { ':prefix': prefix } : {}) },
      // byBucket projects ALL: the policy attribute only, from the index itself.
      ProjectionExpression: '#policy',
    })) {
      for (const item of page) {
        const hash = (item.policy as PolicyId | undefined)?.hash ?? 'none';
        counts.set(hash, (counts.get(hash) ?? 0) + 1);
      }
    }
    return counts;
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
