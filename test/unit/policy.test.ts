import { describe, expect, test } from 'vitest';
import {
  PolicyError,
  keyReferences,
  parsePolicy,
  policyFromDocument,
  requirementFor,
  resolvePolicy,
} from '../../shared/domain/policy.ts';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/11111111-1111-1111-1111-111111111111';

function problemsOf(text: string): string[] {
  try {
    parsePolicy(text, 'policy.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).problems;
  }
  throw new Error('expected the policy to be rejected');
}

describe('parsing', () => {
  test('YAML and JSON give the same policy', () => {
    const yaml = parsePolicy('version: 1\ndefault:\n  require: sse-kms\n  kmsKeys: [alias/data]\n');
    const json = parsePolicy('{"version": 1, "default": {"require": "sse-kms", "kmsKeys": ["alias/data"]}}');
    expect(yaml).toEqual(json);
    expect(yaml.default).toMatchObject({ require: 'sse-kms', kmsKeys: ['alias/data'], remediate: false, bucketKey: 'optional' });
  });

  test('a minimal policy requires any server-side encryption and only reports', () => {
    expect(parsePolicy('version: 1').default).toEqual({
      require: 'any',
      customerManagedKey: false,
      bucketKey: 'optional',
      keyRotation: 'optional',
      remediate: false,
      // Bucket posture is reported, not judged, and client-side objects are judged by their SSE layer.
      posture: { requireTls: false, blockSseC: false, denyUnencryptedPuts: false },
      clientSide: { accept: 'allowed', remediateServerSide: false },
    });
  });

  test.each([
    ['version: 2', 'version: expected version: 1'],
    ['version: 1\ndefault: { require: sse-x }', 'default.require:'],
    ['version: 1\nrules:\n  - bucket: data\n  - bucket: Data_Bad\n', 'rules[1].bucket: expected a bucket name or glob'],
    ['version: 1\nrules:\n  - bucket: data\n    kmsKeys: [not-a-key]\n', 'rules[0].kmsKeys[0]: expected a KMS key ARN'],
    ['version: 1\nrules:\n  - bucket: data\n    requires: sse-s3\n', 'rules[0]: Unrecognized key: "requires"'],
    ['version: 1\nexemptions:\n  - { bucket: data, reason: r, owner: o, expires: next week }\n', 'exemptions[0].expires: expected a date'],
    ['version: 1\nexemptions:\n  - { bucket: data, reason: " ", owner: o, expires: 2027-01-01 }\n', 'exemptions[0].reason:'],
    ['version: [1', 'not valid JSON or YAML'],
    ['{"version": 1,', 'not valid JSON or YAML'],
  ])('%j is rejected naming the field: %s', (text, problem) => {
    expect(problemsOf(text).join('\n')).toContain(problem);
  });

  test('every problem is reported at once, not only the first', () => {
    const problems = problemsOf('version: 1\ndefault: { require: nope, bucketKey: maybe }\n');
    expect(problems).toHaveLength(2);
    expect(problems.some((p) => p.startsWith('default.require'))).toBe(true);
    expect(problems.some((p) => p.startsWith('default.bucketKey'))).toBe(true);
  });

  test('the error message names the file', () => {
    expect(() => parsePolicy('version: 3', 'prod.yaml')).toThrow(/invalid policy prod\.yaml:\n {2}- version/);
  });
});

describe('fields that depend on each other', () => {
  test.each([
    [{ default: { require: 'any-kms', remediate: true } }, 'default.target: required when remediate is true and require is any-kms'],
    [{ default: { require: 'sse-kms', kmsKeys: [ARN, 'alias/b'], remediate: true } }, 'with several kmsKeys'],
    [{ default: { require: 'sse-kms', target: { mode: 'sse-s3' } } }, 'default.target.mode: sse-s3 does not satisfy require sse-kms'],
    [{ default: { require: 'sse-kms', target: { mode: 'sse-kms' } } }, 'default.target.kmsKey: required for sse-kms'],
    [{ default: { require: 'dsse-kms', target: { mode: 'dsse-kms', kmsKey: ARN, bucketKey: true } } }, 'not supported with dsse-kms'],
    [{ default: { require: 'sse-kms', bucketKey: 'required', target: { mode: 'sse-kms', kmsKey: ARN, bucketKey: false } } }, 'must be true when bucketKey is required'],
    [{ rules: [{ bucket: 'b', require: 'sse-s3', kmsKeys: [ARN] }] }, 'rules[0].kmsKeys: has no effect when require is sse-s3'],
  ])('%j → %s', (document, problem) => {
    expect(() => policyFromDocument({ version: 1, ...document })).toThrow(problem);
  });

  test('a target follows from the requirement when only one fix is possible', () => {
    const policy = policyFromDocument({
      version: 1,
      default: { require: 'sse-s3', remediate: true },
      rules: [
        { bucket: 'a', require: 'sse-kms', kmsKeys: [ARN], bucketKey: 'required', remediate: true },
        { bucket: 'b', require: 'dsse-kms', kmsKeys: [ARN] },
      ],
    });
    expect(policy.default.target).toEqual({ mode: 'sse-s3', bucketKey: false });
    expect(policy.rules[0]!.target).toEqual({ mode: 'sse-kms', kmsKey: ARN, bucketKey: true });
    expect(policy.rules[1]!.target).toEqual({ mode: 'dsse-kms', kmsKey: ARN, bucketKey: false });
  });

  test('rules inherit the default; a rule that changes require does not inherit the default target', () => {
    const policy = policyFromDocument({
      version: 1,
      default: { require: 'sse-kms', kmsKeys: [ARN], keyRotation: 'required', remediate: true },
      rules: [{ bucket: 'logs', require: 'sse-s3' }, { bucket: 'data' }],
    });
    expect(policy.rules[0]).toMatchObject({ require: 'sse-s3', keyRotation: 'required', remediate: true, target: { mode: 'sse-s3' } });
    expect(policy.rules[1]).toMatchObject({ require: 'sse-kms', target: { mode: 'sse-kms', kmsKey: ARN } });
  });
});

describe('exemptions and key references', () => {
  test('a date alone expires at 00:00 UTC; a date-time at its instant', () => {
    const policy = policyFromDocument({
      version: 1,
      exemptions: [
        { bucket: 'a', reason: 'r', owner: 'o', expires: '2027-01-31' },
        { bucket: 'b', prefix: 'x/', reason: 'r', owner: 'o', expires: '2027-01-31T12:30:00+02:00' },
      ],
    });
    expect(policy.exemptions.map((e) => e.expires.toISOString())).toEqual(['2027-01-31T00:00:00.000Z', '2027-01-31T10:30:00.000Z']);
    expect(policy.exemptions[0]!.prefix).toBe('');
  });

  test('key references are collected once and replaced by ARNs everywhere', () => {
    const policy = policyFromDocument({
      version: 1,
      default: { require: 'sse-kms', kmsKeys: ['alias/a', 'alias/b'], target: { mode: 'sse-kms', kmsKey: 'alias/a' } },
      rules: [{ bucket: 'x', kmsKeys: ['alias/b'] }],
    });
    expect(keyReferences(policy).sort()).toEqual(['alias/a', 'alias/b']);
    const resolved = resolvePolicy(policy, (ref) => `arn:${ref}`);
    expect(resolved.default.kmsKeys).toEqual(['arn:alias/a', 'arn:alias/b']);
    expect(resolved.default.target?.kmsKey).toBe('arn:alias/a');
    expect(resolved.rules[0]!.kmsKeys).toEqual(['arn:alias/b']);
    expect(requirementFor(resolved, 'x', 'k').ruleIndex).toBe(0);
  });
});

describe('key references are compared as the key ARNs they resolve to', () => {
  const ACCOUNT = 'arn:aws:kms:us-east-1:111122223333';
  // Every spelling the schema accepts, for two keys; the fake resolver stands for KMS DescribeKey.
  const spellings = (alias: string, keyId: string) => ({
    'alias name': `alias/${alias}`,
    'alias ARN': `${ACCOUNT}:alias/${alias}`,
    'key id': keyId,
    'key ARN': `${ACCOUNT}:key/${keyId}`,
  });
  const APP = spellings('app', '11111111-1111-1111-1111-111111111111');
  const OTHER = spellings('other', '22222222-2222-2222-2222-222222222222');
  const arnOf = (ref: string): string => {
    for (const key of [APP, OTHER]) if (Object.values(key).includes(ref)) return key['key ARN'];
    throw new Error(`unknown key ${ref}`);
  };
  type Form = keyof typeof APP;
  const FORMS = Object.keys(APP) as Form[];
  const pairs = FORMS.flatMap((listed) => FORMS.map((target) => [listed, target] as const));

  const objectRule = (listed: string, target: string) =>
    policyFromDocument({ version: 1, default: { require: 'sse-kms', kmsKeys: [listed], remediate: true, target: { mode: 'sse-kms', kmsKey: target } } });
  const bucketDefaultRule = (listed: string, target: string) =>
    policyFromDocument({
      version: 1,
      rules: [{ bucket: 'data', require: 'sse-kms', bucketDefault: { kmsKeys: [listed] }, remediate: true, target: { mode: 'sse-kms', kmsKey: target } }],
    });
  const problemsOfResolving = (policy: ReturnType<typeof policyFromDocument>): string[] => {
    try {
      resolvePolicy(policy, arnOf, 'policy.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      return (error as PolicyError).problems;
    }
    return [];
  };

  test.each(pairs)('kmsKeys given as %s, target.kmsKey as %s of the same key: accepted', (listed, target) => {
    const resolved = resolvePolicy(objectRule(APP[listed], APP[target]), arnOf);
    expect(resolved.default.kmsKeys).toEqual([APP['key ARN']]);
    expect(resolved.default.target?.kmsKey).toBe(APP['key ARN']);
  });

  test.each(pairs)('kmsKeys given as %s, target.kmsKey as %s of another key: rejected showing given and resolved', (listed, target) => {
    const [problem, ...more] = problemsOfResolving(objectRule(APP[listed], OTHER[target]));
    expect(more).toEqual([]);
    expect(problem).toMatch(/^default\.target\.kmsKey: .* is not one of kmsKeys: /);
    for (const shown of [OTHER[target], OTHER['key ARN'], APP[listed], APP['key ARN']]) expect(problem).toContain(shown);
  });

  test.each(pairs)('bucketDefault.kmsKeys given as %s, target.kmsKey as %s of the same key: accepted', (listed, target) => {
    const resolved = resolvePolicy(bucketDefaultRule(APP[listed], APP[target]), arnOf);
    expect(resolved.rules[0]!.posture.bucketDefault?.kmsKeys).toEqual([APP['key ARN']]);
  });

  test.each(pairs)('bucketDefault.kmsKeys given as %s, target.kmsKey as %s of another key: rejected', (listed, target) => {
    expect(problemsOfResolving(bucketDefaultRule(APP[listed], OTHER[target]))).toEqual([
      expect.stringMatching(new RegExp(`^rules\\[0\\]\\.target\\.kmsKey: .* is not one of bucketDefault\\.kmsKeys: .*${APP['key ARN']}`)),
    ]);
  });

  test('a key ARN shown as given is not repeated as its own resolution', () => {
    const [problem] = problemsOfResolving(objectRule(APP['key ARN'], OTHER['key ARN']));
    expect(problem).toBe(`default.target.kmsKey: ${OTHER['key ARN']} is not one of kmsKeys: ${APP['key ARN']}`);
  });

  test('the error names the policy file', () => {
    expect(() => resolvePolicy(objectRule(APP['alias name'], OTHER['alias name']), arnOf, 'prod.yaml')).toThrow(/invalid policy prod\.yaml:/);
  });
});
