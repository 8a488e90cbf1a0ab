import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { CopyObjectCommand, HeadObjectCommand, PutBucketEncryptionCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { awsError, kms, newBucket, newKmsKey, s3 } from './helpers.ts';

describe('DSSE-KMS (aws:kms:dsse) keeps its key, by ARN', () => {
  test('PutObject with aws:kms:dsse and a key id reports the key ARN on the write and on HeadObject', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    const put = await s3.send(
      new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: key.keyId }),
    );
    expect(put.ServerSideEncryption).toBe('aws:kms:dsse');
    expect(put.SSEKMSKeyId).toBe(key.arn);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.ServerSideEncryption).toBe('aws:kms:dsse');
    expect(head.SSEKMSKeyId).toBe(key.arn);
  });

  test('aws:kms:dsse without a key id uses the aws/s3 AWS managed key', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms:dsse' }));
    const managed = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.ServerSideEncryption).toBe('aws:kms:dsse');
    expect(head.SSEKMSKeyId).toBe(managed.KeyMetadata?.Arn);
  });

  test('a bucket default of aws:kms:dsse and CopyObject with aws:kms:dsse keep the key ARN', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse', KMSMasterKeyID: key.arn } }],
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.ServerSideEncryption).toBe('aws:kms:dsse');
    expect(head.SSEKMSKeyId).toBe(key.arn);
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket, Key: 'c', CopySource: `${Bucket}/k`, ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: key.keyId }),
    );
    expect(copy.ServerSideEncryption).toBe('aws:kms:dsse');
    expect(copy.SSEKMSKeyId).toBe(key.arn);
  });

  test('aws:kms:dsse with a key that does not exist fails with 400 KMS.NotFoundException', async () => {
    const Bucket = await newBucket();
    const error = await awsError(
      s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: 'alias/missing' })),
    );
    expect(error).toMatchObject({ name: 'KMS.NotFoundException', status: 400 });
  });
});
