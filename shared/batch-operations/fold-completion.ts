// Folds a finished Batch job back into the findings: each row of its completion report (manifest.json
// → result CSVs, streamed) becomes the object's fix outcome in its history — `fixed` by job J, or
// `batch-task-failed` with S3's error code — and the object is audited afresh (HeadObject, the normal
// audit and record path) so that its state and the counters follow.
//
// Idempotent: each object's outcome is one history item keyed by the job's intent id (written only if
// absent, with the remediation log entry and the intent's removal, many objects per transaction), and
// the state is written only on change. A rerun after a crash redoes what is missing and nothing twice; the job is
// marked folded only when every row is. A row whose audit meets weather (throttling, 5xx) is left for the
// next run: never a verdict.
//
// A job that Failed as a whole (manifest unreadable) has no report: every manifest line is folded as a
// failed task with the job's failure code.
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { JobDescriptor } from '@aws-sdk/client-s3-control';
import { parse } from 'csv-parse';
import { mapConcurrently } from '../audit/adaptive-concurrency.ts';
import { auditObjectInDetail, type AuditDependencies } from '../audit/audit-object.ts';
import { isTransient } from '../audit/audit-batch.ts';
import type { EncryptionSnapshot, Finding } from '../domain/finding.ts';
import type { BatchJobRecord, BatchJobStore } from '../findings/batch-job-store.ts';
import type { FindingsStore, FixIntent } from '../findings/store.ts';
import { rangedObjectBytes } from '../inventory/source.ts';
import { completionRow, decodeManifestKey, parseCompletionManifest, type TaskResult } from './job-files.ts';
import { batchIntentId, reportPrefixOf, taskRecord } from './job-rules.ts';

export interface FoldDependencies extends AuditDependencies {
  s3: S3Client;
  jobs: BatchJobStore;
  store: Pick<FindingsStore, 'record'>;
  concurrency?: number;
}

export interface FoldResult {
  succeeded: number;
  failed: number;
  /** Rows left for the next run (their audit met throttling or a 5xx). */
  deferred: number;
  folded: boolean;
}

const ROWS_PER_CHUNK = 100;

async function* csvRecords(body: Readable): AsyncIterable<string[]> {
  yield* body.pipe(parse({ relax_column_count: true, skip_empty_lines: true })) as AsyncIterable<string[]>;
}

/**
 * A report or manifest CSV by ranged GETs: one GET streamed at the fold's pace (a HeadObject and a
 * recording per chunk of rows) would sit idle until the socket timeout cut it.
 */
const objectBody = (s3: S3Client, bucket: string, key: string): Readable => Readable.from(rangedObjectBytes(s3, bucket, key));

/** The rows of the job's outcome: its completion report, or for a job that ran no task, its manifest. */
async function* taskRows(s3: S3Client, record: BatchJobRecord, job: JobDescriptor): AsyncIterable<TaskResult> {
  const base = `${reportPrefixOf(record.settings.prefix, record.bucket)}/job-${record.jobId}`;
  let top: string | undefined;
  try {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: record.settings.reportBucket, Key: `${base}/manifest.json` }));
    top = await Body!.transformToString();
  } catch (error) {
    // A job that failed or was cancelled before running a task writes no report.
    if ((error as Error).name !== 'NoSuchKey' || job.Status === 'Complete') throw error;
  }
  if (top !== undefined) {
    for (const result of parseCompletionManifest(top).Results) {
      let index = 0;
      for await (const cells of csvRecords(objectBody(s3, result.Bucket, result.Key))) yield completionRow(cells, index++);
    }
    return;
  }
  if (!record.manifest) return;
  const reason = job.FailureReasons?.[0];
  for await (const [bucket = '', key = '', versionId = ''] of csvRecords(objectBody(s3, record.manifest.bucket, record.manifest.key))) {
    yield {
      bucket,
      key: decodeManifestKey(key),
      ...(versionId ? { versionId } : {}),
      status: 'failed',
      errorCode: reason?.FailureCode ?? `Job${job.Status ?? 'Failed'}`,
      message: reason?.FailureReason ?? `the job is ${job.Status}: it ran no task`,
    };
  }
}

