// Read side of the bucket postures in the findings table (layout: posture-store.ts, table.ts): the
// current posture of a bucket, the counts per verdict, listings through the indexes, history and
// changes. No write path: the report API reads postures through this module alone.
import { GetCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Verdict } from '../domain/verdict.ts';
import type { PostureFinding } from '../domain/posture-finding.ts';
import type { PostureChange } from '../domain/posture-change.ts';
import { queryPages, withRetries } from './dynamodb-writes.ts';
import { READ_PAGE_SIZE, itemsNamedBy } from './reader.ts';
import { COUNTERS_PK, INDEXES, POSTURE_COUNTER_SK, POSTURE_SK, posturePk } from './table.ts';

export const POSTURE_INDEX_PK = 'POSTURE';
export const postureVerdictPk = (verdict: Verdict) => `POSTURE#${verdict}`;

export interface StoredPosture extends PostureFinding {
  firstSeen: string;
  lastSeen: string;
  rev: number;
}

export interface PostureHistoryEntry {
  auditedAt: string;
  rev: number;
  verdict: Verdict;
  reasons: PostureFinding['reasons'];
  previousVerdict?: Verdict;
}

export interface PostureSummary {
  buckets: number;
  verdicts: Partial<Record<Verdict, number>>;
}

type Item = Record<string, unknown>;
const INTERNAL = ['pk', 'sk', ...Object.values(INDEXES).flatMap(({ pk, sk }) => [pk, sk])];

export function stripInternal<T>(item: Item): T {
  const copy = { ...item };
  for (const name of INTERNAL) delete copy[name];
  return copy as unknown as T;
}

export class PostureReader {
  constructor(
    protected readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async get(bucket: string): Promise<StoredPosture | undefined> {
    const { Item } = await withRetries('GetItem', () =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: posturePk(bucket), sk: POSTURE_SK }, ConsistentRead: true })),
    );
    return Item ? stripInternal<StoredPosture>(Item) : undefined;
  }

  /** Buckets per posture verdict, from the counters item (never a scan). */
  async summary(): Promise<PostureSummary> {
    const { Item } = await withRetries('GetItem', () =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: { pk: COUNTERS_PK, sk: POSTURE_COUNTER_SK } })),
    );
    const summary: PostureSummary = { buckets: Number(Item?.buckets ?? 0), verdicts: {} };
    for (const [name, value] of Object.entries(Item ?? {})) {
      if (name.startsWith('verdict:') && typeof value === 'number' && value !== 0) summary.verdicts[name.slice(8) as Verdict] = value;
    }
    return summary;
  }

  protected async *query(input: Omit<QueryCommandInput, 'TableName'>): AsyncIterable<Item[]> {
    yield* queryPages(this.documents, { TableName: this.tableName, ...input, Limit: READ_PAGE_SIZE });
  }

  /**
   * Bucket postures in bucket-name order, optionally of one verdict, page by page: the index lists
   * their keys, the postures are read by key (a posture removed or moved to another verdict since
   * the index listed it is left out).
   */
  async *list(filter: { verdict?: Verdict } = {}): AsyncIterable<StoredPosture[]> {
    const [index, partition] = filter.verdict ? (['byVerdict', postureVerdictPk(filter.verdict)] as const) : (['byBucket', POSTURE_INDEX_PK] as const);
    for await (const page of this.query({
      IndexName: index,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': INDEXES[index].pk },
      ExpressionAttributeValues: { ':pk': partition },
    })) {
      const postures = await itemsNamedBy(this.documents, this.tableName, index, page);
      if (postures.length > 0) yield postures.map((item) => stripInternal<StoredPosture>(item));
    }
  }

  async history(bucket: string): Promise<PostureHistoryEntry[]> {
    return this.itemsWithPrefix<PostureHistoryEntry>(bucket, 'HIST#');
  }

  /** Remediations of a bucket, oldest first. */
  async changes(bucket: string): Promise<PostureChange[]> {
    return this.itemsWithPrefix<PostureChange>(bucket, 'CHANGE#');
  }

  private async itemsWithPrefix<T>(bucket: string, prefix: string): Promise<T[]> {
    const items: T[] = [];
    for await (const page of this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': posturePk(bucket), ':prefix': prefix },
      ConsistentRead: true,
    })) {
      for (const item of page) items.push(stripInternal<T>(item));
    }
    return items;
  }
}
