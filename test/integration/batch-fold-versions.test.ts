// Folding a Batch completion report: a task's record describes the version the job changed. When a
// newer version was written after the version-pinned manifest, the current version's HeadObject says
// nothing about the task's version: only HeadObject of that exact version may make the task `fixed`.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import { BatchJobStore } from '../../shared/findings/batch-job-store.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { createBucket, createKey, enableVersioning, type TestKey } from '../support/aws-fixtures.ts';
import { foldSucceededJob } from '../support/batch-fold.ts';

const BUCKET = 'batch-fold-versions';
const REPORTS = 'batch-fold-reports';
Object.assign(process.env, { SSEGUARD_TABLE: 'batch-fold-versions-findings' });
delete process.env.SSEGUARD_POLICY;
const runtime = () => createRuntime(loadConfig());
let key: TestKey;

beforeAll(async () => {
  const { config, clients } = runtime();
  await ensureFindingsTable(clients.dynamodb, config.table);
  await createBucket(clients, BUCKET);
  await enableVersioning(clients, BUCKET);
  await createBucket(clients, REPORTS);
  key = await createKey(clients);
});

test('a task S3 reports done on a version that a newer one replaced since: its record carries that version\'s own HeadObject, and is not fixed when that version is not at the target', async () => {
  const { clients, config } = runtime();
  // The manifest pinned `pinned`; an application wrote `newer`, already at the target, before the fold.
  const { VersionId: pinned } = await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a.txt', Body: 'a', ServerSideEncryption: 'AES256' }));
  const { VersionId: newer } = await clients.s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'a.txt', Body: 'b', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn, BucketKeyEnabled: true }),
  );
  const jobId = 'job-fold-versions';
  const deps = { ...(await scanDependencies(runtime())), s3: clients.s3, jobs: new BatchJobStore(clients.documents, config.table), store: runtime().store };
  const { result } = await foldSucceededJob(deps, {
    recordId: 'fold-versions-1',
    jobId,
    bucket: BUCKET,
    reportBucket: REPORTS,
    target: { kmsKeyArn: key.arn, bucketKey: true },
    versioned: true,
    tasks: [{ key: 'a.txt', versionId: pinned! }],
  });
  expect(result).toMatchObject({ deferred: 0, folded: true });

  const history = await runtime().store.history(BUCKET, 'a.txt');
  const task = history.find((h) => h.remediation?.batchJobId === jobId)?.remediation;
  // The pinned version still reads SSE-S3: never `fixed` on the strength of the newer version.
  expect(task).toMatchObject({ outcome: 'unverified', before: { versionId: pinned }, after: { versionId: pinned, mode: 'sse-s3' } });
  // The object's state is the current version, as audited.
  expect((await runtime().store.statesOf(BUCKET, ['a.txt'])).get('a.txt')).toMatchObject({ versionId: newer, mode: 'sse-kms' });
});
