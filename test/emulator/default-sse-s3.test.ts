import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { newBucket, newKmsKey, s3 } from './helpers.ts';

describe('default encryption (SSE-S3 for every new object since January 2023)', () => {
  test('PutObject without SSE headers stores the object SSE-S3 encrypted, as AWS does since 2023', async () => {
    const Bucket = await newBucket();
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'a b+c%.txt', Body: 'hello' }));
    expect(put.ServerSideEncryption).toBe('AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'a b+c%.txt' }));
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.SSEKMSKeyId).toBeUndefined();
    expect(head.ContentLength).toBe(5);
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'a b+c%.txt' }));
    expect(get.ServerSideEncryption).toBe('AES256');
    expect(await get.Body!.transformToString()).toBe('hello');
  });

  test('CopyObject without SSE headers stores the copy SSE-S3, whatever the source used', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    const copy = await s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src` }));
    expect(copy.ServerSideEncryption).toBe('AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'dst' }));
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.SSEKMSKeyId).toBeUndefined();
  });

  test('a multipart upload without SSE headers is SSE-S3 from CreateMultipartUpload to the completed object', async () => {
    const Bucket = await newBucket();
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu' }));
    expect(created.ServerSideEncryption).toBe('AES256');
    const part = await s3.send(
      new UploadPartCommand({ Bucket, Key: 'mpu', UploadId: created.UploadId, PartNumber: 1, Body: 'part-1' }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'mpu',
        UploadId: created.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(done.ServerSideEncryption).toBe('AES256');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'mpu' }));
    expect(head.ServerSideEncryption).toBe('AES256');
  });

  test('GetBucketEncryption on a bucket never configured returns the SSE-S3 default rule, not 404', async () => {
    const Bucket = await newBucket();
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(got.$metadata.httpStatusCode).toBe(200);
    expect(got.ServerSideEncryptionConfiguration?.Rules).toEqual([
      { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
    ]);
  });

  test('DeleteBucketEncryption resets the bucket to the SSE-S3 default rule', async () => {
    const Bucket = await newBucket();
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
      }),
    );
    await s3.send(new DeleteBucketEncryptionCommand({ Bucket }));
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).ServerSideEncryption).toBe('AES256');
  });

  test('a bucket default of aws:kms with a key applies that key (as its ARN) to objects written without SSE headers', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: key.keyId }, BucketKeyEnabled: true }],
        },
      }),
    );
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    expect(put.ServerSideEncryption).toBe('aws:kms');
    expect(put.SSEKMSKeyId).toBe(key.arn);
    expect(put.BucketKeyEnabled).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(key.arn);
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu' }));
    expect(created.ServerSideEncryption).toBe('aws:kms');
    expect(created.SSEKMSKeyId).toBe(key.arn);
  });
});
