// The planner is pure: object facts × policy target × lock × storage class × size → one fix or a
// reason why a person must act. Table-driven over the DESIGN.md remediation table.
import { describe, expect, test } from 'vitest';
import type { EncryptionMode, ObjectFacts } from '../../shared/domain/encryption.ts';
import { describePlan, dryRunTotals, MIB, planRemediation, type RemediationFacts, type RemediationPlan, type RemediationTarget } from '../../shared/remediation/fix-plan.ts';

const KEY_A = 'arn:aws:kms:us-east-1:123456789012:key/aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
const KEY_B = 'arn:aws:kms:us-east-1:123456789012:key/bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb';
const NOW = new Date('2026-06-01T00:00:00Z');
const FUTURE = '2027-01-01T00:00:00.000Z';
const PAST = '2026-01-01T00:00:00.000Z';

function facts(mode: EncryptionMode, extra: Partial<RemediationFacts> = {}): RemediationFacts {
  const base: ObjectFacts = {
    bucket: 'b',
    key: 'k',
    etag: '"e"',
    size: 1000,
    storageClass: 'STANDARD',
    mode,
    bucketKeyEnabled: false,
    objectLock: { legalHold: false },
    ...(mode === 'sse-kms' || mode === 'dsse-kms' ? { kmsKeyArn: KEY_A } : {}),
  };
  return { ...base, ...extra };
}

const SSE_S3: RemediationTarget = { mode: 'sse-s3', bucketKey: false };
const KMS_B: RemediationTarget = { mode: 'sse-kms', kmsKey: KEY_B, bucketKey: false };
const KMS_B_BK: RemediationTarget = { mode: 'sse-kms', kmsKey: KEY_B, bucketKey: true };
const KMS_A_BK: RemediationTarget = { mode: 'sse-kms', kmsKey: KEY_A, bucketKey: true };
const DSSE_B: RemediationTarget = { mode: 'dsse-kms', kmsKey: KEY_B, bucketKey: false };
const KMS_ALIAS: RemediationTarget = { mode: 'sse-kms', kmsKey: 'arn:aws:kms:us-east-1:123456789012:alias/finance', bucketKey: false };

const plan = (f: RemediationFacts, target: RemediationTarget, options = {}) => planRemediation({ facts: f, target, now: NOW, options });
const outcome = (p: RemediationPlan) => (p.action === 'blocked' ? p.outcome : p.action);

describe('source mode × target → fix', () => {
  test.each([
    // UpdateObjectEncryption: SSE-S3/SSE-KMS sources to an SSE-KMS target named by key ARN
    ['sse-s3', KMS_B, 'update-encryption'],
    ['sse-s3', KMS_B_BK, 'update-encryption'],
    ['sse-kms', KMS_B, 'update-encryption'],
    ['sse-kms', KMS_A_BK, 'update-encryption'], // bucket key off → on, same key
    // copies: unencrypted or DSSE sources, SSE-S3 or DSSE targets, a target key given as an alias ARN
    ['none', SSE_S3, 'copy'],
    ['none', KMS_B, 'copy'],
    ['dsse-kms', KMS_B, 'copy'],
    ['dsse-kms', SSE_S3, 'copy'],
    ['sse-kms', SSE_S3, 'copy'],
    ['sse-kms', DSSE_B, 'copy'],
    ['sse-s3', DSSE_B, 'copy'],
    ['sse-s3', KMS_ALIAS, 'copy'],
    // already there
    ['sse-s3', SSE_S3, 'none'],
    ['dsse-kms', { mode: 'dsse-kms', kmsKey: KEY_A, bucketKey: false }, 'none'],
    ['sse-kms', { mode: 'sse-kms', kmsKey: KEY_A, bucketKey: false }, 'none'],
    // never without the customer key
    ['sse-c', SSE_S3, 'blocked-sse-c'],
    ['sse-c', KMS_B, 'blocked-sse-c'],
  ] as const)('%s → %o: %s', (mode, target, expected) => {
    expect(outcome(plan(facts(mode), target))).toBe(expected);
  });

  test('a bucket key beyond what the target asks is not a reason to change the object', () => {
    expect(plan(facts('sse-kms', { bucketKeyEnabled: true }), { mode: 'sse-kms', kmsKey: KEY_A, bucketKey: false }).action).toBe('none');
  });

  test('a target KMS mode without a key is a programming error, not a plan', () => {
    expect(() => plan(facts('none'), { mode: 'sse-kms', bucketKey: false })).toThrow(/no KMS key/);
  });
});

