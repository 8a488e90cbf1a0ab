import { CreateAliasCommand } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { describe, expect, test } from 'vitest';
import { awsError, kms, newBucket, newKmsKey, s3 } from './helpers.ts';

describe('SSE-KMS records the full key ARN; no key id means the aws/s3 AWS managed key', () => {
  test('HeadObject reports SSEKMSKeyId as the key ARN whether the writer passed key id, key ARN, alias name or alias ARN', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/sseguard-test', TargetKeyId: key.keyId }));
    const aliasArn = key.arn.replace(/:key\/.*$/, ':alias/sseguard-test');
    for (const [name, ref] of [['id', key.keyId], ['arn', key.arn], ['alias', 'alias/sseguard-test'], ['alias-arn', aliasArn]]) {
      const put = await s3.send(
        new PutObjectCommand({ Bucket, Key: name, Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ref }),
      );
      expect(put.SSEKMSKeyId, name).toBe(key.arn);
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: name }));
      expect(head.ServerSideEncryption, name).toBe('aws:kms');
      expect(head.SSEKMSKeyId, name).toBe(key.arn);
    }
  });

  test('aws:kms without a key id uses the account AWS managed key aws/s3, reported by ARN', async () => {
    const Bucket = await newBucket();
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    const managed = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }));
    expect(managed.KeyMetadata?.KeyManager).toBe('AWS');
    expect(put.SSEKMSKeyId).toBe(managed.KeyMetadata?.Arn);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.SSEKMSKeyId).toBe(managed.KeyMetadata?.Arn);
    expect(head.SSEKMSKeyId).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/);
  });

  test('a bucket default of aws:kms without KMSMasterKeyID uses aws/s3', async () => {
    const Bucket = await newBucket();
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const managed = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(managed.KeyMetadata?.Arn);
  });

  test('CopyObject and multipart uploads with a key alias record the key ARN', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/sseguard-copy', TargetKeyId: key.arn }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x' }));
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/sseguard-copy' }),
    );
    expect(copy.SSEKMSKeyId).toBe(key.arn);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'dst' }))).SSEKMSKeyId).toBe(key.arn);

    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'mpu', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/sseguard-copy' }),
    );
    expect(created.SSEKMSKeyId).toBe(key.arn);
    const part = await s3.send(new UploadPartCommand({ Bucket, Key: 'mpu', UploadId: created.UploadId, PartNumber: 1, Body: 'p' }));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'mpu', UploadId: created.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    expect(done.SSEKMSKeyId).toBe(key.arn);
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'mpu' }));
    expect(get.ServerSideEncryption).toBe('aws:kms');
    expect(get.SSEKMSKeyId).toBe(key.arn);
  });

  test('a KMS key that does not exist fails the write with 400 KMS.NotFoundException', async () => {
    const Bucket = await newBucket();
    const bogusId = await awsError(
      s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'fake-key-id' })),
    );
    expect(bogusId).toMatchObject({ name: 'KMS.NotFoundException', status: 400, message: "Invalid keyId 'fake-key-id'" });
    const unknownUuid = await awsError(
      s3.send(
        new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: '134f2428-cec1-4b25-a1ae-9048164dba47' }),
      ),
    );
    expect(unknownUuid).toMatchObject({ name: 'KMS.NotFoundException', status: 400 });
    expect(unknownUuid.message).toMatch(/^Key 'arn:aws:kms:us-east-1:\d{12}:key\/134f2428-cec1-4b25-a1ae-9048164dba47' does not exist$/);
    const unknownAlias = await awsError(
      s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'm', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/nope' })),
    );
    expect(unknownAlias).toMatchObject({ name: 'KMS.NotFoundException', status: 400 });
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src', Body: 'x' }));
    const copy = await awsError(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'fake-key-id' })),
    );
    expect(copy).toMatchObject({ name: 'KMS.NotFoundException', status: 400 });
    const otherRegion = await awsError(
      s3.send(
        new PutObjectCommand({
          Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms',
          SSEKMSKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/134f2428-cec1-4b25-a1ae-9048164dba47',
        }),
      ),
    );
    expect(otherRegion).toMatchObject({ name: 'KMS.NotFoundException', status: 400, message: 'Invalid arn eu-west-1' });
    expect(await awsError(s3.send(new HeadObjectCommand({ Bucket, Key: 'k' })))).toMatchObject({ status: 404 });
  });
});
