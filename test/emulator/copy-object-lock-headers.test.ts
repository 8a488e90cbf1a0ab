// CopyObject takes Object Lock headers without Content-MD5 (patch copy_object_lock_headers).
import { CopyObjectCommand, CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { expect, test } from 'vitest';
import { awsError, newBucket, s3 } from './helpers.ts';

const retainUntil = new Date(Date.now() + 86_400_000);
const lockHeaders = { ObjectLockMode: 'GOVERNANCE' as const, ObjectLockRetainUntilDate: retainUntil, ObjectLockLegalHoldStatus: 'ON' as const };

test('a copy in place with governance retention and legal hold gives the new version those settings', async () => {
  const bucket = `lock-copy-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', ChecksumAlgorithm: 'SHA256', ...lockHeaders }));
  const copied = await s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'k', CopySource: `${bucket}/k?versionId=${put.VersionId}`, ServerSideEncryption: 'AES256', ...lockHeaders }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: copied.VersionId }));
  expect(head).toMatchObject({ ObjectLockMode: 'GOVERNANCE', ObjectLockLegalHoldStatus: 'ON' });
  expect(head.ObjectLockRetainUntilDate?.getTime()).toBe(retainUntil.getTime());
});

test('lock headers on a copy into a bucket without Object Lock → 400 InvalidRequest', async () => {
  const bucket = await newBucket('nolock');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
  const error = await awsError(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'k', CopySource: `${bucket}/k`, ServerSideEncryption: 'AES256', ...lockHeaders })));
  expect(error).toMatchObject({ status: 400, message: expect.stringContaining('ObjectLockConfiguration') });
});
