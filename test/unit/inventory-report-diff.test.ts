// The report diff in process (a hash join of two reports' rows) and the rolling re-check's
// stateless selection: pure, no emulator.
import { describe, expect, test } from 'vitest';
import { decideFromInventory } from '../../shared/inventory/decide.ts';
import { reportIndex, rowFingerprint } from '../../shared/inventory/report-diff.ts';
import { DAY_MS, dueForReverify, phaseInWindow, reverifyHeadsPerSweep, reverifyPhaseMs } from '../../shared/inventory/reverify.ts';
import type { InventoryRow } from '../../shared/inventory/row.ts';

const row = (key: string, extra: Partial<InventoryRow> = {}): InventoryRow => ({
  bucket: 'b',
  key,
  isDeleteMarker: false,
  size: 10,
  etag: 'e1',
  lastModified: '2026-11-01T00:00:00.000Z',
  encryptionStatus: 'SSE-KMS',
  bucketKeyEnabled: false,
  ...extra,
});

describe('report diff in process', () => {
  test('rows are matched by key and version whatever their order; any audited column that differs is a change; unlisted keys vanish', () => {
    const index = reportIndex();
    for (const r of [row('c'), row('a'), row('b', { versionId: 'v1' }), row('gone')]) index.add(r);
    expect(index.compare(row('b', { versionId: 'v1' }))).toBe('unchanged');
    expect(index.compare(row('a'))).toBe('unchanged');
    expect(index.compare(row('c', { storageClass: 'GLACIER' }))).toBe('changed');
    expect(index.compare(row('b', { versionId: 'v2' }))).toBe('added');
    expect(index.compare(row('new'))).toBe('added');
    expect(index.vanished()).toEqual(['gone']);
  });

  test('every column the audit reads is in the fingerprint', () => {
    const base = row('k');
    const variants: Partial<InventoryRow>[] = [
      { isLatest: false }, { isDeleteMarker: true }, { size: 11 }, { lastModified: '2026-11-02T00:00:00.000Z' }, { etag: 'e2' },
      { storageClass: 'GLACIER' }, { encryptionStatus: 'DSSE-KMS' }, { bucketKeyEnabled: true }, { objectLockMode: 'COMPLIANCE' },
      { objectLockRetainUntil: '2030-01-01T00:00:00.000Z' }, { objectLockLegalHold: true }, { intelligentTieringAccessTier: 'ARCHIVE' },
    ];
    for (const v of variants) expect(rowFingerprint({ ...base, ...v })).not.toBe(rowFingerprint(base));
  });
});

describe('rolling re-check', () => {
  const period = 30 * DAY_MS;
  const start = Date.parse('2026-01-01T00:00:00Z');

  test('consecutive windows select each object exactly once per period (daily sweeps, 30 days)', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);
    const counts = new Map(keys.map((k) => [k, 0]));
    let perSweep = 0;
    for (let day = 0; day < 30; day++) {
      const window = { after: new Date(start + day * DAY_MS), until: new Date(start + (day + 1) * DAY_MS), periodMs: period };
      const due = keys.filter((k) => dueForReverify('b', k, undefined, window));
      perSweep = Math.max(perSweep, due.length);
      for (const k of due) counts.set(k, counts.get(k)! + 1);
    }
    expect(new Set(counts.values())).toEqual(new Set([1]));
    // Spread evenly: no sweep takes more than a few times its share (300 / 30 = 10).
    expect(perSweep).toBeLessThan(30);
  });

  test('a window of a whole period or more takes every object; an empty window none; the end is inclusive, the start not', () => {
    expect(phaseInWindow(5, { after: new Date(start), until: new Date(start + period), periodMs: period })).toBe(true);
    expect(phaseInWindow(5, { after: new Date(start), until: new Date(start), periodMs: period })).toBe(false);
    const phase = reverifyPhaseMs('b', 'k', 'v', period);
    const at = Math.floor(start / period) * period + phase + period;
    expect(phaseInWindow(phase, { after: new Date(at - 1), until: new Date(at), periodMs: period })).toBe(true);
    expect(phaseInWindow(phase, { after: new Date(at), until: new Date(at + 1), periodMs: period })).toBe(false);
  });

  test('plan: HEADs per sweep are the KMS objects times the window over the period', () => {
    expect(reverifyHeadsPerSweep(560_000_000, DAY_MS, period)).toBe(18_666_667);
    expect(reverifyHeadsPerSweep(100, 60 * DAY_MS, period)).toBe(100);
  });
});

describe('decide: an object due for its re-check', () => {
  const recorded = { etag: 'e1', mode: 'sse-kms' as const, kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/a', bucketKeyEnabled: false, verdict: 'compliant' as const };
  test('a KMS object whose recorded key would do is HEADed (reason reverify); without the re-check it keeps its recorded key', () => {
    expect(decideFromInventory(row('k'), recorded, { clientSideMatters: false, reverify: true })).toEqual({ needsHead: true, why: 'reverify' });
    expect(decideFromInventory(row('k'), recorded, { clientSideMatters: false })).toMatchObject({ evidence: 'inventory', facts: { kmsKeyArn: recorded.kmsKeyArn } });
  });
  test('an SSE-S3 object needs no HEAD: the report says all there is', () => {
    expect(decideFromInventory(row('k', { encryptionStatus: 'SSE-S3' }), undefined, { clientSideMatters: false, reverify: true })).toMatchObject({ evidence: 'inventory' });
  });
});
