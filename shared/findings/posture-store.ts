// Bucket posture findings in the findings table, beside the object findings:
//
//   pk                 sk                          what
//   BUCKET#<bucket>    POSTURE                     current posture of one bucket (indexed below)
//   BUCKET#<bucket>    HIST#<auditedAt>#<rev>      append-only history of that posture
//   BUCKET#<bucket>    CHANGE#<at>#<id>            a remediation, with the value it replaced (rollback)
//   COUNTERS           POSTURE                     buckets per posture verdict, kept up to date on write
//
// The POSTURE item carries the byVerdict keys (POSTURE#<verdict>, bucket) and the byBucket keys
// (POSTURE, bucket): upper-case partitions no bucket name can take, so listing never scans.
// Each write is one transaction: the state conditional on the revision read, its history entry and
// the counter deltas commit together; a transaction lost to a concurrent writer is re-read and retried.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Verdict } from '../domain/verdict.ts';
import type { PostureFinding } from '../domain/posture-finding.ts';
import type { PostureChange } from '../domain/posture-change.ts';
import { backoffMs, counterUpdate, failedConditions, transactWrite, withRetries, type TransactItem } from './dynamodb-writes.ts';
import { postureOutboxItem, type OutboxDestination } from './outbox.ts';
import { outboxPuts } from './change-feed.ts';
import { COUNTERS_PK, INDEXES, POSTURE_COUNTER_SK, POSTURE_SK, historySk, postureChangeSk, posturePk } from './table.ts';
import { POSTURE_INDEX_PK, PostureReader, postureVerdictPk, type PostureHistoryEntry, type PostureSummary, type StoredPosture } from './posture-reader.ts';

export type { PostureHistoryEntry, PostureSummary, StoredPosture };
export { PostureReader };

export { POSTURE_COUNTER_SK, POSTURE_SK, posturePk };
const changeSk = postureChangeSk;

/** Re-reads and re-plans after a concurrent writer moved the revision; weather is retried below that. */
const MAX_REPLANS = 8;

/** What makes a new history entry: the verdict, the reasons, or the facts behind them changed. */
function changed(before: StoredPosture, after: PostureFinding): boolean {
  const gist = (p: PostureFinding) =>
    JSON.stringify([p.verdict, p.reasons.map((r) => r.code), p.defaultEncryption, p.sseC, p.policy, p.tls, p.unencryptedPuts]);
  return gist(before) !== gist(after);
}

export class PostureStore extends PostureReader {
  /** Whether a changed verdict also writes an outbox item (shared/findings/outbox.ts). */
  private readonly outbox: boolean;
  /** The destinations each outbox item is for (the writer's settings). */
  private readonly outboxDestinations: readonly OutboxDestination[];

  constructor(documents: DynamoDBDocumentClient, tableName: string, options: { outbox?: readonly OutboxDestination[] } = {}) {
    super(documents, tableName);
    this.outboxDestinations = options.outbox ?? [];
    this.outbox = this.outboxDestinations.length > 0;
  }

  /** Records a posture finding; one older than the stored one is ignored (returns false). */
  async record(finding: PostureFinding): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const before = await this.get(finding.bucket);
      if (before && before.auditedAt > finding.auditedAt) return false;
      // As recorded: nothing to write (the scan run record proves the bucket was seen).
      if (before && !changed(before, finding)) return true;
      const rev = (before?.rev ?? 0) + 1;
      const state: StoredPosture = { ...finding, firstSeen: before?.firstSeen ?? finding.auditedAt, lastSeen: finding.auditedAt, rev };
      const TableName = this.tableName;
      const items: TransactItem[] = [
        {
          Put: {
            TableName,
            Item: {
              ...state,
              pk: posturePk(finding.bucket),
              sk: POSTURE_SK,
              [INDEXES.byVerdict.pk]: postureVerdictPk(finding.verdict),
              [INDEXES.byVerdict.sk]: finding.bucket,
              [INDEXES.byBucket.pk]: POSTURE_INDEX_PK,
              [INDEXES.byBucket.sk]: finding.bucket,
            },
            ...(before
              ? { ConditionExpression: 'rev = :expected', ExpressionAttributeValues: { ':expected': before.rev } }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          },
        },
      ];
      if (!before || changed(before, finding)) {
        const entry: PostureHistoryEntry = {
          auditedAt: finding.auditedAt,
          rev,
          verdict: finding.verdict,
          reasons: finding.reasons,
          ...(before ? { previousVerdict: before.verdict } : {}),
        };
        items.push({
          Put: {
            TableName,
            Item: { pk: posturePk(finding.bucket), sk: historySk(finding.auditedAt, rev), ...entry },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
        // News for EventBridge: a verdict that changed, or a bucket first seen failing.
        const failing = finding.verdict !== 'compliant' && finding.verdict !== 'exempt';
        if (this.outbox && (before ? before.verdict !== finding.verdict : failing)) {
          const posture = {
            bucket: finding.bucket,
            verdict: finding.verdict,
            ...(before ? { previousVerdict: before.verdict } : {}),
            reasons: finding.reasons.map((r) => ({ code: r.code, message: r.message })),
          };
          items.push(...outboxPuts(TableName, postureOutboxItem(posture, `${finding.auditedAt}#${rev}`, finding.auditedAt), this.outboxDestinations));
        }
      }
      const deltas = new Map<string, number>();
      if (!before) deltas.set('buckets', 1);
      if (before?.verdict !== finding.verdict) {
        deltas.set(`verdict:${finding.verdict}`, 1);
        if (before) deltas.set(`verdict:${before.verdict}`, -1);
      }
      if (deltas.size > 0) {
        items.push(counterUpdate(TableName, { pk: COUNTERS_PK, sk: POSTURE_COUNTER_SK }, deltas));
      }
      try {
        await transactWrite(this.documents, items, `recording the posture of ${finding.bucket}`);
        return true;
      } catch (error) {
        // A concurrent writer moved the revision: re-read and re-plan.
        if (!failedConditions(error) || attempt >= MAX_REPLANS) throw new Error(`could not record the posture of ${finding.bucket}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
      }
    }
  }

  /**
   * Records one applied posture change. Its sort key holds the change's own id: a failed condition
   * means this very change is already recorded (a retry of a write whose answer was lost), not a
   * conflict.
   */
  async recordChange(change: PostureChange): Promise<void> {
    try {
      await withRetries('PutItem', () =>
        this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: posturePk(change.bucket), sk: changeSk(change.at, change.id), ...change },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** For the report API: bucket postures and their counts, in one call each. */
export const postureSummary = (store: PostureStore): Promise<PostureSummary> => store.summary();
export async function listPosture(store: PostureStore, filter: { verdict?: Verdict } = {}): Promise<StoredPosture[]> {
  const all: StoredPosture[] = [];
  for await (const page of store.list(filter)) all.push(...page);
  return all;
}