const snapshot = (finding: Finding): EncryptionSnapshot => ({
  ...(finding.mode ? { mode: finding.mode } : {}),
  ...(finding.kmsKeyArn ? { kmsKeyArn: finding.kmsKeyArn } : {}),
  bucketKeyEnabled: Boolean(finding.bucketKeyEnabled),
  ...(finding.versionId ? { versionId: finding.versionId } : {}),
  ...(finding.etag ? { etag: finding.etag } : {}),
});

/** The object's intent for this job, or — already closed, or replaced by a later fix — the same id rebuilt. */
function intentFor(record: BatchJobRecord, row: TaskResult, open: FixIntent | undefined): FixIntent {
  if (open?.batch?.recordId === record.recordId) return open;
  return {
    id: batchIntentId(record.createdAt, record.recordId),
    bucket: row.bucket,
    key: row.key,
    startedAt: record.createdAt,
    action: 'update-encryption',
    target: { mode: 'sse-kms', kmsKey: record.target.kmsKeyArn, bucketKey: record.target.bucketKey },
    before: { ...(row.versionId ? { versionId: row.versionId } : {}) },
    verdict: 'noncompliant',
    batch: { recordId: record.recordId },
  };
}

export async function foldJob(deps: FoldDependencies, record: BatchJobRecord, job: JobDescriptor): Promise<FoldResult> {
  const result: FoldResult = { succeeded: 0, failed: 0, deferred: 0, folded: false };
  const clock = deps.clock ?? (() => new Date());
  const jobId = record.jobId ?? '';
  const foldChunk = async (rows: TaskResult[]) => {
    const bucket = rows[0]!.bucket;
    const intents = await deps.jobs.intentsOf(bucket, rows.map((r) => r.key));
    const audited = await mapConcurrently(rows, deps.concurrency ?? 16, async (row) => {
      const { finding } = await auditObjectInDetail(deps, row.bucket, { key: row.key, size: 0 });
      if (isTransient(finding)) return undefined;
      // The task record describes the version the job changed: when that is no longer the current
      // one, only a HeadObject of that exact version says what it is now.
      if (!row.versionId || finding.versionId === row.versionId) return { row, finding, changed: finding };
      const exact = (await auditObjectInDetail(deps, row.bucket, { key: row.key, size: 0, isLatest: false }, row.versionId)).finding;
      return isTransient(exact) ? undefined : { row, finding, changed: exact };
    });
    const done = audited.filter((a): a is { row: TaskResult; finding: Finding; changed: Finding } => a !== undefined);
    result.deferred += rows.length - done.length;
    // The outcomes first (they close the intents), then the states: a crash between redoes only the states.
    await deps.jobs.recordOutcomes(
      done.map(({ row, changed }) => {
        const intent = intentFor(record, row, intents.get(row.key));
        return { intent, record: taskRecord(row, { jobId, before: intent.before, after: snapshot(changed), target: intent.target }, clock()) };
      }),
    );
    await deps.store.record(done.map((d) => d.finding));
    for (const { row } of done) result[row.status === 'succeeded' ? 'succeeded' : 'failed'] += 1;
  };
  let chunk: TaskResult[] = [];
  for await (const row of taskRows(deps.s3, record, job)) {
    // One bucket per chunk: the intents are read per bucket.
    if (chunk.length >= ROWS_PER_CHUNK || (chunk.length > 0 && chunk[0]!.bucket !== row.bucket)) {
      await foldChunk(chunk);
      chunk = [];
    }
    chunk.push(row);
  }
  if (chunk.length > 0) await foldChunk(chunk);
  if (result.deferred === 0) {
    await deps.jobs.update(record.recordId, 'created', {
      state: 'folded',
      status: job.Status,
      foldedAt: clock().toISOString(),
      succeeded: Number(job.ProgressSummary?.NumberOfTasksSucceeded ?? result.succeeded),
      failed: Number(job.ProgressSummary?.NumberOfTasksFailed ?? result.failed),
      ...(job.FailureReasons?.[0] ? { failureReason: `${job.FailureReasons[0].FailureCode}: ${job.FailureReasons[0].FailureReason}` } : {}),
    });
    result.folded = true;
  }
  return result;
}
