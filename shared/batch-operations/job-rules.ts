// Bulk fixes with S3 Batch Operations, the pure part: which objects may go to a job, how they are
// grouped into jobs, the job's idempotency token, the per-object record a completion-report row
// becomes, and the exit code of `sseguard jobs`. No I/O; jobs.ts carries it out.
//
//   object's plan                                   Batch
//   update-encryption, current version               a task of the job of its target (key, Bucket Key)
//   ... target key in another account than the job   blocked-key-other-account, no job
//   ... source not SSE-S3 / SSE-KMS                   refused (the planner never gives this; checked again)
//   copy, multipart-copy, blocked, none              the per-object path, as without --batch
//
// AWS rules relied on (S3 User Guide, "Update object encryption" with Batch Operations, and the S3
// API reference, UpdateObjectEncryption): the operation takes SSE-S3 or SSE-KMS sources only (not
// unencrypted, DSSE-KMS or SSE-C); the new encryption is SSE-KMS with a full key ARN, one per job
// (the job's ObjectEncryption is one key and one BucketKeyEnabled); "UpdateObjectEncryption requests
// that specify a customer-managed KMS key are restricted to KMS keys that are owned by the bucket
// owner's AWS account". S3 Control CreateJob: ClientRequestToken is 1-64 characters and makes the
// request idempotent; Priority is a whole number ≥ 0 (higher runs first).
import { createHash } from 'node:crypto';
import type { RemediationRecord } from '../domain/finding.ts';
import type { EncryptionSnapshot } from '../domain/encryption-snapshot.ts';
import type { BatchSettings, BatchTarget } from '../domain/batch-settings.ts';
import { isAtTarget, type RemediationPlan, type RemediationTarget } from '../remediation/fix-plan.ts';
import type { TaskResult } from './job-files.ts';

export const DEFAULT_BATCH_PRIORITY = 10;
export const DEFAULT_BATCH_PREFIX = 'sseguard-batch';

/** DescribeJob statuses after which a job changes nothing more (S3 User Guide, "Job statuses"). */
export const TERMINAL_JOB_STATUSES = ['Complete', 'Failed', 'Cancelled'] as const;
export const isTerminalJobStatus = (status: string | undefined): boolean => (TERMINAL_JOB_STATUSES as readonly string[]).includes(status ?? '');

const ACCOUNT = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;
const KEY_ARN_ACCOUNT = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:(\d{12}):key\//;

/** Problems with the settings, one line each; empty when a job can be created with them. */
export function batchSettingsProblems(settings: Partial<BatchSettings>): string[] {
  const problems: string[] = [];
  if (!settings.accountId) problems.push('the account the jobs run in is not set (SSEGUARD_ACCOUNT_ID, 12 digits)');
  else if (!ACCOUNT.test(settings.accountId)) problems.push(`SSEGUARD_ACCOUNT_ID is not a 12-digit account id: ${settings.accountId}`);
  if (!settings.roleArn) problems.push('--batch needs the role S3 Batch Operations assumes (--batch-role ARN or SSEGUARD_BATCH_ROLE_ARN)');
  else if (!ROLE_ARN.test(settings.roleArn)) problems.push(`--batch-role is not an IAM role ARN: ${settings.roleArn}`);
  if (!settings.reportBucket) problems.push('--batch needs a bucket for manifests and completion reports (--batch-report-bucket or SSEGUARD_BATCH_REPORT_BUCKET)');
  if (settings.priority !== undefined && !(Number.isInteger(settings.priority) && settings.priority >= 0 && settings.priority <= 2_147_483_647)) {
    problems.push(`--batch-priority must be a whole number from 0 to 2147483647, got ${settings.priority}`);
  }
  return problems;
}

export const accountOfKeyArn = (arn: string): string | undefined => KEY_ARN_ACCOUNT.exec(arn)?.[1];

export type BatchDecision =
  | { kind: 'per-object' }
  | { kind: 'batch'; target: BatchTarget }
  | { kind: 'refused'; outcome: 'blocked-key-other-account'; why: string; instruction: string };

