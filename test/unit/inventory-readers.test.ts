import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { readCsvRows } from '../../shared/inventory/csv-reader.ts';
import { InventoryError } from '../../shared/inventory/errors.ts';
import { readParquetRows } from '../../shared/inventory/parquet-reader.ts';
import type { InventoryRow } from '../../shared/inventory/row.ts';

const quoted = (cells: string[]) => cells.map((c) => `"${c}"`).join(',');

async function* chunks(bytes: Uint8Array, size = 64): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function all(rows: AsyncIterable<InventoryRow>): Promise<InventoryRow[]> {
  const out: InventoryRow[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

async function failure(rows: AsyncIterable<InventoryRow>): Promise<InventoryError> {
  try {
    await all(rows);
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  throw new Error('expected an InventoryError');
}

describe('CSV (gzip) rows are read by the manifest fileSchema', () => {
  // Columns in an unusual order, with one the reader does not know: position must not matter.
  const columns = ['EncryptionStatus', 'Key', 'ObjectOwner', 'Bucket', 'Size', 'BucketKeyStatus', 'ETag', 'VersionId', 'IsLatest', 'IsDeleteMarker'];
  const lines = [
    ['SSE-KMS', 'dir/a+b%2Bc%C3%A9.txt', 'me', 'src', '12', 'ENABLED', 'abc123', 'v1', 'true', 'false'],
    ['NOT-SSE', 'old', 'me', 'src', '1', 'DISABLED', 'def', 'null', 'true', 'false'],
    ['', 'gone', '', 'src', '', '', '', 'v9', 'true', 'true'],
  ];
  const gz = gzipSync(lines.map(quoted).join('\n') + '\n');
  const md5 = createHash('md5').update(gz).digest('hex');

  test('every field lands in its named place; keys are URL-decoded ("+" is a space); "null" version is no version', async () => {
    const rows = await all(readCsvRows(chunks(gz), columns, { where: 'f', md5 }));
    expect(rows[0]).toEqual({
      bucket: 'src',
      key: 'dir/a b+cé.txt',
      versionId: 'v1',
      isLatest: true,
      isDeleteMarker: false,
      size: 12,
      etag: 'abc123',
      encryptionStatus: 'SSE-KMS',
      bucketKeyEnabled: true,
    });
    expect(rows[1]).toMatchObject({ key: 'old', encryptionStatus: 'NOT-SSE', bucketKeyEnabled: false });
    expect(rows[1]!.versionId).toBeUndefined();
    expect(rows[2]).toEqual({ bucket: 'src', key: 'gone', versionId: 'v9', isLatest: true, isDeleteMarker: true });
  });

  test('a file whose bytes do not match the manifest MD5 fails after its rows', async () => {
    const error = await failure(readCsvRows(chunks(gz), columns, { where: 's3://d/f.csv.gz', md5: '0'.repeat(32) }));
    expect(error.code).toBe('checksum-mismatch');
    expect(error.message).toMatch(/^s3:\/\/d\/f\.csv\.gz: the manifest says MD5 0+/);
  });

  test('a schema without EncryptionStatus is refused up front, saying what to add', async () => {
    const error = await failure(readCsvRows(chunks(gz), ['Bucket', 'Key', 'Size'], { where: 'm' }));
    expect(error.code).toBe('schema-missing-column');
    expect(error.message).toMatch(/no EncryptionStatus column: add EncryptionStatus to the inventory configuration's optional fields/);
  });

  test('rows with a field count other than the schema, unknown status values, and non-gzip bytes are errors with the place', async () => {
    const short = gzipSync(quoted(['SSE-S3', 'k']) + '\n');
    expect((await failure(readCsvRows(chunks(short), columns, { where: 'f' }))).message).toMatch(/f row 1: 2 fields where fileSchema names 10/);
    const odd = gzipSync(quoted(['SSE-X', 'k', '', 'src', '1', 'ENABLED', 'e', 'v', 'true', 'false']) + '\n');
    expect((await failure(readCsvRows(chunks(odd), columns, { where: 'f' }))).message).toMatch(/EncryptionStatus "SSE-X" is not one of NOT-SSE \| SSE-S3/);
    expect((await failure(readCsvRows(chunks(new TextEncoder().encode('plain text')), columns, { where: 'f' }))).code).toBe('data-file-invalid');
  });

  test('streams: reading the first rows pulls only the first chunks of a large file', async () => {
    const many = Array.from({ length: 200_000 }, (_, i) => quoted(['SSE-S3', `k${i}`, '', 'src', '1', 'DISABLED', 'e', 'v', 'true', 'false'])).join('\n');
    const big = gzipSync(many);
    let pulled = 0;
    const total = Math.ceil(big.length / 1024);
    async function* counted() {
      for await (const c of chunks(big, 1024)) {
        pulled += 1;
        yield c;
      }
    }
    let read = 0;
    for await (const _row of readCsvRows(counted(), columns, { where: 'f' })) {
      read += 1;
      if (read === 10) break;
    }
    expect(total).toBeGreaterThan(100);
    expect(pulled).toBeLessThan(total / 4);
  });
});

describe('Parquet rows are read by column name, one row group at a time', () => {
  const file = (name: string) => {
    const bytes = readFileSync(new URL(`../fixtures/inventory/${name}`, import.meta.url));
    return { byteLength: bytes.length, slice: (start: number, end?: number) => bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + (end ?? bytes.length)) };
  };

  test('a GZIP file of two row groups with shuffled columns gives every row, keys as stored, timestamps as ISO', async () => {
    const rows = await all(readParquetRows(file('two-row-groups.gzip.parquet'), 'f'));
    expect(rows).toHaveLength(6);
    expect(rows[0]).toEqual({
      bucket: 'src',
      key: 'a b.txt',
      versionId: 'v1',
      isLatest: true,
      isDeleteMarker: false,
      size: 3,
      lastModified: '2026-11-30T01:02:03.456Z',
      etag: 'etag0',
      encryptionStatus: 'SSE-KMS',
      bucketKeyEnabled: true,
    });
    expect(rows.map((r) => r.encryptionStatus)).toEqual(['SSE-KMS', 'SSE-S3', 'SSE-C', 'DSSE-KMS', 'NOT-SSE', undefined]);
    expect(rows[5]).toMatchObject({ key: 'old', isDeleteMarker: true });
  });

  test('windows smaller than a row group (large groups) give the same rows in the same order', async () => {
    const whole = await all(readParquetRows(file('two-row-groups.gzip.parquet'), 'f'));
    for (const rowsAtOnce of [1, 2]) {
      expect(await all(readParquetRows(file('two-row-groups.gzip.parquet'), 'f', { rowsAtOnce }))).toEqual(whole);
    }
  });

  test('a file without encryption_status is refused, saying what to add', async () => {
    const error = await failure(readParquetRows(file('no-encryption-status.parquet'), 'p'));
    expect(error.code).toBe('schema-missing-column');
  });

  test('bytes that are not Parquet are a data-file error', async () => {
    const bytes = new TextEncoder().encode('not parquet at all, not even close');
    const error = await failure(readParquetRows({ byteLength: bytes.length, slice: (s, e) => bytes.buffer.slice(s, e) }, 'p'));
    expect(error.code).toBe('data-file-invalid');
  });
});
