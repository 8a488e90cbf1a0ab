import {
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  CancelKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { kms, newBucket, newKmsKey, s3 } from './helpers.ts';

describe('KMS AWS managed key aws/s3 and key-state operations', () => {
  test('DescribeKey on alias/aws/s3 never used creates the AWS managed key: KeyManager AWS, Enabled, rotation on', async () => {
    const described = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }));
    expect(described.KeyMetadata).toMatchObject({ KeyManager: 'AWS', KeyState: 'Enabled', Enabled: true, KeyUsage: 'ENCRYPT_DECRYPT' });
    const again = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/s3' }));
    expect(again.KeyMetadata?.KeyId).toBe(described.KeyMetadata?.KeyId);
    const rotation = await kms.send(new GetKeyRotationStatusCommand({ KeyId: described.KeyMetadata!.KeyId! }));
    expect(rotation.KeyRotationEnabled).toBe(true);
    const aliases = await kms.send(new ListAliasesCommand({ KeyId: described.KeyMetadata!.KeyId! }));
    expect(aliases.Aliases?.map((a) => a.AliasName)).toEqual(['alias/aws/s3']);
  });

  test('the key S3 creates for aws:kms without a key id is the same AWS managed key', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    const described = await kms.send(new DescribeKeyCommand({ KeyId: head.SSEKMSKeyId! }));
    expect(described.KeyMetadata?.KeyManager).toBe('AWS');
    expect(described.KeyMetadata?.Arn).toBe(head.SSEKMSKeyId);
  });

  test('customer keys still report KeyManager CUSTOMER', async () => {
    const key = await newKmsKey();
    const described = await kms.send(new DescribeKeyCommand({ KeyId: key.arn }));
    expect(described.KeyMetadata?.KeyManager).toBe('CUSTOMER');
  });

  test('DisableKey, EnableKey, ScheduleKeyDeletion and CancelKeyDeletion accept a key ARN', async () => {
    const key = await newKmsKey();
    await kms.send(new DisableKeyCommand({ KeyId: key.arn }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata?.KeyState).toBe('Disabled');
    await kms.send(new EnableKeyCommand({ KeyId: key.arn }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata?.KeyState).toBe('Enabled');
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 7 }));
    expect(scheduled.$metadata.httpStatusCode).toBe(200);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.arn }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata?.KeyState).toBe('Disabled');
  });
});

test('writes that first use aws/s3 at the same moment share one AWS managed key, as AWS has one per account and region', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'first-use-race' }));
  const heads = await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      await s3.send(new PutObjectCommand({ Bucket: 'first-use-race', Key: `k${i}`, Body: 'x', ServerSideEncryption: 'aws:kms' }));
      return s3.send(new HeadObjectCommand({ Bucket: 'first-use-race', Key: `k${i}` }));
    }),
  );
  expect(new Set(heads.map((h) => h.SSEKMSKeyId)).size).toBe(1);
});
