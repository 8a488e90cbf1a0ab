// Bulk fixes with S3 Batch Operations on the emulator, through the CLI as a user runs it:
// `scan --remediate --batch` puts every UpdateObjectEncryption fix into one version-pinned job per
// target key (copies stay per object), `jobs --wait` folds the completion report into the findings.
// Crashes between the steps and S3 Control weather (via test/support/fault-proxy.ts) never lose an
// object, never make a second job, and never record a verdict.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateJobCommand, DescribeJobCommand, ListJobsCommand, S3ControlClient, UpdateJobStatusCommand } from '@aws-sdk/client-s3-control';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { BatchJobStore } from '../../shared/findings/batch-job-store.ts';
import { batchManifestCsv } from '../../shared/batch-operations/job-files.ts';
import { BatchCollector } from '../../shared/batch-operations/jobs.ts';
import { manifestKeyOf, reportPrefixOf } from '../../shared/batch-operations/job-rules.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { REMEDIATIONS_PK } from '../../shared/findings/table.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createBucket, createKey, enableVersioning, putObject, type TestKey } from '../support/aws-fixtures.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { runKillableCli, type KillableRun } from '../support/cli.ts';

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/sseguard-batch`;
const REPORTS = 'batch-reports';
const TABLE = 'batch-findings';
const dir = mkdtempSync(join(tmpdir(), 'sseguard-batch-'));
const emulator = inject('emulatorEndpoint');
const ENV = { SSEGUARD_TABLE: TABLE, SSEGUARD_IDEMPOTENCY_TABLE: 'batch-idempotency', SSEGUARD_ACCOUNT_ID: ACCOUNT };
Object.assign(process.env, ENV);

const writer = createAwsClients({ maxSockets: 32 });
const control = new S3ControlClient({ endpointProvider: () => ({ url: new URL(emulator) }) });
const runtime = () => createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: emulator }));
let proxy: FaultProxy;
let target: TestKey;
let other: TestKey;

type Run = KillableRun;

const sseguard = (args: string[], env: Record<string, string> = {}, onStart?: (pid: number) => void) => runKillableCli(args, { ...ENV, ...env }, onStart);

const json = (run: Run) => {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout.slice(0, 500)} ${run.stderr}`);
  }
};

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function policyFor(bucket: string, key: TestKey = target): string {
  const path = join(dir, `${bucket}.yaml`);
  writeFileSync(
    path,
    `version: 1\nrules:\n  - bucket: ${bucket}\n    require: sse-kms\n    kmsKeys: [${key.arn}]\n    remediate: true\n` +
      `    target: { mode: sse-kms, kmsKey: ${key.arn}, bucketKey: true }\n`,
  );
  return path;
}

const batchScan = (bucket: string, env: Record<string, string> = {}, onStart?: (pid: number) => void) =>
  sseguard(['scan', '--bucket', bucket, '--policy', policyFor(bucket), '--remediate', '--batch', '--batch-role', ROLE, '--batch-report-bucket', REPORTS, '--json'], env, onStart);
const jobsWait = (bucket: string, env: Record<string, string> = {}, timeoutSeconds = 120) =>
  sseguard(['jobs', '--bucket', bucket, '--wait', '--timeout', String(timeoutSeconds), '--policy', policyFor(bucket), '--json'], env);

async function states(bucket: string): Promise<Map<string, StoredFinding>> {
  const found = new Map<string, StoredFinding>();
  for await (const page of runtime().store.findings({ bucket })) for (const f of page) found.set(f.key, f);
  return found;
}

/** Entries of the remediation log: every fix outcome adds one. */
async function remediationLogSize(): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await runtime().clients.documents.send(
      new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': REMEDIATIONS_PK }, Select: 'COUNT', ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/** The S3 Control jobs whose manifest is one of this bucket's (the emulator keeps every job of the file). */
async function jobsOf(bucket: string): Promise<string[]> {
  const { Jobs = [] } = await control.send(new ListJobsCommand({ AccountId: ACCOUNT }));
  const ids: string[] = [];
  for (const { JobId } of Jobs) {
    const { Job } = await control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId }));
    if (Job?.Manifest?.Location?.ObjectArn?.includes(`/manifests/${bucket}/`)) ids.push(JobId!);
  }
  return ids;
}

