// `sseguard jobs`: the S3 Batch Operations jobs `scan --remediate --batch` recorded, with DescribeJob's
// status and progress. A job whose manifest was uploaded but whose CreateJob was not answered is created
// now (same token: never a second job); a finished job not yet folded is folded into the findings
// (shared/batch-operations/fold-completion.ts). --wait polls with backoff until every job is finished and folded.
import type { Writable } from 'node:stream';
import { ConfigError, type Config } from '#shared/config.ts';
import { BatchJobStore, type BatchJobRecord } from '#shared/findings/batch-job-store.ts';
import { foldJob, type FoldDependencies } from '#shared/batch-operations/fold-completion.ts';
import { describeJob, submitJob } from '#shared/batch-operations/jobs.ts';
import { isTerminalJobStatus, jobsExitCode } from '#shared/batch-operations/job-rules.ts';
import { createS3ControlClient } from '#shared/batch-operations/s3-control.ts';
import { createRuntime, scanDependencies } from '#shared/runtime.ts';
import { policyIdOf, type PolicyId } from '#shared/domain/policy-identity.ts';
import type { ResolvedPolicy } from '#shared/domain/policy.ts';
import { renderTable } from '../output/format.ts';
import { write } from '../output/stream.ts';

export interface JobsCommandOptions {
  bucket?: string;
  wait: boolean;
  /** Seconds --wait may take. */
  timeout: number;
  policy?: string;
  json: boolean;
}

export interface JobView {
  recordId: string;
  jobId?: string;
  bucket: string;
  targetKey: string;
  bucketKey: boolean;
  objects: number;
  manifest?: string;
  /** sseguard's state of the job (collecting, manifest-written, created, folded, abandoned). */
  state: BatchJobRecord['state'];
  /** DescribeJob's status. */
  status?: string;
  total?: number;
  succeeded?: number;
  failed?: number;
  failureReason?: string;
  /** Rows this run could not fold yet (throttled audits): folded by the next run. */
  deferred?: number;
  /** The policy the job was created under: its report is folded under it. */
  policy?: PolicyId;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Open: a job S3 has or will have whose outcome is not yet in the findings. */
const isOpen = (view: JobView) => view.state === 'manifest-written' || view.state === 'created';

export async function jobsCommand(config: Config, options: JobsCommandOptions, out: Writable = process.stdout): Promise<number> {
  // No account needed here: each job record carries the account it was created in (scan --batch
  // took it from SSEGUARD_ACCOUNT_ID or STS GetCallerIdentity).
  const runtime = createRuntime(config);
  const jobs = new BatchJobStore(runtime.clients.documents, config.table);
  const control = createS3ControlClient(config);
  let foldDeps: FoldDependencies | undefined;
  const foldDependencies = async (): Promise<FoldDependencies> => {
    foldDeps ??= { ...(await scanDependencies(runtime, options.policy)), s3: runtime.clients.s3, jobs, store: runtime.store };
    return foldDeps;
  };
  /** A job is folded under the policy it was created under (stored by its hash), not the default or --policy. */
  const storedPolicies = new Map<string, Promise<ResolvedPolicy | undefined>>();
  const foldDependenciesFor = async (record: BatchJobRecord): Promise<FoldDependencies> => {
    const base = await foldDependencies();
    if (!record.policy || record.policy.hash === policyIdOf(base.policy).hash) return base;
    const { hash } = record.policy;
    if (!storedPolicies.has(hash)) storedPolicies.set(hash, runtime.store.policyByHash(hash));
    const policy = await storedPolicies.get(hash)!;
    if (!policy) throw new ConfigError(`job ${record.jobId ?? record.recordId} was created under policy ${hash}, which table ${config.table} does not hold: pass that policy with --policy`);
    return { ...base, policy };
  };

  const pass = async (): Promise<JobView[]> => {
    const views: JobView[] = [];
    for (let record of await jobs.list(options.bucket)) {
      const view: JobView = {
        recordId: record.recordId,
        bucket: record.bucket,
        targetKey: record.target.kmsKeyArn,
        bucketKey: record.target.bucketKey,
        objects: record.objects ?? 0,
        state: record.state,
        ...(record.manifest ? { manifest: `s3://${record.manifest.bucket}/${record.manifest.key}` } : {}),
        ...(record.jobId ? { jobId: record.jobId } : {}),
        ...(record.status ? { status: record.status } : {}),
        ...(record.succeeded === undefined ? {} : { succeeded: record.succeeded, failed: record.failed ?? 0, total: record.succeeded + (record.failed ?? 0) }),
        ...(record.failureReason ? { failureReason: record.failureReason } : {}),
        ...(record.policy ? { policy: record.policy } : {}),
      };
      views.push(view);
      if (record.state === 'manifest-written') {
        record = await submitJob({ jobs, control }, record);
        Object.assign(view, { state: record.state, jobId: record.jobId });
      }
      if (record.state !== 'created') continue;
      const job = await describeJob(control, record);
      if (!job) continue;
      const progress = job.ProgressSummary;
      Object.assign(view, {
        status: job.Status,
        total: progress?.TotalNumberOfTasks ?? 0,
        succeeded: progress?.NumberOfTasksSucceeded ?? 0,
        failed: progress?.NumberOfTasksFailed ?? 0,
        ...(job.FailureReasons?.[0] ? { failureReason: `${job.FailureReasons[0].FailureCode}: ${job.FailureReasons[0].FailureReason}` } : {}),
      });
      if (!isTerminalJobStatus(job.Status)) continue;
      const folded = await foldJob(await foldDependenciesFor(record), record, job);
      if (folded.folded) view.state = 'folded';
      else view.deferred = folded.deferred;
    }
    return views;
  };

  const deadline = Date.now() + options.timeout * 1000;
  let views = await pass();
  let timedOut = false;
  for (let attempt = 0; options.wait && views.some(isOpen); attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) {
      timedOut = true;
      break;
    }
    await sleep(Math.min(left, 1000 * 2 ** Math.min(attempt, 5)));
    views = await pass();
  }
  const tally = { open: views.filter(isOpen).length, failedTasks: views.reduce((n, v) => n + (v.state === 'folded' ? (v.failed ?? 0) : 0), 0) };
  const exitCode = jobsExitCode(tally);
  if (options.json) {
    await write(out, `${JSON.stringify({ jobs: views, open: tally.open, failedTasks: tally.failedTasks, ...(timedOut ? { timedOut: true } : {}), exitCode })}\n`);
    return exitCode;
  }
  const lines = [
    views.length === 0
      ? 'No S3 Batch Operations jobs recorded.'
      : renderTable(
          ['job', 'bucket', 'target key', 'objects', 'status', 'succeeded', 'failed', 'state'],
          views.map((v) => [v.jobId ?? '-', v.bucket, v.targetKey, v.objects, v.status ?? '-', v.succeeded ?? '-', v.failed ?? '-', v.state]),
        ),
  ];
  for (const v of views.filter((v) => v.failureReason)) lines.push(`job ${v.jobId}: ${v.failureReason}`);
  for (const v of views.filter((v) => v.deferred)) lines.push(`job ${v.jobId}: ${v.deferred} objects could not be audited (throttled); run sseguard jobs again to fold them`);
  if (timedOut) lines.push(`Gave up waiting after ${options.timeout} s: ${tally.open} jobs are still running or not yet folded. Run sseguard jobs --wait again.`);
  await write(out, `${lines.join('\n')}\n`);
  return exitCode;
}
