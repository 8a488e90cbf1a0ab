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
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
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

// ---------------------------------------------------------------- remediation: objects with every attribute a fix must keep

/**
 * A bucket whose objects may carry ACL grants (RICH_ATTRIBUTES has two). A bucket created with
 * defaults is BucketOwnerEnforced: ACLs are disabled and a write with grant headers is refused
 * (AccessControlListNotSupported), so a user keeping grants must create it with ObjectWriter.
 */
export const createAclBucket = (clients: AwsClients, bucket: string) =>
  clients.s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'ObjectWriter' }));

/** A bucket with Object Lock enabled (and so versioning), ACLs enabled as createAclBucket. */
export const createLockedBucket = (clients: AwsClients, bucket: string) =>
  clients.s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true, ObjectOwnership: 'ObjectWriter' }));

export const enableVersioning = (clients: AwsClients, bucket: string) =>
  clients.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));

/** Everything sseguard promises to keep across a copy, as a writer would set it. */
export const RICH_ATTRIBUTES = {
  Metadata: { owner: 'alice', 'cost-centre': 'cc-42' },
  ContentType: 'application/x-sseguard-test',
  CacheControl: 'max-age=60, private',
  ContentEncoding: 'identity',
  ContentDisposition: 'attachment; filename="report.bin"',
  ContentLanguage: 'fr-CH',
  WebsiteRedirectLocation: '/moved/here',
  Tagging: 'classification=secret&team=data%20eng',
  StorageClass: 'STANDARD_IA',
  ChecksumAlgorithm: 'SHA256',
  // A grant beside the owner's: carried as grant headers on the copy.
  GrantRead: 'id="79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"',
  GrantFullControl: 'id="75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"',
} as const satisfies Partial<PutObjectCommandInput>;

/** Writes `body` with RICH_ATTRIBUTES (plus lock settings and encryption as given) into a bucket from createAclBucket or createLockedBucket; returns its version id and ETag. */
export async function putRichObject(
  clients: AwsClients,
  bucket: string,
  key: string,
  body: Buffer,
  encryption: WriteEncryption,
  extra: Partial<PutObjectCommandInput> = {},
): Promise<{ versionId?: string; etag: string }> {
  const put = await clients.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...RICH_ATTRIBUTES, ...encryptionParameters(encryption), ...extra }),
  );
  return { ...(put.VersionId ? { versionId: put.VersionId } : {}), etag: put.ETag! };
}

/** A body of `size` bytes that differs at every offset, so that a misplaced part would show. */
export function patternedBody(size: number, seed = 1): Buffer {
  const body = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += 4) body.writeUInt32BE((offset * 2654435761 + seed) >>> 0, Math.min(offset, size - 4));
  return body;
}

/**
 * `count` objects obj-000, obj-001, … in every server-side mode, six in turn: SSE-S3 twice,
 * SSE-KMS under `enabled`, SSE-KMS under `disabled`, DSSE-KMS under `enabled`, SSE-C.
 */
export async function putObjectsInEveryMode(clients: AwsClients, bucket: string, count: number, keys: { enabled: TestKey; disabled: TestKey }): Promise<void> {
  const modes: WriteEncryption[] = [
    { mode: 'sse-s3' },
    { mode: 'sse-s3' },
    { mode: 'sse-kms', key: keys.enabled },
    { mode: 'sse-kms', key: keys.disabled },
    { mode: 'dsse-kms', key: keys.enabled },
    { mode: 'sse-c' },
  ];
  await Promise.all(Array.from({ length: count }, (_, i) => putObject(clients, bucket, `obj-${String(i).padStart(3, '0')}`, modes[i % modes.length]!)));
}
