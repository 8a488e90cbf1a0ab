import { describe, expect, test } from 'vitest';
import { decideFromInventory, type RecordedState } from '../../shared/inventory/decide.ts';
import type { InventoryRow } from '../../shared/inventory/row.ts';

const KEY_A = 'arn:aws:kms:us-east-1:111122223333:key/aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
const row = (over: Partial<InventoryRow> = {}): InventoryRow => ({
  bucket: 'b',
  key: 'k',
  versionId: 'v1',
  isLatest: true,
  isDeleteMarker: false,
  size: 42,
  lastModified: '2026-11-30T01:02:03.000Z',
  etag: 'e1',
  storageClass: 'STANDARD_IA',
  encryptionStatus: 'SSE-KMS',
  bucketKeyEnabled: true,
  ...over,
});
// The store records HeadObject's quoted ETag.
const recorded = (over: Partial<RecordedState> = {}): RecordedState => ({
  versionId: 'v1',
  etag: '"e1"',
  mode: 'sse-kms',
  kmsKeyArn: KEY_A,
  bucketKeyEnabled: true,
  verdict: 'compliant',
  ...over,
});
const plain = { clientSideMatters: false };
const strict = { clientSideMatters: true };

describe('the inventory alone decides NOT-SSE, SSE-S3 and SSE-C objects', () => {
  test.each([
    ['NOT-SSE', 'none'],
    ['SSE-S3', 'sse-s3'],
    ['SSE-C', 'sse-c'],
  ] as const)('%s without any recorded finding → %s from the row, no HeadObject', (status, mode) => {
    const decision = decideFromInventory(row({ encryptionStatus: status, bucketKeyEnabled: false }), undefined, plain);
    expect(decision).toEqual({
      evidence: 'inventory',
      facts: {
        bucket: 'b',
        key: 'k',
        versionId: 'v1',
        etag: '"e1"',
        size: 42,
        storageClass: 'STANDARD_IA',
        lastModified: '2026-11-30T01:02:03.000Z',
        mode,
        bucketKeyEnabled: false,
        objectLock: { legalHold: false },
      },
    });
  });

  test('LastModified is cut to whole seconds, as HeadObject reports it', () => {
    expect(decideFromInventory(row({ encryptionStatus: 'SSE-S3', lastModified: '2026-11-30T01:02:03.999Z' }), undefined, plain)).toMatchObject({
      facts: { lastModified: '2026-11-30T01:02:03.000Z' },
    });
  });

  test('object lock and an Intelligent-Tiering archive tier carry over as HeadObject would report them', () => {
    const decision = decideFromInventory(
      row({ encryptionStatus: 'SSE-S3', objectLockMode: 'COMPLIANCE', objectLockRetainUntil: '2030-01-01T00:00:00.000Z', objectLockLegalHold: true, intelligentTieringAccessTier: 'DEEP_ARCHIVE' }),
      undefined,
      plain,
    );
    expect(decision).toMatchObject({
      evidence: 'inventory',
      facts: { objectLock: { mode: 'COMPLIANCE', retainUntil: '2030-01-01T00:00:00.000Z', legalHold: true }, archiveStatus: 'DEEP_ARCHIVE_ACCESS' },
    });
  });

  test('an SSE-C object is decided by the inventory even when client-side encryption matters (a HEAD cannot read it)', () => {
    expect(decideFromInventory(row({ encryptionStatus: 'SSE-C' }), undefined, strict)).toMatchObject({ evidence: 'inventory', facts: { mode: 'sse-c', bucketKeyEnabled: false } });
  });
});

describe('KMS objects keep their recorded key only when nothing changed', () => {
  test('same version, ETag, mode and bucket key → inventory evidence with the recorded key ARN', () => {
    expect(decideFromInventory(row(), recorded(), plain)).toMatchObject({ evidence: 'inventory', facts: { mode: 'sse-kms', kmsKeyArn: KEY_A, bucketKeyEnabled: true } });
    expect(decideFromInventory(row({ encryptionStatus: 'DSSE-KMS', bucketKeyEnabled: false }), recorded({ mode: 'dsse-kms', bucketKeyEnabled: false }), plain)).toMatchObject({
      evidence: 'inventory',
      facts: { mode: 'dsse-kms', kmsKeyArn: KEY_A },
    });
  });

  test('a current-versions report (no VersionId column) compares the ETag alone', () => {
    const { versionId: _omit, ...current } = row();
    expect(decideFromInventory(current, recorded({ versionId: undefined }), plain)).toMatchObject({ evidence: 'inventory' });
  });

  test.each<[string, InventoryRow, RecordedState | undefined, string]>([
    ['never recorded', row(), undefined, 'new'],
    ['another version', row({ versionId: 'v2' }), recorded(), 'changed'],
    ['another ETag', row({ etag: 'e2' }), recorded(), 'changed'],
    ['no ETag column', row({ etag: undefined }), recorded(), 'changed'],
    ['recorded as SSE-S3, now SSE-KMS (UpdateObjectEncryption keeps the ETag)', row(), recorded({ mode: 'sse-s3', kmsKeyArn: undefined }), 'encryption-changed'],
    ['bucket key switched off', row({ bucketKeyEnabled: false }), recorded(), 'encryption-changed'],
    ['no BucketKeyStatus column', row({ bucketKeyEnabled: undefined }), recorded(), 'encryption-changed'],
    ['recorded without a key', row(), recorded({ kmsKeyArn: undefined }), 'recorded-key-unknown'],
    ['recorded unauditable', row(), recorded({ verdict: 'unauditable' }), 'recorded-key-unknown'],
  ])('%s → HeadObject (%s)', (_name, r, rec, why) => {
    expect(decideFromInventory(r, rec, plain)).toEqual({ needsHead: true, why });
  });
});

describe('when the policy cares about client-side encryption', () => {
  test('new or changed objects of any server-side mode need a HeadObject: the envelope is user metadata', () => {
    expect(decideFromInventory(row({ encryptionStatus: 'SSE-S3' }), undefined, strict)).toEqual({ needsHead: true, why: 'client-side-unknown' });
    expect(decideFromInventory(row({ encryptionStatus: 'SSE-S3', etag: 'e2' }), recorded({ mode: 'sse-s3' }), strict)).toEqual({ needsHead: true, why: 'client-side-unknown' });
  });

  test('unchanged objects recorded without an envelope are decided by the inventory', () => {
    expect(decideFromInventory(row({ encryptionStatus: 'SSE-S3', bucketKeyEnabled: false }), recorded({ mode: 'sse-s3', kmsKeyArn: undefined, bucketKeyEnabled: false }), strict)).toMatchObject({
      evidence: 'inventory',
      facts: { mode: 'sse-s3' },
    });
    expect(decideFromInventory(row(), recorded(), strict)).toMatchObject({ evidence: 'inventory', facts: { kmsKeyArn: KEY_A } });
  });

  test('unchanged objects recorded as client-side are read again (the store keeps no envelope to rebuild from)', () => {
    expect(decideFromInventory(row(), recorded({ mode: 'client-side' }), strict)).toEqual({ needsHead: true, why: 'client-side-envelope' });
  });
});

describe('rows that are not objects', () => {
  test('a delete marker is skipped; a row without EncryptionStatus asks for a HeadObject', () => {
    expect(decideFromInventory(row({ isDeleteMarker: true, encryptionStatus: undefined }), recorded(), plain)).toEqual({ skip: true, why: 'delete-marker' });
    expect(decideFromInventory(row({ encryptionStatus: undefined }), undefined, plain)).toEqual({ needsHead: true, why: 'no-encryption-status' });
  });
});
