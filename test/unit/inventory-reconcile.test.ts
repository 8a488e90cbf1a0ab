import { describe, expect, test } from 'vitest';
import { listsAllVersions, reconcile, type RecordedPresence, type ReportScope } from '../../shared/inventory/reconcile.ts';

const report: ReportScope = { createdAt: new Date('2026-11-30T01:00:00Z'), allVersions: false };
const old: RecordedPresence = { key: 'data/a', lastModified: '2026-11-01T00:00:00.000Z', firstSeen: '2026-11-02T00:00:00.000Z' };

describe('reconciliation with the newest inventory report', () => {
  test('a recorded object the report no longer lists is gone; one it lists is kept', () => {
    expect(reconcile(old, false, report)).toBe('gone');
    expect(reconcile(old, true, report)).toBe('kept-listed');
  });

  test('an object written after the report began scanning is kept, whatever the report says', () => {
    expect(reconcile({ ...old, lastModified: '2026-11-30T01:00:00.000Z' }, false, report)).toBe('kept-newer-than-report');
    const { lastModified: _omit, ...noDate } = old;
    expect(reconcile({ ...noDate, firstSeen: '2026-11-30T02:00:00.000Z' }, false, report)).toBe('kept-newer-than-report');
    expect(reconcile({ ...noDate, firstSeen: 'garbage' }, false, report)).toBe('kept-newer-than-report');
  });

  test('an object audited after the report began scanning is kept, however old its LastModified (a version restored by removing its delete marker)', () => {
    expect(reconcile({ ...old, auditedAt: '2026-11-30T01:00:00.000Z' }, false, report)).toBe('kept-newer-than-report');
    expect(reconcile({ ...old, auditedAt: '2026-11-29T23:00:00.000Z' }, false, report)).toBe('gone');
  });

  test('a noncurrent version is gone only by a report that lists versions', () => {
    const noncurrent = { ...old, versionId: 'v1', isLatest: false };
    expect(reconcile(noncurrent, false, report)).toBe('kept-not-covered');
    expect(reconcile(noncurrent, false, { ...report, allVersions: true })).toBe('gone');
  });

  test('keys outside the configuration filter are not covered by the report', () => {
    expect(reconcile(old, false, { ...report, filterPrefix: 'logs/' })).toBe('kept-not-covered');
    expect(reconcile(old, false, { ...report, filterPrefix: 'data/' })).toBe('gone');
  });

  test('a report lists all versions when its schema has the version columns', () => {
    expect(listsAllVersions(['Bucket', 'Key', 'VersionId', 'IsLatest'])).toBe(true);
    expect(listsAllVersions(['bucket', 'key', 'version_id'])).toBe(true);
    expect(listsAllVersions(['Bucket', 'Key', 'EncryptionStatus'])).toBe(false);
  });
});
