// What an object's encryption is, as S3 and KMS report it. Plain data: no SDK types.

// `client-side`: encrypted by the S3 Encryption Client before upload (S3 adds its own SSE layer too).
export const ENCRYPTION_MODES = ['none', 'sse-s3', 'sse-kms', 'dsse-kms', 'sse-c', 'client-side'] as const;
export type EncryptionMode = (typeof ENCRYPTION_MODES)[number];

export const KMS_MODES: readonly EncryptionMode[] = ['sse-kms', 'dsse-kms'];
export const isKmsMode = (mode: EncryptionMode): boolean => KMS_MODES.includes(mode);

/** Maps S3's `x-amz-server-side-encryption` value to a mode (SSE-C is told apart before this). */
export function modeFromServerSideEncryption(value: string | undefined): ServerSideMode {
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

/** Server-side modes S3 can report beneath client-side encryption (SSE-C objects answer no HeadObject). */
export type ServerSideMode = 'none' | 'sse-s3' | 'sse-kms' | 'dsse-kms';

/** The S3 Encryption Client's envelope, read from the object's user metadata (never decrypted). */
export interface ClientSideFacts {
  /** Metadata format: v1 `x-amz-key`, v2 `x-amz-key-v2`, v3 `x-amz-3`; `mixed` when keys of several formats appear. */
  envelope: 'v1' | 'v2' | 'v3' | 'mixed';
  /** Content encryption: AES/GCM/NoPadding, AES/CBC/PKCS5Padding, ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY, or unknown. */
  contentAlgorithm: string;
  /** How the data key is wrapped (kms, kms+context, AES/GCM, AESWrap, RSA-…); absent when the envelope does not say. */
  wrapAlgorithm?: string;
  /** The material description (or KMS encryption context) as stored, JSON text. */
  materialDescription?: string;
  /** The KMS key that wraps the data key, when the material description names it (`kms_cmk_id`). */
  wrappingKmsKeyId?: string;
  /** The server-side layer S3 added at rest beneath the client-side ciphertext. */
  serverSideMode: ServerSideMode;
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
  /** Full key ARN for SSE-KMS and DSSE-KMS objects, and for client-side objects whose server-side layer is KMS. */
  kmsKeyArn?: string;
  bucketKeyEnabled: boolean;
  objectLock: ObjectLockFacts;
  /** Set for GLACIER / DEEP_ARCHIVE objects and archived Intelligent-Tiering tiers. */
  archiveStatus?: string;
  /** false for a noncurrent version; true when HeadObject named no version (it answers with the current one). */
  isLatest?: boolean;
  /** Set when mode is `client-side`. */
  clientSide?: ClientSideFacts;
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
      /** The key's alias names (`alias/finance`), from ListAliases; undefined when KMS would not list them. */
      aliases?: string[];
    }
  | { status: 'not-found' | 'access-denied' | 'error'; arn: string; detail: string };
