import { describe, expect, test } from 'vitest';
import { analysePutEncryption, analyseTls, parseBucketPolicy, type PolicyStatement } from '../../shared/posture/bucket-policy.ts';

const BUCKET = 'data';
const ARN = 'arn:aws:s3:::data';

function statements(...list: Record<string, unknown>[]): PolicyStatement[] {
  const parsed = parseBucketPolicy(JSON.stringify({ Version: '2012-10-17', Statement: list }));
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.statements;
}

const tlsDeny = (overrides: Record<string, unknown> = {}) => ({
  Sid: 'DenyInsecure',
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [ARN, `${ARN}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  ...overrides,
});
const unrelated = { Sid: 'ReadOnly', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:role/reader' }, Action: 's3:GetObject', Resource: `${ARN}/*` };

describe('parsing', () => {
  test('a single Statement object and string-or-list elements are all read', () => {
    const parsed = parseBucketPolicy(JSON.stringify({ Statement: { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ARN } }));
    expect(parsed).toMatchObject({ ok: true, statements: [{ index: 0, effect: 'Deny', everyone: true, actions: ['s3:*'], resources: [ARN] }] });
  });

  test.each([
    ['not JSON', '{"Statement": ['],
    ['no Statement', '{"Version":"2012-10-17"}'],
    ['a statement that is not an object', '{"Statement":["Deny"]}'],
    ['an Action that is not a string', '{"Statement":[{"Effect":"Deny","Action":[1]}]}'],
    ['a Condition that is not an object', '{"Statement":[{"Effect":"Deny","Condition":"x"}]}'],
  ])('%s is refused with a reason', (_name, text) => {
    expect(parseBucketPolicy(text)).toMatchObject({ ok: false, problem: expect.any(String) });
  });

  test('condition keys are case-insensitive and values become text (false and "false" alike)', () => {
    const [s] = statements(tlsDeny({ Condition: { Bool: { 'AWS:SecureTransport': false } } }));
    expect(s!.conditions).toEqual([{ operator: 'Bool', key: 'aws:securetransport', values: ['false'] }]);
  });
});

describe('TLS-only deny', () => {
  test.each([
    ['Principal "*", Resource list, Bool "false"', [tlsDeny()], true],
    ['Principal {"AWS": "*"}', [tlsDeny({ Principal: { AWS: '*' } })], true],
    ['Principal {"AWS": ["*"]}', [tlsDeny({ Principal: { AWS: ['*'] } })], true],
    ['Bool false as a JSON boolean', [tlsDeny({ Condition: { Bool: { 'aws:SecureTransport': false } } })], true],
    ['Bool ["false"] as a list', [tlsDeny({ Condition: { Bool: { 'aws:SecureTransport': ['false'] } } })], true],
    ['BoolIfExists (also denies when the key is absent)', [tlsDeny({ Condition: { BoolIfExists: { 'aws:SecureTransport': 'false' } } })], true],
    ['Action "*"', [tlsDeny({ Action: '*' })], true],
    ['Resource "*"', [tlsDeny({ Resource: '*' })], true],
    ['Resource arn:aws:s3:::data* (bucket and objects in one pattern)', [tlsDeny({ Resource: `${ARN}*` })], true],
    ['bucket and objects in two statements', [tlsDeny({ Resource: ARN }), tlsDeny({ Sid: 'Objects', Resource: `${ARN}/*` })], true],
    ['beside unrelated statements', [unrelated, tlsDeny(), { ...unrelated, Sid: 'Other' }], true],
    ['no statements about transport', [unrelated], false],
    ['only the objects (Resource string data/*)', [tlsDeny({ Resource: `${ARN}/*` })], false],
    ['only the bucket ARN', [tlsDeny({ Resource: ARN })], false],
    ['another bucket', [tlsDeny({ Resource: ['arn:aws:s3:::other', 'arn:aws:s3:::other/*'] })], false],
    ['only one principal', [tlsDeny({ Principal: { AWS: 'arn:aws:iam::111122223333:root' } })], false],
    ['NotPrincipal', [{ ...tlsDeny({ NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } }), Principal: undefined }], false],
    ['only s3:GetObject', [tlsDeny({ Action: 's3:GetObject' })], false],
    ['NotAction', [{ ...tlsDeny({ NotAction: 's3:GetObject' }), Action: undefined }], false],
    ['an Allow on SecureTransport true (allows elsewhere still apply)', [tlsDeny({ Effect: 'Allow', Condition: { Bool: { 'aws:SecureTransport': 'true' } } })], false],
    ['Bool "true" (denies TLS requests instead)', [tlsDeny({ Condition: { Bool: { 'aws:SecureTransport': 'true' } } })], false],
    ['an extra condition narrows it', [tlsDeny({ Condition: { Bool: { 'aws:SecureTransport': 'false' }, StringEquals: { 'aws:PrincipalAccount': '111122223333' } } })], false],
    ['a TLS version condition instead', [tlsDeny({ Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } } })], false],
  ])('%s → %s', (_name, list, enforced) => {
    expect(analyseTls(statements(...list), BUCKET).enforced).toBe(enforced);
  });

  test('a near miss says why it does not count', () => {
    const analysis = analyseTls(statements(tlsDeny({ Resource: `${ARN}/*` })), BUCKET);
    expect(analysis.nearMisses.join(' ')).toContain('not the bucket');
  });

  test('the partition of the bucket ARN is respected', () => {
    const china = tlsDeny({ Resource: ['arn:aws-cn:s3:::data', 'arn:aws-cn:s3:::data/*'] });
    expect(analyseTls(statements(china), BUCKET, 'aws-cn').enforced).toBe(true);
    expect(analyseTls(statements(china), BUCKET, 'aws').enforced).toBe(false);
  });
});

describe('deny of PutObject without server-side encryption', () => {
  const putDeny = (condition: Record<string, unknown>, overrides: Record<string, unknown> = {}) => ({
    Sid: 'DenyUnencrypted',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: `${ARN}/*`,
    Condition: condition,
    ...overrides,
  });
  test.each([
    ['Null header true', putDeny({ Null: { 's3:x-amz-server-side-encryption': 'true' } }), true, undefined, undefined],
    ['Null header true as a boolean', putDeny({ Null: { 's3:x-amz-server-side-encryption': true } }), true, undefined, undefined],
    ['StringNotEquals aws:kms (also denies a missing header)', putDeny({ StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } }), true, ['aws:kms'], undefined],
    ['StringNotEquals on the KMS key id', putDeny({ StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:111122223333:key/k' } }), true, undefined, ['arn:aws:kms:us-east-1:111122223333:key/k']],
    ['Action s3:* covers PutObject', putDeny({ Null: { 's3:x-amz-server-side-encryption': 'true' } }, { Action: 's3:*' }), true, undefined, undefined],
    ['Action s3:Put* covers PutObject', putDeny({ Null: { 's3:x-amz-server-side-encryption': 'true' } }, { Action: ['s3:Put*'] }), true, undefined, undefined],
    ['StringEquals (denies only puts that do send AES256)', putDeny({ StringEquals: { 's3:x-amz-server-side-encryption': 'AES256' } }), false, undefined, undefined],
    ['Null false (denies only encrypted puts)', putDeny({ Null: { 's3:x-amz-server-side-encryption': 'false' } }), false, undefined, undefined],
    ['two conditions in one statement', putDeny({ StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': 'k' } }), false, undefined, undefined],
    ['only s3:GetObject', putDeny({ Null: { 's3:x-amz-server-side-encryption': 'true' } }, { Action: 's3:GetObject' }), false, undefined, undefined],
    ['only some principals', putDeny({ Null: { 's3:x-amz-server-side-encryption': 'true' } }, { Principal: { AWS: 'arn:aws:iam::1:root' } }), false, undefined, undefined],
    ['only a prefix of the bucket', putDeny({ Null: { 's3:x-amz-server-side-encryption': 'true' } }, { Resource: `${ARN}/logs/*` }), false, undefined, undefined],
  ])('%s → denies missing header: %s', (_name, statement, denies, algorithms, keys) => {
    const analysis = analysePutEncryption(statements(statement), BUCKET);
    expect(analysis.deniesMissingHeader).toBe(denies);
    expect(analysis.requiredAlgorithms).toEqual(algorithms);
    expect(analysis.requiredKmsKeys).toEqual(keys);
  });
});
