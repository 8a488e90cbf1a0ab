// The inventory configuration an encryption audit needs, built and checked before any call. Pure:
// the CLI sends the result with PutBucketInventoryConfiguration.
import type { InventoryConfiguration, InventoryOptionalField } from '@aws-sdk/client-s3';
import { InventoryError } from './errors.ts';

/**
 * The fields the audit reads, beyond Bucket and Key (and the version columns S3 adds with `all`):
 * encryption and bucket key decide the mode; ETag, version and size tell a changed object from the
 * recorded one; storage class, Intelligent-Tiering tier, object lock and checksum are what a fix
 * must keep or must not touch; multipart says whether a copy needs UploadPartCopy.
 */
export const AUDIT_FIELDS: readonly InventoryOptionalField[] = [
  'Size',
  'LastModifiedDate',
  'ETag',
  'StorageClass',
  'IsMultipartUploaded',
  'EncryptionStatus',
  'BucketKeyStatus',
  'ObjectLockRetainUntilDate',
  'ObjectLockMode',
  'ObjectLockLegalHoldStatus',
  'IntelligentTieringAccessTier',
  'ChecksumAlgorithm',
];

export interface InventorySetupOptions {
  bucket: string;
  destinationBucket: string;
  prefix?: string;
  format?: string;
  versions?: string;
  id?: string;
  frequency?: string;
  /** The destination bucket's owner, when it is another account. */
  destinationAccountId?: string;
}

const invalid = (message: string) => new InventoryError('location-invalid', message);

function choose<T extends string>(value: string | undefined, allowed: Record<string, T>, what: string, fallback: T): T {
  if (value === undefined) return fallback;
  const chosen = allowed[value.toLowerCase()];
  if (chosen === undefined) throw invalid(`${what} must be ${Object.keys(allowed).join(' or ')}, got ${JSON.stringify(value)}`);
  return chosen;
}

export function inventoryConfiguration(options: InventorySetupOptions): InventoryConfiguration {
  if (options.format !== undefined && options.format.toLowerCase() === 'orc') {
    throw invalid('ORC is not supported by sseguard: choose --format CSV or --format Parquet');
  }
  const format = choose(options.format, { csv: 'CSV', parquet: 'Parquet' } as const, '--format', 'CSV');
  const versions = choose(options.versions, { current: 'Current', all: 'All' } as const, '--versions', 'Current');
  const frequency = choose(options.frequency, { daily: 'Daily', weekly: 'Weekly' } as const, '--frequency', 'Daily');
  const id = options.id ?? 'sseguard';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw invalid(`--inventory-id must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(id)}`);
  if (options.destinationBucket === options.bucket) {
    throw invalid(`--destination-bucket must be another bucket than ${options.bucket}: a report delivered into its own source bucket lists its own files`);
  }
  const prefix = options.prefix?.replace(/\/+$/, '');
  if (prefix !== undefined && (prefix === '' || prefix.startsWith('/'))) {
    throw invalid(`--destination-prefix must not be empty or start with '/', got ${JSON.stringify(options.prefix)}`);
  }
  if (options.destinationAccountId !== undefined && !/^\d{12}$/.test(options.destinationAccountId)) {
    throw invalid(`--destination-account must be a 12-digit account id, got ${JSON.stringify(options.destinationAccountId)}`);
  }
  return {
    Id: id,
    IsEnabled: true,
    IncludedObjectVersions: versions,
    Schedule: { Frequency: frequency },
    OptionalFields: [...AUDIT_FIELDS],
    Destination: {
      S3BucketDestination: {
        Bucket: `arn:aws:s3:::${options.destinationBucket}`,
        Format: format,
        ...(prefix ? { Prefix: prefix } : {}),
        ...(options.destinationAccountId ? { AccountId: options.destinationAccountId } : {}),
      },
    },
  };
}

/** The statement the destination bucket's policy needs so that S3 may write the reports (S3 User Guide, "Configuring inventory"). */
export function destinationPolicyStatement(sourceBucket: string, destinationBucket: string, sourceAccountId: string, prefix?: string): Record<string, unknown> {
  return {
    Sid: `sseguard-inventory-${sourceBucket}`.slice(0, 100),
    Effect: 'Allow',
    Principal: { Service: 's3.amazonaws.com' },
    Action: 's3:PutObject',
    Resource: `arn:aws:s3:::${destinationBucket}/${prefix ? `${prefix}/` : ''}*`,
    Condition: {
      ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${sourceBucket}` },
      StringEquals: { 'aws:SourceAccount': sourceAccountId, 's3:x-amz-acl': 'bucket-owner-full-control' },
    },
  };
}
