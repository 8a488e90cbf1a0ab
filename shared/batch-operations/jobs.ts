// Bulk fixes with S3 Batch Operations, carried out: during a scan, objects whose fix is
// UpdateObjectEncryption are collected per target (an intent per object, then its manifest line in
// a temporary file); at the end each manifest is uploaded and one job created for it.
//
// Every step is recorded before the next one starts, so that a crash anywhere neither loses an
// object nor puts it in two jobs:
//   1. JOBS record "collecting" (one per bucket and target, per run);
//   2. per object: its fix intent "in Batch job <record>" (before its line is written);
//   3. the manifest uploaded, then the record "manifest-written" with its ETag and the token;
//   4. CreateJob with that token, then the record "created" with the job id.
// A rerun (or `sseguard jobs`) resumes a "manifest-written" record with the same token (S3 answers
// with the job it made, if it made one); a "collecting" record of an earlier run had no manifest a
// job could read: it is abandoned and its objects go into this run's manifest. An object whose intent
// names a job not yet folded is not added again.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateJobCommand, DescribeJobCommand, type JobDescriptor, type S3ControlClient } from '@aws-sdk/client-s3-control';
import type { ObjectFacts } from '../domain/encryption.ts';
import type { Verdict } from '../domain/verdict.ts';
import { retrying, type RetryPolicy } from '../aws/retry.ts';
import type { PolicyId } from '../domain/policy-identity.ts';
import type { BatchSettings, BatchTarget } from '../domain/batch-settings.ts';
import type { BatchJobRecord, BatchJobStore } from '../findings/batch-job-store.ts';
import type { FixIntent } from '../findings/store.ts';
import { sameVersion } from '../findings/record-decision.ts';
import type { RemediationTarget } from '../remediation/fix-plan.ts';
import {
  batchGroupKey,
  batchIntentId,
  clientRequestToken,
  manifestKeyOf,
  reportPrefixOf,
} from './job-rules.ts';
import { ManifestFile } from './manifest-file.ts';

/** S3 Control throttling and 5xx: the same loop as every other retry, a little slower to start. */
export const S3_CONTROL_RETRY: RetryPolicy = { attempts: 8, baseMs: 200, capMs: 5_000 };

export interface CreatedJob {
  recordId: string;
  jobId: string;
  bucket: string;
  targetKey: string;
  bucketKey: boolean;
  objects: number;
  manifest: string;
  /** This run resumed a job an earlier run had uploaded the manifest of. */
  resumed?: boolean;
}

export interface BatchJobDependencies {
  jobs: BatchJobStore;
  s3: S3Client;
  control: S3ControlClient;
  settings: BatchSettings;
  /** The policy the objects were judged under: `jobs` folds the job's report under it. */
  policy?: PolicyId;
  clock?: () => Date;
}

const describeCreated = (record: BatchJobRecord, resumed = false): CreatedJob => ({
  recordId: record.recordId,
  jobId: record.jobId ?? '',
  bucket: record.bucket,
  targetKey: record.target.kmsKeyArn,
  bucketKey: record.target.bucketKey,
  objects: record.objects ?? 0,
  manifest: record.manifest ? `s3://${record.manifest.bucket}/${record.manifest.key}` : '',
  ...(resumed ? { resumed: true } : {}),
});

/** CreateJob for a record whose manifest is uploaded; the same token whenever it is sent. */
export async function submitJob(deps: Pick<BatchJobDependencies, 'jobs' | 'control'>, record: BatchJobRecord): Promise<BatchJobRecord> {
  const { manifest, token, settings, target } = record;
  if (record.state !== 'manifest-written' || !manifest || !token) throw new Error(`job ${record.recordId} is ${record.state}, not ready to be created`);
  const { JobId } = await retrying(
    'S3 Control CreateJob',
    () =>
      deps.control.send(
        new CreateJobCommand({
          AccountId: settings.accountId,
          ConfirmationRequired: false,
          Operation: { S3UpdateObjectEncryption: { ObjectEncryption: { SSEKMS: { KMSKeyArn: target.kmsKeyArn, BucketKeyEnabled: target.bucketKey } } } },
          Manifest: {
            Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: record.versioned ? ['Bucket', 'Key', 'VersionId'] : ['Bucket', 'Key'] },
            Location: { ObjectArn: `arn:aws:s3:::${manifest.bucket}/${manifest.key}`, ETag: manifest.etag },
          },
          Report: {
            Bucket: `arn:aws:s3:::${settings.reportBucket}`,
            Format: 'Report_CSV_20180820',
            Enabled: true,
            Prefix: reportPrefixOf(settings.prefix, record.bucket),
            ReportScope: 'AllTasks',
          },
          Priority: settings.priority,
          RoleArn: settings.roleArn,
          ClientRequestToken: token,
          Description: `sseguard ${record.recordId}: UpdateObjectEncryption to ${target.kmsKeyArn}`,
        }),
      ),
    S3_CONTROL_RETRY,
  );
  if (!JobId) throw new Error(`CreateJob for ${record.recordId} answered no job id`);
  await deps.jobs.update(record.recordId, 'manifest-written', { state: 'created', jobId: JobId });
  return { ...record, state: 'created', jobId: JobId };
}

export async function describeJob(control: S3ControlClient, record: BatchJobRecord): Promise<JobDescriptor | undefined> {
  const { Job } = await retrying(
    'S3 Control DescribeJob',
    () => control.send(new DescribeJobCommand({ AccountId: record.settings.accountId, JobId: record.jobId })),
    S3_CONTROL_RETRY,
  );
  return Job;
}

interface Group {
  record: BatchJobRecord;
  file: ManifestFile;
}

