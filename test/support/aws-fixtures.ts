// Test setup on the emulator: KMS keys in a given state and objects in a given mode, written
// through the SDK exactly as a user's application would write them.
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import type { AwsClients } from '../../shared/aws/clients.ts';

export interface TestKey {
  id: string;
  arn: string;
}

export async function createKey(clients: AwsClients, options: { rotation?: boolean; alias?: string } = {}): Promise<TestKey> {
  const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({ Description: 'sseguard test key' }));
  const key = { id: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn! };
  if (options.rotation) await clients.kms.send(new EnableKeyRotationCommand({ KeyId: key.id }));
  if (options.alias) await clients.kms.send(new CreateAliasCommand({ AliasName: options.alias, TargetKeyId: key.id }));
  return key;
}

// moto 5.2 answers DisableKey and ScheduleKeyDeletion given a key ARN with a 500: pass the key id.
export const disableKey = (clients: AwsClients, key: TestKey) => clients.kms.send(new DisableKeyCommand({ KeyId: key.id }));
export const scheduleDeletion = (clients: AwsClients, key: TestKey) =>
  clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.id, PendingWindowInDays: 7 }));

export const createBucket = (clients: AwsClients, bucket: string) => clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));

export type WriteEncryption =
  | { mode: 'bucket-default' }
  | { mode: 'sse-s3' }
  | { mode: 'sse-kms'; key?: TestKey; bucketKey?: boolean }
  | { mode: 'dsse-kms'; key: TestKey }
  | { mode: 'sse-c' };

const customerKey = randomBytes(32);
export const sseCHeaders = {
  SSECustomerAlgorithm: 'AES256',
  SSECustomerKey: customerKey.toString('base64'),
  SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64'),
};

function encryptionParameters(encryption: WriteEncryption): Partial<PutObjectCommandInput> {
  switch (encryption.mode) {
    case 'bucket-default':
      return {};
    case 'sse-s3':
      return { ServerSideEncryption: 'AES256' };
    case 'sse-kms':
      return {
        ServerSideEncryption: 'aws:kms',
        ...(encryption.key ? { SSEKMSKeyId: encryption.key.arn } : {}),
        ...(encryption.bucketKey === undefined ? {} : { BucketKeyEnabled: encryption.bucketKey }),
      };
    case 'dsse-kms':
      return { ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: encryption.key.arn };
    case 'sse-c':
      return sseCHeaders;
  }
}

export async function putObject(clients: AwsClients, bucket: string, key: string, encryption: WriteEncryption, body = `body of ${key}`) {
  await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(body), ...encryptionParameters(encryption) }));
}
