import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { InventoryError } from '../../shared/inventory/errors.ts';
import { newestManifest, parseInventoryLocation, parseManifest, schemaColumns, verifyManifestChecksum } from '../../shared/inventory/manifest.ts';

const manifest = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    sourceBucket: 'src',
    destinationBucket: 'arn:aws:s3:::dest',
    version: '2016-11-30',
    creationTimestamp: '1764464520000',
    fileFormat: 'CSV',
    fileSchema: 'Bucket, Key, Size, EncryptionStatus',
    files: [{ key: 'inv/src/audit/data/x.csv.gz', size: 120, MD5checksum: 'E3B0C44298FC1C149AFBF4C8996FB924' }],
    ...over,
  });

function failure(call: () => unknown): InventoryError {
  try {
    call();
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
  throw new Error('expected an InventoryError');
}

describe('manifest.json', () => {
  test('parses the AWS shape: destination ARN to a bucket name, epoch-millisecond string to a date, CSV columns in order', () => {
    const m = parseManifest(manifest(), 's3://dest/m.json');
    expect(m).toMatchObject({ sourceBucket: 'src', destinationBucket: 'dest', format: 'CSV', columns: ['Bucket', 'Key', 'Size', 'EncryptionStatus'] });
    expect(m.createdAt.toISOString()).toBe('2025-11-30T01:02:00.000Z');
    expect(m.files).toEqual([{ key: 'inv/src/audit/data/x.csv.gz', size: 120, md5: 'e3b0c44298fc1c149afbf4c8996fb924' }]);
  });

  test('a Parquet fileSchema gives the column names of the schema message', () => {
    const schema =
      'message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional int64 size; optional int64 last_modified_date (TIMESTAMP(MILLIS,true)); optional binary encryption_status (UTF8);}';
    expect(schemaColumns('Parquet', schema)).toEqual(['bucket', 'key', 'size', 'last_modified_date', 'encryption_status']);
  });

  test('an invalid manifest names the field that is wrong', () => {
    expect(failure(() => parseManifest(manifest({ fileFormat: 'XLS' }), 'm.json')).message).toMatch(/^m\.json: fileFormat: /);
    expect(failure(() => parseManifest(manifest({ files: [{ key: 'k', size: -1, MD5checksum: 'x' }] }), 'm.json')).message).toMatch(/files\.0\.size/);
    expect(failure(() => parseManifest('{"sourceBucket":', 'm.json')).code).toBe('manifest-invalid');
  });

  test('manifest.checksum must be the MD5 of manifest.json (trailing newline allowed)', () => {
    const bytes = new TextEncoder().encode(manifest());
    const md5 = createHash('md5').update(bytes).digest('hex');
    expect(() => verifyManifestChecksum(bytes, `${md5}\n`, 'm')).not.toThrow();
    const torn = failure(() => verifyManifestChecksum(bytes.slice(0, -1), md5, 'm'));
    expect(torn.code).toBe('checksum-mismatch');
    expect(torn.message).toMatch(/incomplete or altered/);
  });
});

describe('the newest report of a bucket', () => {
  const keys = [
    'inv/src/audit/2026-11-29T01-00Z/manifest.json',
    'inv/src/audit/2026-11-30T01-00Z/manifest.json',
    'inv/src/audit/2026-11-30T00-59Z/manifest.json',
    'inv/src/audit/data/2026-12-31T01-00Z/manifest.json', // not a report folder
    'inv/src/audit/hive/dt=2026-12-01-01-00/symlink.txt',
    'inv/src/weekly/2026-11-28T01-00Z/manifest.json',
    'inv/other/audit/2026-12-01T01-00Z/manifest.json', // another source bucket
    'inv/src-2/audit/2026-12-01T01-00Z/manifest.json', // a bucket whose name starts with src
  ];

  test('is the latest YYYY-MM-DDTHH-MMZ folder of any configuration, ignoring data/, hive/ and other buckets', () => {
    expect(newestManifest(keys, 'inv', 'src')).toEqual({
      configId: 'audit',
      folder: '2026-11-30T01-00Z',
      key: 'inv/src/audit/2026-11-30T01-00Z/manifest.json',
      checksumKey: 'inv/src/audit/2026-11-30T01-00Z/manifest.checksum',
    });
  });

  test('a configuration id narrows the choice; none found is undefined', () => {
    expect(newestManifest(keys, 'inv/', 'src', 'weekly')?.folder).toBe('2026-11-28T01-00Z');
    expect(newestManifest(keys, 'inv', 'src', 'missing')).toBeUndefined();
    expect(newestManifest(['src/audit/2026-11-30T01-00Z/manifest.json'], '', 'src')?.configId).toBe('audit');
  });

  test('s3:// locations split into bucket and prefix; anything else is refused with the expected form', () => {
    expect(parseInventoryLocation('s3://dest/inv/reports/')).toEqual({ bucket: 'dest', prefix: 'inv/reports' });
    expect(parseInventoryLocation('s3://dest')).toEqual({ bucket: 'dest', prefix: '' });
    expect(failure(() => parseInventoryLocation('dest/inv')).message).toMatch(/s3:\/\/<bucket>\[\/<prefix>\]/);
  });
});
