// The findings table: one DynamoDB table, single-table design. Its shape is plain data so that
// `sseguard init`, the SST stack and the tests all build it from the same definition. Every key of
// every item is on this page:
//
//   pk                        sk                          what
//   OBJ#<bucket>/<key>        STATE                       current state of one object (indexed below)
//   OBJ#<bucket>/<key>        HIST#<auditedAt>#<rev>      append-only history of that object
//   OBJ#<bucket>/<key>        HIST#<startedAt>#FIX        what a fix did (one per fix intent)
//   OBJ#<bucket>/<key>        VERSION#<versionId>         a noncurrent version (not indexed; counted
//                                                         under noncurrent:* in the counters)
//   INTENTS#<bucket>          <sha256 of the key>         a fix under way: written before the S3 call,
//                                                         removed with its outcome; a crash leaves it
//                                                         for the next audit of the object to reconcile
//   COUNTERS                  <counter>#<shard>           counters kept up to date on write, where
//                                                         <counter> is ALL | BUCKET#<b> | KMSKEY#<arn> |
//                                                         ACCOUNT#<id> (findings that carry their account)
//   COUNTERS                  POSTURE                     buckets per posture verdict
//   KMSKEYS                   <key arn>                   last known facts about a KMS key
//   KEYACTIONS                <at>#<key arn>              what sseguard did to a KMS key (a deletion
//                                                         cancelled while objects depended on it)
//   SCANS                     <startedAt>#<id>            one item per scan run (the proof of coverage)
//   POLICIES                  <policy hash>               a normalised policy, content-addressed: what the
//                                                         hash in findings and Batch job records names
//   ACCOUNTRUNS               <startedAt>#<id>            one item per multi-account run: each account's
//                                                         coverage and every gap (account, Region, bucket, why)
//   REMEDIATIONS              <at>#<bucket>/<key>         every fix, newest last: the report's log
//   OUTBOX#<shard>            <at>#<id>                   a change waiting for delivery (outbox.ts)
//   FEED#<shard>              <recordedAt>#<id>           the same change, kept: GET /events (change-feed.ts)
//   BUCKET#<bucket>           POSTURE                     current posture of one bucket (indexed)
//   BUCKET#<bucket>           HIST#<auditedAt>#<rev>      history of that posture
//   BUCKET#<bucket>           CHANGE#<at>#<id>            a posture remediation, with what it replaced
//   SWEEP                     CHECKPOINT                  the sweep run in progress
//   SWEEPS                    <runId>                     one item per sweep run
//   SWEEP#<runId>             PAGE#<n>                    a sweep page counted (once per page)
//   BATCHINTENTS#<bucket>     <sha256 of the key>         an object that is a task of a Batch job: written
//                                                         before its manifest line, removed when the job's
//                                                         report is folded (apart from INTENTS#: a job can
//                                                         hold millions, which no recording must read)
//   JOBS                      <recordId>                  an S3 Batch Operations job sseguard made: its
//                                                         manifest, job id, state (collecting → manifest-
//                                                         written → created → folded, or abandoned)
//   SWEEP#<runId>             BUCKET#<bucket>             what covered that bucket in the run: an inventory
//                                                         report (manifest, date, files) or a listing, and why
//   INVENTORY#<bucket>        SWEPT                       the last inventory report a sweep sent for the bucket
//   INVENTORY#<bucket>        REPORT#<sha256 manifest>    one report's progress: data files audited by workers
//                                                         (filesDone of files), reconcileQueuedAt, reconciledAt
//   INVFILE#<sha256 manifest> <sha256 data file key>      one data file of that report audited (once per file)
//   INVFILE#<sha256 manifest> CHECKPOINT#<sha256 data file key>  how far the workers are through that data file:
//                                                         rowsDone (moved conditionally, slice by slice) and
//                                                         the row a continuation message was sent for,
//                                                         and a sample of its keys (partition bounds)
//   INVFILE#<sha256 manifest> RECONCILED#<partition>      one key range of that report reconciled (once each)
//   INVFILE#<sha256 manifest> RECONCILED#<partition>#SLICE#<n>  one slice of a key range's listed keys (an Athena
//                                                         result) reconciled (once each, with removed)
//   INVFILE#<sha256 manifest> RECONCILED#ABSENT#<page>    one page of the marks carried from the last verified
//                                                         report settled by that report (once each, with removed)
//   INVFILE#<sha256 manifest> ABSENT#<sha256 object key>  an object that report did not list and no HeadObject could
//                                                         say was gone (marked): the next report's diff settles it.
//                                                         One item per key, not a set on the report's item (400 KB)
//   INVFILE#<sha256 manifest> REMOVING#<step>#<sha256 object key>  an object a reconciling step (range, slice, page)
//                                                         removes, noted before the removal: a redelivery after a
//                                                         crash counts what its first delivery removed
//   ORGSWEEPS                 <runId>                     one Organization sweep run: the accounts in scope, when
//                                                         their messages were all sent
//   ORGSWEEP#<runId>          ACCOUNT#<id>                one account of the run: its Regions and buckets, or a gap and why
//   ORGSWEEP#<runId>          UNIT#<id>#<region>          one account × Region unit: its buckets in order, buckets done,
//                                                         pages, objects, verdicts, gaps (account, Region, bucket, why)
//   ORGSWEEP#<runId>          PAGE#<id>#<region>#<b>#<p>  one listing page of a unit audited and counted (once), and the
//                                                         unit's next step, and whether it was sent
//
// Indexes (sparse: only STATE and POSTURE items carry their keys): byVerdict, byBucket, byKmsKey.
// byVerdict and byKmsKey project the keys only (KEYS_ONLY): a re-write of a state that keeps its
// verdict and KMS key writes none of their entries (with ALL every write of the item rewrote each).
// Readers list keys through them and read the items from the table (reader.ts itemsNamedBy),
// re-checking each item against the index's key condition. byBucket projects ALL (see INDEXES).
import { createHash } from 'node:crypto';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const DEFAULT_TABLE_NAME = 'sseguard-findings';

