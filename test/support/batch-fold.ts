// A Batch job that fixed objects, folded as sseguard folds one: the job recorded as a scan records it,
// its completion report written where and as S3 Batch Operations writes one (manifest.json naming one
// CSV of succeeded tasks), then foldJob over it.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { BatchTarget } from '../../shared/domain/batch-settings.ts';
import { foldJob, type FoldDependencies, type FoldResult } from '../../shared/batch-operations/fold-completion.ts';
import { reportPrefixOf } from '../../shared/batch-operations/job-rules.ts';
import type { BatchJobRecord } from '../../shared/findings/batch-job-store.ts';

export interface SucceededJob {
  recordId: string;
  jobId: string;
  bucket: string;
  /** Where the job's completion report goes. */
  reportBucket: string;
  target: BatchTarget;
  /** The manifest named versions (a versioned bucket). */
  versioned: boolean;
  /** The tasks S3 reports succeeded: a key, and the version the manifest pinned on a versioned bucket. */
  tasks: { key: string; versionId?: string }[];
}

/** Records the job, writes its completion report (every task succeeded) and folds it. */
export async function foldSucceededJob(deps: FoldDependencies, job: SucceededJob): Promise<{ record: BatchJobRecord; result: FoldResult }> {
  const record: BatchJobRecord = {
    recordId: job.recordId,
    runId: 'run-1',
    bucket: job.bucket,
    target: job.target,
    versioned: job.versioned,
    createdAt: new Date().toISOString(),
    state: 'created',
    settings: { accountId: '123456789012', roleArn: 'arn:aws:iam::123456789012:role/batch', reportBucket: job.reportBucket, prefix: 'sseguard-batch', priority: 10 },
    jobId: job.jobId,
  };
  const base = `${reportPrefixOf(record.settings.prefix, job.bucket)}/job-${job.jobId}`;
  // Bucket, Key (URL-encoded), VersionId, TaskStatus, HTTPStatusCode, ErrorCode, ResultMessage.
  const rows = job.tasks.map((task) => `${job.bucket},${encodeURIComponent(task.key)},${task.versionId ?? ''},succeeded,200,,Successful\n`);
  await deps.s3.send(new PutObjectCommand({ Bucket: job.reportBucket, Key: `${base}/results/succeeded.csv`, Body: rows.join('') }));
  const manifest = {
    Format: 'Report_CSV_20180820',
    ReportCreationDate: new Date().toISOString(),
    Results: [{ TaskExecutionStatus: 'succeeded', Bucket: job.reportBucket, MD5Checksum: '0', Key: `${base}/results/succeeded.csv` }],
    ReportSchema: 'Bucket, Key, VersionId, TaskStatus, HTTPStatusCode, ErrorCode, ResultMessage',
  };
  await deps.s3.send(new PutObjectCommand({ Bucket: job.reportBucket, Key: `${base}/manifest.json`, Body: JSON.stringify(manifest) }));
  await deps.jobs.create(record);
  const result = await foldJob(deps, record, { JobId: job.jobId, Status: 'Complete' });
  return { record, result };
}
