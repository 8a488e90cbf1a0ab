import { describe, expect, test } from 'vitest';
import type { EncryptionMode, KeyLookup, KeyState, ObjectFacts, ObjectInspection } from '../../shared/domain/encryption.ts';
import { evaluate } from '../../shared/domain/evaluate.ts';
import { policyFromDocument, resolvePolicy, type ResolvedPolicy } from '../../shared/domain/policy.ts';
import type { Verdict } from '../../shared/domain/verdict.ts';

const CMK = 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111';
const OTHER_CMK = 'arn:aws:kms:us-east-1:111122223333:key/22222222-2222-2222-2222-222222222222';
const AWS_S3_KEY = 'arn:aws:kms:us-east-1:111122223333:key/33333333-3333-3333-3333-333333333333';
const NOW = new Date('2026-11-23T12:00:00Z');

function facts(mode: EncryptionMode, extra: Partial<ObjectFacts> = {}): ObjectFacts {
  return {
    bucket: 'data',
    key: 'reports/q1.csv',
    size: 10,
    storageClass: 'STANDARD',
    mode,
    bucketKeyEnabled: false,
    objectLock: { legalHold: false },
    ...(mode === 'sse-kms' || mode === 'dsse-kms' ? { kmsKeyArn: CMK } : {}),
    // A client-side object as the S3 Encryption Client v2 writes it, into a bucket defaulting to SSE-S3.
    ...(mode === 'client-side'
      ? { clientSide: { envelope: 'v2', contentAlgorithm: 'AES/GCM/NoPadding', wrapAlgorithm: 'kms+context', serverSideMode: 'sse-s3' } }
      : {}),
    ...extra,
  };
}
const read = (f: ObjectFacts): ObjectInspection => ({ status: 'read', facts: f });

function key(state: KeyState = 'Enabled', extra: Partial<Extract<KeyLookup, { status: 'described' }>> = {}): KeyLookup {
  return {
    status: 'described',
    arn: CMK,
    keyId: '11111111-1111-1111-1111-111111111111',
    accountId: '111122223333',
    state,
    manager: 'CUSTOMER',
    origin: 'AWS_KMS',
    rotationEnabled: true,
    ...extra,
  };
}

function policy(document: Record<string, unknown>): ResolvedPolicy {
  return resolvePolicy(policyFromDocument({ version: 1, ...document }), (ref) => ref);
}
const requiring = (require: string, extra: Record<string, unknown> = {}) => policy({ default: { require, ...extra } });

function verdictOf(inspection: ObjectInspection, p: ResolvedPolicy, k?: KeyLookup) {
  const mode = inspection.status === 'read' ? inspection.facts.mode : undefined;
  const lookup = k ?? (mode === 'sse-kms' || mode === 'dsse-kms' ? key() : undefined);
  return evaluate({ inspection, key: lookup, policy: p, now: NOW });
}

