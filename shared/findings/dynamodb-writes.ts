// Every DynamoDB request of the findings table goes through here, with the one retry policy:
// throttling (ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded),
// 5xx, timeouts and dropped connections are retried with exponential backoff and full jitter, a
// bounded number of times, on top of the SDK's own attempts (whose client-wide retry quota runs dry
// under sustained throttling). A conditional check that fails is not weather: it is returned to the
// caller, who re-reads and re-plans.
//
// Transaction items are plain `{ Put | Update | Delete | ConditionCheck }` objects built by the
// callers; the IAM analysis of each bundle reads those keys to grant exactly the item actions sent.
import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  type BatchGetCommandInput,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type QueryCommandOutput,
  type ScanCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { isTransientServiceError } from '../aws/errors.ts';
import { backoffMs as backoff, retrying, type RetryPolicy } from '../aws/retry.ts';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
export type Item = Record<string, unknown>;
type Key = Record<string, unknown>;
/** An item as the document client reads it (attribute values unmarshalled). */
export type ReadItem = NonNullable<QueryCommandOutput['Items']>[number];

export type { RetryPolicy };

/** ≈ 30 s of backoff in the worst case before a write is given up (and the run says so). */
export const DYNAMODB_RETRY: RetryPolicy = { attempts: 12, baseMs: 50, capMs: 4_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Exponential backoff with full jitter. */
export const backoffMs = (attempt: number, policy: RetryPolicy = DYNAMODB_RETRY): number => backoff(attempt, policy);

/** Cancellation codes that say "try the same transaction again", not "your condition failed". */
const WEATHER_CANCELLATIONS = new Set(['None', 'TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/** A transaction cancelled only by conflicts and throttling: worth sending again as it is. */
function isWeatherCancellation(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).every((reason) => WEATHER_CANCELLATIONS.has(reason.Code ?? 'None'))
  );
}

/** Whether a transaction was cancelled because one of its conditions did not hold. */
export function failedConditions(error: unknown): number[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const failed = (error.CancellationReasons ?? []).flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
  return failed.length > 0 ? failed : undefined;
}

/** Runs one DynamoDB request, retrying weather (never a failed condition) with backoff and jitter. */
export function withRetries<T>(what: string, request: () => Promise<T>, policy: RetryPolicy = DYNAMODB_RETRY): Promise<T> {
  return retrying(`DynamoDB ${what}`, request, policy, (error) => isTransientServiceError(error) || isWeatherCancellation(error));
}

/** Every page of a paged read, from the input's start key on, following LastEvaluatedKey. */
async function* pagesOf<Input extends { ExclusiveStartKey?: Key }>(
  what: string,
  input: Input,
  read: (input: Input) => Promise<{ Items?: ReadItem[]; LastEvaluatedKey?: Key }>,
): AsyncGenerator<ReadItem[]> {
  let ExclusiveStartKey = input.ExclusiveStartKey;
  do {
    const page = await withRetries(what, () => read({ ...input, ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}) }));
    yield page.Items ?? [];
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
}

/** Every page of a Query (the input's Limit is the page size), each request under the one retry policy. */
export function queryPages(documents: DynamoDBDocumentClient, input: QueryCommandInput): AsyncGenerator<ReadItem[]> {
  return pagesOf('Query', input, (page) => documents.send(new QueryCommand(page)));
}

/** Every page of a Scan, each request under the one retry policy. */
export function scanPages(documents: DynamoDBDocumentClient, input: ScanCommandInput): AsyncGenerator<ReadItem[]> {
  return pagesOf('Scan', input, (page) => documents.send(new ScanCommand(page)));
}

/** Every item a Query matches, all its pages read, each request under the one retry policy. */
export async function queryAll(documents: DynamoDBDocumentClient, input: QueryCommandInput): Promise<ReadItem[]> {
  const items: ReadItem[] = [];
  for await (const page of queryPages(documents, input)) items.push(...page);
  return items;
}

/**
 * One transaction (at most 100 items); a cancellation by a failed condition reaches the caller.
 * Every attempt carries the same ClientRequestToken: TransactWriteItems is idempotent per token for
 * 10 minutes, so a retry of a transaction whose answer was lost (it was applied) succeeds without
 * applying it again, instead of failing its own conditions or adding its counter deltas twice.
 */
export async function transactWrite(documents: DynamoDBDocumentClient, items: TransactItem[], what = 'TransactWriteItems'): Promise<void> {
  if (items.length === 0) return;
  const ClientRequestToken = randomUUID();
  await withRetries(what, () => documents.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken })));
}

/** Reads items by key, following UnprocessedKeys (throttled reads) with the same backoff. */
export async function batchGet(documents: DynamoDBDocumentClient, tableName: string, keys: Key[], consistent = true): Promise<Item[]> {
  const found: Item[] = [];
  for (let start = 0; start < keys.length; start += 100) {
    let pending = keys.slice(start, start + 100);
    for (let attempt = 1; pending.length > 0; attempt++) {
      const input: BatchGetCommandInput = { RequestItems: { [tableName]: { Keys: pending, ConsistentRead: consistent } } };
      const result = await withRetries('BatchGetItem', () => documents.send(new BatchGetCommand(input)));
      found.push(...((result.Responses?.[tableName] ?? []) as Item[]));
      pending = (result.UnprocessedKeys?.[tableName]?.Keys ?? []) as Key[];
      if (pending.length > 0) {
        if (attempt >= DYNAMODB_RETRY.attempts) throw new Error(`BatchGetItem: ${pending.length} keys still unprocessed after ${attempt} attempts`);
        await sleep(backoffMs(attempt));
      }
    }
  }
  return found;
}

/** Puts items 25 at a time, following UnprocessedItems with the same backoff. */
export async function batchPut(documents: DynamoDBDocumentClient, tableName: string, items: Item[]): Promise<void> {
  for (let start = 0; start < items.length; start += 25) {
    let pending = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const result = await withRetries('BatchWriteItem', () =>
        documents.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } })),
      );
      pending = (result.UnprocessedItems?.[tableName] ?? []) as typeof pending;
      if (pending.length > 0) {
        if (attempt >= DYNAMODB_RETRY.attempts) throw new Error(`BatchWriteItem: ${pending.length} items still unprocessed after ${attempt} attempts`);
        await sleep(backoffMs(attempt));
      }
    }
  }
}

/** The one counter update: ADD each delta to its attribute of the item at `key`. */
export function counterUpdate(tableName: string, key: Key, deltas: Iterable<[string, number]>): TransactItem {
  const entries = [...deltas];
  return {
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: `ADD ${entries.map((_, i) => `#a${i} :d${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#a${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(entries.map(([, delta], i) => [`:d${i}`, delta])),
    },
  };
}
