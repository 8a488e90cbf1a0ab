import { describe, expect, test } from 'vitest';
import type { KeyLookup, KeyState } from '../../shared/domain/encryption.ts';
import { policyFromDocument, postureRequirementFor, resolvePolicy, type ResolvedPolicy } from '../../shared/domain/policy.ts';
import { evaluatePosture } from '../../shared/posture/evaluate-posture.ts';
import { defaultEncryptionFrom, type BucketFacts, type BucketPolicyRead } from '../../shared/posture/facts.ts';
import type { EncryptionConfiguration } from '../../shared/domain/posture-change.ts';
import { lineDiff, mergeTlsDeny, statementTexts, TLS_DENY_SID } from '../../shared/posture/policy-merge.ts';
import { planPostureRemediation } from '../../shared/posture/remediate.ts';

const NOW = new Date('2026-11-23T12:00:00Z');
const CMK = 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111';
const AWS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/33333333-3333-3333-3333-333333333333';
const TLS_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::data', 'arn:aws:s3:::data/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
});

const rule = (rules: Record<string, unknown>) => ({ Rules: [rules] }) as EncryptionConfiguration;
const SSE_S3 = rule({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false });
const SSE_KMS = (bucketKey: boolean, blocked?: string[]) =>
  rule({
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: CMK },
    BucketKeyEnabled: bucketKey,
    ...(blocked ? { BlockedEncryptionTypes: { EncryptionType: blocked } } : {}),
  });

function key(state: KeyState, manager: 'AWS' | 'CUSTOMER' = 'CUSTOMER', arn = CMK): KeyLookup {
  return { status: 'described', arn, keyId: arn.split('/')[1]!, accountId: '111122223333', state, manager, origin: 'AWS_KMS', rotationEnabled: true };
}

function facts(configuration: EncryptionConfiguration | 'none' | 'unreadable', policy: BucketPolicyRead = { status: 'none' }, defaultKey?: KeyLookup): BucketFacts {
  return {
    bucket: 'data',
    partition: 'aws',
    defaultEncryption:
      configuration === 'none' ? { status: 'none' } : configuration === 'unreadable' ? { status: 'unreadable', detail: 'AccessDenied' } : defaultEncryptionFrom(configuration),
    policy,
    ...(defaultKey ? { defaultKey } : {}),
  };
}

const policy = (document: Record<string, unknown>): ResolvedPolicy => resolvePolicy(policyFromDocument({ version: 1, ...document }), (ref) => ref);
const judge = (f: BucketFacts, p: ResolvedPolicy) => {
  const finding = evaluatePosture(f, p, NOW);
  return { verdict: finding.verdict, codes: finding.reasons.map((r) => r.code) };
};

