// What a HeadObject answer says about an object version's server-side encryption: the one reading
// of S3's headers, used by the inspector (audits) and the remediation engine (verifying a fix).
import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { modeFromServerSideEncryption, type ServerSideMode } from '../domain/encryption.ts';
import type { ObservedEncryptionSnapshot } from '../domain/encryption-snapshot.ts';

/** S3's own layer: SSE-C is told apart by its algorithm header, the rest by x-amz-server-side-encryption. */
export const serverSideModeOf = (head: Pick<HeadObjectCommandOutput, 'SSECustomerAlgorithm' | 'ServerSideEncryption'>): ServerSideMode | 'sse-c' =>
  head.SSECustomerAlgorithm ? 'sse-c' : modeFromServerSideEncryption(head.ServerSideEncryption);

/** Mode, key (KMS modes only), bucket key, version id and ETag of the version HeadObject answered for. */
export function encryptionOfHead(head: HeadObjectCommandOutput): ObservedEncryptionSnapshot {
  const mode = serverSideModeOf(head);
  return {
    mode,
    bucketKeyEnabled: head.BucketKeyEnabled === true,
    ...(head.SSEKMSKeyId && (mode === 'sse-kms' || mode === 'dsse-kms') ? { kmsKeyArn: head.SSEKMSKeyId } : {}),
    ...(head.VersionId ? { versionId: head.VersionId } : {}),
    ...(head.ETag ? { etag: head.ETag } : {}),
  };
}
