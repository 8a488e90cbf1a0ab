// The encryption of one object version, before or after a fix. Plain data: no SDK types.
import type { EncryptionMode } from './encryption.ts';

/** As recorded: a finding of an unreadable object has no mode, so every field may be absent. */
export interface EncryptionSnapshot {
  mode?: EncryptionMode;
  kmsKeyArn?: string;
  bucketKeyEnabled?: boolean;
  versionId?: string;
  etag?: string;
}

/** As read from S3 (HeadObject, or the audited facts a fix starts from): mode and Bucket Key are known. */
export type ObservedEncryptionSnapshot = Required<Pick<EncryptionSnapshot, 'mode' | 'bucketKeyEnabled'>> & EncryptionSnapshot;
