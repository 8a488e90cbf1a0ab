import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { awsError, customerKey, newBucket, s3 } from './helpers.ts';

const sseC = (key: { key: string; md5: string }) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.key, SSECustomerKeyMD5: key.md5 });

async function setBlocked(Bucket: string, types: ('SSE-C' | 'NONE')[]) {
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BlockedEncryptionTypes: { EncryptionType: types } }],
      },
    }),
  );
}

describe('BlockedEncryptionTypes (blocking SSE-C uploads per bucket)', () => {
  test('GetBucketEncryption returns the BlockedEncryptionTypes that PutBucketEncryption set', async () => {
    const Bucket = await newBucket();
    await setBlocked(Bucket, ['SSE-C']);
    const { ServerSideEncryptionConfiguration } = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(ServerSideEncryptionConfiguration?.Rules?.[0]).toMatchObject({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' },
      BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] },
    });
  });

  test('with SSE-C blocked, PutObject, CopyObject and CreateMultipartUpload with SSE-C answer 403 AccessDenied', async () => {
    const Bucket = await newBucket();
    const key = customerKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'plain.txt', Body: 'x' }));
    await setBlocked(Bucket, ['SSE-C']);
    for (const call of [
      () => s3.send(new PutObjectCommand({ Bucket, Key: 'c.txt', Body: 'x', ...sseC(key) })),
      () => s3.send(new CopyObjectCommand({ Bucket, Key: 'copy.txt', CopySource: `${Bucket}/plain.txt`, ...sseC(key) })),
      () => s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu.txt', ...sseC(key) })),
    ]) {
      expect(await awsError(call())).toMatchObject({ name: 'AccessDenied', status: 403 });
    }
    // Other encryption is unaffected.
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'sse-s3.txt', Body: 'x' }));
    expect(put.ServerSideEncryption).toBe('AES256');
  });

  test('control: objects written with SSE-C before the block stay readable with their key', async () => {
    const Bucket = await newBucket();
    const key = customerKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'old.txt', Body: 'kept', ...sseC(key) }));
    await setBlocked(Bucket, ['SSE-C']);
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'old.txt', ...sseC(key) }));
    expect(await get.Body!.transformToString()).toBe('kept');
  });

  test('NONE unblocks: SSE-C uploads succeed and GetBucketEncryption says NONE', async () => {
    const Bucket = await newBucket();
    await setBlocked(Bucket, ['NONE']);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'c.txt', Body: 'x', ...sseC(customerKey()) }));
    expect(put.SSECustomerAlgorithm).toBe('AES256');
    const { ServerSideEncryptionConfiguration } = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(ServerSideEncryptionConfiguration?.Rules?.[0]?.BlockedEncryptionTypes).toEqual({ EncryptionType: ['NONE'] });
  });

  test('control: a bucket never configured answers no BlockedEncryptionTypes (moto and this patch agree)', async () => {
    const Bucket = await newBucket();
    const { ServerSideEncryptionConfiguration } = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    expect(ServerSideEncryptionConfiguration?.Rules?.[0]?.BlockedEncryptionTypes).toBeUndefined();
  });
});