async function seed(bucket: string, count: number): Promise<Map<string, string>> {
  await createBucket(writer, bucket);
  await enableVersioning(writer, bucket);
  const versions = new Map<string, string>();
  await inBatches(Array.from({ length: count }, (_, i) => i), 32, async (i) => {
    const key = `obj-${String(i).padStart(5, '0')}${i % 50 === 7 ? ' a,b+c' : ''}`;
    const put = await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body ${i}`, ServerSideEncryption: 'AES256' }));
    versions.set(key, put.VersionId!);
  });
  return versions;
}

/** Every object at the target, in place (same version), its history holding exactly one fix: job J's. */
async function expectFixedByJob(bucket: string, versions: Map<string, string>, jobId: string) {
  const store = runtime().store;
  await inBatches([...versions], 32, async ([key, versionId]) => {
    const head = await writer.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect({ key, sse: head.ServerSideEncryption, kms: head.SSEKMSKeyId, bucketKey: head.BucketKeyEnabled, version: head.VersionId }).toEqual({
      key,
      sse: 'aws:kms',
      kms: target.arn,
      bucketKey: true,
      version: versionId,
    });
    const fixes = (await store.history(bucket, key)).filter((e) => e.remediation);
    expect({ key, fixes: fixes.map((e) => [e.remediation?.outcome, e.remediation?.batchJobId]) }).toEqual({ key, fixes: [['fixed', jobId]] });
  });
  const recorded = await states(bucket);
  expect([...recorded.values()].filter((f) => f.verdict !== 'compliant').map((f) => f.key)).toEqual([]);
}

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator, seed: 11 });
  const r = runtime();
  await ensureFindingsTable(r.clients.dynamodb, TABLE);
  await ensureIdempotencyTable(r.clients.dynamodb, 'batch-idempotency');
  await createBucket(writer, REPORTS);
  target = await createKey(writer);
  other = await createKey(writer);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
});

describe('a Batch fix of 1,000 objects', () => {
  const BUCKET = 'fleet-batch';
  let versions: Map<string, string>;
  let jobId: string;

  beforeAll(async () => {
    versions = await seed(BUCKET, 1_000);
    // Two objects a Batch job cannot take (DSSE-KMS source): they are copied per object in the same run.
    await putObject(writer, BUCKET, 'dsse-1', { mode: 'dsse-kms', key: other });
    await putObject(writer, BUCKET, 'dsse-2', { mode: 'dsse-kms', key: other });
  }, 300_000);

  test('scan --remediate --batch: one version-pinned job for the 1,000 UpdateObjectEncryption fixes, the copies made per object', async () => {
    proxy.resetStats();
    const run = await batchScan(BUCKET, { AWS_ENDPOINT_URL: proxy.endpoint });
    const sent = proxy.stats().forwarded;
    const { summary } = json(run);
    // Per object: its HeadObject and no S3 write; one manifest upload and one CreateJob for all 1,000.
    expect(sent['s3:UpdateObjectEncryption'] ?? 0).toBe(0);
    expect(sent['s3:CopyObject']).toBe(2);
    expect(sent['s3:PutObject']).toBe(1);
    expect(sent['s3control:CreateJob']).toBe(1);
    // Each copy adds three: is the audited version still current, the source read, the result.
    expect(sent['s3:HeadObject']).toBeLessThanOrEqual(1_002 + 2 * 3);
    expect(summary.remediation.outcomes).toEqual({ 'in-batch-job': 1_000, fixed: 2 });
    expect(summary.remediation.batchJobs).toHaveLength(1);
    const [job] = summary.remediation.batchJobs;
    expect(job).toMatchObject({ bucket: BUCKET, targetKey: target.arn, bucketKey: true, objects: 1_000 });
    expect(job.manifest).toMatch(new RegExp(`^s3://${REPORTS}/sseguard-batch/manifests/${BUCKET}/.+\\.csv$`));
    jobId = job.jobId;
    expect(await jobsOf(BUCKET)).toEqual([jobId]);

    // The manifest: no header, bucket,key,versionId, keys URL-encoded.
    const manifestKey = job.manifest.replace(`s3://${REPORTS}/`, '');
    const lines = (await (await writer.s3.send(new GetObjectCommand({ Bucket: REPORTS, Key: manifestKey }))).Body!.transformToString()).trim().split('\n');
    expect(lines).toHaveLength(1_000);
    expect(lines).toContain(`${BUCKET},obj-00007%20a%2Cb%2Bc,${versions.get('obj-00007 a,b+c')}`);
    expect(lines.every((line) => line.split(',').length === 3)).toBe(true);

    const { Job } = await control.send(new DescribeJobCommand({ AccountId: ACCOUNT, JobId: jobId }));
    expect(Job).toMatchObject({ Priority: 10, RoleArn: ROLE, ConfirmationRequired: false, Report: { ReportScope: 'AllTasks', Format: 'Report_CSV_20180820' } });
    // Copies are done and verified now; the batched objects wait for their job to be folded.
    for (const key of ['dsse-1', 'dsse-2']) expect((await writer.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).SSEKMSKeyId).toBe(target.arn);
    const recorded = await states(BUCKET);
    expect(recorded.get('obj-00000')?.verdict).toBe('noncompliant');
    expect(recorded.get('dsse-1')?.verdict).toBe('compliant');
  }, 300_000);

  test('jobs --wait folds the completion report: every object at the target, its history holding the job outcome, counters right', async () => {
    proxy.resetStats();
    const run = await jobsWait(BUCKET, { AWS_ENDPOINT_URL: proxy.endpoint });
    const sent = proxy.stats().forwarded;
    const out = json(run);
    // One HeadObject per object; outcomes and states recorded many objects per transaction.
    expect(sent['s3:HeadObject']).toBe(1_000);
    expect(sent['dynamodb:TransactWriteItems']).toBeLessThan(1_000 / 10);
    expect(run.code).toBe(0);
    expect(out.jobs).toEqual([expect.objectContaining({ jobId, state: 'folded', status: 'Complete', succeeded: 1_000, failed: 0 })]);
    await expectFixedByJob(BUCKET, versions, jobId);
    const summary = await runtime().store.summary();
    expect(summary.buckets[BUCKET]).toMatchObject({ objects: 1_002, verdicts: { compliant: 1_002 } });
  }, 300_000);

  test('a rerun of both commands changes nothing: no job, no history entry, no state written', async () => {
    const before = new Map([...(await states(BUCKET))].map(([key, f]) => [key, f.rev]));
    const loggedBefore = await remediationLogSize();
    const scan = json(await batchScan(BUCKET));
    expect(scan.summary.remediation).toMatchObject({ outcomes: {}, batchJobs: [] });
    const again = await jobsWait(BUCKET);
    expect(again.code).toBe(0);
    expect(json(again).jobs).toHaveLength(1);
    expect(await jobsOf(BUCKET)).toEqual([jobId]);
    const after = new Map([...(await states(BUCKET))].map(([key, f]) => [key, f.rev]));
    // Same revisions: no state (and so no audit history entry) written; the same log: no fix recorded twice.
    expect(after).toEqual(before);
    expect(await remediationLogSize()).toBe(loggedBefore);
  }, 300_000);
});

