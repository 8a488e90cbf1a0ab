// What S3 and KMS tell about a bucket's own encryption posture. Plain data: no SDK types.
import type { KeyLookup } from '../domain/encryption.ts';
import type { SseCBlocking } from '../domain/posture-finding.ts';
import type { EncryptionConfiguration } from '../domain/posture-change.ts';

export type DefaultMode = 'sse-s3' | 'sse-kms' | 'dsse-kms';

export type DefaultEncryptionRead =
  | {
      status: 'configured';
      /** undefined when S3 answered an algorithm sseguard does not know (kept in `configuration`). */
      mode?: DefaultMode;
      algorithm: string;
      /** KMSMasterKeyID as configured (key id, key ARN, alias or alias ARN); absent means aws/s3. */
      kmsKeyRef?: string;
      bucketKeyEnabled: boolean;
      /** undefined when GetBucketEncryption did not return BlockedEncryptionTypes. */
      blockedEncryptionTypes?: string[];
      configuration: EncryptionConfiguration;
    }
  /** ServerSideEncryptionConfigurationNotFoundError: only from S3-compatible stores or old emulators. */
  | { status: 'none' }
  | { status: 'unreadable'; detail: string };

export type BucketPolicyRead = { status: 'none' } | { status: 'read'; text: string } | { status: 'unreadable'; detail: string };

export type { SseCBlocking } from '../domain/posture-finding.ts';

export interface BucketFacts {
  bucket: string;
  /** ARN partition (aws, aws-cn, aws-us-gov) for matching policy resources. */
  partition: string;
  defaultEncryption: DefaultEncryptionRead;
  /** The lookup of the default's KMS key (aws/s3 when none is named); set for KMS defaults. */
  defaultKey?: KeyLookup;
  policy: BucketPolicyRead;
}

/** SSE-C blocking as the configuration says it; never guessed when S3 does not say. */
export function sseCBlocking(encryption: DefaultEncryptionRead): SseCBlocking {
  if (encryption.status !== 'configured' || encryption.blockedEncryptionTypes === undefined) return 'unknown';
  return encryption.blockedEncryptionTypes.includes('SSE-C') ? 'blocked' : 'allowed';
}

export const DEFAULT_MODES: Record<string, DefaultMode> = { AES256: 'sse-s3', 'aws:kms': 'sse-kms', 'aws:kms:dsse': 'dsse-kms' };
export const ALGORITHM_OF: Record<DefaultMode, string> = { 'sse-s3': 'AES256', 'sse-kms': 'aws:kms', 'dsse-kms': 'aws:kms:dsse' };

/** Reads the first rule of a configuration (S3 keeps exactly one). */
export function defaultEncryptionFrom(configuration: EncryptionConfiguration): DefaultEncryptionRead {
  const rule = configuration.Rules[0];
  const byDefault = rule?.ApplyServerSideEncryptionByDefault;
  if (!rule || !byDefault) return { status: 'none' };
  const mode = DEFAULT_MODES[byDefault.SSEAlgorithm];
  const types = rule.BlockedEncryptionTypes?.EncryptionType;
  return {
    status: 'configured',
    algorithm: byDefault.SSEAlgorithm,
    bucketKeyEnabled: rule.BucketKeyEnabled === true,
    configuration,
    ...(mode ? { mode } : {}),
    ...(byDefault.KMSMasterKeyID ? { kmsKeyRef: byDefault.KMSMasterKeyID } : {}),
    ...(types ? { blockedEncryptionTypes: types } : {}),
  };
}
