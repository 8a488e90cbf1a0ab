// Which policy judged a finding: the hash is of the normalised policy, so that the words a file uses
// do not matter and what it decides does.
import { describe, expect, test } from 'vitest';
import { parsePolicy, resolvePolicy } from '../../shared/domain/policy.ts';
import { normalisedPolicy, policyFromNormalised, policyIdOf } from '../../shared/domain/policy-identity.ts';

const KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const arnOf = (ref: string) => (ref === 'alias/finance' || ref === '1234abcd-12ab-34cd-56ef-1234567890ab' ? KEY : ref);
const load = (text: string) => resolvePolicy(parsePolicy(text), arnOf);

describe('policy identity', () => {
  test('the same policy in other words (YAML or JSON, defaults spelled out, an alias or its key) hashes the same', () => {
    const yaml = load('version: 1\ndefault: { require: sse-kms, kmsKeys: [alias/finance] }\n');
    const json = load(`{"version":1,"default":{"kmsKeys":["${KEY}"],"require":"sse-kms","remediate":false}}`);
    const byId = load('version: 1\ndefault: { require: sse-kms, kmsKeys: [1234abcd-12ab-34cd-56ef-1234567890ab] }\n');
    expect(policyIdOf(yaml)).toEqual({ version: 1, hash: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) });
    expect(policyIdOf(json)).toEqual(policyIdOf(yaml));
    expect(policyIdOf(byId)).toEqual(policyIdOf(yaml));
  });

  test('a change that can move a verdict changes the hash: a rule, a key, an exemption expiry', () => {
    const base = 'version: 1\ndefault: { require: sse-kms }\n';
    const hashes = [
      base,
      'version: 1\ndefault: { require: sse-s3 }\n',
      `version: 1\ndefault: { require: sse-kms, kmsKeys: [${KEY}] }\n`,
      `${base}exemptions:\n  - { bucket: b, prefix: p/, reason: r, owner: o, expires: 2027-01-01 }\n`,
      `${base}exemptions:\n  - { bucket: b, prefix: p/, reason: r, owner: o, expires: 2027-01-02 }\n`,
    ].map((text) => policyIdOf(load(text)).hash);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  test('the stored normalised policy reads back as the same policy (exemption expiries as instants)', () => {
    const policy = load(`version: 1\ndefault: { require: sse-kms }\nexemptions:\n  - { bucket: b, prefix: p/, reason: r, owner: o, expires: 2027-01-01 }\n`);
    const back = policyFromNormalised(normalisedPolicy(policy));
    expect(back).toEqual(policy);
    expect(back.exemptions[0]!.expires).toBeInstanceOf(Date);
    expect(policyIdOf(back)).toEqual(policyIdOf(policy));
  });
});