/**
 * What each index holds of an item. byVerdict and byKmsKey hold its keys only: a state re-written
 * with the same verdict and key writes none of their entries. byBucket holds the whole item: every
 * reconciliation and full listing of a bucket reads it, and reading each of those states again by
 * key would cost more reads (0.5 RRU a state) than its entry's rewrite costs writes.
 */
export const INDEXES = {
  byVerdict: { pk: 'verdictPk', sk: 'verdictSk', projection: 'KEYS_ONLY' },
  byBucket: { pk: 'bucketPk', sk: 'bucketSk', projection: 'ALL' },
  byKmsKey: { pk: 'kmsKeyPk', sk: 'kmsKeySk', projection: 'KEYS_ONLY' },
} as const;
export type IndexName = keyof typeof INDEXES;

export function findingsTableDefinition(tableName: string): CreateTableCommandInput {
  const indexAttributes = Object.values(INDEXES).flatMap(({ pk, sk }) => [pk, sk]);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: ['pk', 'sk', ...indexAttributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    GlobalSecondaryIndexes: Object.entries(INDEXES).map(([name, { pk, sk, projection }]) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: pk, KeyType: 'HASH' },
        { AttributeName: sk, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: projection },
    })),
  };
}

// Bucket names cannot contain '/', so "<bucket>/<key>" names an object without ambiguity. Bucket names
// are unique across the accounts of a partition and key ARNs carry their account, so two accounts'
// objects and keys never share an item or an index partition: the account is an attribute, not a key.
export const objectPk = (bucket: string, key: string): string => `OBJ#${bucket}/${key}`;
export const STATE_SK = 'STATE';
export const historySk = (auditedAt: string, rev: number): string => `HIST#${auditedAt}#${String(rev).padStart(10, '0')}`;
export const COUNTERS_PK = 'COUNTERS';
/**
 * Each counter is kept in this many shard items, summed on read: concurrent writers (parallel
 * batches of a scan, many audit workers) then update different items instead of conflicting on
 * one hot item.
 */