describe('crashes between manifest and job', () => {
  const KILL_POINTS: [string, string, number][] = [
    ['right after the manifest upload', 's3:PutObject', 1],
    ['right after the manifest was recorded, before CreateJob', 'dynamodb:UpdateItem', 1],
    ['right after CreateJob answered, before its job id was recorded', 's3control:CreateJob', 1],
  ];

  test.each(KILL_POINTS)('killed %s: the rerun makes exactly one job, and jobs --wait fixes every object once', async (_when, operation, nth) => {
    const bucket = `crash-${operation.replace(/[^a-z]/gi, '').toLowerCase()}`;
    const versions = await seed(bucket, 40);
    let victim = 0;
    let seen = 0;
    proxy.observe((key, phase) => {
      if (key === operation && phase === 'response' && ++seen === nth) process.kill(-victim, 'SIGKILL');
    });
    const crashed = await batchScan(bucket, { AWS_ENDPOINT_URL: proxy.endpoint }, (pid) => (victim = pid));
    proxy.observe(undefined);
    expect(crashed.code).toBeNull();

    // Whichever step the kill interrupted, the rerun leaves exactly one job for the bucket's objects
    // (a resumed job runs inside CreateJob on the emulator, so the rerun may find them fixed already).
    const rerun = await batchScan(bucket);
    expect(rerun.code).not.toBe(2);
    const jobs = await jobsOf(bucket);
    expect(jobs).toHaveLength(1);
    const [jobId] = jobs;
    expect((await jobsWait(bucket)).code).toBe(0);
    await expectFixedByJob(bucket, versions, jobId!);
  }, 300_000);

  test('a task whose version was deleted between manifest and job fails; the object history carries S3 error code, the others are fixed', async () => {
    const bucket = 'failed-task';
    const versions = await seed(bucket, 20);
    let victim = 0;
    let seen = 0;
    proxy.observe((key, phase) => {
      if (key === 'dynamodb:UpdateItem' && phase === 'response' && ++seen === 1) process.kill(-victim, 'SIGKILL');
    });
    await batchScan(bucket, { AWS_ENDPOINT_URL: proxy.endpoint }, (pid) => (victim = pid));
    proxy.observe(undefined);
    // The manifest names this version; it is gone when the job runs.
    const gone = 'obj-00003';
    await writer.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: gone, VersionId: versions.get(gone) }));

    const rerun = json(await batchScan(bucket));
    expect(rerun.summary.remediation.batchJobs).toEqual([expect.objectContaining({ objects: 20, resumed: true })]);
    const run = await jobsWait(bucket);
    expect(run.code).toBe(1);
    const [job] = json(run).jobs;
    expect(job).toMatchObject({ state: 'folded', succeeded: 19, failed: 1 });
    const history = await runtime().store.history(bucket, gone);
    const failed = history.filter((e) => e.remediation?.outcome === 'batch-task-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.remediation).toMatchObject({ errorCode: 'NoSuchVersion', batchJobId: job.jobId });
    expect(failed[0]!.remediation?.detail).toMatch(/404 NoSuchVersion/);
    // The object is gone: its state was removed; the history stays.
    expect((await states(bucket)).has(gone)).toBe(false);
    versions.delete(gone);
    await expectFixedByJob(bucket, versions, job.jobId);
    // Folding again records nothing twice.
    expect((await jobsWait(bucket)).code).toBe(1);
    expect((await runtime().store.history(bucket, gone)).filter((e) => e.remediation)).toHaveLength(1);
  }, 300_000);
});

