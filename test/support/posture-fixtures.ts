// Test setup for bucket posture on the emulator: default encryption, bucket policies and
// client-side encrypted objects, written through the SDK as a user's tooling would write them.
import { randomBytes } from 'node:crypto';
import { PutBucketEncryptionCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../../shared/aws/clients.ts';
import type { PostureFinding } from '../../shared/domain/posture-finding.ts';
import type { TestKey } from './aws-fixtures.ts';

/** Sets a bucket's default encryption exactly as given (SSE-S3, or SSE-KMS with a key, bucket key, blocked types). */
export async function putDefaultEncryption(
  clients: AwsClients,
  bucket: string,
  encryption: { mode: 'sse-s3' } | { mode: 'sse-kms'; key?: TestKey; bucketKey: boolean },
  blocked?: ('SSE-C' | 'NONE')[],
) {
  await clients.s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault:
              encryption.mode === 'sse-s3'
                ? { SSEAlgorithm: 'AES256' }
                : { SSEAlgorithm: 'aws:kms', ...(encryption.key ? { KMSMasterKeyID: encryption.key.arn } : {}) },
            ...(encryption.mode === 'sse-kms' ? { BucketKeyEnabled: encryption.bucketKey } : {}),
            ...(blocked ? { BlockedEncryptionTypes: { EncryptionType: blocked } } : {}),
          },
        ],
      },
    }),
  );
}

export async function putBucketPolicy(clients: AwsClients, bucket: string, policy: string) {
  await clients.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
}

/** An object as the S3 Encryption Client writes it: ciphertext body, envelope in user metadata. */
export async function putClientSideObject(clients: AwsClients, bucket: string, key: string, envelope: Record<string, string>) {
  // SSE-S3 said explicitly, as S3 applies it by default (ministack applies no default encryption).
  await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: randomBytes(48), Metadata: envelope, ServerSideEncryption: 'AES256' }));
}

/** A bucket posture decided by its default encryption alone: SSE-KMS is compliant, SSE-S3 is not; SSE-C blocked, no bucket policy. */
export const defaultEncryptionPosture = (bucket: string, verdict: 'compliant' | 'noncompliant', auditedAt: string): PostureFinding => ({
  bucket,
  verdict,
  reasons: verdict === 'compliant' ? [] : [{ code: 'bucket-default-mode-not-allowed', message: 'the default is SSE-S3' }],
  remediate: false,
  auditedAt,
  defaultEncryption: { status: 'configured', mode: verdict === 'compliant' ? 'sse-kms' : 'sse-s3' },
  sseC: 'blocked',
  policy: 'none',
  tls: 'not-enforced',
  unencryptedPuts: 'allowed',
  notes: [],
});
