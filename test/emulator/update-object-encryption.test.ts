import { CreateAliasCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  UpdateObjectEncryptionCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { awsError, customerKey, kms, newBucket, newKmsKey, s3 } from './helpers.ts';

function toKms(Bucket: string, Key: string, KMSKeyArn: string, extra: { VersionId?: string; BucketKeyEnabled?: boolean } = {}) {
  return new UpdateObjectEncryptionCommand({
    Bucket,
    Key,
    ...(extra.VersionId ? { VersionId: extra.VersionId } : {}),
    ObjectEncryption: { SSEKMS: { KMSKeyArn, ...(extra.BucketKeyEnabled !== undefined ? { BucketKeyEnabled: extra.BucketKeyEnabled } : {}) } },
  });
}

describe('UpdateObjectEncryption changes SSE-S3 / SSE-KMS objects to SSE-KMS in place', () => {
  test('an SSE-S3 object becomes SSE-KMS with the key ARN; bytes, ETag, LastModified, metadata and storage class are unchanged', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    const body = 'precious bytes \u00e9\u4e2d';
    await s3.send(
      new PutObjectCommand({ Bucket, Key: 'k', Body: body, Metadata: { owner: 'team-a' }, ContentType: 'text/plain', StorageClass: 'STANDARD_IA' }),
    );
    const before = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(before.ServerSideEncryption).toBe('AES256');

    const updated = await s3.send(toKms(Bucket, 'k', key.arn, { BucketKeyEnabled: true }));
    expect(updated.$metadata.httpStatusCode).toBe(200);

    const after = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(after.ServerSideEncryption).toBe('aws:kms');
    expect(after.SSEKMSKeyId).toBe(key.arn);
    expect(after.BucketKeyEnabled).toBe(true);
    expect(after.ETag).toBe(before.ETag);
    expect(after.LastModified).toEqual(before.LastModified);
    expect(after.ContentLength).toBe(before.ContentLength);
    expect(after.ContentType).toBe('text/plain');
    expect(after.Metadata).toEqual({ owner: 'team-a' });
    expect(after.StorageClass).toBe('STANDARD_IA');
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }));
    expect(await get.Body!.transformToString()).toBe(body);
  });

  test('an SSE-KMS object moves to another key', async () => {
    const Bucket = await newBucket();
    const first = await newKmsKey();
    const second = await newKmsKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: first.keyId }));
    await s3.send(toKms(Bucket, 'k', second.arn));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(head.SSEKMSKeyId).toBe(second.arn);
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }))).Body!.transformToString()).toBe('x');
  });

  test('a key id or alias instead of a key ARN is rejected with 400 InvalidRequest', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/uoe', TargetKeyId: key.keyId }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    for (const ref of [key.keyId, 'alias/uoe', key.arn.replace(/:key\/.*$/, ':alias/uoe')]) {
      expect(await awsError(s3.send(toKms(Bucket, 'k', ref))), ref).toMatchObject({ name: 'InvalidRequest', status: 400 });
    }
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }))).ServerSideEncryption).toBe('AES256');
  });

  test('unencrypted, DSSE-KMS and SSE-C source objects are rejected with 400 InvalidRequest', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'dsse', Body: 'x', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: key.arn }));
    const ck = customerKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'ssec', Body: 'x', SSECustomerAlgorithm: 'AES256', SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5 }));
    for (const name of ['dsse', 'ssec']) {
      const error = await awsError(s3.send(toKms(Bucket, name, key.arn)));
      expect(error, name).toMatchObject({ name: 'InvalidRequest', status: 400 });
      expect(error.message, name).toMatch(/DSSE-KMS or SSE-C/);
    }
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'dsse' }))).ServerSideEncryption).toBe('aws:kms:dsse');
  });

  test('a request that does not ask for SSE-KMS (e.g. to go back to SSE-S3) is rejected with 400 InvalidRequest', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const error = await awsError(s3.send(new UpdateObjectEncryptionCommand({ Bucket, Key: 'k', ObjectEncryption: {} as never })));
    expect(error).toMatchObject({ name: 'InvalidRequest', status: 400 });
  });

  test('a key owned by another account is refused with 403 AccessDenied', async () => {
    const Bucket = await newBucket();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const foreign = 'arn:aws:kms:us-east-1:210987654321:key/134f2428-cec1-4b25-a1ae-9048164dba47';
    expect(await awsError(s3.send(toKms(Bucket, 'k', foreign)))).toMatchObject({ name: 'AccessDenied', status: 403 });
  });

  test('a missing key is 404 NoSuchKey; a disabled KMS key is 400 KMS.DisabledException', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    expect(await awsError(s3.send(toKms(Bucket, 'missing', key.arn)))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    await kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    expect(await awsError(s3.send(toKms(Bucket, 'k', key.arn)))).toMatchObject({ name: 'KMS.DisabledException', status: 400 });
  });

  test('VersionId targets that version only and no new version is created', async () => {
    const Bucket = await newBucket();
    const key = await newKmsKey();
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two' }));
    await s3.send(toKms(Bucket, 'k', key.arn, { VersionId: v1.VersionId }));
    const h1 = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k', VersionId: v1.VersionId }));
    expect(h1.ServerSideEncryption).toBe('aws:kms');
    expect(h1.VersionId).toBe(v1.VersionId);
    const h2 = await s3.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(h2.VersionId).toBe(v2.VersionId);
    expect(h2.ServerSideEncryption).toBe('AES256');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect(versions.Versions?.map((v) => v.VersionId).sort()).toEqual([v1.VersionId, v2.VersionId].sort());
    const one = await s3.send(new GetObjectCommand({ Bucket, Key: 'k', VersionId: v1.VersionId }));
    expect(await one.Body!.transformToString()).toBe('one');
  });

  test('objects under Object Lock compliance retention or legal hold are refused with 403 AccessDenied', async () => {
    const Bucket = `lock-${process.pid}-${Date.now()}`;
    await s3.send(new CreateBucketCommand({ Bucket, ObjectLockEnabledForBucket: true }));
    const key = await newKmsKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'retained', Body: 'x' }));
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket, Key: 'retained', Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket, Key: 'held', Body: 'x' }));
    await s3.send(new PutObjectLegalHoldCommand({ Bucket, Key: 'held', LegalHold: { Status: 'ON' } }));
    for (const name of ['retained', 'held']) {
      expect(await awsError(s3.send(toKms(Bucket, name, key.arn))), name).toMatchObject({ name: 'AccessDenied', status: 403 });
      expect((await s3.send(new HeadObjectCommand({ Bucket, Key: name }))).ServerSideEncryption, name).toBe('AES256');
    }
  });
});
