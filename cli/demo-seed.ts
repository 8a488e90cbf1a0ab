// Demo resources on the emulator: KMS keys in every state and a bucket with objects in every
// encryption mode, matching examples/demo-policy.yaml.
import { randomBytes, createHash } from 'node:crypto';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import type { AwsClients } from '#shared/aws/clients.ts';

export const DEMO_BUCKET = 'sseguard-demo';
export const DEMO_KEY_NAMES = ['finance', 'legacy', 'retired', 'doomed'] as const;
export type DemoKeyName = (typeof DEMO_KEY_NAMES)[number];

type Encryption =
  | { mode: 'sse-s3' }
  | { mode: 'sse-kms' | 'dsse-kms'; key?: DemoKeyName; bucketKey?: boolean }
  | { mode: 'sse-c' };

export const DEMO_OBJECTS: { key: string; body: string; encryption: Encryption }[] = [
  { key: 'finance/2026-q1.csv', body: 'quarter,revenue\nq1,100\n', encryption: { mode: 'sse-kms', key: 'finance', bucketKey: true } },
  { key: 'finance/2026-q2.csv', body: 'quarter,revenue\nq2,120\n', encryption: { mode: 'sse-kms', key: 'legacy', bucketKey: true } },
  { key: 'finance/2026-q3.csv', body: 'quarter,revenue\nq3,90\n', encryption: { mode: 'sse-s3' } },
  { key: 'finance/payroll 2026.csv', body: 'name,amount\n', encryption: { mode: 'sse-kms' } },
  { key: 'finance/forecast.csv', body: 'year,plan\n', encryption: { mode: 'sse-kms', key: 'finance', bucketKey: false } },
  { key: 'archive/2019.tar', body: 'old archive', encryption: { mode: 'sse-kms', key: 'retired' } },
  { key: 'archive/2020.tar', body: 'older archive', encryption: { mode: 'sse-kms', key: 'doomed' } },
  { key: 'public/logo.png', body: 'png bytes', encryption: { mode: 'sse-s3' } },
  { key: 'public/dataset+v2 (final).bin', body: 'dataset', encryption: { mode: 'dsse-kms', key: 'finance' } },
  { key: 'public/café/menü.txt', body: 'unicode', encryption: { mode: 'sse-s3' } },
  { key: 'customer-keys/secret.bin', body: 'customer encrypted', encryption: { mode: 'sse-c' } },
  { key: 'legacy-import/export-100%.dat', body: 'legacy', encryption: { mode: 'sse-c' } },
  { key: 'tmp/scratch.dat', body: 'scratch', encryption: { mode: 'sse-c' } },
  { key: 'empty/zero-byte', body: '', encryption: { mode: 'sse-s3' } },
];

export interface DemoKeys {
  /** Key id by demo name (moto's DisableKey and ScheduleKeyDeletion need the id, not the ARN). */
  ids: Record<DemoKeyName, string>;
  arns: Record<DemoKeyName, string>;
}

async function createDemoKeys(clients: AwsClients): Promise<DemoKeys> {
  const ids = {} as Record<DemoKeyName, string>;
  const arns = {} as Record<DemoKeyName, string>;
  for (const name of DEMO_KEY_NAMES) {
    const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({ Description: `sseguard demo: ${name}` }));
    ids[name] = KeyMetadata!.KeyId!;
    arns[name] = KeyMetadata!.Arn!;
    await clients.kms.send(new CreateAliasCommand({ AliasName: `alias/sseguard-demo-${name}`, TargetKeyId: ids[name] }));
  }
  await clients.kms.send(new EnableKeyRotationCommand({ KeyId: ids.finance }));
  return { ids, arns };
}

/** Demo customer key for SSE-C; the auditor never has it. */
const customerKey = randomBytes(32);

export function encryptionParameters(encryption: Encryption, keys: DemoKeys): Partial<PutObjectCommandInput> {
  switch (encryption.mode) {
    case 'sse-s3':
      return { ServerSideEncryption: 'AES256' };
    case 'sse-kms':
    case 'dsse-kms':
      return {
        ServerSideEncryption: encryption.mode === 'sse-kms' ? 'aws:kms' : 'aws:kms:dsse',
        ...(encryption.key ? { SSEKMSKeyId: keys.arns[encryption.key] } : {}),
        ...(encryption.bucketKey === undefined ? {} : { BucketKeyEnabled: encryption.bucketKey }),
      };
    case 'sse-c':
      return {
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: customerKey.toString('base64'),
        SSECustomerKeyMD5: createHash('md5').update(customerKey).digest('base64'),
      };
  }
}

/** Creates the demo keys and bucket, writes the objects, then disables and schedules deletion. */
export async function seedDemo(clients: AwsClients): Promise<DemoKeys> {
  const keys = await createDemoKeys(clients);
  await clients.s3.send(new CreateBucketCommand({ Bucket: DEMO_BUCKET }));
  for (const object of DEMO_OBJECTS) {
    await clients.s3.send(
      new PutObjectCommand({ Bucket: DEMO_BUCKET, Key: object.key, Body: Buffer.from(object.body), ...encryptionParameters(object.encryption, keys) }),
    );
  }
  // Keys go bad after their objects were written: S3 refuses to encrypt with an unusable key.
  await clients.kms.send(new DisableKeyCommand({ KeyId: keys.ids.retired }));
  await clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: keys.ids.doomed, PendingWindowInDays: 7 }));
  return keys;
}