/** Whether one object's plan goes to a Batch job, stays on the per-object path, or cannot be done. */
export function decideBatch(plan: RemediationPlan, accountId: string, isLatest: boolean | undefined): BatchDecision {
  // Noncurrent versions keep the per-object path: its in-place update needs no intent of the object's state.
  if (plan.action !== 'update-encryption' || isLatest === false) return { kind: 'per-object' };
  if (plan.from.mode !== 'sse-s3' && plan.from.mode !== 'sse-kms') return { kind: 'per-object' };
  const keyAccount = accountOfKeyArn(plan.kmsKeyArn);
  if (keyAccount !== accountId) {
    return {
      kind: 'refused',
      outcome: 'blocked-key-other-account',
      why: `the target key ${plan.kmsKeyArn} belongs to account ${keyAccount ?? '(unknown)'}, not to ${accountId}, the bucket owner's account the job runs in: UpdateObjectEncryption only takes keys of the bucket owner's account`,
      instruction: `name a key of account ${accountId} as the policy's target, or ask AWS Support to allow keys of other accounts in your organization`,
    };
  }
  return { kind: 'batch', target: { kmsKeyArn: plan.kmsKeyArn, bucketKey: plan.target.bucketKey } };
}

/** One job per bucket and target: the name of that group. */
export const batchGroupKey = (bucket: string, target: BatchTarget): string => `${bucket}|${target.kmsKeyArn}|${target.bucketKey ? 'bucket-key' : 'no-bucket-key'}`;

/** Where a job's manifest goes: under the prefix, by bucket and the job's record id. */
export const manifestKeyOf = (prefix: string, bucket: string, recordId: string): string => `${prefix.replace(/\/+$/, '')}/manifests/${bucket}/${recordId}.csv`;
export const reportPrefixOf = (prefix: string, bucket: string): string => `${prefix.replace(/\/+$/, '')}/reports/${bucket}`;

/**
 * CreateJob's ClientRequestToken: a SHA-256 (64 hex digits, the most the API takes) of the manifest's
 * content and location and of every job setting. A retry, or a rerun that resumes the same manifest,
 * sends the same token and gets the same job; another manifest (even with the same lines, in another
 * run) gets its own.
 */
export function clientRequestToken(input: {
  manifestSha256: string;
  manifestKey: string;
  target: BatchTarget;
  settings: Pick<BatchSettings, 'roleArn' | 'reportBucket' | 'priority'>;
}): string {
  const parts = [
    input.manifestSha256,
    input.manifestKey,
    input.target.kmsKeyArn,
    String(input.target.bucketKey),
    input.settings.roleArn,
    input.settings.reportBucket,
    String(input.settings.priority),
  ];
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** Every object of a job shares one fix-intent id: its one history entry per object, whoever writes it. */
export const batchIntentId = (createdAt: string, recordId: string): string => `${createdAt}#batch-${recordId}`;

/** What a completion-report row does to the object's history. */
export function taskRecord(
  row: TaskResult,
  job: { jobId: string; before: EncryptionSnapshot; after?: EncryptionSnapshot; target?: RemediationTarget },
  at: Date,
): RemediationRecord {
  // A task S3 reports done is fixed only when a HeadObject of the version it changed shows the target.
  const after = job.after;
  const verified = !job.target || (after?.mode !== undefined && isAtTarget({ mode: after.mode, kmsKeyArn: after.kmsKeyArn, bucketKeyEnabled: Boolean(after.bucketKeyEnabled) }, job.target));
  if (row.status === 'succeeded' && !verified) {
    return {
      action: 'update-encryption',
      outcome: 'unverified',
      at: at.toISOString(),
      before: job.before,
      ...(after ? { after } : {}),
      detail: `S3 Batch Operations job ${job.jobId} reported the task done, but HeadObject of version ${row.versionId ?? 'null'} shows ${after?.mode ?? 'no object'}${after?.kmsKeyArn ? ` with ${after.kmsKeyArn}` : ''}, not the target`,
      batchJobId: job.jobId,
    };
  }
  if (row.status === 'succeeded') {
    return {
      action: 'update-encryption',
      outcome: 'fixed',
      at: at.toISOString(),
      before: job.before,
      ...(job.after ? { after: job.after } : {}),
      detail: `updated in place by S3 Batch Operations job ${job.jobId}`,
      batchJobId: job.jobId,
    };
  }
  const code = row.errorCode ?? 'UnknownError';
  return {
    action: 'update-encryption',
    outcome: 'batch-task-failed',
    at: at.toISOString(),
    before: job.before,
    ...(job.after ? { after: job.after } : {}),
    detail: `S3 Batch Operations job ${job.jobId}: the task failed with ${row.httpStatus ?? '-'} ${code}: ${row.message}; the next scan plans the object again`,
    batchJobId: job.jobId,
    errorCode: code,
  };
}

export interface JobTally {
  /** Created and not yet terminal, or not yet created, or terminal but not yet folded. */
  open: number;
  failedTasks: number;
}

/** `sseguard jobs` exit code: 2 while any job is open or unfolded, else 1 when a task failed, else 0. */
export const jobsExitCode = (tally: JobTally): number => (tally.open > 0 ? 2 : tally.failedTasks > 0 ? 1 : 0);
