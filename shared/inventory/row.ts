// One object (or version, or delete marker) as an S3 Inventory report lists it, whatever the file
// format. Columns are found by name (the manifest's fileSchema, or Parquet's own column names),
// never by position: the set and order of columns depend on the configuration.
import type { EncryptionMode } from '../domain/encryption.ts';
import { InventoryError } from './errors.ts';

export const ENCRYPTION_STATUSES = ['NOT-SSE', 'SSE-S3', 'SSE-KMS', 'DSSE-KMS', 'SSE-C'] as const;
export type EncryptionStatus = (typeof ENCRYPTION_STATUSES)[number];

/** The encryption mode each of the report's statuses names. */
export const MODE_OF_STATUS = {
  'NOT-SSE': 'none',
  'SSE-S3': 'sse-s3',
  'SSE-KMS': 'sse-kms',
  'DSSE-KMS': 'dsse-kms',
  'SSE-C': 'sse-c',
} as const satisfies Record<EncryptionStatus, EncryptionMode>;

export interface InventoryRow {
  bucket: string;
  key: string;
  /** Present when the report lists all versions; absent for a bucket that never had versioning ("null"). */
  versionId?: string;
  /** Absent when the report lists current versions only (every row is then the latest). */
  isLatest?: boolean;
  isDeleteMarker: boolean;
  size?: number;
  /** ISO 8601. */
  lastModified?: string;
  /** Without quotes, as the report gives it. */
  etag?: string;
  storageClass?: string;
  isMultipartUploaded?: boolean;
  encryptionStatus?: EncryptionStatus;
  bucketKeyEnabled?: boolean;
  objectLockMode?: 'GOVERNANCE' | 'COMPLIANCE';
  objectLockRetainUntil?: string;
  objectLockLegalHold?: boolean;
  checksumAlgorithm?: string;
  intelligentTieringAccessTier?: string;
  /** S3 Metadata tables only (an Inventory report has no key ARN): the object's KMS key. */
  kmsKeyArn?: string;
  /**
   * S3 Metadata tables only: the user metadata names the S3 Encryption Client writes ({} when the
   * object has none). Undefined: not known (an Inventory report carries no user metadata).
   */
  userMetadata?: Record<string, string>;
}

/** CSV column name → Parquet/ORC column name. */
export const COLUMN_NAMES = {
  Bucket: 'bucket',
  Key: 'key',
  VersionId: 'version_id',
  IsLatest: 'is_latest',
  IsDeleteMarker: 'is_delete_marker',
  Size: 'size',
  LastModifiedDate: 'last_modified_date',
  ETag: 'e_tag',
  StorageClass: 'storage_class',
  IsMultipartUploaded: 'is_multipart_uploaded',
  EncryptionStatus: 'encryption_status',
  BucketKeyStatus: 'bucket_key_status',
  ObjectLockRetainUntilDate: 'object_lock_retain_until_date',
  ObjectLockMode: 'object_lock_mode',
  ObjectLockLegalHoldStatus: 'object_lock_legal_hold_status',
  ChecksumAlgorithm: 'checksum_algorithm',
  IntelligentTieringAccessTier: 'intelligent_tiering_access_tier',
} as const;
export type InventoryColumn = keyof typeof COLUMN_NAMES;

/** One row's cells by CSV column name; undefined or '' = empty. */
export type Cells = Partial<Record<InventoryColumn, string | number | bigint | boolean | Date | null | undefined>>;

function text(value: Cells[InventoryColumn]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return value.toISOString();
  const s = String(value);
  return s === '' ? undefined : s;
}

function bool(value: Cells[InventoryColumn], column: string): boolean | undefined {
  if (typeof value === 'boolean') return value;
  const s = text(value);
  if (s === undefined) return undefined;
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw new InventoryError('data-file-invalid', `${column} must be true or false, got ${JSON.stringify(s)}`);
}

