import { describe, expect, test } from 'vitest';
import { clientSideEnvelope } from '../../shared/domain/client-side.ts';
import type { ObjectFacts } from '../../shared/domain/encryption.ts';
import { evaluate } from '../../shared/domain/evaluate.ts';
import { policyFromDocument, resolvePolicy } from '../../shared/domain/policy.ts';

// User metadata as HeadObject returns it in the SDK's Metadata map: names without `x-amz-meta-`.
const V1 = { 'x-amz-key': 'd3JhcHBlZA==', 'x-amz-iv': 'aXY=', 'x-amz-matdesc': '{}', 'x-amz-unencrypted-content-length': '5' };
const V2_KMS = {
  'x-amz-key-v2': 'd3JhcHBlZA==',
  'x-amz-iv': 'aXY=',
  'x-amz-cek-alg': 'AES/GCM/NoPadding',
  'x-amz-wrap-alg': 'kms',
  'x-amz-tag-len': '128',
  'x-amz-matdesc': '{"kms_cmk_id":"arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111"}',
};
const V3 = { 'x-amz-3': 'd3JhcHBlZA==', 'x-amz-d': 'Y29tbWl0', 'x-amz-i': 'bWVzc2FnZQ==', 'x-amz-c': '115', 'x-amz-w': '12', 'x-amz-t': '{"team":"a"}' };

describe('S3 Encryption Client envelope', () => {
  test('v1: x-amz-key + x-amz-iv, content AES/CBC (v1 writes no x-amz-cek-alg)', () => {
    expect(clientSideEnvelope(V1)).toEqual({ envelope: 'v1', contentAlgorithm: 'AES/CBC/PKCS5Padding', materialDescription: '{}' });
  });

  test('v2 with a KMS wrapping key: algorithm, wrap algorithm and the key named in the material description', () => {
    expect(clientSideEnvelope(V2_KMS)).toEqual({
      envelope: 'v2',
      contentAlgorithm: 'AES/GCM/NoPadding',
      wrapAlgorithm: 'kms',
      materialDescription: V2_KMS['x-amz-matdesc'],
      wrappingKmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111',
    });
  });

  test('v3: compressed names translated (115 → the committing suite, 12 → kms+context)', () => {
    expect(clientSideEnvelope(V3)).toEqual({
      envelope: 'v3',
      contentAlgorithm: 'ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY',
      wrapAlgorithm: 'kms+context',
      materialDescription: '{"team":"a"}',
    });
  });

  test('names of several formats at once are reported as mixed, never guessed', () => {
    expect(clientSideEnvelope({ ...V1, ...V2_KMS })).toEqual({ envelope: 'mixed', contentAlgorithm: 'unknown' });
  });

  test.each([
    ['no metadata', undefined],
    ['unrelated metadata', { owner: 'team-a' }],
    ['a key without an IV', { 'x-amz-key-v2': 'd3JhcHBlZA==' }],
    ['v3 without its commitment', { 'x-amz-3': 'x', 'x-amz-i': 'y' }],
  ])('%s is not client-side encrypted', (_name, metadata) => {
    expect(clientSideEnvelope(metadata)).toBeUndefined();
  });
});

describe('client-side objects under the policy', () => {
  const NOW = new Date('2026-11-23T12:00:00Z');
  const KEY = 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111';
  const object = (serverSideMode: 'sse-s3' | 'sse-kms', contentAlgorithm = 'AES/GCM/NoPadding'): ObjectFacts => ({
    bucket: 'data',
    key: 'secret.bin',
    size: 5,
    storageClass: 'STANDARD',
    mode: 'client-side',
    bucketKeyEnabled: false,
    objectLock: { legalHold: false },
    ...(serverSideMode === 'sse-kms' ? { kmsKeyArn: KEY } : {}),
    clientSide: { envelope: 'v2', contentAlgorithm, wrapAlgorithm: 'kms+context', serverSideMode },
  });
  const judge = (facts: ObjectFacts, rule: Record<string, unknown>, keyState: 'Enabled' | 'Disabled' = 'Enabled') => {
    const policy = resolvePolicy(policyFromDocument({ version: 1, default: rule }), (ref) => ref);
    const key =
      facts.kmsKeyArn === undefined
        ? undefined
        : ({ status: 'described', arn: KEY, keyId: 'k', accountId: '111122223333', state: keyState, manager: 'CUSTOMER', origin: 'AWS_KMS', rotationEnabled: true } as const);
    const { verdict, reasons, remediate } = evaluate({ inspection: { status: 'read', facts }, key, policy, now: NOW });
    return { verdict, codes: reasons.map((r) => r.code), remediate };
  };

  test.each([
    ['allowed (default), SSE-S3 layer, require any', object('sse-s3'), { require: 'any' }, 'compliant', []],
    ['allowed, SSE-S3 layer, require sse-kms', object('sse-s3'), { require: 'sse-kms' }, 'noncompliant', ['mode-not-allowed']],
    ['sufficient, SSE-S3 layer, require sse-kms', object('sse-s3'), { require: 'sse-kms', clientSide: { accept: 'sufficient' } }, 'compliant', []],
    ['forbidden', object('sse-kms'), { require: 'any', clientSide: { accept: 'forbidden' } }, 'noncompliant', ['client-side-forbidden']],
    [
      'algorithm not in the list',
      object('sse-s3', 'AES/CBC/PKCS5Padding'),
      { clientSide: { accept: 'sufficient', algorithms: ['AES/GCM/NoPadding'] } },
      'noncompliant',
      ['client-side-algorithm-not-allowed'],
    ],
  ] as const)('%s → %s', (_name, facts, rule, verdict, codes) => {
    expect(judge(facts, rule)).toMatchObject({ verdict, codes });
  });

  test('a disabled KMS key beneath client-side encryption still puts the object at risk', () => {
    expect(judge(object('sse-kms'), { require: 'any' }, 'Disabled')).toMatchObject({ verdict: 'at-risk', codes: ['kms-key-disabled'] });
  });

  test('the server-side layer is re-encrypted only when the policy opts in, never for what only the client can fix', () => {
    const target = { mode: 'sse-kms', kmsKey: KEY };
    expect(judge(object('sse-s3'), { require: 'sse-kms', kmsKeys: [KEY], remediate: true, target }).remediate).toBe(false);
    expect(
      judge(object('sse-s3'), { require: 'sse-kms', kmsKeys: [KEY], remediate: true, target, clientSide: { remediateServerSide: true } }).remediate,
    ).toBe(true);
    expect(
      judge(object('sse-s3'), { require: 'sse-kms', remediate: true, target, clientSide: { accept: 'forbidden', remediateServerSide: true } })
        .remediate,
    ).toBe(false);
  });
});