export type AddOutcome = { added: true; recordId: string } | { added: false; recordId: string };

/** One scan's collection of objects into manifests, one per bucket and target. */
export class BatchCollector {
  private readonly groups = new Map<string, Promise<Group>>();
  /** Records whose objects are tasks of a job that is not yet folded. */
  private readonly open = new Set<string>();
  private readonly runId = randomBytes(4).toString('hex');
  private directory: Promise<string> | undefined;
  private sequence = 0;
  readonly resumed: CreatedJob[] = [];

  constructor(
    private readonly deps: BatchJobDependencies,
    private readonly bucket: string,
  ) {}

  private now = () => this.deps.clock?.() ?? new Date();

  /** Before the scan: abandon what earlier runs left collecting, create what they left uploaded. */
  async start(): Promise<void> {
    for (const record of await this.deps.jobs.list(this.bucket)) {
      if (record.state === 'collecting') await this.deps.jobs.update(record.recordId, 'collecting', { state: 'abandoned' });
      if (record.state === 'manifest-written') {
        const created = await submitJob(this.deps, record);
        this.resumed.push(describeCreated(created, true));
        this.open.add(record.recordId);
      }
      if (record.state === 'created') this.open.add(record.recordId);
    }
  }

  /** Version-pinned and unversioned lines go to separate manifests: a manifest names its fields once. */
  private group(target: BatchTarget, versioned: boolean): Promise<Group> {
    const name = `${batchGroupKey(this.bucket, target)}|${versioned ? 'versions' : 'keys'}`;
    let group = this.groups.get(name);
    if (!group) {
      group = (async () => {
        const createdAt = this.now().toISOString();
        const recordId = `${createdAt.replace(/[-:.]/g, '')}-${this.runId}-${++this.sequence}`;
        const record: BatchJobRecord = { recordId, runId: this.runId, bucket: this.bucket, target, versioned, createdAt, state: 'collecting', settings: this.deps.settings, ...(this.deps.policy ? { policy: this.deps.policy } : {}) };
        await this.deps.jobs.create(record);
        this.directory ??= mkdtemp(join(tmpdir(), 'sseguard-batch-'));
        return { record, file: new ManifestFile(join(await this.directory, `${recordId}.csv`)) };
      })();
      this.groups.set(name, group);
    }
    return group;
  }

  /** Adds one object to its target's manifest, unless it is a task of a job not yet folded. */
  async add(facts: ObjectFacts, target: BatchTarget & { policyTarget: RemediationTarget }, verdict: Verdict): Promise<AddOutcome> {
    const existing = await this.deps.jobs.intentOf(facts.bucket, facts.key);
    if (existing?.batch && this.open.has(existing.batch.recordId) && sameVersion(existing.before, facts)) {
      return { added: false, recordId: existing.batch.recordId };
    }
    const { record, file } = await this.group({ kmsKeyArn: target.kmsKeyArn, bucketKey: target.bucketKey }, facts.versionId !== undefined && facts.versionId !== 'null');
    const intent: FixIntent = {
      id: batchIntentId(record.createdAt, record.recordId),
      bucket: facts.bucket,
      key: facts.key,
      startedAt: record.createdAt,
      action: 'update-encryption',
      target: target.policyTarget,
      before: {
        mode: facts.mode,
        bucketKeyEnabled: facts.bucketKeyEnabled,
        ...(facts.kmsKeyArn ? { kmsKeyArn: facts.kmsKeyArn } : {}),
        ...(facts.versionId ? { versionId: facts.versionId } : {}),
        ...(facts.etag ? { etag: facts.etag } : {}),
        ...(facts.lastModified ? { lastModified: facts.lastModified } : {}),
      },
      verdict,
      batch: { recordId: record.recordId },
    };
    // The intent first: a manifest line without one would be a task nobody folds back.
    await this.deps.jobs.recordIntent(intent);
    const versionId = facts.versionId && facts.versionId !== 'null' ? facts.versionId : undefined;
    await file.append({ bucket: facts.bucket, key: facts.key, ...(versionId ? { versionId } : {}) });
    return { added: true, recordId: record.recordId };
  }

  /** After the scan: upload each manifest, record it, create its job. */
  async finish(): Promise<CreatedJob[]> {
    const created: CreatedJob[] = [...this.resumed];
    const { settings } = this.deps;
    try {
      for (const pending of this.groups.values()) {
        const { record, file } = await pending;
        const closed = await file.close();
        const key = manifestKeyOf(settings.prefix, record.bucket, record.recordId);
        const put = await retrying(
          'S3 PutObject (Batch manifest)',
          () =>
            this.deps.s3.send(
              new PutObjectCommand({ Bucket: settings.reportBucket, Key: key, Body: createReadStream(closed.path), ContentLength: closed.bytes, ContentType: 'text/csv' }),
            ),
          S3_CONTROL_RETRY,
        );
        if (!put.ETag) throw new Error(`the upload of s3://${settings.reportBucket}/${key} answered no ETag`);
        const manifest = { bucket: settings.reportBucket, key, etag: put.ETag, sha256: closed.sha256 };
        const token = clientRequestToken({ manifestSha256: closed.sha256, manifestKey: key, target: record.target, settings });
        await this.deps.jobs.update(record.recordId, 'collecting', { state: 'manifest-written', manifest, objects: closed.lines, token });
        const job = await submitJob(this.deps, { ...record, state: 'manifest-written', manifest, objects: closed.lines, token });
        created.push(describeCreated(job));
      }
    } finally {
      if (this.directory) await rm(await this.directory, { recursive: true, force: true });
    }
    return created;
  }
}