export const COUNTER_SHARDS = 8;
export const shardedCounterSk = (counter: string, shard: number): string => `${counter}#${shard}`;
/** The counter a shard item belongs to (bucket names and key ARNs never contain '#'). */
export const counterOfShard = (sk: string): string => sk.replace(/#\d+$/, '');
export const counterSk = {
  all: 'ALL',
  bucket: (bucket: string) => `BUCKET#${bucket}`,
  kmsKey: (arn: string) => `KMSKEY#${arn}`,
  account: (id: string) => `ACCOUNT#${id}`,
};
export const KMSKEYS_PK = 'KMSKEYS';
export const KEYACTIONS_PK = 'KEYACTIONS';
export const keyActionSk = (at: string, keyArn: string): string => `${at}#${keyArn}`;
export const SCANS_PK = 'SCANS';
export const policyKey = (hash: string) => ({ pk: 'POLICIES', sk: hash });
export const ACCOUNT_RUNS_PK = 'ACCOUNTRUNS';
export const REMEDIATIONS_PK = 'REMEDIATIONS';
/**
 * Open fix intents live in one partition per bucket, so that recording a batch reads them with one
 * Query (empty but for a crash's leftovers) instead of one more item per object. The sort key is
 * the object key's SHA-256 (an S3 key alone can fill DynamoDB's 1 KB sort-key limit).
 */
export const intentsPk = (bucket: string): string => `INTENTS#${bucket}`;
export const intentKey = (bucket: string, key: string) => ({ pk: intentsPk(bucket), sk: createHash('sha256').update(key).digest('hex') });
/** One history item per fix intent: the fix's own write and a later reconciliation cannot both land. */
export const fixHistorySk = (startedAt: string): string => `HIST#${startedAt}#FIX`;

export const posturePk = (bucket: string): string => `BUCKET#${bucket}`;
export const POSTURE_SK = 'POSTURE';
export const POSTURE_COUNTER_SK = 'POSTURE';
export const postureChangeSk = (at: string, id: string): string => `CHANGE#${at}#${id}`;

export const SWEEP_CHECKPOINT_KEY = { pk: 'SWEEP', sk: 'CHECKPOINT' } as const;
export const SWEEPS_PK = 'SWEEPS';
export const sweepRunKey = (runId: string) => ({ pk: SWEEPS_PK, sk: runId });
export const sweepPageKey = (runId: string, page: number) => ({ pk: `SWEEP#${runId}`, sk: `PAGE#${String(page).padStart(8, '0')}` });
export const sweepCoverageKey = (runId: string, bucket: string) => ({ pk: `SWEEP#${runId}`, sk: `BUCKET#${bucket}` });
export const ORG_SWEEPS_PK = 'ORGSWEEPS';
export const orgSweepRunKey = (runId: string) => ({ pk: ORG_SWEEPS_PK, sk: runId });
export const orgSweepPk = (runId: string): string => `ORGSWEEP#${runId}`;
export const orgSweepAccountKey = (runId: string, account: string) => ({ pk: orgSweepPk(runId), sk: `ACCOUNT#${account}` });
export const orgSweepUnitKey = (runId: string, account: string, region: string) => ({ pk: orgSweepPk(runId), sk: `UNIT#${account}#${region}` });
export const orgSweepPageKey = (runId: string, account: string, region: string, bucketIndex: number, page: number) => ({
  pk: orgSweepPk(runId),
  sk: `PAGE#${account}#${region}#${String(bucketIndex).padStart(6, '0')}#${String(page).padStart(8, '0')}`,
});
export const versionSk = (versionId: string | undefined): string => `VERSION#${versionId ?? 'null'}`;

export const JOBS_PK = 'JOBS';
/** Record ids start with their creation time, so the JOBS partition reads oldest first. */
export const batchJobKey = (recordId: string) => ({ pk: JOBS_PK, sk: recordId });
export const batchIntentKey = (bucket: string, key: string) => ({ pk: `BATCHINTENTS#${bucket}`, sk: createHash('sha256').update(key).digest('hex') });
/** Manifest and data-file keys can each fill a sort key's 1 KB: they are named by their SHA-256. */
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
export const inventoryPk = (bucket: string): string => `INVENTORY#${bucket}`;
export const inventorySweptKey = (bucket: string) => ({ pk: inventoryPk(bucket), sk: 'SWEPT' });
export const inventoryReportKey = (bucket: string, manifestKey: string) => ({ pk: inventoryPk(bucket), sk: `REPORT#${sha256(manifestKey)}` });
export const inventoryFileKey = (manifestKey: string, dataFileKey: string) => ({ pk: `INVFILE#${sha256(manifestKey)}`, sk: sha256(dataFileKey) });
export const inventoryFileCheckpointKey = (manifestKey: string, dataFileKey: string) => ({ pk: `INVFILE#${sha256(manifestKey)}`, sk: `CHECKPOINT#${sha256(dataFileKey)}` });
export const inventoryPartitionKey = (manifestKey: string, partition: number) => ({ pk: `INVFILE#${sha256(manifestKey)}`, sk: `RECONCILED#${String(partition).padStart(6, '0')}` });
export const inventoryReportFilesPk = (manifestKey: string): string => `INVFILE#${sha256(manifestKey)}`;
export const INVENTORY_ABSENT_PREFIX = 'ABSENT#';
export const inventoryAbsentKey = (manifestKey: string, objectKey: string) => ({ pk: `INVFILE#${sha256(manifestKey)}`, sk: `${INVENTORY_ABSENT_PREFIX}${sha256(objectKey)}` });
export const inventoryRangeSliceKey = (manifestKey: string, partition: number, slice: number) => ({
  pk: `INVFILE#${sha256(manifestKey)}`,
  sk: `RECONCILED#${String(partition).padStart(6, '0')}#SLICE#${String(slice).padStart(8, '0')}`,
});
export const inventoryCarriedPageKey = (manifestKey: string, page: number) => ({ pk: `INVFILE#${sha256(manifestKey)}`, sk: `RECONCILED#ABSENT#${String(page).padStart(8, '0')}` });
/** A reconciling step's removals, one item per object key: `step` names the range, slice or page (P3, A3.1, D2, C0; its prefix ends with `#`, so P1 holds no P12). */
export const inventoryRemovingPrefix = (step: string): string => `REMOVING#${step}#`;
export const inventoryRemovingKey = (manifestKey: string, step: string, objectKey: string) => ({ pk: `INVFILE#${sha256(manifestKey)}`, sk: `${inventoryRemovingPrefix(step)}${sha256(objectKey)}` });
