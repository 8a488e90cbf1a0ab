// Athena's result file of the report diff, read in slices by byte offset: row boundaries found
// without parsing (quotes, escaped quotes, line feeds inside values, chunks cut anywhere), and each
// row made into exactly the InventoryRow the report's own reader makes of the same object.
import { GetQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { describe, expect, test } from 'vitest';
import { reportDiffState } from '../../shared/metadata/athena-report-diff.ts';
import { checkDiffHeader, diffResultColumns, diffRowFromRecord, RecordBoundaries, recordsOf } from '../../shared/inventory/diff-result.ts';
import { InventoryError } from '../../shared/inventory/errors.ts';
import { rowFromCells } from '../../shared/inventory/row.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

// Athena's CSV: header, every value quoted, NULL empty and unquoted, LF line ends.
const RESULT = [
  '"bucket","key","size","e_tag","sseguard_change"',
  '"b","plain","1","e1","added"',
  '"b","say ""hi""","2",,"changed"',
  '"b","line\nbreak, and comma","3","e3","vanished"',
  '"b","ünïcödé/€","4","e4","added"',
  '',
].join('\n');

describe('row boundaries in the result file', () => {
  test.each([1, 3, 7, 64, 4096])('found the same whatever the chunk size (%i bytes), quotes and line feeds inside values included', (chunk) => {
    const all = bytes(RESULT);
    const boundaries = new RecordBoundaries(Number.MAX_SAFE_INTEGER);
    for (let i = 0; i < all.length; i += chunk) boundaries.push(all.subarray(i, i + chunk));
    boundaries.finish(all.subarray(boundaries.end));
    expect(boundaries.records).toBe(5);
    expect(boundaries.end).toBe(all.length);
    expect(recordsOf(all, 'r').map((r) => r[1])).toEqual(['key', 'plain', 'say "hi"', 'line\nbreak, and comma', 'ünïcödé/€']);
  });

  test('slices taken at the boundaries found cover every row once, in order, none cut', () => {
    const all = bytes(RESULT);
    const keys: string[] = [];
    for (let from = 0; from < all.length; ) {
      const boundaries = new RecordBoundaries(2);
      boundaries.push(all.subarray(from));
      if (!boundaries.full) boundaries.finish(all.subarray(from + boundaries.end));
      keys.push(...recordsOf(all.subarray(from, from + boundaries.end), 'r').map((r) => r[1]!));
      from += boundaries.end;
    }
    expect(keys).toEqual(['key', 'plain', 'say "hi"', 'line\nbreak, and comma', 'ünïcödé/€']);
  });

  test('a last row without its line feed still counts when the file ends; a value never closed does not', () => {
    const lastWithoutLf = bytes('"h"\n"a"');
    const ended = new RecordBoundaries(10);
    ended.push(lastWithoutLf);
    ended.finish(lastWithoutLf.subarray(ended.end));
    expect([ended.records, ended.end]).toEqual([2, lastWithoutLf.length]);
    const open = bytes('"h"\n"a\n');
    const unclosed = new RecordBoundaries(10);
    unclosed.push(open);
    unclosed.finish(open.subarray(unclosed.end));
    expect([unclosed.records, unclosed.end]).toEqual([1, 4]);
  });
});

describe('a result row is the row the report reader makes', () => {
  const columns = ['Bucket', 'Key', 'VersionId', 'IsLatest', 'IsDeleteMarker', 'Size', 'LastModifiedDate', 'ETag', 'StorageClass', 'EncryptionStatus', 'BucketKeyStatus', 'ObjectLockRetainUntilDate'];
  const header = diffResultColumns(columns);

  test('the header is the report columns by SQL name, then sseguard_change; another header is refused', () => {
    expect(header).toEqual(['bucket', 'key', 'version_id', 'is_latest', 'is_delete_marker', 'size', 'last_modified_date', 'e_tag', 'storage_class', 'encryption_status', 'bucket_key_status', 'object_lock_retain_until_date', 'sseguard_change']);
    expect(() => checkDiffHeader(header.slice(1), header, 'r')).toThrow(InventoryError);
  });

  test('over CSV reports: the report\'s own strings, the key URL-decoded, NULL (empty) absent', () => {
    const record = ['b', 'dir%2Fa+b%C3%BC', 'null', 'true', 'false', '12', '2026-11-01T01:00:00.000Z', 'abc', 'STANDARD', 'SSE-KMS', 'ENABLED', '', 'changed'];
    const { change, row } = diffRowFromRecord(record, header, 'CSV', 'r');
    expect(change).toBe('changed');
    // What readCsvRows makes of the same data-file line.
    const reader = rowFromCells(
      { Bucket: 'b', Key: 'dir%2Fa+b%C3%BC', VersionId: 'null', IsLatest: 'true', IsDeleteMarker: 'false', Size: '12', LastModifiedDate: '2026-11-01T01:00:00.000Z', ETag: 'abc', StorageClass: 'STANDARD', EncryptionStatus: 'SSE-KMS', BucketKeyStatus: 'ENABLED', ObjectLockRetainUntilDate: '' },
      true,
    );
    expect(row).toEqual(reader);
    expect(row.key).toBe('dir/a bü');
    expect(row.versionId).toBeUndefined();
  });

  test('over Parquet reports: Athena\'s rendering of booleans, bigint and timestamps, keys as they are', () => {
    const record = ['b', 'dir/a+b%', 'v1', 'true', 'false', '12', '2026-11-01 01:00:00.123', 'abc', 'STANDARD', 'SSE-S3', 'DISABLED', '2027-01-02 03:04:05.000', 'added'];
    const { change, row } = diffRowFromRecord(record, header, 'Parquet', 'r');
    expect(change).toBe('added');
    // What readParquetRows makes of the same row: hyparquet's booleans, bigint and Dates.
    const reader = rowFromCells(
      {
        Bucket: 'b', Key: 'dir/a+b%', VersionId: 'v1', IsLatest: true, IsDeleteMarker: false, Size: 12n,
        LastModifiedDate: new Date('2026-11-01T01:00:00.123Z'), ETag: 'abc', StorageClass: 'STANDARD', EncryptionStatus: 'SSE-S3', BucketKeyStatus: 'DISABLED',
        ObjectLockRetainUntilDate: new Date('2027-01-02T03:04:05.000Z'),
      },
      false,
    );
    expect(row).toEqual(reader);
  });

  test('a value the reader would refuse is refused, never guessed: an unknown change, a wrong status, a timestamp Athena would not write', () => {
    const good = ['b', 'k', '', '', '', '1', '', '', '', 'SSE-S3', '', '', 'added'];
    expect(() => diffRowFromRecord(good.map((v, i) => (i === 12 ? 'moved' : v)), header, 'CSV', 'r')).toThrow(/sseguard_change "moved"/);
    expect(() => diffRowFromRecord(good.map((v, i) => (i === 9 ? 'AES256' : v)), header, 'CSV', 'r')).toThrow(InventoryError);
    expect(() => diffRowFromRecord(good.map((v, i) => (i === 6 ? '2026-11-01T01:00:00Z' : v)), header, 'Parquet', 'r')).toThrow(/not an Athena timestamp/);
    expect(() => diffRowFromRecord(good.slice(1), header, 'CSV', 'r')).toThrow(/12 fields where the header names 13/);
  });
});

describe('the diff query\'s state, one GetQueryExecution (recorded-shape fake at the Athena client: the emulator\'s queries never fail)', () => {
  const athenaAnswering = (execution: object) => ({ send: async (command: unknown) => (command instanceof GetQueryExecutionCommand ? { QueryExecution: execution } : Promise.reject(new Error('unexpected'))) }) as unknown as AthenaClient;

  test('FAILED is a failure with Athena\'s reason (the worker then fans the report out in full), never an empty diff', async () => {
    const state = await reportDiffState(athenaAnswering({ Status: { State: 'FAILED', StateChangeReason: 'HIVE_BAD_DATA: Error parsing field value', AthenaError: { ErrorCategory: 2 } } }), 'q-1');
    expect(state).toEqual({ state: 'failed', reason: 'the Athena diff query q-1 failed: HIVE_BAD_DATA: Error parsing field value' });
  });

  test('QUEUED and RUNNING are waited for; SUCCEEDED names the result file at its OutputLocation; SUCCEEDED without one is a failure', async () => {
    for (const State of ['QUEUED', 'RUNNING']) expect(await reportDiffState(athenaAnswering({ Status: { State } }), 'q-2')).toEqual({ state: 'running' });
    expect(await reportDiffState(athenaAnswering({ Status: { State: 'SUCCEEDED' }, ResultConfiguration: { OutputLocation: 's3://results/diff/q-3.csv' } }), 'q-3')).toEqual({
      state: 'succeeded',
      result: { bucket: 'results', key: 'diff/q-3.csv' },
    });
    expect(await reportDiffState(athenaAnswering({ Status: { State: 'SUCCEEDED' } }), 'q-4')).toMatchObject({ state: 'failed' });
  });
});
