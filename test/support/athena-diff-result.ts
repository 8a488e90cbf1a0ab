// A recorded-shape fake of the result file Athena writes for the report diff: the emulator's Athena
// runs no SQL, so the diff query's body (shared/inventory/diff-query.ts) is run for real by DuckDB
// over the two reports' data files as the emulator delivered them, and its answer is written where
// Athena writes a SELECT's result, `<output>/<QueryExecutionId>.csv`, in Athena's CSV shape: a
// header row, every value in double quotes ("" inside), NULL as an empty unquoted field, LF ends.
// The same for a key range's listed keys (rangeKeysQuery), the full reconciliation's query.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { rangeKeysQuery, reportDiffQuery, sqlColumnName } from '../../shared/inventory/diff-query.ts';
import type { InventoryReport } from '../../shared/inventory/source.ts';

async function download(s3: S3Client, report: InventoryReport, dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, file] of report.manifest.files.entries()) {
    const got = await s3.send(new GetObjectCommand({ Bucket: report.destination.bucket, Key: file.key }));
    const path = join(dir, `${report.location.folder}-${i}${report.manifest.format === 'CSV' ? '.csv.gz' : '.parquet'}`);
    writeFileSync(path, await got.Body!.transformToByteArray());
    paths.push(path);
  }
  return paths;
}

/** A report's files as a DuckDB relation with the report's SQL column names (all text for CSV, as OpenCSVSerde reads them). */
function relation(report: InventoryReport, paths: string[]): string {
  const list = `[${paths.map((p) => `'${p}'`).join(', ')}]`;
  if (report.manifest.format === 'Parquet') return `SELECT * FROM read_parquet(${list})`;
  const names = report.manifest.columns.map((c) => `'${sqlColumnName(c)}'`).join(', ');
  return `SELECT * FROM read_csv(${list}, header = false, all_varchar = true, names = [${names}])`;
}

const athenaCsvField = (value: unknown) => (value === null || value === undefined ? '' : `"${String(value).replace(/"/g, '""')}"`);

/** The diff of `current` against `previous`, as Athena's result CSV text. */
export async function athenaDiffResultCsv(s3: S3Client, previous: InventoryReport, current: InventoryReport): Promise<{ csv: string; rows: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sseguard-athena-result-'));
  const query = reportDiffQuery(relation(previous, await download(s3, previous, dir)), relation(current, await download(s3, current, dir)), current.manifest.columns);
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(query);
    const lines = [reader.columnNames().map(athenaCsvField).join(','), ...reader.getRows().map((row) => row.map(athenaCsvField).join(','))];
    return { csv: `${lines.join('\n')}\n`, rows: lines.length - 1 };
  } finally {
    connection.closeSync();
  }
}

/** A report's data files as delivered, in a local folder, as the DuckDB relation Athena's table would be. */
export async function duckReportRelation(s3: S3Client, report: InventoryReport): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sseguard-athena-result-'));
  return relation(report, await download(s3, report, dir));
}

/** Runs `query` in DuckDB: its answer as Athena's result CSV text. */
export async function duckAthenaCsv(query: string): Promise<{ csv: string; rows: unknown[][] }> {
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(query);
    const rows = reader.getRows();
    const lines = [reader.columnNames().map(athenaCsvField).join(','), ...rows.map((row) => row.map(athenaCsvField).join(','))];
    return { csv: `${lines.join('\n')}\n`, rows };
  } finally {
    connection.closeSync();
  }
}

/** The listed keys of one key range of `report` (the real rangeKeysQuery, run by DuckDB), as Athena's result CSV text. */
export async function athenaRangeKeysResultCsv(s3: S3Client, report: InventoryReport, range: { from?: string; to?: string }): Promise<{ csv: string; keys: string[] }> {
  if (report.manifest.format === 'ORC') throw new Error('ORC reports are not queried');
  const { csv, rows } = await duckAthenaCsv(rangeKeysQuery(await duckReportRelation(s3, report), report.manifest.columns, report.manifest.format, range));
  return { csv, keys: rows.map((row) => String(row[0])) };
}

/** Writes the result file where Athena would: the query's OutputLocation. */
export async function putAthenaResult(s3: S3Client, outputLocation: string, csv: string): Promise<void> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(outputLocation)!;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: csv, ContentType: 'text/csv' }));
}
