// The Athena query of the metadata-table tier, and the reading of its result rows. Pure.
//
// S3 Metadata keeps a live inventory table per bucket, an Apache Iceberg table in the AWS managed
// table bucket `aws-s3`, queried in Athena as "s3tablescatalog/aws-s3"."b_<bucket>"."inventory"
// (S3 User Guide, "Example metadata table queries"). Its columns ("S3 Metadata live inventory
// tables schema"): bucket, key, sequence_number, version_id, is_delete_marker, size,
// last_modified_date, e_tag, storage_class, is_multipart, encryption_status, is_bucket_key_enabled,
// kms_key_arn, checksum_algorithm, object_tags, user_metadata. Unlike an S3 Inventory report it
// carries the KMS key ARN and the user metadata (where the S3 Encryption Client keeps its
// envelope): every object is decided without a HeadObject.
//
// The table is eventually consistent: "updates to your objects are typically reflected in the
// inventory table within one hour". Its rows are evidence as of the query's start minus that lag.
import { ENCRYPTION_STATUSES, type EncryptionStatus, type InventoryRow } from '../inventory/row.ts';
import { InventoryError } from '../inventory/errors.ts';

export interface MetadataTable {
  /** Athena catalog of the AWS managed table bucket. */
  catalog: string;
  /** The bucket's namespace, b_<bucket name>. */
  namespace: string;
  table: string;
}

export const metadataTableOf = (bucket: string, overrides: Partial<MetadataTable> = {}): MetadataTable => ({
  catalog: overrides.catalog ?? 's3tablescatalog/aws-s3',
  namespace: overrides.namespace ?? `b_${bucket}`,
  table: overrides.table ?? 'inventory',
});

/** The user-metadata names the S3 Encryption Client writes (shared/domain/client-side.ts reads them). */
export const CLIENT_SIDE_METADATA = [
  'x-amz-key', 'x-amz-iv', 'x-amz-key-v2', 'x-amz-cek-alg', 'x-amz-wrap-alg', 'x-amz-matdesc', 'x-amz-tag-len',
  'x-amz-3', 'x-amz-d', 'x-amz-i', 'x-amz-c', 'x-amz-w', 'x-amz-m', 'x-amz-t',
] as const;

/** The result columns, in order; the reader finds them by name in the result's header. */
export const RESULT_COLUMNS = [
  'key', 'version_id', 'size', 'last_modified_date', 'e_tag', 'storage_class',
  'encryption_status', 'is_bucket_key_enabled', 'kms_key_arn', 'checksum_algorithm', 'envelope_metadata',
] as const;

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * One row per current object of `bucket` (under `prefix`). The newest row of a key by
 * sequence_number is its current state ("a lexicographically larger sequence_number implies that
 * the record was introduced more recently"); a key whose newest row is a delete marker is gone.
 * Only the envelope names of user_metadata are returned (as JSON), never the whole map: user
 * metadata can be 2 KB an object. Names are matched with and without S3's `x-amz-meta-` prefix.
 */
export function currentObjectsQuery(table: MetadataTable, bucket: string, prefix?: string): string {
  const names = CLIENT_SIDE_METADATA.flatMap((n) => [n, `x-amz-meta-${n}`]).map(literal).join(', ');
  const from = `${identifier(table.catalog)}.${identifier(table.namespace)}.${identifier(table.table)}`;
  const where = [`bucket = ${literal(bucket)}`, ...(prefix ? [`starts_with(key, ${literal(prefix)})`] : [])].join(' AND ');
  return [
    'SELECT key, version_id, size, last_modified_date, e_tag, storage_class, encryption_status, is_bucket_key_enabled, kms_key_arn, checksum_algorithm,',
    `  json_format(CAST(map_filter(user_metadata, (k, v) -> lower(k) IN (${names})) AS JSON)) AS envelope_metadata`,
    'FROM (',
    '  SELECT *, row_number() OVER (PARTITION BY key ORDER BY sequence_number DESC) AS sseguard_newest',
    `  FROM ${from}`,
    `  WHERE ${where}`,
    ')',
    'WHERE sseguard_newest = 1 AND coalesce(is_delete_marker, false) = false',
  ].join('\n');
}

/** One result row by column name, as Athena's CSV gives it: '' for NULL. */
export type ResultCells = Partial<Record<(typeof RESULT_COLUMNS)[number], string>>;

const present = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/** Athena's timestamp text ("2024-11-15 23:26:44.899", no time zone: S3 writes UTC) as ISO 8601. */
function isoTime(value: string, where: string): string {
  const iso = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const time = Date.parse(iso);
  if (Number.isNaN(time)) throw new InventoryError('data-file-invalid', `${where}: last_modified_date ${JSON.stringify(value)} is not a timestamp`);
  return new Date(time).toISOString();
}

function envelopeMetadata(value: string | undefined, where: string): Record<string, string> {
  const text = present(value);
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InventoryError('data-file-invalid', `${where}: envelope_metadata is not JSON`);
  }
  const metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v === 'string') metadata[name.toLowerCase().replace(/^x-amz-meta-/, '')] = v;
  }
  return metadata;
}

/** A result row as the inventory tier's row, with what only the metadata table knows. */
export function rowFromResult(bucket: string, cells: ResultCells, where: string): InventoryRow {
  const key = present(cells.key);
  if (key === undefined) throw new InventoryError('data-file-invalid', `${where}: a row without key`);
  const row: InventoryRow = { bucket, key, isDeleteMarker: false, userMetadata: envelopeMetadata(cells.envelope_metadata, where) };
  const versionId = present(cells.version_id);
  if (versionId !== undefined && versionId !== 'null') row.versionId = versionId;
  const size = present(cells.size);
  if (size !== undefined) {
    if (!/^\d+$/.test(size)) throw new InventoryError('data-file-invalid', `${where}: size ${JSON.stringify(size)} is not a whole number`);
    row.size = Number(size);
  }
  const lastModified = present(cells.last_modified_date);
  if (lastModified !== undefined) row.lastModified = isoTime(lastModified, where);
  const etag = present(cells.e_tag);
  if (etag !== undefined) row.etag = etag.replace(/^"|"$/g, '');
  const storageClass = present(cells.storage_class);
  if (storageClass !== undefined) row.storageClass = storageClass;
  const status = present(cells.encryption_status);
  if (status !== undefined) {
    if (!(ENCRYPTION_STATUSES as readonly string[]).includes(status)) {
      throw new InventoryError('data-file-invalid', `${where}: encryption_status ${JSON.stringify(status)} is not one of ${ENCRYPTION_STATUSES.join(' | ')}`);
    }
    row.encryptionStatus = status as EncryptionStatus;
  }
  const bucketKey = present(cells.is_bucket_key_enabled);
  if (bucketKey !== undefined) {
    if (bucketKey !== 'true' && bucketKey !== 'false') throw new InventoryError('data-file-invalid', `${where}: is_bucket_key_enabled ${JSON.stringify(bucketKey)}`);
    row.bucketKeyEnabled = bucketKey === 'true';
  }
  const kmsKeyArn = present(cells.kms_key_arn);
  if (kmsKeyArn !== undefined) row.kmsKeyArn = kmsKeyArn;
  const checksum = present(cells.checksum_algorithm);
  if (checksum !== undefined) row.checksumAlgorithm = checksum;
  return row;
}
