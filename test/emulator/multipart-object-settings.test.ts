// CompleteMultipartUpload gives the object CreateMultipartUpload's Bucket Key and Object Lock
// settings (patch multipart_object_settings).
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, HeadObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { newBucket, newKmsKey, s3 } from './helpers.ts';

async function completeOnePart(bucket: string, uploadId: string) {
  const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId, PartNumber: 1, Body: 'only part', ChecksumAlgorithm: 'SHA256' }));
  return s3.send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'k', UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
  );
}

test('BucketKeyEnabled given to CreateMultipartUpload is answered and kept on the object', async () => {
  const bucket = await newBucket('mpu-bk');
  const key = await newKmsKey();
  const upload = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn, BucketKeyEnabled: true }),
  );
  expect(upload.BucketKeyEnabled).toBe(true);
  await completeOnePart(bucket, upload.UploadId!);
  expect(await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).toMatchObject({ SSEKMSKeyId: key.arn, BucketKeyEnabled: true });
});

test('Object Lock mode, retain-until date and legal hold given to CreateMultipartUpload are kept on the object', async () => {
  const bucket = `mpu-lock-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  const retainUntil = new Date(Date.now() + 86_400_000);
  const upload = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: retainUntil, ObjectLockLegalHoldStatus: 'ON' }),
  );
  await completeOnePart(bucket, upload.UploadId!);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
  expect(head).toMatchObject({ ObjectLockMode: 'GOVERNANCE', ObjectLockLegalHoldStatus: 'ON' });
  expect(head.ObjectLockRetainUntilDate?.getTime()).toBe(retainUntil.getTime());
});