describe('an object already in a job not yet folded', () => {
  test('is not put in a second job by the next run, unless it is a new version since (on AWS the job may still be running)', async () => {
    const bucket = 'open-job';
    const versions = await seed(bucket, 3);
    const r = runtime();
    const settings = { accountId: ACCOUNT, roleArn: ROLE, reportBucket: REPORTS, prefix: 'sseguard-batch', priority: 10 };
    const deps = { jobs: new BatchJobStore(r.clients.documents, TABLE), s3: r.clients.s3, control, settings };
    const batchTarget = { kmsKeyArn: target.arn, bucketKey: true, policyTarget: { mode: 'sse-kms' as const, kmsKey: target.arn, bucketKey: true } };
    // The objects as the first run audited them (SSE-S3), before its job changed anything.
    const audited = await Promise.all([...versions.keys()].map(async (key) => {
      const inspection = await r.objects.inspect(bucket, { key, size: 0 });
      if (inspection.status !== 'read') throw new Error(`cannot read ${key}`);
      return inspection.facts;
    }));
    const first = new BatchCollector(deps, bucket);
    await first.start();
    for (const facts of audited) expect(await first.add(facts, batchTarget, 'noncompliant')).toMatchObject({ added: true });
    const [job] = await first.finish();

    const second = new BatchCollector(deps, bucket);
    await second.start();
    for (const facts of audited) expect(await second.add(facts, batchTarget, 'noncompliant')).toEqual({ added: false, recordId: job!.recordId });
    // A version written since the manifest is another object version: it goes into this run's job.
    const newer = await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: audited[0]!.key, Body: 'newer', ServerSideEncryption: 'AES256' }));
    expect(await second.add({ ...audited[0]!, versionId: newer.VersionId!, etag: newer.ETag! }, batchTarget, 'noncompliant')).toMatchObject({ added: true });
    const created = await second.finish();
    expect(created.map((j) => j.objects)).toEqual([1]);
    expect(await jobsOf(bucket)).toHaveLength(2);
  }, 120_000);
});

