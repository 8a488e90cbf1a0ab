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
  /** The live inventory table. */
  table: string;
  /** The journal table: one row per change (record_type, record_timestamp). */
  journal: string;
}

export const metadataTableOf = (bucket: string, overrides: Partial<MetadataTable> = {}): MetadataTable => ({
  catalog: overrides.catalog ?? 's3tablescatalog/aws-s3',
  namespace: overrides.namespace ?? `b_${bucket}`,
  table: overrides.table ?? 'inventory',
  journal: overrides.journal ?? 'journal',
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

const tableName = (table: MetadataTable, name: string) => `${identifier(table.catalog)}.${identifier(table.namespace)}.${identifier(name)}`;

/** Only the envelope names of user_metadata, as JSON (user metadata can be 2 KB an object). */
function envelopeColumn(): string {
  const names = CLIENT_SIDE_METADATA.flatMap((n) => [n, `x-amz-meta-${n}`]).map(literal).join(', ');
  return `json_format(CAST(map_filter(user_metadata, (k, v) -> lower(k) IN (${names})) AS JSON)) AS envelope_metadata`;
}

const RESULT_SELECT = 'key, version_id, size, last_modified_date, e_tag, storage_class, encryption_status, is_bucket_key_enabled, kms_key_arn, checksum_algorithm';

/** Athena's timestamp literal of an instant (UTC, millisecond precision). */
const timestampLiteral = (at: Date) => `from_iso8601_timestamp(${literal(at.toISOString())})`;

/**
 * The oldest record the journal still holds for `bucket`: records expire (the configuration's
 * RecordExpiration), so a run may ask the journal for changes since T only when it holds a record
 * at or before T. One row, column `oldest` (NULL when the journal is empty).
 */
export function journalCoverageQuery(table: MetadataTable, bucket: string): string {
  return `SELECT min(record_timestamp) AS oldest FROM ${tableName(table, table.journal)} WHERE bucket = ${literal(bucket)}`;
}

/** The rolling re-check's window as phases within its period (shared/inventory/reverify.ts): (after, until], taken mod period. */
export interface ReverifyPhases {
  periodMs: number;
  afterMs: number;
  untilMs: number;
}

/**
 * The SQL predicate "this row's re-check falls in the window", over an integer expression `phase`
 * in [0, period): the same tiling as reverify.ts phaseInWindow, so consecutive runs re-check every
 * KMS object once a period. Pure text; tested by running it (DuckDB) over every phase of a small period.
 */
export function phaseWindowPredicate(phase: string, window: ReverifyPhases): string {
  const span = window.untilMs - window.afterMs;
  if (span <= 0) return 'false';
  if (span >= window.periodMs) return 'true';
  const from = ((window.afterMs % window.periodMs) + window.periodMs) % window.periodMs;
  const to = ((window.untilMs % window.periodMs) + window.periodMs) % window.periodMs;
  return from < to ? `(${phase} > ${from} AND ${phase} <= ${to})` : `(${phase} > ${from} OR ${phase} <= ${to})`;
}

/** An object's re-check phase in Athena: its own hash (xxhash64 of bucket, key and version), not the inventory tier's. */
const athenaPhase = (periodMs: number) =>
  `mod(mod(from_big_endian_64(xxhash64(to_utf8(concat(bucket, chr(0), key, chr(0), coalesce(version_id, ''))))), ${periodMs}) + ${periodMs}, ${periodMs})`;

/**
 * What changed in `bucket` since `since`: the current row (as currentObjectsQuery gives it) of
 * every key the journal has a record of at or after `since`, plus the KMS objects whose rolling
 * re-check falls in `reverify`, with `sseguard_change` = 'changed'; and each such key with no
 * current row (deleted, or its newest row a delete marker) once, with `sseguard_change` =
 * 'vanished' and every other column NULL. The result follows the change, not the bucket.
 */
export function changedObjectsQuery(table: MetadataTable, bucket: string, since: Date, reverify: ReverifyPhases | undefined, prefix?: string): string {
  const scope = [`bucket = ${literal(bucket)}`, ...(prefix ? [`starts_with(key, ${literal(prefix)})`] : [])].join(' AND ');
  const due = reverify
    ? ` OR (encryption_status IN ('SSE-KMS', 'DSSE-KMS') AND ${phaseWindowPredicate(athenaPhase(reverify.periodMs), reverify)})`
    : '';
  return [
    'WITH sseguard_journal AS (',
    `  SELECT DISTINCT key FROM ${tableName(table, table.journal)}`,
    `  WHERE ${scope} AND record_timestamp >= ${timestampLiteral(since)}`,
    '),',
    'sseguard_current AS (',
    '  SELECT *, row_number() OVER (PARTITION BY key ORDER BY sequence_number DESC) AS sseguard_newest',
    `  FROM ${tableName(table, table.table)}`,
    `  WHERE ${scope}`,
    '),',
    'sseguard_live AS (',
    '  SELECT * FROM sseguard_current WHERE sseguard_newest = 1 AND coalesce(is_delete_marker, false) = false',
    ')',
    `SELECT ${RESULT_SELECT},`,
    `  ${envelopeColumn()}, 'changed' AS sseguard_change`,
    'FROM sseguard_live',
    `WHERE key IN (SELECT key FROM sseguard_journal)${due}`,
    'UNION ALL',
    `SELECT j.key, ${RESULT_SELECT.split(', ').slice(1).map((c) => `NULL AS ${c}`).join(', ')}, NULL AS envelope_metadata, 'vanished' AS sseguard_change`,
    'FROM sseguard_journal j',
    'WHERE NOT EXISTS (SELECT 1 FROM sseguard_live l WHERE l.key = j.key)',
  ].join('\n');
}

/**
 * One row per current object of `bucket` (under `prefix`). The newest row of a key by
 * sequence_number is its current state ("a lexicographically larger sequence_number implies that
 * the record was introduced more recently"); a key whose newest row is a delete marker is gone.
 * Only the envelope names of user_metadata are returned (as JSON), never the whole map: user
 * metadata can be 2 KB an object. Names are matched with and without S3's `x-amz-meta-` prefix.
 */
export function currentObjectsQuery(table: MetadataTable, bucket: string, prefix?: string): string {
  const where = [`bucket = ${literal(bucket)}`, ...(prefix ? [`starts_with(key, ${literal(prefix)})`] : [])].join(' AND ');
  return [
    `SELECT ${RESULT_SELECT},`,
    `  ${envelopeColumn()}`,
    'FROM (',
    '  SELECT *, row_number() OVER (PARTITION BY key ORDER BY sequence_number DESC) AS sseguard_newest',
    `  FROM ${tableName(table, table.table)}`,
    `  WHERE ${where}`,
    ')',
    'WHERE sseguard_newest = 1 AND coalesce(is_delete_marker, false) = false',
  ].join('\n');
}

/** One result row by column name, as Athena's CSV gives it: '' for NULL. */
export type ResultCells = Partial<Record<(typeof RESULT_COLUMNS)[number], string>>;

const present = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/** Athena's timestamp text ("2024-11-15 23:26:44.899", UTC whether or not it says " UTC") as an instant. */
export function athenaTimestamp(value: string, where: string): Date {
  const plain = value.replace(/ UTC$/, '');
  const iso = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(plain) ? `${plain.replace(' ', 'T')}Z` : plain;
  const time = Date.parse(iso);
  if (Number.isNaN(time)) throw new InventoryError('data-file-invalid', `${where}: ${JSON.stringify(value)} is not a timestamp`);
  return new Date(time);
}

const isoTime = (value: string, where: string): string => athenaTimestamp(value, `${where}: last_modified_date`).toISOString();

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
