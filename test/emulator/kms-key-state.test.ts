import { DisableKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { awsError, kms, newBucket, newKmsKey, s3 } from './helpers.ts';

describe('S3 honours the KMS key state', () => {
  test('writing with a disabled key fails with 400 KMS.DisabledException (PutObject, CreateMultipartUpload, CopyObject)', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x' }));
    await kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    const expected = { name: 'KMS.DisabledException', status: 400, message: `${key.arn} is disabled.` };
    expect(
      await awsError(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.keyId }))),
    ).toEqual(expected);
    expect(
      await awsError(s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'm', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }))),
    ).toEqual(expected);
    expect(
      await awsError(
        s3.send(new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${Bucket}/src`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn })),
      ),
    ).toEqual(expected);
  });

  test('writing with a key pending deletion fails with 400 KMS.KMSInvalidStateException', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));
    expect(
      await awsError(s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }))),
    ).toEqual({ name: 'KMS.KMSInvalidStateException', status: 400, message: `${key.arn} is pending deletion.` });
  });

  test('GetObject of an object whose key is disabled fails with 400 KMS.DisabledException; HeadObject and ListObjectsV2 still work', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.keyId }));
    await kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    expect(await awsError(s3.send(new GetObjectCommand({ Bucket, Key: 'k' })))).toEqual({
      name: 'KMS.DisabledException',
      status: 400,
      message: `${key.arn} is disabled.`,
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    expect(head.SSEKMSKeyId).toBe(key.arn);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['k']);
  });

  test('reading an object whose key is pending deletion fails with 400 KMS.KMSInvalidStateException (GetObject, CopyObject source, UploadPartCopy source)', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu' }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 7 }));
    const expected = { name: 'KMS.KMSInvalidStateException', status: 400, message: `${key.arn} is pending deletion.` };
    expect(await awsError(s3.send(new GetObjectCommand({ Bucket, Key: 'k' })))).toEqual(expected);
    expect(await awsError(s3.send(new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${Bucket}/k` })))).toEqual(expected);
    expect(
      await awsError(s3.send(new UploadPartCopyCommand({ Bucket, Key: 'mpu', UploadId, PartNumber: 1, CopySource: `${Bucket}/k` }))),
    ).toEqual(expected);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).$metadata.httpStatusCode).toBe(200);
  });

  test('SSE-S3 objects read normally while an unrelated KMS key is disabled', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'ok' }));
    await kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'plain' }));
    expect(await get.Body!.transformToString()).toBe('ok');
  });
});