describe('a job still running', () => {
  test('jobs --wait polls until its timeout, says so and exits 2; once the job has run, jobs folds it', async () => {
    const bucket = 'pending-job';
    const versions = await seed(bucket, 2);
    const settings = { accountId: ACCOUNT, roleArn: ROLE, reportBucket: REPORTS, prefix: 'sseguard-batch', priority: 10 };
    const manifestKey = manifestKeyOf(settings.prefix, bucket, 'pending-1');
    const body = batchManifestCsv([...versions].map(([key, versionId]) => ({ bucket, key, versionId })), { versioned: true });
    const put = await writer.s3.send(new PutObjectCommand({ Bucket: REPORTS, Key: manifestKey, Body: body }));
    // A job that has not run yet (the emulator holds a job that needs confirmation), recorded as a scan records one.
    const { JobId } = await control.send(
      new CreateJobCommand({
        AccountId: ACCOUNT,
        ConfirmationRequired: true,
        Operation: { S3UpdateObjectEncryption: { ObjectEncryption: { SSEKMS: { KMSKeyArn: target.arn, BucketKeyEnabled: true } } } },
        Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key', 'VersionId'] }, Location: { ObjectArn: `arn:aws:s3:::${REPORTS}/${manifestKey}`, ETag: put.ETag! } },
        Report: { Bucket: `arn:aws:s3:::${REPORTS}`, Format: 'Report_CSV_20180820', Enabled: true, Prefix: reportPrefixOf(settings.prefix, bucket), ReportScope: 'AllTasks' },
        Priority: 10,
        RoleArn: ROLE,
        ClientRequestToken: 'pending-1',
      }),
    );
    await new BatchJobStore(runtime().clients.documents, TABLE).create({
      recordId: 'pending-1',
      runId: 'test',
      bucket,
      target: { kmsKeyArn: target.arn, bucketKey: true },
      versioned: true,
      createdAt: new Date().toISOString(),
      state: 'created',
      settings,
      manifest: { bucket: REPORTS, key: manifestKey, etag: put.ETag!, sha256: '-' },
      objects: 2,
      token: 'pending-1',
      jobId: JobId!,
    });

    const waiting = await jobsWait(bucket, {}, 3);
    expect(waiting.code).toBe(2);
    expect(json(waiting)).toMatchObject({ timedOut: true, open: 1, jobs: [{ jobId: JobId, status: 'Suspended', state: 'created' }] });

    await control.send(new UpdateJobStatusCommand({ AccountId: ACCOUNT, JobId, RequestedJobStatus: 'Ready' }));
    const done = await jobsWait(bucket);
    expect(done.code).toBe(0);
    await expectFixedByJob(bucket, versions, JobId!);
  }, 120_000);
});