describe('Object Lock × fix', () => {
  const governance = { mode: 'GOVERNANCE' as const, retainUntil: FUTURE, legalHold: false };
  const compliance = { mode: 'COMPLIANCE' as const, retainUntil: FUTURE, legalHold: false };
  test.each([
    ['governance retention, SSE-S3 → SSE-KMS: copy (AWS denies UpdateObjectEncryption)', facts('sse-s3', { objectLock: governance }), KMS_B, 'copy'],
    ['legal hold, SSE-KMS key A → B: copy', facts('sse-kms', { objectLock: { legalHold: true } }), KMS_B, 'copy'],
    ['governance retention, DSSE → SSE-KMS: copy', facts('dsse-kms', { objectLock: governance }), KMS_B, 'copy'],
    ['compliance retention in force: blocked', facts('sse-s3', { objectLock: compliance }), KMS_B, 'blocked-object-lock-compliance'],
    ['compliance retention in force, copy needed: blocked', facts('none', { objectLock: compliance }), SSE_S3, 'blocked-object-lock-compliance'],
    ['compliance retention ended: update in place', facts('sse-s3', { objectLock: { ...compliance, retainUntil: PAST } }), KMS_B, 'update-encryption'],
    ['governance retention ended: update in place', facts('sse-s3', { objectLock: { ...governance, retainUntil: PAST } }), KMS_B, 'update-encryption'],
    ['compliance retention, already at target: none', facts('sse-s3', { objectLock: compliance }), SSE_S3, 'none'],
  ] as const)('%s', (_name, f, target, expected) => {
    expect(outcome(plan(f, target))).toBe(expected);
  });

  test('the copy of a locked object explains why it is not an in-place update and that the locked version stays', () => {
    const p = plan(facts('sse-s3', { objectLock: governance, versionId: 'v1' }), KMS_B);
    expect(p.action === 'copy' && p.notes.join(' ')).toMatch(/governance-mode retention.*[\s\S]*v1 remains.*locked/);
  });

  test('compliance mode says until when and what a person must do', () => {
    const p = plan(facts('none', { objectLock: compliance }), SSE_S3);
    expect(p).toMatchObject({ action: 'blocked', why: expect.stringContaining(FUTURE), instruction: expect.stringContaining('exemption') });
  });
});

describe('storage class × fix', () => {
  test.each([
    ['GLACIER, update in place (S3 needs no restore)', facts('sse-s3', { storageClass: 'GLACIER' }), KMS_B, 'update-encryption'],
    ['GLACIER, copy needed, not restored', facts('none', { storageClass: 'GLACIER' }), SSE_S3, 'blocked-archived'],
    ['DEEP_ARCHIVE, copy needed, not restored', facts('dsse-kms', { storageClass: 'DEEP_ARCHIVE' }), KMS_B, 'blocked-archived'],
    ['GLACIER, copy needed, restored', facts('none', { storageClass: 'GLACIER', restored: true }), SSE_S3, 'copy'],
    ['GLACIER_IR reads instantly', facts('none', { storageClass: 'GLACIER_IR' }), SSE_S3, 'copy'],
    ['Intelligent-Tiering archive tier, copy needed', facts('sse-kms', { storageClass: 'INTELLIGENT_TIERING', archiveStatus: 'ARCHIVE_ACCESS' }), SSE_S3, 'blocked-archived'],
    ['GLACIER under governance retention: a copy would be needed', facts('sse-s3', { storageClass: 'GLACIER', objectLock: { mode: 'GOVERNANCE', retainUntil: FUTURE, legalHold: false } }), KMS_B, 'blocked-archived'],
    ['STANDARD_IA copies', facts('none', { storageClass: 'STANDARD_IA' }), SSE_S3, 'copy'],
  ] as const)('%s', (_name, f, target, expected) => {
    expect(outcome(plan(f, target))).toBe(expected);
  });

  test('archived: the instruction says to restore, then re-audit', () => {
    expect(plan(facts('none', { storageClass: 'GLACIER' }), SSE_S3)).toMatchObject({ instruction: expect.stringMatching(/restore.*re-audit/i) });
  });
});

