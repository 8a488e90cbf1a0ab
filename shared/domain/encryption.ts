// What an object's encryption is, as S3 and KMS report it. Plain data: no SDK types.

export const ENCRYPTION_MODES = ['none', 'sse-s3', 'sse-kms', 'dsse-kms', 'sse-c'] as const;
export type EncryptionMode = (typeof ENCRYPTION_MODES)[number];

export const KMS_MODES: readonly EncryptionMode[] = ['sse-kms', 'dsse-kms'];
export const isKmsMode = (mode: EncryptionMode): boolean => KMS_MODES.includes(mode);

/** Maps S3's `x-amz-server-side-encryption` value to a mode (SSE-C is told apart before this). */
export function modeFromServerSideEncryption(value: string | undefined): EncryptionMode {
  switch (value) {
    case undefined:
    case '':
      return 'none';
    case 'AES256':
      return 'sse-s3';
    case 'aws:kms':
      return 'sse-kms';
    case 'aws:kms:dsse':
      return 'dsse-kms';
    default:
      throw new Error(`unknown x-amz-server-side-encryption value: ${value}`);
  }
}

export interface ObjectLockFacts {
  mode?: 'GOVERNANCE' | 'COMPLIANCE';
  retainUntil?: string;
  legalHold: boolean;
}

/** What HeadObject told about one object. */
export interface ObjectFacts {
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
  size: number;
  storageClass: string;
  lastModified?: string;
  mode: EncryptionMode;
  /** Full key ARN for SSE-KMS and DSSE-KMS objects. */
  kmsKeyArn?: string;
  bucketKeyEnabled: boolean;
  objectLock: ObjectLockFacts;
  /** Set for GLACIER / DEEP_ARCHIVE objects and archived Intelligent-Tiering tiers. */
  archiveStatus?: string;
}

export const UNREADABLE_REASONS = ['object-access-denied', 'object-vanished', 'object-unreadable'] as const;
export type UnreadableReason = (typeof UNREADABLE_REASONS)[number];

/** The outcome of inspecting one object: its facts, or why they could not be read. */
export type ObjectInspection =
  | { status: 'read'; facts: ObjectFacts }
  | { status: 'unreadable'; bucket: string; key: string; versionId?: string; reason: UnreadableReason; detail: string };

export const KEY_STATES = [
  'Creating',
  'Enabled',
  'Disabled',
  'PendingDeletion',
  'PendingImport',
  'PendingReplicaDeletion',
  'Unavailable',
  'Updating',
] as const;
export type KeyState = (typeof KEY_STATES)[number];

/** What KMS told about one key, or why it could not tell. */
export type KeyLookup =
  | {
      status: 'described';
      arn: string;
      keyId: string;
      accountId: string;
      state: KeyState;
      manager: 'AWS' | 'CUSTOMER';
      origin: string;
      deletionDate?: string;
      /** undefined when KMS would not say (denied, or the key's state forbids the call). */
      rotationEnabled?: boolean;
    }
  | { status: 'not-found' | 'access-denied' | 'error'; arn: string; detail: string };