describe('a policy changed between the scan and jobs --wait', () => {
  test('the job is folded under the policy it was created under, not the default; its findings name that policy', async () => {
    const bucket = 'policy-pinned';
    const versions = await seed(bucket, 3);
    const scan = await batchScan(bucket);
    const madeUnder = json(scan).scan.policy;
    expect(madeUnder.hash).toMatch(/^sha256:/);
    const [job] = json(scan).summary.remediation.batchJobs;
    // The default policy now asks for DSSE-KMS: under it, the fixed objects would be noncompliant.
    const changed = join(dir, `${bucket}-changed.yaml`);
    writeFileSync(changed, `version: 1\nrules:\n  - bucket: ${bucket}\n    require: dsse-kms\n`);
    const run = await sseguard(['jobs', '--bucket', bucket, '--wait', '--timeout', '120', '--json'], { SSEGUARD_POLICY: changed });
    expect(run.code, run.stderr).toBe(0);
    expect(json(run).jobs).toEqual([expect.objectContaining({ jobId: job.jobId, state: 'folded', policy: madeUnder })]);
    await expectFixedByJob(bucket, versions, job.jobId);
    for (const state of (await states(bucket)).values()) expect(state.policy).toEqual(madeUnder);
  }, 120_000);
});

describe('S3 Control weather', () => {
  test('CreateJob throttled and failing, DescribeJob throttled: retried with one token, one job, no verdict from weather', async () => {
    const bucket = 'weather-batch';
    const versions = await seed(bucket, 30);
    proxy.setRules([
      { service: 's3control', operation: 'CreateJob', rate: 0.6, kind: 'throttle' },
      { service: 's3control', operation: 'DescribeJob', rate: 0.6, kind: 'throttle' },
    ]);
    proxy.resetStats();
    const scan = json(await batchScan(bucket, { AWS_ENDPOINT_URL: proxy.endpoint }));
    const waited = await jobsWait(bucket, { AWS_ENDPOINT_URL: proxy.endpoint });
    const stats = proxy.stats();
    proxy.setRules([]);
    expect(stats.faults['s3control:CreateJob:throttle'] ?? 0).toBeGreaterThan(0);
    expect(stats.faults['s3control:DescribeJob:throttle'] ?? 0).toBeGreaterThan(0);
    expect(scan.summary.remediation.batchJobs).toHaveLength(1);
    expect(await jobsOf(bucket)).toEqual([scan.summary.remediation.batchJobs[0].jobId]);
    expect(waited.code).toBe(0);
    await expectFixedByJob(bucket, versions, scan.summary.remediation.batchJobs[0].jobId);
  }, 300_000);

  test('CreateJob failing on every try: the scan says so and exits 2, nothing is recorded as fixed or failed; jobs then creates the one job', async () => {
    const bucket = 'down-batch';
    const versions = await seed(bucket, 10);
    proxy.setRules([{ service: 's3control', operation: 'CreateJob', rate: 1, kind: 'server-error' }]);
    const failed = await batchScan(bucket, { AWS_ENDPOINT_URL: proxy.endpoint, SSEGUARD_MAX_ATTEMPTS: '1' });
    proxy.setRules([]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/CreateJob: still throttled or failing after \d+ attempts/);
    const [record] = await new BatchJobStore(runtime().clients.documents, TABLE).list(bucket);
    expect(record).toMatchObject({ state: 'manifest-written', objects: 10 });
    expect(await jobsOf(bucket)).toEqual([]);
    for (const key of versions.keys()) expect((await runtime().store.history(bucket, key)).filter((e) => e.remediation)).toEqual([]);
    expect([...(await states(bucket)).values()].every((f) => f.verdict === 'noncompliant')).toBe(true);

    const waited = await jobsWait(bucket);
    expect(waited.code).toBe(0);
    const [jobId] = await jobsOf(bucket);
    expect(await jobsOf(bucket)).toHaveLength(1);
    await expectFixedByJob(bucket, versions, jobId!);
  }, 300_000);
});
