// A bulk fix through S3 Batch Operations on the emulator: sseguard's manifest in, the job's
// completion report read back into per-object outcomes.
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateJobCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { batchManifestCsv, parseCompletionManifest, parseCompletionResults, type TaskResult } from '../../shared/batch-operations/job-files.ts';
import { createBucket, createKey, enableVersioning } from '../support/aws-fixtures.ts';

const clients = createAwsClients();
// The S3 Control endpoint rules prefix the host with the account id: the emulator is given as is.
const control = new S3ControlClient({ endpointProvider: () => ({ url: new URL(process.env.AWS_ENDPOINT_URL!) }) });
const text = async (Bucket: string, Key: string) => (await clients.s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();

test('a version-pinned manifest updates exactly the audited versions; the completion report gives each outcome', async () => {
  const bucket = `fix-${randomBytes(4).toString('hex')}`;
  await createBucket(clients, bucket);
  await enableVersioning(clients, bucket);
  const key = await createKey(clients);
  const audited = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/a,b.txt', Body: 'v1' }));
  // A newer write after the audit: the job must leave it alone.
  await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/a,b.txt', Body: 'v2' }));

  const manifest = batchManifestCsv(
    [
      { bucket, key: 'dir/a,b.txt', versionId: audited.VersionId! },
      { bucket, key: 'gone', versionId: 'no-such-version' },
    ],
    { versioned: true },
  );
  const put = await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sseguard/manifest.csv', Body: manifest }));
  const { JobId } = await control.send(
    new CreateJobCommand({
      AccountId: '123456789012',
      ConfirmationRequired: false,
      Operation: { S3UpdateObjectEncryption: { ObjectEncryption: { SSEKMS: { KMSKeyArn: key.arn, BucketKeyEnabled: true } } } },
      Manifest: { Spec: { Format: 'S3BatchOperations_CSV_20180820', Fields: ['Bucket', 'Key', 'VersionId'] }, Location: { ObjectArn: `arn:aws:s3:::${bucket}/sseguard/manifest.csv`, ETag: put.ETag! } },
      Report: { Bucket: `arn:aws:s3:::${bucket}`, Format: 'Report_CSV_20180820', Enabled: true, Prefix: 'sseguard/reports', ReportScope: 'AllTasks' },
      Priority: 10,
      RoleArn: 'arn:aws:iam::123456789012:role/sseguard-batch',
      ClientRequestToken: randomBytes(8).toString('hex'),
    }),
  );

  const top = parseCompletionManifest(await text(bucket, `sseguard/reports/job-${JobId}/manifest.json`));
  const results: TaskResult[] = [];
  for (const r of top.Results) results.push(...parseCompletionResults(await text(r.Bucket, r.Key)));
  const byKey = Object.fromEntries(results.map((r) => [r.key, r]));
  expect(byKey['dir/a,b.txt']).toEqual({ bucket, key: 'dir/a,b.txt', versionId: audited.VersionId, status: 'succeeded', httpStatus: 200, message: 'Successful' });
  expect(byKey['gone']).toMatchObject({ status: 'failed', httpStatus: 404, errorCode: 'NoSuchVersion' });

  expect((await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/a,b.txt', VersionId: audited.VersionId }))).SSEKMSKeyId).toBe(key.arn);
  expect((await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dir/a,b.txt' }))).ServerSideEncryption).toBe('AES256');
});
