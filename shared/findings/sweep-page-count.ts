// The worker's one write to a sweep run: an audited page counted into its run, once however often
// the page was delivered. Apart from SweepRuns (sweep-runs.ts) so that the worker's bundle carries
// this function, not the sweep's checkpoint and coverage code.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Finding } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';
import { transactWrite, withRetries } from './dynamodb-writes.ts';
import { sweepPageKey, sweepRunKey } from './table.ts';

/** One page of a sweep run, as its audit message names it. */
export interface SweepPageRef {
  runId: string;
  page: number;
}

export async function countSweepPage(documents: DynamoDBDocumentClient, tableName: string, page: SweepPageRef, findings: Finding[]): Promise<void> {
  const { Item: run } = await withRetries('GetItem', () => documents.send(new GetCommand({ TableName: tableName, Key: sweepRunKey(page.runId) })));
  if (!run) return;
  const verdicts = new Map<Verdict, number>();
  for (const f of findings) verdicts.set(f.verdict, (verdicts.get(f.verdict) ?? 0) + 1);
  const entries = [...verdicts];
  try {
    await transactWrite(documents, [
      {
        Put: {
          TableName: tableName,
          Item: { ...sweepPageKey(page.runId, page.page), objects: findings.length },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Update: {
          TableName: tableName,
          Key: sweepRunKey(page.runId),
          UpdateExpression: `ADD pagesAudited :one, objectsAudited :objects${entries.map((_, i) => `, verdicts.#v${i} :n${i}`).join('')}`,
          ...(entries.length ? { ExpressionAttributeNames: Object.fromEntries(entries.map(([v], i) => [`#v${i}`, v])) } : {}),
          ExpressionAttributeValues: {
            ':one': 1,
            ':objects': findings.length,
            ...Object.fromEntries(entries.map(([, n], i) => [`:n${i}`, n])),
          },
        },
      },
    ]);
  } catch (error) {
    // The page marker exists: this page was counted on an earlier delivery.
    if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return;
    throw error;
  }
}
