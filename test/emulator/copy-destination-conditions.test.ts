// CopyObject and CompleteMultipartUpload with If-Match / If-None-Match on the destination: the write
// happens only if the current object still has the ETag (patch copy_destination_conditions).
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { expect, test } from 'vitest';
import { awsError, newBucket, s3 } from './helpers.ts';

async function versionedObject() {
  const bucket = await newBucket('dest-cond');
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'first' }));
  const second = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'second, written later' }));
  return { bucket, first, second, source: `${bucket}/k?versionId=${first.VersionId}` };
}

test('CopyObject If-Match with the ETag of a version that is no longer current → 412, nothing written', async () => {
  const { bucket, first, second, source } = await versionedObject();
  const error = await awsError(
    s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'k', CopySource: source, CopySourceIfMatch: first.ETag, IfMatch: first.ETag, ServerSideEncryption: 'AES256' })),
  );
  expect(error).toMatchObject({ name: 'PreconditionFailed', status: 412 });
  expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).VersionId).toBe(second.VersionId);
});

test('CopyObject If-Match with the current ETag copies (control for the condition)', async () => {
  const { bucket, second } = await versionedObject();
  const copied = await s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'k', CopySource: `${bucket}/k?versionId=${second.VersionId}`, IfMatch: second.ETag, ServerSideEncryption: 'AES256' }),
  );
  expect(copied.VersionId).not.toBe(second.VersionId);
});

test('CopyObject If-Match on a key with no current object → 404 NoSuchKey; If-None-Match * on an existing key → 412', async () => {
  const { bucket, second } = await versionedObject();
  expect(await awsError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'absent', CopySource: `${bucket}/k`, IfMatch: second.ETag })))).toMatchObject({
    name: 'NoSuchKey',
    status: 404,
  });
  expect(await awsError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'k', CopySource: `${bucket}/k`, IfNoneMatch: '*', ServerSideEncryption: 'AES256' })))).toMatchObject({
    status: 412,
  });
});

test('CompleteMultipartUpload If-Match with a stale ETag → 412, the current object stays', async () => {
  const { bucket, first, second, source } = await versionedObject();
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k' }));
  const part = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'k', UploadId: upload.UploadId, PartNumber: 1, CopySource: source }));
  const error = await awsError(
    s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: upload.UploadId,
        IfMatch: first.ETag,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag }] },
      }),
    ),
  );
  expect(error).toMatchObject({ name: 'PreconditionFailed', status: 412 });
  expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).VersionId).toBe(second.VersionId);
});