describe('UpdateObjectEncryption not available (LocalStack 501, a partition without it) × version', () => {
  const UNAVAILABLE = 'NotImplemented (HTTP 501): not included in your current license plan or has not yet been emulated';
  const without = (f: RemediationFacts, target: RemediationTarget, options = {}) =>
    planRemediation({ facts: f, target, now: NOW, options, updateObjectEncryptionUnavailable: UNAVAILABLE });
  test.each([
    ['unversioned SSE-S3 → SSE-KMS: copy', facts('sse-s3'), KMS_B, 'copy'],
    ['the "null" version of an unversioned object: copy', facts('sse-kms', { versionId: 'null' }), KMS_B_BK, 'copy'],
    ['the current version of a versioned object: copy', facts('sse-s3', { versionId: 'v2', isLatest: true }), KMS_B, 'copy'],
    ['a noncurrent version: blocked (a copy would make old content current)', facts('sse-s3', { versionId: 'v1', isLatest: false }), KMS_B, 'blocked-noncurrent-version'],
    ['a version not known to be current: blocked, never guessed', facts('sse-kms', { versionId: 'v1' }), KMS_B, 'blocked-noncurrent-version'],
    ['GLACIER needs a copy now: blocked-archived', facts('sse-s3', { storageClass: 'GLACIER' }), KMS_B, 'blocked-archived'],
    ['copies that were copies anyway do not change', facts('dsse-kms'), SSE_S3, 'copy'],
  ] as const)('%s', (_name, f, target, expected) => {
    expect(outcome(without(f, target))).toBe(expected);
  });

  test('above the multipart threshold the fallback is a multipart copy', () => {
    expect(without(facts('sse-s3', { size: 12 * MIB }), KMS_B, { multipartThresholdBytes: 5 * MIB, partSizeBytes: 5 * MIB })).toMatchObject({
      action: 'multipart-copy',
      partCount: 3,
    });
  });

  test('the blocked noncurrent version says why and what a person can do', () => {
    expect(without(facts('sse-s3', { versionId: 'v1', isLatest: false }), KMS_B)).toMatchObject({
      why: expect.stringMatching(/UpdateObjectEncryption is not available \(NotImplemented.*version v1 is not the current version.*old content current/),
      instruction: expect.stringMatching(/where UpdateObjectEncryption is available.*lifecycle rule/),
    });
  });

  test('where UpdateObjectEncryption is available, a noncurrent version is updated in place, and never copied', () => {
    expect(outcome(plan(facts('sse-s3', { versionId: 'v1', isLatest: false }), KMS_B))).toBe('update-encryption');
    expect(outcome(plan(facts('dsse-kms', { versionId: 'v1', isLatest: false }), SSE_S3))).toBe('blocked-noncurrent-version');
    // Unknown currency keeps the conditional copy as before: If-Match on the destination (the audited
    // ETag) refuses it when the current version differs.
    expect(outcome(plan(facts('dsse-kms', { versionId: 'v1' }), SSE_S3))).toBe('copy');
  });
});

describe('size × multipart threshold', () => {
  const small = { multipartThresholdBytes: 5 * MIB, partSizeBytes: 5 * MIB };
  test.each([
    [5 * MIB, 'copy', 0],
    [5 * MIB + 1, 'multipart-copy', 2],
    [12 * MIB, 'multipart-copy', 3],
  ])('%i bytes with a 5 MiB threshold → %s (%i parts)', (size, action, parts) => {
    const p = plan(facts('none', { size }), SSE_S3, small);
    expect(p.action).toBe(action);
    if (p.action === 'multipart-copy') expect(p.partCount).toBe(parts);
  });

  test('the default threshold is 5 GiB, the largest CopyObject', () => {
    expect(plan(facts('none', { size: 5 * 1024 ** 3 }), SSE_S3).action).toBe('copy');
    expect(plan(facts('none', { size: 5 * 1024 ** 3 + 1 }), SSE_S3)).toMatchObject({ action: 'multipart-copy', partSizeBytes: 512 * MIB, partCount: 11 });
  });

  test('parts grow so that 5 TB fits in 10,000 parts', () => {
    const p = plan(facts('none', { size: 5 * 1024 ** 4 }), SSE_S3);
    expect(p.action === 'multipart-copy' && p.partCount).toBeLessThanOrEqual(10_000);
  });

  test('size does not matter for UpdateObjectEncryption (no data moved)', () => {
    expect(plan(facts('sse-s3', { size: 50 * 1024 ** 3 }), KMS_B, small).action).toBe('update-encryption');
  });

  test.each([
    [{ multipartThresholdBytes: 6 * 1024 ** 3 }, /multipartThresholdBytes/],
    [{ partSizeBytes: MIB }, /partSizeBytes/],
  ])('options outside S3 limits are refused: %o', (options, message) => {
    expect(() => plan(facts('none'), SSE_S3, options)).toThrow(message);
  });
});

describe('dry-run estimates and totals', () => {
  test.each([
    ['SSE-S3 → SSE-KMS update: 1 (new key)', facts('sse-s3'), KMS_B, 0, 1],
    ['SSE-KMS → SSE-KMS update: decrypt + new key', facts('sse-kms'), KMS_B, 0, 2],
    ['SSE-KMS with bucket key → bucket key target: amortised', facts('sse-kms', { bucketKeyEnabled: true }), KMS_B_BK, 0, 0],
    ['DSSE → SSE-S3 copy: 1 decrypt', facts('dsse-kms'), SSE_S3, 1000, 1],
    ['none → DSSE copy: 1', facts('none'), DSSE_B, 1000, 1],
    ['SSE-KMS → DSSE copy: 2', facts('sse-kms'), DSSE_B, 1000, 2],
  ] as const)('%s', (_name, f, target, bytes, kms) => {
    const p = plan(f, target);
    expect('estimate' in p && p.estimate).toEqual({ bytesCopied: bytes, kmsRequests: kms });
  });

  test('multipart: source read per part, target 1 + per part + 1', () => {
    const p = plan(facts('sse-kms', { size: 12 * MIB }), DSSE_B, { multipartThresholdBytes: 5 * MIB, partSizeBytes: 5 * MIB });
    expect(p).toMatchObject({ action: 'multipart-copy', partCount: 3, estimate: { bytesCopied: 12 * MIB, kmsRequests: 3 + 5 } });
  });

  test('totals count objects per action and per blocked reason, bytes and KMS requests', () => {
    const plans = [
      plan(facts('sse-s3'), KMS_B),
      plan(facts('dsse-kms'), SSE_S3),
      plan(facts('none', { size: 12 * MIB }), SSE_S3, { multipartThresholdBytes: 5 * MIB, partSizeBytes: 5 * MIB }),
      plan(facts('sse-c'), SSE_S3),
      plan(facts('sse-c'), SSE_S3),
      plan(facts('sse-s3'), SSE_S3),
    ];
    expect(dryRunTotals(plans)).toEqual({
      objects: 6,
      byAction: { 'update-encryption': 1, copy: 1, 'multipart-copy': 1, none: 1, blocked: 2 },
      blocked: { 'blocked-sse-c': 2 },
      bytesCopied: 1000 + 12 * MIB,
      kmsRequests: 1 + 1,
    });
    expect(plans.map(describePlan)).toEqual([
      expect.stringContaining('UpdateObjectEncryption sse-s3 → sse-kms'),
      expect.stringContaining('CopyObject in place dsse-kms → sse-s3'),
      expect.stringContaining('3 parts'),
      expect.stringContaining('blocked-sse-c'),
      expect.stringContaining('blocked-sse-c'),
      expect.stringContaining('no change'),
    ]);
  });
});
