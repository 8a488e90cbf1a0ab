// When a key's dependents must be judged again (shared/audit/key-drift.ts keyDrift): pure.
import { describe, expect, it } from 'vitest';
import { keyDrift } from '../../shared/audit/key-drift.ts';
import type { KeyLookup } from '../../shared/domain/encryption.ts';
import type { Counts } from '../../shared/findings/store.ts';

const ARN = 'arn:aws:kms:us-east-1:123456789012:key/k';
const key = (over: Partial<Extract<KeyLookup, { status: 'described' }>> = {}): KeyLookup => ({
  status: 'described', arn: ARN, keyId: 'k', accountId: '123456789012', state: 'Enabled', manager: 'CUSTOMER', origin: 'AWS_KMS', rotationEnabled: true, ...over,
});
const counts = (verdicts: Counts['verdicts']): Counts => ({ objects: Object.values(verdicts).reduce((a, b) => a + (b ?? 0), 0), bytes: 0, verdicts, modes: {} });

describe('keyDrift', () => {
  it('the same facts under verdicts they agree with: nothing to re-evaluate', () => {
    expect(keyDrift(key(), key(), counts({ compliant: 3 }))).toBeUndefined();
    expect(keyDrift(key({ state: 'Disabled' }), key({ state: 'Disabled' }), counts({ 'at-risk': 2, unauditable: 1 }))).toBeUndefined();
  });

  it('state, rotation, deletion date or manager changed since recorded', () => {
    expect(keyDrift(key({ state: 'Disabled' }), key(), counts({ 'at-risk': 1 }))).toBe('state Enabled → Disabled');
    expect(keyDrift(key({ rotationEnabled: false }), key(), counts({ compliant: 1 }))).toBe('rotationEnabled true → false');
    expect(keyDrift(key({ state: 'PendingDeletion', deletionDate: '2027-01-02T00:00:00.000Z' }), key({ state: 'PendingDeletion', deletionDate: '2027-01-01T00:00:00.000Z' }), counts({ 'at-risk': 1 }))).toMatch(/^deletionDate 2027-01-01T00:00:00.000Z → 2027-01-02/);
    expect(keyDrift(key({ manager: 'AWS' }), key(), counts({ compliant: 1 }))).toBe('manager CUSTOMER → AWS');
    expect(keyDrift({ status: 'not-found', arn: ARN, detail: 'gone' }, key(), counts({ 'at-risk': 1 }))).toBe('described → not-found');
  });

  it('a state that contradicts the recorded verdicts, even when the recorded facts already say it (a scan recorded them) or none were recorded', () => {
    expect(keyDrift(key({ state: 'Disabled' }), key({ state: 'Disabled' }), counts({ compliant: 1, 'at-risk': 1 }))).toBe('Disabled, but 1 dependents are not at-risk');
    expect(keyDrift(key({ state: 'PendingDeletion' }), undefined, counts({ exempt: 1, noncompliant: 1 }))).toBe('PendingDeletion, but 2 dependents are not at-risk');
    expect(keyDrift({ status: 'not-found', arn: ARN, detail: 'gone' }, undefined, counts({ compliant: 1 }))).toBe('not-found, but 1 dependents are not at-risk');
    expect(keyDrift(key(), key(), counts({ 'at-risk': 1 }))).toBe('Enabled, but 1 dependents are at-risk');
    expect(keyDrift(key(), undefined, counts({ compliant: 4 }))).toBeUndefined();
  });
});
