// The diff of two inventory reports as SQL, for reports too large to diff in one worker
// (report-diff.ts does the same in process). Pure: text only. The query is a hash join (a LEFT
// JOIN on key and version, which Athena's Trino engine and DuckDB both run as one), never a merge
// of sorted files: S3 promises no order of rows.
//
// Athena reads the reports where S3 Inventory puts them for it (S3 User Guide, "Querying Amazon S3
// Inventory with Amazon Athena"): one external table over the configuration's `hive/` folder, one
// partition `dt=YYYY-MM-DD-HH-MM` per report whose `symlink.txt` lists its data files
// (SymlinkTextInputFormat), columns in the order of the manifest's fileSchema.
//
// One body, `reportDiffBody`, is what runs: in Athena over the two partitions, and in the tests in
// DuckDB over the same CSV/Parquet files (test/integration/inventory-diff-sql.test.ts). It uses only
// what both dialects share: WITH, LEFT JOIN, NOT EXISTS, IS DISTINCT FROM, coalesce, CASE, UNION ALL.
//
// Result, one row each:
// | sseguard_change | row                                                            |
// |-----------------|----------------------------------------------------------------|
// | added           | the new report's row: key and version not in the previous one  |
// | changed         | the new report's row: any compared column differs              |
// | vanished        | the previous report's row: its key is in no row of the new one |
import { COLUMN_NAMES, type InventoryColumn } from './row.ts';

/** The report columns a diff compares: every column the audit reads (report-diff.ts rowFingerprint). */
export const COMPARED_COLUMNS: readonly InventoryColumn[] = [
  'IsLatest',
  'IsDeleteMarker',
  'Size',
  'LastModifiedDate',
  'ETag',
  'StorageClass',
  'EncryptionStatus',
  'BucketKeyStatus',
  'ObjectLockMode',
  'ObjectLockRetainUntilDate',
  'ObjectLockLegalHoldStatus',
  'IntelligentTieringAccessTier',
];

