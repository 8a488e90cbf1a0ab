// The report diff's SQL, executed for real: DuckDB runs the query body Athena runs
// (shared/inventory/diff-query.ts) over the very data files the emulator delivered, CSV gzip and
// Parquet, and its answer equals the in-process hash join's (shared/inventory/report-diff.ts).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { reportDiffBody, reportDiffQuery, sqlColumnName } from '../../shared/inventory/diff-query.ts';
import { reportIndexOf } from '../../shared/inventory/report-diff.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { s3InventorySource, type InventoryReport } from '../../shared/inventory/source.ts';
import { createBucket, createKey, putObject } from '../support/aws-fixtures.ts';

const clients = createAwsClients();
const endpoint = () => process.env.AWS_ENDPOINT_URL!;

/** The report's data files, as delivered, in a local folder: DuckDB reads the same bytes Athena would. */
async function download(report: InventoryReport, dest: string, dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, file] of report.manifest.files.entries()) {
    const got = await clients.s3.send(new GetObjectCommand({ Bucket: dest, Key: file.key }));
    const path = join(dir, `${report.location.folder}-${i}${report.manifest.format === 'CSV' ? '.csv.gz' : '.parquet'}`);
    writeFileSync(path, await got.Body!.transformToByteArray());
    paths.push(path);
  }
  return paths;
}

/** A report's files as a DuckDB relation with the report's SQL column names. */
function duckRelation(report: InventoryReport, paths: string[]): string {
  const list = `[${paths.map((p) => `'${p}'`).join(', ')}]`;
  if (report.manifest.format === 'Parquet') return `SELECT * FROM read_parquet(${list})`;
  const names = report.manifest.columns.map((c) => `'${sqlColumnName(c)}'`).join(', ');
  return `SELECT * FROM read_csv(${list}, header = false, all_varchar = true, names = [${names}])`;
}

/** CSV reports URL-encode keys (form encoding); Parquet's are plain. */
const decodedKey = (key: string, format: string) => (format === 'CSV' ? decodeURIComponent(key.replace(/\+/g, ' ')) : key);

describe('the report diff as SQL', () => {
  test.each(['CSV', 'Parquet'] as const)('DuckDB running the diff query over two %s reports finds exactly what the in-process hash join finds', async (format) => {
    const suffix = randomBytes(4).toString('hex');
    const source = `sql-src-${suffix}`;
    const dest = `sql-inv-${suffix}`;
    await createBucket(clients, source);
    await createBucket(clients, dest);
    await clients.s3.send(
      new PutBucketInventoryConfigurationCommand({ Bucket: source, Id: 'sseguard', InventoryConfiguration: inventoryConfiguration({ bucket: source, destinationBucket: dest, format }) }),
    );
    const key = await createKey(clients);
    const names = ['plain', 'with space', 'ünïcödé/€', 'a+b=c&d', 'kms-1', 'kms-2', 'gone-1', 'gone-2', 'same'];
    for (const name of names) await putObject(clients, source, name, name.startsWith('kms') ? { mode: 'sse-kms', key } : { mode: 'sse-s3' });
    await deliverInventory(endpoint(), { bucket: source, at: new Date('2026-11-01T01:00:00Z'), rowsPerFile: 4 });
    // Rewrites (same mode, new ETag; another mode), additions, deletions.
    await putObject(clients, source, 'with space', { mode: 'sse-s3' }, 'rewritten');
    await putObject(clients, source, 'kms-1', { mode: 'sse-s3' }, 'now SSE-S3');
    await putObject(clients, source, 'new ünïcödé', { mode: 'sse-kms', key });
    await putObject(clients, source, 'new-2', { mode: 'sse-s3' });
    for (const gone of ['gone-1', 'gone-2']) await clients.s3.send(new DeleteObjectCommand({ Bucket: source, Key: gone }));
    await deliverInventory(endpoint(), { bucket: source, at: new Date('2026-11-02T01:00:00Z'), rowsPerFile: 3 });

    const inventory = s3InventorySource(clients.s3, { bucket: dest, prefix: '' });
    const current = await inventory.newest(source);
    const previous = await inventory.at(source, current.location.key.replace('2026-11-02T01-00Z', '2026-11-01T01-00Z'));
    expect(current.manifest.format).toBe(format);

    // In process: the previous report hashed by key and version, every row of the new one looked up.
    const index = await reportIndexOf(inventory.allRows(previous));
    const inProcess: string[] = [];
    for await (const row of inventory.allRows(current)) {
      const change = index.compare(row);
      if (change !== 'unchanged') inProcess.push(`${change} ${row.key}`);
    }
    for (const gone of index.vanished()) inProcess.push(`vanished ${gone}`);

    // In SQL: the same body Athena runs, over the same files.
    const dir = mkdtempSync(join(tmpdir(), 'sseguard-diff-sql-'));
    const query = reportDiffQuery(duckRelation(previous, await download(previous, dest, dir)), duckRelation(current, await download(current, dest, dir)), current.manifest.columns);
    expect(query).toContain(reportDiffBody(current.manifest.columns));
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const rows = (await connection.runAndReadAll(query)).getRowObjects() as { key: string; sseguard_change: string }[];
      const bySql = rows.map((r) => `${r.sseguard_change} ${decodedKey(r.key, format)}`);
      expect(bySql.sort()).toEqual(inProcess.sort());
    } finally {
      connection.closeSync();
    }
    expect(inProcess.sort()).toEqual(['added new ünïcödé', 'added new-2', 'changed kms-1', 'changed with space', 'vanished gone-1', 'vanished gone-2'].sort());
  }, 120_000);
});
