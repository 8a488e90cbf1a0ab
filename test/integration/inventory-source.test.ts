// The inventory tier end to end on the emulator: `inventory setup`'s configuration, a delivered
// report, and the source that finds, verifies and streams it.
import { createHash, randomBytes } from 'node:crypto';
import { PutBucketInventoryConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { InventoryError } from '../../shared/inventory/errors.ts';
import type { InventoryRow } from '../../shared/inventory/row.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { rangedBody, rangedObjectBytes, s3InventorySource } from '../../shared/inventory/source.ts';
import { gzipSync } from 'node:zlib';
import { createBucket, createKey, putObject } from '../support/aws-fixtures.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';

const clients = createAwsClients();
const endpoint = () => process.env.AWS_ENDPOINT_URL!;
const name = (p: string) => `${p}-${randomBytes(4).toString('hex')}`;

async function buckets() {
  const source = name('src');
  const dest = name('inv');
  await createBucket(clients, source);
  await createBucket(clients, dest);
  return { source, dest };
}

async function configure(source: string, dest: string, format: 'CSV' | 'Parquet', id = 'sseguard') {
  await clients.s3.send(
    new PutBucketInventoryConfigurationCommand({
      Bucket: source,
      Id: id,
      InventoryConfiguration: inventoryConfiguration({ bucket: source, destinationBucket: dest, prefix: 'reports', format, id }),
    }),
  );
}

async function collect(rows: AsyncIterable<InventoryRow>): Promise<InventoryRow[]> {
  const out: InventoryRow[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

async function failure(call: Promise<unknown>): Promise<InventoryError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  throw new Error('expected an InventoryError');
}

describe('the newest inventory report of a bucket, read through S3', () => {
  test.each(['CSV', 'Parquet'] as const)('%s: the later of two deliveries is read, every object with its encryption', async (format) => {
    const { source, dest } = await buckets();
    const key = await createKey(clients);
    await configure(source, dest, format);
    await putObject(clients, source, 'old only', { mode: 'sse-s3' });
    await deliverInventory(endpoint(), { bucket: source, at: new Date('2026-11-29T01:00:00Z') });
    await putObject(clients, source, 'kms/é x.txt', { mode: 'sse-kms', key, bucketKey: true });
    await putObject(clients, source, 'ssec', { mode: 'sse-c' });
    await deliverInventory(endpoint(), { bucket: source, at: new Date('2026-11-30T01:00:00Z'), rowsPerFile: 2 });

    const inventory = s3InventorySource(clients.s3, { bucket: dest, prefix: 'reports' });
    const report = await inventory.newest(source);
    expect(report.location.folder).toBe('2026-11-30T01-00Z');
    expect(report.manifest.createdAt.toISOString()).toBe('2026-11-30T01:00:00.000Z');
    expect(report.manifest.format).toBe(format);
    expect(report.manifest.files).toHaveLength(2);

    const rows = await collect(inventory.allRows(report));
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(Object.keys(byKey).sort()).toEqual(['kms/é x.txt', 'old only', 'ssec']);
    expect(byKey['kms/é x.txt']).toMatchObject({ bucket: source, encryptionStatus: 'SSE-KMS', bucketKeyEnabled: true, isDeleteMarker: false });
    expect(byKey['ssec']?.encryptionStatus).toBe('SSE-C');
    expect(byKey['old only']).toMatchObject({ encryptionStatus: 'SSE-S3', bucketKeyEnabled: false, storageClass: 'STANDARD' });
    expect(byKey['old only']?.etag).toMatch(/^[0-9a-f]{32}$/);
  });

  test('a manifest whose checksum does not match is refused', async () => {
    const { source, dest } = await buckets();
    await configure(source, dest, 'CSV');
    await putObject(clients, source, 'k', { mode: 'sse-s3' });
    const [delivery] = await deliverInventory(endpoint(), { bucket: source });
    await clients.s3.send(new PutObjectCommand({ Bucket: dest, Key: delivery!.manifestKey.replace('manifest.json', 'manifest.checksum'), Body: `${'0'.repeat(32)}\n` }));
    const error = await failure(s3InventorySource(clients.s3, { bucket: dest, prefix: 'reports' }).newest(source));
    expect(error.code).toBe('checksum-mismatch');
  });

  test('no report, another bucket, and ORC are errors that say what to do', async () => {
    const { source, dest } = await buckets();
    const inventory = s3InventorySource(clients.s3, { bucket: dest, prefix: 'reports' });
    const none = await failure(inventory.newest(source));
    expect(none.code).toBe('no-manifest');
    expect(none.message).toContain(`s3://${dest}/reports/${source}/`);

    // The emulator delivers CSV and Parquet only: an ORC report is written here as S3 would write it.
    const manifest = JSON.stringify({
      sourceBucket: source,
      destinationBucket: `arn:aws:s3:::${dest}`,
      version: '2016-11-30',
      creationTimestamp: '1764464400000',
      fileFormat: 'ORC',
      fileSchema: 'struct<bucket:string,key:string,encryption_status:string>',
      files: [],
    });
    const folder = `reports/${source}/orc/2026-11-30T01-00Z`;
    await clients.s3.send(new PutObjectCommand({ Bucket: dest, Key: `${folder}/manifest.json`, Body: manifest }));
    await clients.s3.send(new PutObjectCommand({ Bucket: dest, Key: `${folder}/manifest.checksum`, Body: createHash('md5').update(manifest).digest('hex') }));
    const orc = await failure(inventory.newest(source));
    expect(orc.code).toBe('unsupported-format');
    expect(orc.message).toMatch(/ORC is not supported, choose CSV or Parquet/);
  });
});

describe('CSV data files are fetched in ranges, each read whole before its rows are parsed', () => {
  const ROWS = 60_000;
  const COLUMNS = ['Bucket', 'Key', 'Size', 'EncryptionStatus'];

  /** A report written as S3 writes one, with one large data file (random keys: it hardly compresses). */
  async function bigReport(): Promise<{ source: string; dest: string; bytes: number }> {
    const { source, dest } = await buckets();
    const lines: string[] = [];
    for (let i = 0; i < ROWS; i++) lines.push(`"${source}","k%2F${i}-${randomBytes(12).toString('hex')}","${i}","SSE-S3"`);
    const data = gzipSync(`${lines.join('\n')}\n`);
    const base = `reports/${source}/sseguard`;
    const dataKey = `${base}/data/big.csv.gz`;
    await clients.s3.send(new PutObjectCommand({ Bucket: dest, Key: dataKey, Body: data }));
    const manifest = JSON.stringify({
      sourceBucket: source,
      destinationBucket: `arn:aws:s3:::${dest}`,
      version: '2016-11-30',
      creationTimestamp: '1764464400000',
      fileFormat: 'CSV',
      fileSchema: COLUMNS.join(', '),
      files: [{ key: dataKey, size: data.length, MD5checksum: createHash('md5').update(data).digest('hex') }],
    });
    await clients.s3.send(new PutObjectCommand({ Bucket: dest, Key: `${base}/2026-11-30T01-00Z/manifest.json`, Body: manifest }));
    await clients.s3.send(new PutObjectCommand({ Bucket: dest, Key: `${base}/2026-11-30T01-00Z/manifest.checksum`, Body: createHash('md5').update(manifest).digest('hex') }));
    return { source, dest, bytes: data.length };
  }

  test('a consumer that pauses longer than the socket idle timeout still gets every row (a streamed body would be cut off)', async () => {
    const { source, dest, bytes } = await bigReport();
    expect(bytes).toBeGreaterThan(1024 * 1024); // more than the stream buffers hold: a stalled body would stall its socket
    const impatient = createAwsClients({ timeouts: { socketIdleMs: 300 } });
    const inventory = s3InventorySource(impatient.s3, { bucket: dest, prefix: 'reports' }, { rangeBytes: 256 * 1024 });
    const report = await inventory.newest(source);
    let rows = 0;
    for await (const row of inventory.allRows(report)) {
      // The audit's pace: a chunk of rows HEADed and recorded takes longer than the idle timeout.
      if (rows % 20_000 === 0) await new Promise((resolve) => setTimeout(resolve, 700));
      expect(row.encryptionStatus).toBe('SSE-S3');
      rows += 1;
    }
    expect(rows).toBe(ROWS);
  }, 60_000);

  test('throttled, failing and reset range requests are fetched again: every row once, and the MD5 holds', async () => {
    const { source, dest, bytes } = await bigReport();
    const proxy = await startFaultProxy({ target: endpoint(), seed: 5 });
    try {
      proxy.setRules([
        { service: 's3', operation: 'GetObject', rate: 0.15, kind: 'throttle' },
        { service: 's3', operation: 'GetObject', rate: 0.15, kind: 'server-error' },
        { service: 's3', operation: 'GetObject', rate: 0.1, kind: 'reset' },
      ]);
      const through = createAwsClients({ endpoint: proxy.endpoint, timeouts: { maxAttempts: 1 } });
      const inventory = s3InventorySource(through.s3, { bucket: dest, prefix: 'reports' }, { rangeBytes: 128 * 1024 });
      const report = await inventory.newest(source);
      proxy.resetStats();
      const keys = new Set<string>();
      for await (const row of inventory.allRows(report)) keys.add(row.key);
      expect(keys.size).toBe(ROWS);
      const stats = proxy.stats();
      const faults = Object.entries(stats.faults).filter(([k]) => k.startsWith('s3:GetObject')).reduce((sum, [, n]) => sum + n, 0);
      expect(faults).toBeGreaterThan(0);
      // One successful request per range, plus one per fault.
      expect(stats.requests['s3:GetObject']).toBe(Math.ceil(bytes / (128 * 1024)) + faults);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe('a CSV data file read by ranges', () => {
  test('an object of unknown size (a query result, a completion report) reads whole by ranges, its size from Content-Range; an empty one reads as nothing', async () => {
    const bucket = name('unsized');
    await createBucket(clients, bucket);
    const body = randomBytes(70 * 1024);
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'result.csv', Body: body }));
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty.csv', Body: '' }));
    const parts: Uint8Array[] = [];
    for await (const part of rangedObjectBytes(clients.s3, bucket, 'result.csv', 16 * 1024)) parts.push(part);
    expect(parts).toHaveLength(5);
    expect(Buffer.concat(parts).equals(body)).toBe(true);
    const empty: Uint8Array[] = [];
    for await (const part of rangedObjectBytes(clients.s3, bucket, 'empty.csv', 16 * 1024)) empty.push(part);
    expect(Buffer.concat(empty)).toHaveLength(0);
  });

  test('the ranges join into the file byte for byte; a file replaced between two ranges fails the read (If-Match) instead of mixing two files', async () => {
    const bucket = name('ranges');
    await createBucket(clients, bucket);
    const body = randomBytes(100 * 1024);
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'data/a.csv.gz', Body: body }));
    const file = { key: 'data/a.csv.gz', size: body.length, md5: createHash('md5').update(body).digest('hex') };
    const parts: Uint8Array[] = [];
    for await (const part of rangedBody(clients.s3, bucket, file, 16 * 1024)) parts.push(part);
    expect(parts).toHaveLength(7);
    expect(Buffer.concat(parts).equals(body)).toBe(true);

    const read = rangedBody(clients.s3, bucket, file, 16 * 1024);
    await read.next();
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'data/a.csv.gz', Body: randomBytes(100 * 1024) }));
    await expect((async () => { for (;;) if ((await read.next()).done) return; })()).rejects.toMatchObject({ name: 'PreconditionFailed' });
  });
});