describe('mode × required mode (enabled customer key, no other requirement)', () => {
  // Spelled out by hand from DESIGN.md, not derived from the code under test.
  const expected: Record<EncryptionMode, Record<string, Verdict>> = {
    none: { 'sse-s3': 'noncompliant', 'sse-kms': 'noncompliant', 'dsse-kms': 'noncompliant', 'any-kms': 'noncompliant', any: 'noncompliant' },
    'sse-s3': { 'sse-s3': 'compliant', 'sse-kms': 'noncompliant', 'dsse-kms': 'noncompliant', 'any-kms': 'noncompliant', any: 'compliant' },
    'sse-kms': { 'sse-s3': 'noncompliant', 'sse-kms': 'compliant', 'dsse-kms': 'noncompliant', 'any-kms': 'compliant', any: 'compliant' },
    'dsse-kms': { 'sse-s3': 'noncompliant', 'sse-kms': 'noncompliant', 'dsse-kms': 'compliant', 'any-kms': 'compliant', any: 'compliant' },
    'sse-c': { 'sse-s3': 'noncompliant', 'sse-kms': 'noncompliant', 'dsse-kms': 'noncompliant', 'any-kms': 'noncompliant', any: 'noncompliant' },
    // Client-side encryption is allowed by default and its SSE-S3 layer judged as an SSE-S3 object.
    'client-side': { 'sse-s3': 'compliant', 'sse-kms': 'noncompliant', 'dsse-kms': 'noncompliant', 'any-kms': 'noncompliant', any: 'compliant' },
  };
  const cases = Object.entries(expected).flatMap(([mode, byRequirement]) =>
    Object.entries(byRequirement).map(([require, verdict]) => ({ mode: mode as EncryptionMode, require, verdict })),
  );
  test.each(cases)('$mode object, require $require → $verdict', ({ mode, require, verdict }) => {
    expect(verdictOf(read(facts(mode)), requiring(require)).verdict).toBe(verdict);
  });

  test.each([
    ['none', 'not-encrypted'],
    ['sse-c', 'sse-c-forbidden'],
    ['sse-s3', 'mode-not-allowed'],
  ] as const)('a noncompliant %s object under require sse-kms says %s', (mode, code) => {
    expect(verdictOf(read(facts(mode)), requiring('sse-kms')).reasons.map((r) => r.code)).toEqual([code]);
  });
});

describe('KMS key state', () => {
  const expected: [KeyState, Verdict, string | undefined][] = [
    ['Enabled', 'compliant', undefined],
    ['Disabled', 'at-risk', 'kms-key-disabled'],
    ['PendingDeletion', 'at-risk', 'kms-key-pending-deletion'],
    ['PendingReplicaDeletion', 'at-risk', 'kms-key-pending-deletion'],
    ['PendingImport', 'at-risk', 'kms-key-pending-import'],
    ['Unavailable', 'at-risk', 'kms-key-unavailable'],
    ['Creating', 'at-risk', 'kms-key-unavailable'],
    ['Updating', 'at-risk', 'kms-key-unavailable'],
  ];
  describe.each(['sse-kms', 'dsse-kms'] as const)('%s object', (mode) => {
    test.each(expected)('key %s → %s (%s)', (state, verdict, code) => {
      const evaluation = verdictOf(read(facts(mode)), requiring('any'), key(state));
      expect(evaluation.verdict).toBe(verdict);
      expect(evaluation.reasons[0]?.code).toBe(code);
    });
  });

  test('a key KMS does not know makes its objects at risk (they cannot be decrypted)', () => {
    const lookup: KeyLookup = { status: 'not-found', arn: CMK, detail: 'Key not found' };
    const evaluation = verdictOf(read(facts('sse-kms')), requiring('any'), lookup);
    expect(evaluation).toMatchObject({ verdict: 'at-risk', reasons: [{ code: 'kms-key-not-found' }] });
  });

  test('a pending-deletion key says when it will be deleted', () => {
    const evaluation = verdictOf(read(facts('sse-kms')), requiring('any'), key('PendingDeletion', { deletionDate: '2026-11-30T00:00:00.000Z' }));
    expect(evaluation.reasons[0]?.message).toContain('2026-11-30');
  });

  test('at-risk outranks a noncompliant mode: the data itself is in danger', () => {
    const evaluation = verdictOf(read(facts('sse-kms')), requiring('sse-s3'), key('Disabled'));
    expect(evaluation.verdict).toBe('at-risk');
  });

  test('key state does not matter to SSE-S3 objects', () => {
    expect(verdictOf(read(facts('sse-s3')), requiring('any'), key('Disabled')).verdict).toBe('compliant');
  });
});