/** A report column by its SQL name (Parquet's and Athena's snake case; CSV names mapped, unknown ones lower-cased). */
export function sqlColumnName(column: string): string {
  return (COLUMN_NAMES as Record<string, string>)[column] ?? column.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * The diff of relations `previous_report` and `current_report`, both with `columns` (SQL names,
 * those of the new report's fileSchema). Deterministic text: the same columns give the same query.
 */
export function reportDiffBody(columns: readonly string[]): string {
  const names = columns.map(sqlColumnName);
  const has = (c: InventoryColumn) => names.includes(COLUMN_NAMES[c]);
  const version = has('VersionId') ? ` AND coalesce(p.${identifier('version_id')}, '') = coalesce(c.${identifier('version_id')}, '')` : '';
  const differs = COMPARED_COLUMNS.filter(has)
    .map((c) => `p.${identifier(COLUMN_NAMES[c])} IS DISTINCT FROM c.${identifier(COLUMN_NAMES[c])}`)
    .join('\n   OR ');
  const select = (alias: string) => names.map((n) => `${alias}.${identifier(n)}`).join(', ');
  return [
    `SELECT ${select('c')}, CASE WHEN p.${identifier('key')} IS NULL THEN 'added' ELSE 'changed' END AS sseguard_change`,
    'FROM current_report c',
    `LEFT JOIN previous_report p ON p.${identifier('key')} = c.${identifier('key')}${version}`,
    `WHERE p.${identifier('key')} IS NULL${differs ? `\n   OR ${differs}` : ''}`,
    'UNION ALL',
    `SELECT ${select('p')}, 'vanished' AS sseguard_change`,
    'FROM previous_report p',
    `WHERE NOT EXISTS (SELECT 1 FROM current_report c WHERE c.${identifier('key')} = p.${identifier('key')})`,
  ].join('\n');
}

/** The whole query: the two reports as relations (any SQL that yields their rows), then the body. */
export function reportDiffQuery(previous: string, current: string, columns: readonly string[]): string {
  return `WITH previous_report AS (${previous}),\ncurrent_report AS (${current})\n${reportDiffBody(columns)}`;
}

export interface AthenaInventoryTable {
  database: string;
  table: string;
}

/** Athena's partition name of a report: its folder's date, `YYYY-MM-DD-HH-MM`. */
export const hivePartition = (reportFolder: string) => reportFolder.replace('T', '-').replace(/Z$/, '');

/** One report of the table as a relation: its partition. */
export const athenaReportRelation = (table: AthenaInventoryTable, reportFolder: string) =>
  `SELECT * FROM ${identifier(table.database)}.${identifier(table.table)} WHERE dt = ${literal(hivePartition(reportFolder))}`;

/** The diff of two reports of one configuration in Athena. */
export const athenaReportDiffQuery = (table: AthenaInventoryTable, previousFolder: string, currentFolder: string, columns: readonly string[]) =>
  reportDiffQuery(athenaReportRelation(table, previousFolder), athenaReportRelation(table, currentFolder), columns);

// Parquet types of the report's columns (S3 User Guide, the inventory's Parquet schema); CSV rows are
// all strings (OpenCSVSerde), as the documented CSV table declares them.
const PARQUET_TYPES: Partial<Record<string, string>> = {
  is_latest: 'boolean',
  is_delete_marker: 'boolean',
  size: 'bigint',
  last_modified_date: 'timestamp',
  is_multipart_uploaded: 'boolean',
  object_lock_retain_until_date: 'timestamp',
};

/**
 * The documented external table over a configuration's `hive/` folder (the manifest's columns, in
 * file order), and the statement that adds one report's partition. Run once per configuration and
 * once per report; `location` is s3://<destination>/<prefix>/<source-bucket>/<config-id>/hive/.
 */
export function athenaInventoryTableDdl(table: AthenaInventoryTable, format: 'CSV' | 'Parquet', columns: readonly string[], location: string): string {
  const names = columns.map(sqlColumnName);
  const typed = names.map((n) => `  \`${n}\` ${format === 'Parquet' ? (PARQUET_TYPES[n] ?? 'string') : 'string'}`).join(',\n');
  const storage =
    format === 'CSV'
      ? "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'"
      : "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'";
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS \`${table.database}\`.\`${table.table}\` (`,
    typed,
    ')',
    'PARTITIONED BY (`dt` string)',
    storage,
    "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'",
    "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.IgnoreKeyTextOutputFormat'",
    `LOCATION ${literal(location)}`,
  ].join('\n');
}

export const athenaAddPartition = (table: AthenaInventoryTable, reportFolder: string, hiveLocation: string) =>
  `ALTER TABLE \`${table.database}\`.\`${table.table}\` ADD IF NOT EXISTS PARTITION (dt = ${literal(hivePartition(reportFolder))}) LOCATION ${literal(`${hiveLocation.replace(/\/?$/, '/')}dt=${hivePartition(reportFolder)}/`)}`;

/**
 * The report's listed keys within one key range of its reconciliation (shared/inventory/key-ranges.ts),
 * in key order, each once: what a key-range message would otherwise stream the whole report for.
 * A key is listed as the streaming reconciliation lists it (inventory-file-audit.ts): a row that is
 * not a delete marker and not a noncurrent version. `report` is any relation of the report's rows
 * (Athena: athenaReportRelation; the tests: DuckDB over the same files).
 *
 * CSV reports hold keys form-encoded (OpenCSVSerde gives the table the encoded text): the key is
 * decoded in SQL, as row.ts decodes it ('+' a space, then percent-decoding), and the range compared
 * on decoded keys. `url_decode` exists in both engines, but Trino's (Java's URLDecoder) reads '+'
 * as a space and DuckDB's leaves it: '+' is made '%20' first, so both decode alike (a literal '+'
 * is '%2B' in the report). Order: key-ranges.ts and DynamoDB compare keys by their UTF-8 bytes;
 * Trino compares varchar by Unicode code point, and DuckDB by UTF-8 byte: UTF-8 preserves code
 * point order, so the three agree on every bound and on ORDER BY (checked in
 * test/integration/inventory-range-keys-sql.test.ts with keys past the BMP).
 */
export function rangeKeysQuery(report: string, columns: readonly string[], format: 'CSV' | 'Parquet', range: { from?: string; to?: string }): string {
  const names = columns.map(sqlColumnName);
  const column = (name: string) => `r.${identifier(name)}`;
  const key = format === 'CSV' ? `url_decode(replace(${column('key')}, '+', '%20'))` : column('key');
  const text = (name: string) => `lower(CAST(${column(name)} AS varchar))`;
  const where = [
    ...(names.includes('is_delete_marker') ? [`(${column('is_delete_marker')} IS NULL OR ${text('is_delete_marker')} <> 'true')`] : []),
    ...(names.includes('is_latest') ? [`(${column('is_latest')} IS NULL OR ${text('is_latest')} <> 'false')`] : []),
    ...(range.from !== undefined ? [`${key} >= ${literal(range.from)}`] : []),
    ...(range.to !== undefined ? [`${key} < ${literal(range.to)}`] : []),
  ];
  return [
    `SELECT DISTINCT ${key} AS ${identifier('key')}`,
    `FROM (${report}) r`,
    ...(where.length > 0 ? [`WHERE ${where.join('\n  AND ')}`] : []),
    `ORDER BY 1`,
  ].join('\n');
}

/** A key range's listed keys of one report of the configuration's table, in Athena. */
export const athenaRangeKeysQuery = (table: AthenaInventoryTable, reportFolder: string, columns: readonly string[], format: 'CSV' | 'Parquet', range: { from?: string; to?: string }) =>
  rangeKeysQuery(athenaReportRelation(table, reportFolder), columns, format, range);
