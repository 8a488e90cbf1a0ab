import { describe, expect, test } from 'vitest';
import { batchManifestCsv, parseCompletionManifest, parseCompletionResults } from '../../shared/batch-operations/job-files.ts';

describe('the Batch Operations manifest', () => {
  test('one version-pinned line per object, keys URL-encoded so commas and newlines cannot break a line', () => {
    const csv = batchManifestCsv(
      [
        { bucket: 'b', key: 'dir/a b,c\n.txt', versionId: 'v1' },
        { bucket: 'b', key: 'é', versionId: 'v2' },
      ],
      { versioned: true },
    );
    expect(csv).toBe('b,dir/a%20b%2Cc%0A.txt,v1\nb,%C3%A9,v2\n');
    expect(batchManifestCsv([{ bucket: 'b', key: 'k' }], { versioned: false })).toBe('b,k\n');
    expect(() => batchManifestCsv([{ bucket: 'b', key: 'k' }], { versioned: true })).toThrow(/needs the version of s3:\/\/b\/k/);
  });
});

describe('the completion report', () => {
  test('rows in either order of HTTP status and error code give the same outcome; keys decoded, quoted messages kept whole', () => {
    const rows = parseCompletionResults(
      [
        'b,dir/a%20b,v1,succeeded,200,,Successful',
        'b,k,,failed,400,InvalidRequest,"The operation doesn\'t support ""SSE-C"", sorry"',
        'b,k2,v3,failed,NoSuchKey,404,gone',
      ].join('\n'),
    );
    expect(rows).toEqual([
      { bucket: 'b', key: 'dir/a b', versionId: 'v1', status: 'succeeded', httpStatus: 200, message: 'Successful' },
      { bucket: 'b', key: 'k', status: 'failed', httpStatus: 400, errorCode: 'InvalidRequest', message: 'The operation doesn\'t support "SSE-C", sorry' },
      { bucket: 'b', key: 'k2', versionId: 'v3', status: 'failed', httpStatus: 404, errorCode: 'NoSuchKey', message: 'gone' },
    ]);
    expect(() => parseCompletionResults('b,k,,maybe,200,,x')).toThrow(/TaskStatus "maybe"/);
  });

  test('the top-level manifest lists the result files by task status', () => {
    const m = parseCompletionManifest(
      JSON.stringify({ Format: 'Report_CSV_20180820', ReportCreationDate: '2026-12-01T00:00:00.000Z', Results: [{ TaskExecutionStatus: 'failed', Bucket: 'r', MD5Checksum: 'x', Key: 'job-1/results/a.csv' }], ReportSchema: 'Bucket, Key' }),
    );
    expect(m.Results[0]).toMatchObject({ TaskExecutionStatus: 'failed', Key: 'job-1/results/a.csv' });
    expect(() => parseCompletionManifest('{"Format":"Report_CSV_1999"}')).toThrow();
  });
});