function int(value: Cells[InventoryColumn], column: string): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  const s = text(value);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw new InventoryError('data-file-invalid', `${column} must be a whole number, got ${JSON.stringify(s)}`);
  return Number(s);
}

function oneOf<T extends string>(value: Cells[InventoryColumn], allowed: readonly T[], column: string): T | undefined {
  const s = text(value);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) {
    throw new InventoryError('data-file-invalid', `${column} ${JSON.stringify(s)} is not one of ${allowed.join(' | ')}`);
  }
  return s as T;
}

/** A row from its cells. `keyEncoded`: CSV reports URL-encode the key (form encoding, "+" for a space). */
export function rowFromCells(cells: Cells, keyEncoded: boolean): InventoryRow {
  const bucket = text(cells.Bucket);
  const rawKey = text(cells.Key);
  if (bucket === undefined || rawKey === undefined) throw new InventoryError('data-file-invalid', 'a row without Bucket or Key');
  let key = rawKey;
  // Most keys need no decoding; decodeURIComponent and the regex cost more than the two scans.
  if (keyEncoded && (rawKey.includes('%') || rawKey.includes('+'))) {
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    } catch {
      throw new InventoryError('data-file-invalid', `Key ${JSON.stringify(rawKey)} is not URL-encoded`);
    }
  }
  const row: InventoryRow = { bucket, key, isDeleteMarker: bool(cells.IsDeleteMarker, 'IsDeleteMarker') ?? false };
  const versionId = text(cells.VersionId);
  if (versionId !== undefined && versionId !== 'null') row.versionId = versionId;
  const isLatest = bool(cells.IsLatest, 'IsLatest');
  if (isLatest !== undefined) row.isLatest = isLatest;
  const size = int(cells.Size, 'Size');
  if (size !== undefined) row.size = size;
  const lastModified = text(cells.LastModifiedDate);
  if (lastModified !== undefined) row.lastModified = lastModified;
  const etag = text(cells.ETag);
  if (etag !== undefined) row.etag = etag.charCodeAt(0) === 0x22 || etag.endsWith('"') ? etag.replace(/^"|"$/g, '') : etag;
  const storageClass = text(cells.StorageClass);
  if (storageClass !== undefined) row.storageClass = storageClass;
  const multipart = bool(cells.IsMultipartUploaded, 'IsMultipartUploaded');
  if (multipart !== undefined) row.isMultipartUploaded = multipart;
  const encryption = oneOf(cells.EncryptionStatus, ENCRYPTION_STATUSES, 'EncryptionStatus');
  if (encryption !== undefined) row.encryptionStatus = encryption;
  const bucketKey = oneOf(cells.BucketKeyStatus, ['ENABLED', 'DISABLED'] as const, 'BucketKeyStatus');
  if (bucketKey !== undefined) row.bucketKeyEnabled = bucketKey === 'ENABLED';
  const lockMode = oneOf(cells.ObjectLockMode, ['GOVERNANCE', 'COMPLIANCE'] as const, 'ObjectLockMode');
  if (lockMode !== undefined) row.objectLockMode = lockMode;
  const retainUntil = text(cells.ObjectLockRetainUntilDate);
  if (retainUntil !== undefined) row.objectLockRetainUntil = retainUntil;
  const legalHold = oneOf(cells.ObjectLockLegalHoldStatus, ['ON', 'OFF'] as const, 'ObjectLockLegalHoldStatus');
  if (legalHold !== undefined) row.objectLockLegalHold = legalHold === 'ON';
  const checksum = text(cells.ChecksumAlgorithm);
  if (checksum !== undefined) row.checksumAlgorithm = checksum;
  const tier = text(cells.IntelligentTieringAccessTier);
  if (tier !== undefined) row.intelligentTieringAccessTier = tier;
  return row;
}

/** The columns an encryption audit cannot do without. */
export const REQUIRED_COLUMNS: readonly InventoryColumn[] = ['Bucket', 'Key', 'EncryptionStatus'];