describe('posture verdicts', () => {
  const strict = policy({
    default: { require: 'sse-kms', kmsKeys: [CMK], customerManagedKey: true, bucketDefault: { bucketKey: 'required' }, requireTls: true, blockSseC: true },
  });
  const tls = { status: 'read', text: TLS_POLICY } as const;
  test.each([
    ['all met', facts(SSE_KMS(true, ['SSE-C']), tls, key('Enabled')), 'compliant', []],
    ['no default encryption', facts('none', tls), 'noncompliant', ['bucket-default-missing', 'sse-c-blocking-unknown']],
    ['SSE-S3 default', facts(SSE_S3, tls), 'noncompliant', ['bucket-default-mode-not-allowed', 'sse-c-blocking-unknown']],
    ['bucket key off', facts(SSE_KMS(false, ['SSE-C']), tls, key('Enabled')), 'noncompliant', ['bucket-default-bucket-key-disabled']],
    ['disabled default key', facts(SSE_KMS(true, ['SSE-C']), tls, key('Disabled')), 'at-risk', ['kms-key-disabled']],
    ['default key pending deletion', facts(SSE_KMS(true, ['SSE-C']), tls, key('PendingDeletion')), 'at-risk', ['kms-key-pending-deletion']],
    ['AWS managed default key', facts(rule({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: true, BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } }), tls, key('Enabled', 'AWS', AWS_KEY)), 'noncompliant', ['bucket-default-kms-key-not-allowed', 'bucket-default-kms-key-aws-managed']],
    ['SSE-C allowed (NONE)', facts(SSE_KMS(true, ['NONE']), tls, key('Enabled')), 'noncompliant', ['sse-c-not-blocked']],
    ['SSE-C blocking not returned', facts(SSE_KMS(true), tls, key('Enabled')), 'unauditable', ['sse-c-blocking-unknown']],
    ['no bucket policy', facts(SSE_KMS(true, ['SSE-C']), { status: 'none' }, key('Enabled')), 'noncompliant', ['tls-not-required']],
    ['policy unreadable', facts(SSE_KMS(true, ['SSE-C']), { status: 'unreadable', detail: 'AccessDenied' }, key('Enabled')), 'unauditable', ['bucket-policy-unreadable']],
    ['policy not JSON', facts(SSE_KMS(true, ['SSE-C']), { status: 'read', text: '{' }, key('Enabled')), 'unauditable', ['bucket-policy-invalid']],
    ['encryption unreadable', facts('unreadable', tls), 'unauditable', ['bucket-encryption-unreadable', 'bucket-encryption-unreadable']],
  ] as const)('%s → %s', (_name, f, verdict, codes) => {
    expect(judge(f, strict)).toEqual({ verdict, codes: [...codes] });
  });

  test('without posture fields (every existing policy) the facts are reported and the bucket is compliant', () => {
    const finding = evaluatePosture(facts(SSE_S3), policy({}), NOW);
    expect(finding).toMatchObject({ verdict: 'compliant', reasons: [], sseC: 'unknown', tls: 'not-enforced', policy: 'none', defaultEncryption: { status: 'configured', mode: 'sse-s3', bucketKeyEnabled: false } });
  });

  test('a disabled default key is at risk even without posture fields, and even when exempt', () => {
    const exempt = policy({ exemptions: [{ bucket: 'data', reason: 'migration', owner: 'sec@example.com', expires: '2027-01-01' }] });
    expect(judge(facts(SSE_KMS(true), { status: 'none' }, key('Disabled')), policy({})).verdict).toBe('at-risk');
    expect(judge(facts(SSE_KMS(true), { status: 'none' }, key('Disabled')), exempt)).toEqual({ verdict: 'at-risk', codes: ['kms-key-disabled', 'exempted'] });
    expect(judge(facts('none'), exempt)).toEqual({ verdict: 'exempt', codes: ['exempted'] });
  });

  test('denyUnencryptedPuts reads the policy', () => {
    const p = policy({ default: { denyUnencryptedPuts: true } });
    const deny = JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::data/*', Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } }] });
    expect(judge(facts(SSE_S3, { status: 'read', text: deny }), p)).toEqual({ verdict: 'compliant', codes: [] });
    expect(judge(facts(SSE_S3, { status: 'read', text: TLS_POLICY }), p)).toEqual({ verdict: 'noncompliant', codes: ['unencrypted-puts-not-denied'] });
  });
});

describe('policy fields for buckets', () => {
  test('bucketDefault: {} takes the rule\'s own requirement; rules without a prefix judge buckets', () => {
    const p = policyFromDocument({
      version: 1,
      default: { require: 'sse-kms', kmsKeys: [CMK], bucketDefault: {}, requireTls: true },
      rules: [{ bucket: 'logs-*', require: 'sse-s3' }, { bucket: 'data', prefix: 'tmp/', require: 'any' }],
    });
    expect(p.default.posture).toEqual({ bucketDefault: { require: 'sse-kms', kmsKeys: [CMK], customerManagedKey: false, bucketKey: 'optional' }, requireTls: true, blockSseC: false, denyUnencryptedPuts: false });
    expect(postureRequirementFor(p, 'logs-a').requirement.posture.bucketDefault?.require).toBe('sse-s3');
    // The prefix rule judges objects only: the bucket falls back to the default.
    expect(postureRequirementFor(p, 'data').ruleIndex).toBeUndefined();
  });

  test('posture fields on a rule with a prefix are refused with the path', () => {
    expect(() => policyFromDocument({ version: 1, rules: [{ bucket: 'data', prefix: 'a/', requireTls: true }] })).toThrow(
      'rules[0].requireTls: applies to whole buckets',
    );
  });

  test('a remediation target that cannot satisfy bucketDefault is refused', () => {
    expect(() =>
      policyFromDocument({ version: 1, default: { require: 'any', bucketDefault: { require: 'sse-kms' }, remediate: true, target: { mode: 'sse-s3' } } }),
    ).toThrow('default.target.mode: sse-s3 does not satisfy bucketDefault.require sse-kms');
  });
});

describe('merging the TLS deny', () => {
  const EXISTING = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/r"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*", "Condition": {"NumericGreaterThan": {"s3:max-keys": 1.50}}},
    {"Sid": "Odd", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::data"}
  ]
}`;

  test('every existing byte stays; only the new statement is added', () => {
    const merged = mergeTlsDeny(EXISTING, 'data');
    expect(merged.status).toBe('merged');
    const text = merged.status === 'merged' ? merged.text : '';
    // The original text up to the last statement is a prefix of the result, and the rest is kept after it.
    const cut = EXISTING.lastIndexOf('}\n  ]') + 1;
    expect(text.startsWith(EXISTING.slice(0, cut))).toBe(true);
    expect(text.endsWith(EXISTING.slice(cut))).toBe(true);
    expect(statementTexts(text).slice(0, 2)).toEqual(statementTexts(EXISTING));
    expect(JSON.parse(text).Statement[2].Sid).toBe(TLS_DENY_SID);
    // The diff shows the one line that gains the separating comma, and the added statement.
    const diff = lineDiff(EXISTING, text).split('\n');
    const removed = diff.filter((l) => l.startsWith('- ')).map((l) => l.slice(2));
    const added = diff.filter((l) => l.startsWith('+ ')).map((l) => l.slice(2));
    expect(removed).toEqual([EXISTING.split('\n')[4]]);
    expect(added[0]).toBe(`${removed[0]},`);
    expect(added.slice(1).join('').trim()).toContain(TLS_DENY_SID);
  });

  test('a single Statement object becomes a list holding it unchanged', () => {
    const single = '{"Version":"2012-10-17","Statement":{"Sid":"Only","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}}';
    const merged = mergeTlsDeny(single, 'data');
    expect(merged.status === 'merged' && statementTexts(merged.text)[0]).toBe(statementTexts(single)[0]);
  });

  test('no policy: a new one with only the deny; an enforcing policy: nothing to do', () => {
    const merged = mergeTlsDeny(undefined, 'data');
    expect(merged.status === 'merged' && JSON.parse(merged.text).Statement).toHaveLength(1);
    expect(mergeTlsDeny(TLS_POLICY, 'data')).toEqual({ status: 'already-enforced' });
  });

  test.each([
    ['unparseable', '{"Statement": [', 'cannot be parsed'],
    ['two Statement members', '{"Statement": [], "Statement": []}', 'more than one Statement'],
    ['a clashing Sid', JSON.stringify({ Statement: [{ Sid: TLS_DENY_SID, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }] }), 'Sid'],
    ['over 20 KB', JSON.stringify({ Statement: [{ Sid: 'Big', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: Array.from({ length: 800 }, (_, i) => `arn:aws:s3:::data/p${i}/*`) }] }), 'limit'],
  ])('refuses %s', (_name, text, why) => {
    const merged = mergeTlsDeny(text, 'data');
    expect(merged.status).toBe('refused');
    expect(merged.status === 'refused' && merged.reason).toContain(why);
  });
});

describe('remediation plan', () => {
  const fixing = policy({
    default: { require: 'sse-kms', kmsKeys: [CMK], bucketKey: 'required', bucketDefault: {}, requireTls: true, blockSseC: true, remediate: true, target: { mode: 'sse-kms', kmsKey: CMK, bucketKey: true } },
  });
  const requirement = fixing.default;

  test('sets the target as default with bucket key, blocks SSE-C and adds the TLS deny', () => {
    const f = facts(SSE_S3, { status: 'none' });
    const plan = planPostureRemediation(f, evaluatePosture(f, fixing, NOW), requirement);
    expect(plan.refused).toEqual([]);
    expect(plan.changes.map((c) => c.kind)).toEqual(['default-encryption', 'bucket-policy']);
    expect(plan.changes[0]).toMatchObject({
      before: SSE_S3,
      after: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: CMK }, BucketKeyEnabled: true, BlockedEncryptionTypes: { EncryptionType: ['SSE-C'] } }] },
    });
    expect(plan.changes[1]).toMatchObject({ before: null });
  });

  test('refuses to touch a policy it cannot read or parse, and changes nothing already right', () => {
    const unreadable = facts(SSE_KMS(true, ['SSE-C']), { status: 'unreadable', detail: 'AccessDenied' }, key('Enabled'));
    const plan = planPostureRemediation(unreadable, evaluatePosture(unreadable, fixing, NOW), requirement);
    expect(plan.changes).toEqual([]);
    expect(plan.refused).toEqual([{ kind: 'bucket-policy', reason: expect.stringContaining('cannot be read') }]);
    const invalid = facts(SSE_KMS(true, ['SSE-C']), { status: 'read', text: '{"Statement": 1' }, key('Enabled'));
    expect(planPostureRemediation(invalid, evaluatePosture(invalid, fixing, NOW), requirement).refused[0]?.reason).toContain('cannot be parsed');
  });
});