describe('key requirements', () => {
  test('a key outside kmsKeys is not allowed', () => {
    const p = requiring('sse-kms', { kmsKeys: [OTHER_CMK] });
    const evaluation = verdictOf(read(facts('sse-kms')), p);
    expect(evaluation).toMatchObject({ verdict: 'noncompliant', reasons: [{ code: 'kms-key-not-allowed' }] });
    expect(verdictOf(read(facts('sse-kms', { kmsKeyArn: OTHER_CMK })), p, key('Enabled', { arn: OTHER_CMK })).verdict).toBe('compliant');
  });

  test('customerManagedKey rejects the AWS-managed aws/s3 key', () => {
    const p = requiring('sse-kms', { customerManagedKey: true });
    const managed = key('Enabled', { arn: AWS_S3_KEY, manager: 'AWS' });
    expect(verdictOf(read(facts('sse-kms', { kmsKeyArn: AWS_S3_KEY })), p, managed).reasons.map((r) => r.code)).toEqual([
      'kms-key-aws-managed',
    ]);
    expect(verdictOf(read(facts('sse-kms')), p).verdict).toBe('compliant');
  });

  test('bucketKey required: SSE-KMS without a bucket key is noncompliant; DSSE has none to require', () => {
    const p = requiring('any-kms', { bucketKey: 'required' });
    expect(verdictOf(read(facts('sse-kms')), p).reasons.map((r) => r.code)).toEqual(['bucket-key-disabled']);
    expect(verdictOf(read(facts('sse-kms', { bucketKeyEnabled: true })), p).verdict).toBe('compliant');
    expect(verdictOf(read(facts('dsse-kms')), p).verdict).toBe('compliant');
  });

  test('keyRotation required: off → noncompliant, unknown → unauditable, AWS-managed rotates by itself', () => {
    const p = requiring('sse-kms', { keyRotation: 'required' });
    expect(verdictOf(read(facts('sse-kms')), p, key('Enabled', { rotationEnabled: false })).reasons.map((r) => r.code)).toEqual([
      'kms-key-rotation-disabled',
    ]);
    const unknown = key('Enabled');
    if (unknown.status === 'described') delete unknown.rotationEnabled;
    expect(verdictOf(read(facts('sse-kms')), p, unknown)).toMatchObject({
      verdict: 'unauditable',
      reasons: [{ code: 'kms-key-rotation-unknown' }],
    });
    expect(verdictOf(read(facts('sse-kms')), p, key('Enabled', { manager: 'AWS', rotationEnabled: false })).verdict).toBe('compliant');
  });

  test('a key that cannot be described is recorded as such: unauditable when the policy needs its facts', () => {
    const denied: KeyLookup = { status: 'access-denied', arn: CMK, detail: 'not authorized to DescribeKey' };
    const needsFacts = requiring('sse-kms', { customerManagedKey: true });
    expect(verdictOf(read(facts('sse-kms')), needsFacts, denied)).toMatchObject({
      verdict: 'unauditable',
      reasons: [{ code: 'kms-key-access-denied' }],
    });
    // When the policy needs nothing from the key, the object is judged on what S3 told.
    expect(verdictOf(read(facts('sse-kms')), requiring('sse-kms'), denied).verdict).toBe('compliant');
    // A violation found anyway wins over the unknown.
    expect(verdictOf(read(facts('sse-kms')), requiring('sse-s3', {}), denied).verdict).toBe('noncompliant');
  });
});

