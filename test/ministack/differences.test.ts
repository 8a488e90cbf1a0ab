// Where ministack differs from AWS in ways the suites that run on it work around or avoid. If one
// of these starts failing, ministack changed: the workaround (or the exclusion) can be revisited.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, UpdateObjectEncryptionCommand } from '@aws-sdk/client-s3';
import { expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { createBucket, createKey } from '../support/aws-fixtures.ts';

const clients = createAwsClients();
const { s3 } = clients;

test('ministack differs from AWS: an object written without SSE headers reports no encryption (AWS: SSE-S3 by default), so the shared suites say AES256 explicitly', async () => {
  await createBucket(clients, 'ministack-default');
  await s3.send(new PutObjectCommand({ Bucket: 'ministack-default', Key: 'plain.txt', Body: 'x' }));
  expect((await s3.send(new HeadObjectCommand({ Bucket: 'ministack-default', Key: 'plain.txt' }))).ServerSideEncryption).toBeUndefined();
});

test('ministack differs from AWS: UpdateObjectEncryption replaces the object\'s data (AWS: only its encryption changes), so remediation never runs against ministack', async () => {
  const key = await createKey(clients);
  await createBucket(clients, 'ministack-update');
  await s3.send(new PutObjectCommand({ Bucket: 'ministack-update', Key: 'precious.txt', Body: 'precious bytes', ServerSideEncryption: 'AES256' }));
  await s3.send(
    new UpdateObjectEncryptionCommand({ Bucket: 'ministack-update', Key: 'precious.txt', ObjectEncryption: { SSEKMS: { KMSKeyArn: key.arn } } }),
  ).catch(() => undefined);
  const body = await (await s3.send(new GetObjectCommand({ Bucket: 'ministack-update', Key: 'precious.txt' }))).Body!.transformToString();
  expect(body).not.toBe('precious bytes');
});
