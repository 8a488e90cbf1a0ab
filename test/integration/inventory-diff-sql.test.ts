// The report diff's SQL, executed for real: DuckDB runs the query body Athena runs
// (shared/inventory/diff-query.ts) over the very data files the emulator delivered, CSV gzip and
// Parquet, and its answer equals the in-process hash join's (shared/inventory/report-diff.ts).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { athenaReportChanges, hiveLocation } from '../../shared/metadata/athena-report-diff.ts';
import { reportDiffBody, reportDiffQuery, sqlColumnName } from '../../shared/inventory/diff-query.ts';
import { InventoryError } from '../../shared/inventory/errors.ts';
import { reportIndexOf, rowIdentity } from '../../shared/inventory/report-diff.ts';
import { createAthenaClient } from '../../shared/metadata/athena-client.ts';
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

/** Two reports of one bucket: the first, then rewrites, additions and deletions, then the second. */
async function twoReports(format: 'CSV' | 'Parquet') {
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
  // In process: the previous report hashed by key and version, every row of the new one looked up.
  const index = await reportIndexOf(inventory.allRows(previous));
  const inProcess: string[] = [];
  for await (const row of inventory.allRows(current)) {
    const change = index.compare(row);
    if (change !== 'unchanged') inProcess.push(`${change} ${row.key}`);
  }
  for (const gone of index.vanished()) inProcess.push(`vanished ${gone}`);
  return { source, dest, previous, current, inProcess };
}

/** DuckDB runs the diff over the reports' files as delivered; the rows it answers, every value as text (NULL undefined). */
async function duckDiff(previous: InventoryReport, current: InventoryReport, dest: string): Promise<{ columns: string[]; rows: (string | undefined)[][] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sseguard-diff-sql-'));
  const query = reportDiffQuery(duckRelation(previous, await download(previous, dest, dir)), duckRelation(current, await download(current, dest, dir)), current.manifest.columns);
  expect(query).toContain(reportDiffBody(current.manifest.columns));
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(query);
    const columns = reader.columnNames();
    const rows = reader.getRows().map((r) => r.map((v) => (v === null || v === undefined ? undefined : String(v))));
    return { columns, rows };
  } finally {
    connection.closeSync();
  }
}

describe('the report diff as SQL', () => {
  test.each(['CSV', 'Parquet'] as const)('DuckDB running the diff query over two %s reports finds exactly what the in-process hash join finds', async (format) => {
    const { dest, previous, current, inProcess } = await twoReports(format);
    expect(current.manifest.format).toBe(format);
    const { columns, rows } = await duckDiff(previous, current, dest);
    const key = columns.indexOf('key');
    const change = columns.indexOf('sseguard_change');
    const bySql = rows.map((r) => `${r[change]} ${decodedKey(r[key]!, format)}`);
    expect(bySql.sort()).toEqual([...inProcess].sort());
    expect(inProcess.sort()).toEqual(['added new ünïcödé', 'added new-2', 'changed kms-1', 'changed with space', 'vanished gone-1', 'vanished gone-2'].sort());
  }, 120_000);
});

describe('the report diff as SQL, versions', () => {
  test('a report of every version joins on key and version: a new version of a key is added, its old one changed (no longer latest), a vanished key listed once per version', async () => {
    const columns = ['Bucket', 'Key', 'VersionId', 'IsLatest', 'IsDeleteMarker', 'Size', 'ETag', 'EncryptionStatus'];
    const relation = (rows: string[][]) =>
      `SELECT * FROM (VALUES ${rows.map((r) => `(${r.map((v) => (v === '' ? 'NULL' : `'${v}'`)).join(', ')})`).join(', ')}) AS t(${columns.map(sqlColumnName).join(', ')})`;
    const previous = relation([
      ['b', 'doc', 'v1', 'true', 'false', '10', 'e1', 'SSE-S3'],
      ['b', 'same', 'v1', 'true', 'false', '5', 'e5', 'SSE-KMS'],
      ['b', 'gone', 'v1', 'false', 'false', '1', 'g1', 'SSE-S3'],
      ['b', 'gone', 'v2', 'true', 'false', '2', 'g2', 'SSE-S3'],
    ]);
    const current = relation([
      ['b', 'doc', 'v1', 'false', 'false', '10', 'e1', 'SSE-S3'],
      ['b', 'doc', 'v2', 'true', 'false', '11', 'e2', 'SSE-KMS'],
      ['b', 'same', 'v1', 'true', 'false', '5', 'e5', 'SSE-KMS'],
    ]);
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    try {
      const rows = (await connection.runAndReadAll(reportDiffQuery(previous, current, columns))).getRowObjects() as { key: string; version_id: string; sseguard_change: string }[];
      expect(rows.map((r) => `${r.sseguard_change} ${r.key} ${r.version_id}`).sort()).toEqual(['added doc v2', 'changed doc v1', 'vanished gone v1', 'vanished gone v2']);
    } finally {
      connection.closeSync();
    }
  });
});