describe('exemptions, rules and unreadable objects', () => {
  const exemption = (expires: string, prefix = 'reports/') => ({
    bucket: 'data',
    prefix,
    reason: 'migration',
    owner: 'team@example.com',
    expires,
  });

  test('an exemption in force exempts; an expired one does not, and says so', () => {
    const active = policy({ exemptions: [exemption('2027-01-01')] });
    expect(verdictOf(read(facts('sse-c')), active)).toMatchObject({ verdict: 'exempt', reasons: [{ code: 'exempted' }] });
    const expired = policy({ exemptions: [exemption('2026-11-23')] }); // 00:00 UTC today: already over
    expect(verdictOf(read(facts('sse-c')), expired).reasons.map((r) => r.code)).toEqual(['sse-c-forbidden', 'exemption-expired']);
    expect(verdictOf(read(facts('sse-c')), expired).verdict).toBe('noncompliant');
  });

  test('an exemption does not hide a key that can no longer decrypt the object', () => {
    const p = policy({ exemptions: [exemption('2027-01-01')] });
    const evaluation = verdictOf(read(facts('sse-kms')), p, key('Disabled'));
    expect(evaluation.verdict).toBe('at-risk');
    expect(evaluation.reasons.map((r) => r.code)).toEqual(['kms-key-disabled', 'exempted']);
  });

  test('exemptions match by bucket glob and key prefix', () => {
    const p = policy({ exemptions: [{ ...exemption('2027-01-01', 'other/'), bucket: 'da*' }] });
    expect(verdictOf(read(facts('sse-c')), p).verdict).toBe('noncompliant');
    expect(verdictOf(read(facts('sse-c', { key: 'other/x' })), p).verdict).toBe('exempt');
  });

  test('the first matching rule applies, else the default; rule fields inherit from the default', () => {
    const p = policy({
      default: { require: 'sse-s3' },
      rules: [
        { bucket: 'data', prefix: 'reports/secret/', require: 'dsse-kms' },
        { bucket: 'd*', prefix: 'reports/', require: 'any-kms', bucketKey: 'required' },
        { bucket: 'data', require: 'any' },
      ],
    });
    const at = (k: string, mode: EncryptionMode, extra: Partial<ObjectFacts> = {}) => verdictOf(read(facts(mode, { key: k, ...extra })), p);
    expect(at('reports/secret/a', 'sse-kms', { bucketKeyEnabled: true })).toMatchObject({ verdict: 'noncompliant', ruleIndex: 0 });
    expect(at('reports/a', 'sse-kms', { bucketKeyEnabled: true })).toMatchObject({ verdict: 'compliant', ruleIndex: 1 });
    expect(at('reports/a', 'sse-s3')).toMatchObject({ verdict: 'noncompliant', ruleIndex: 1 });
    expect(at('other/a', 'sse-s3')).toMatchObject({ verdict: 'compliant', ruleIndex: 2 });
    const elsewhere = evaluate({ inspection: read(facts('sse-kms', { bucket: 'logs' })), key: key(), policy: p, now: NOW });
    expect(elsewhere.verdict).toBe('noncompliant');
    expect(elsewhere.ruleIndex).toBeUndefined();
  });

  test.each(['object-access-denied', 'object-vanished', 'object-unreadable'] as const)('%s → unauditable', (reason) => {
    const inspection: ObjectInspection = { status: 'unreadable', bucket: 'data', key: 'reports/q1.csv', reason, detail: 'x' };
    expect(verdictOf(inspection, requiring('any'))).toMatchObject({ verdict: 'unauditable', reasons: [{ code: reason }] });
  });

  test('remediation is planned only where the policy says so, and never for SSE-C', () => {
    const fixing = requiring('sse-s3', { remediate: true });
    expect(verdictOf(read(facts('sse-kms')), fixing).remediate).toBe(true);
    expect(verdictOf(read(facts('sse-c')), fixing).remediate).toBe(false);
    expect(verdictOf(read(facts('sse-kms')), requiring('sse-s3')).remediate).toBe(false);
    expect(verdictOf(read(facts('sse-s3')), fixing).remediate).toBe(false);
  });
});

test('a KMS key lookup that failed (throttled, 5xx) gives no verdict, even where the policy asks nothing of the key: it may be disabled', () => {
  const failed: KeyLookup = { status: 'error', arn: 'arn:aws:kms:us-east-1:111122223333:key/k', detail: 'ThrottlingException: Rate exceeded' };
  const evaluation = verdictOf(read(facts('sse-kms')), requiring('any'), failed);
  expect(evaluation).toMatchObject({ verdict: 'unauditable', reasons: [{ code: 'kms-key-lookup-failed' }] });
});

test('a KMS object whose HeadObject names no key is unauditable for a definite reason, not a failed lookup to retry', () => {
  const { kmsKeyArn: _none, ...withoutKey } = facts('dsse-kms');
  const evaluation = evaluate({ inspection: read(withoutKey), key: undefined, policy: requiring('any-kms', { keyRotation: 'required' }), now: NOW });
  expect(evaluation).toMatchObject({ verdict: 'unauditable', reasons: [{ code: 'kms-key-not-reported' }] });
});
