import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';

test('the emulator answers S3 through the SDK with the environment endpoint', async () => {
  const { s3 } = createAwsClients();
  await s3.send(new CreateBucketCommand({ Bucket: 'smoke' }));
  await s3.send(new PutObjectCommand({ Bucket: 'smoke', Key: 'a b+c%.txt', Body: 'hello' }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'smoke', Key: 'a b+c%.txt' }));
  expect(head.ContentLength).toBe(5);
});