describe('the report diff in Athena', () => {
  const athena = createAthenaClient();

  /** Queues an answer in the emulator's Athena (it runs no SQL): the header row, then the rows, as GetQueryResults gives them. */
  async function answerNextQueryWith(columns: string[], rows: (string | undefined)[][]): Promise<void> {
    const cell = (v: string | undefined) => (v === undefined ? {} : { VarCharValue: v });
    const column_info = columns.map((name) => ({ Name: name, Label: name, Type: 'varchar', CatalogName: 'hive', SchemaName: '', TableName: '', Nullable: 'UNKNOWN', CaseSensitive: true }));
    const response = await fetch(`${endpoint()}/moto-api/static/athena/query-results`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ region: process.env.AWS_REGION ?? 'us-east-1', results: [{ rows: [{ Data: columns.map(cell) }, ...rows.map((r) => ({ Data: r.map(cell) }))], column_info }] }),
    });
    expect(response.status).toBe(201);
  }

  test('on the emulator\'s Athena: the table over hive/, both partitions, then the diff body DuckDB ran; its answer (computed by DuckDB) read back equals the in-process diff', async () => {
    const { dest, previous, current, inProcess } = await twoReports('CSV');
    const { columns, rows } = await duckDiff(previous, current, dest);
    const sent: string[] = [];
    // The emulator hands a queued answer to the next query started: queued just before the diff query.
    const recording = {
      send: async (command: unknown) => {
        if (command instanceof StartQueryExecutionCommand) {
          sent.push(command.input.QueryString!);
          if (command.input.QueryString!.includes('sseguard_change')) await answerNextQueryWith(columns, rows);
        }
        return athena.send(command as never);
      },
    } as unknown as AthenaClient;
    const changes = await athenaReportChanges(recording, previous, current, { table: { database: 'sseguard', table: 'inventory_diff' }, workGroup: 'primary', timeoutMs: 10_000, pollMs: { first: 10, max: 50 } });

    const expected = inProcess.filter((c) => !c.startsWith('vanished')).map((c) => rowIdentity(c.slice(c.indexOf(' ') + 1)));
    expect([...changes.changed].sort()).toEqual(expected.sort());
    expect(changes.vanished.sort()).toEqual(['gone-1', 'gone-2']);
    expect(sent).toHaveLength(4);
    expect(sent[0]).toContain(`LOCATION '${hiveLocation(current)}'`);
    expect(sent[0]).toContain("STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'");
    expect(sent[1]).toContain("PARTITION (dt = '2026-11-01-01-00')");
    expect(sent[2]).toContain("PARTITION (dt = '2026-11-02-01-00')");
    expect(sent[3]).toContain(reportDiffBody(current.manifest.columns));
    // The emulator kept what was asked of it.
    const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: (await lastExecutionId()) }));
    expect(QueryExecution?.Query).toBe(sent[3]);
  }, 120_000);

  async function lastExecutionId(): Promise<string> {
    const { ListQueryExecutionsCommand } = await import('@aws-sdk/client-athena');
    const { QueryExecutionIds = [] } = await athena.send(new ListQueryExecutionsCommand({}));
    return QueryExecutionIds.at(-1)!;
  }

  /** A recorded-shape fake at the Athena client boundary, for what the emulator does not do: pages (it answers one) and failed queries (its queries always succeed). */
  function fakeAthena(options: { pages?: { VarCharValue?: string }[][][]; fail?: string }): AthenaClient & { tokens: (string | undefined)[] } {
    const tokens: (string | undefined)[] = [];
    return {
      tokens,
      send: async (command: unknown) => {
        if (command instanceof StartQueryExecutionCommand) return { QueryExecutionId: `q-${randomBytes(3).toString('hex')}` };
        if (command instanceof GetQueryExecutionCommand) {
          return options.fail
            ? { QueryExecution: { Status: { State: 'FAILED', StateChangeReason: options.fail } } }
            : { QueryExecution: { Status: { State: 'SUCCEEDED' }, ResultConfiguration: { OutputLocation: 's3://r/q.csv' } } };
        }
        if (command instanceof GetQueryResultsCommand) {
          tokens.push(command.input.NextToken);
          const at = command.input.NextToken ? Number(command.input.NextToken) : 0;
          const pages = options.pages ?? [];
          return { ResultSet: { Rows: pages[at]!.map((Data) => ({ Data })) }, ...(at + 1 < pages.length ? { NextToken: String(at + 1) } : {}) };
        }
        throw new Error(`unexpected command ${(command as object).constructor.name}`);
      },
    } as unknown as AthenaClient & { tokens: (string | undefined)[] };
  }

  test('results over several GetQueryResults pages are all read, the header only on the first (recorded-shape fake: the emulator answers one page)', async () => {
    const { previous, current } = await twoReports('CSV');
    const v = (s: string | undefined) => (s === undefined ? {} : { VarCharValue: s });
    const header = ['bucket', 'key', 'size', 'sseguard_change'].map(v);
    const fake = fakeAthena({
      pages: [
        [header, ['b', 'with+space', '9', 'changed'].map(v)],
        [['b', 'new+%C3%BCn%C3%AFc%C3%B6d%C3%A9', undefined, 'added'].map(v), ['b', 'gone-1', '3', 'vanished'].map(v)],
        [['b', 'a%2Bb%3Dc%26d', '1', 'changed'].map(v)],
      ],
    });
    const changes = await athenaReportChanges(fake, previous, current, { table: { database: 'd', table: 't' }, workGroup: 'primary', timeoutMs: 1_000, pollMs: { first: 1, max: 1 } });
    expect(fake.tokens).toEqual([undefined, '1', '2']);
    expect([...changes.changed].sort()).toEqual([rowIdentity('a+b=c&d'), rowIdentity('new ünïcödé'), rowIdentity('with space')].sort());
    expect(changes.vanished).toEqual(['gone-1']);
  }, 120_000);

  test('a failed diff query is an error with Athena\'s reason, never an empty diff (recorded-shape fake: the emulator\'s queries always succeed)', async () => {
    const { previous, current } = await twoReports('CSV');
    const fake = fakeAthena({ fail: 'HIVE_BAD_DATA: Error parsing field value' });
    const run = athenaReportChanges(fake, previous, current, { table: { database: 'd', table: 't' }, workGroup: 'primary', timeoutMs: 1_000, pollMs: { first: 1, max: 1 } });
    await expect(run).rejects.toThrow(InventoryError);
    await expect(run).rejects.toThrow(/HIVE_BAD_DATA/);
  }, 120_000);
});
