// Read side of the findings table for the report: filtered, ordered, resumable listings of object
// states. Order is bucket (ascending) then object key (the index sort key): stable across pages.
//
// Index per bucket partition, most selective first:
//   kmsKey given   byKmsKey  `${kmsKeyArn}#${bucket}`   (verdict, mode: checked on the items read)
//   verdict given  byVerdict `${verdict}#${bucket}`     (mode: checked on the items read)
//   otherwise      byBucket  `${bucket}`                (mode: checked on the items read)
// A prefix is a key condition (begins_with on the sort key) in every case. Without a bucket the
// listing walks every bucket the counters know, in name order, one partition after another.
// The indexes hold keys only: each index page names its states, read from the table by key
// (reader.ts itemsNamedBy), at most a BatchGetItem's hundred at a time so that a page that is
// full early reads no more items than it returns.
import { GetCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { EncryptionMode } from '../domain/encryption.ts';
import type { Verdict } from '../domain/verdict.ts';
import { fromStateItem, itemsNamedBy, type Item } from './reader.ts';
import type { HistoryEntry, StoredFinding } from './store.ts';
import { INDEXES, STATE_SK, objectPk, type IndexName } from './table.ts';
import { queryAll, withRetries } from './dynamodb-writes.ts';

/** Where a listing stopped: the last object returned (listings are ordered by bucket, then key). */
export interface Position {
  bucket: string;
  key: string;
}

/** Mode filter values: the encryption modes, and `unknown` for objects that could not be read. */
export type ModeFilter = EncryptionMode | 'unknown';

export interface FindingsQuery {
  bucket?: string;
  prefix?: string;
  verdict?: Verdict;
  mode?: ModeFilter;
  kmsKeyArn?: string;
  account?: string;
  region?: string;
}

export interface FindingsPage {
  findings: StoredFinding[];
  /** Where the next page starts; absent on the last page. */
  next?: Position;
}

const MAX_QUERY_PAGE = 1000;
/** Keys one BatchGetItem reads: the items of an index page are read this many at a time. */
const ITEMS_PER_READ = 100;
export const positionOf = (finding: Pick<StoredFinding, 'bucket' | 'key'>): Position => ({ bucket: finding.bucket, key: finding.key });

export class FindingsReader {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
    /** Buckets holding findings; the store knows them from its counters (never a table scan). */
    private readonly recordedBuckets: () => Promise<string[]>,
  ) {}

  private async buckets(): Promise<string[]> {
    return (await this.recordedBuckets()).sort(compare);
  }

  /**
   * Pages of matching states after `after`, in order. `wanted` says how many more the caller can
   * use, so that an unfiltered query reads no more than it returns (plus one to know if more exist).
   */
  async *pages(query: FindingsQuery, after?: Position, wanted: () => number = () => MAX_QUERY_PAGE): AsyncGenerator<StoredFinding[]> {
    const all = query.bucket ? [query.bucket] : await this.buckets();
    const buckets = after ? all.filter((bucket) => compare(bucket, after.bucket) >= 0) : all;
    for (const bucket of buckets) {
      const startAfter = after && after.bucket === bucket ? after.key : undefined;
      yield* this.bucketPages(query, bucket, startAfter, wanted);
    }
  }

  /** One page of an index Query (keys only), under the one retry policy. */
  protected queryIndex(input: QueryCommandInput): Promise<QueryCommandOutput> {
    return withRetries('Query', () => this.documents.send(new QueryCommand(input)));
  }

  private async *bucketPages(query: FindingsQuery, bucket: string, startAfter: string | undefined, wanted: () => number) {
    const [index, partition] = partitionFor(query, bucket);
    const { pk, sk } = INDEXES[index];
    const names: Record<string, string> = { '#pk': pk };
    const values: Record<string, unknown> = { ':pk': partition };
    if (query.prefix) {
      names['#sk'] = sk;
      values[':prefix'] = query.prefix;
    }
    const matches = attributeFilter(query);
    const input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'> = {
      TableName: this.tableName,
      IndexName: index,
      KeyConditionExpression: query.prefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
    // A GSI start key names the item by its table key and its index key.
    let ExclusiveStartKey: Record<string, unknown> | undefined =
      startAfter === undefined ? undefined : { pk: objectPk(bucket, startAfter), sk: STATE_SK, [pk]: partition, [sk]: startAfter };
    do {
      // Filtered listings keep fewer items than the index names: list full pages of keys then (cheap:
      // keys only), and read the items a hundred at a time, as the caller takes them.
      const Limit = matches ? MAX_QUERY_PAGE : Math.max(1, Math.min(MAX_QUERY_PAGE, wanted()));
      const page = await this.queryIndex({ ...input, Limit, ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}) });
      const entries = (page.Items ?? []) as Item[];
      for (let start = 0; start < entries.length; start += ITEMS_PER_READ) {
        const items = await itemsNamedBy(this.documents, this.tableName, index, entries.slice(start, start + ITEMS_PER_READ));
        const kept = matches ? items.filter(matches) : items;
        if (kept.length > 0) yield kept.map(fromStateItem);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }

  /** One page of at most `limit` states after `after`; `next` is set only when more exist. */
  async page(query: FindingsQuery, limit: number, after?: Position): Promise<FindingsPage> {
    const found: StoredFinding[] = [];
    // One more than the page holds: whether it exists decides if there is a next page.
    for await (const page of this.pages(query, after, () => limit + 1 - found.length)) {
      for (const finding of page) {
        found.push(finding);
        if (found.length > limit) break;
      }
      if (found.length > limit) break;
    }
    if (found.length <= limit) return { findings: found };
    const findings = found.slice(0, limit);
    return { findings, next: positionOf(findings[findings.length - 1]!) };
  }

  /** Every matching state after `after`, one at a time, reading a page at a time. */
  async *each(query: FindingsQuery, after?: Position): AsyncGenerator<StoredFinding> {
    for await (const page of this.pages(query, after)) yield* page;
  }

  async state(bucket: string, key: string): Promise<StoredFinding | undefined> {
    const { Item: item } = await withRetries('GetItem', () => this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: objectPk(bucket, key), sk: STATE_SK } })));
    return item ? fromStateItem(item) : undefined;
  }

  /** The object's history, oldest first, including any `remediation` an entry carries. */
  async history(bucket: string, key: string): Promise<(HistoryEntry & { remediation?: unknown })[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :hist)',
      ExpressionAttributeValues: { ':pk': objectPk(bucket, key), ':hist': 'HIST#' },
    });
    return items.map(({ pk: _pk, sk: _sk, ...entry }) => entry as HistoryEntry & { remediation?: unknown });
  }

  /** The newest items of one partition (scan runs, remediation log), newest first. */
  async newest(partitionKey: string, limit: number): Promise<Item[]> {
    const page = await withRetries('Query', () =>
      this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': partitionKey },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (page.Items ?? []) as Item[];
  }

  /**
   * One page of a partition newest first (the remediation log), after the sort key `afterSk`;
   * `nextSk` is set only when an older item exists. Reads one item more than the page to know.
   */
  async newestPage(partitionKey: string, limit: number, afterSk?: string): Promise<{ items: Item[]; nextSk?: string }> {
    const page = await withRetries('Query', () =>
      this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: afterSk === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :after',
          ExpressionAttributeValues: { ':pk': partitionKey, ...(afterSk === undefined ? {} : { ':after': afterSk }) },
          ScanIndexForward: false,
          Limit: limit + 1,
        }),
      ),
    );
    const found = (page.Items ?? []) as Item[];
    const items = found.slice(0, limit);
    return found.length > limit ? { items, nextSk: String(items[items.length - 1]!.sk) } : { items };
  }
}

/**
 * What a listing asks of a state beyond its index's key: the verdict (with a key), account, Region
 * (a bucket's account never changes) and mode; undefined when it asks nothing more.
 */
function attributeFilter(query: FindingsQuery): ((item: Item) => boolean) | undefined {
  const checks: ((item: Item) => boolean)[] = [];
  if (query.kmsKeyArn && query.verdict) checks.push((item) => item.verdict === query.verdict);
  for (const name of ['account', 'region'] as const) {
    if (query[name]) checks.push((item) => item[name] === query[name]);
  }
  if (query.mode) checks.push(query.mode === 'unknown' ? (item) => item.mode === undefined : (item) => item.mode === query.mode);
  return checks.length > 0 ? (item) => checks.every((check) => check(item)) : undefined;
}

function partitionFor(query: FindingsQuery, bucket: string): [IndexName, string] {
  if (query.kmsKeyArn) return ['byKmsKey', `${query.kmsKeyArn}#${bucket}`];
  if (query.verdict) return ['byVerdict', `${query.verdict}#${bucket}`];
  return ['byBucket', bucket];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
