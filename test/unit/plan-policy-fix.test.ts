import { describe, expect, test } from 'vitest';
import { policyFromDocument } from '../../shared/domain/policy.ts';
import { policyWouldFix } from '../../shared/cost/policy-fix.ts';
import type { InventoryRow } from '../../shared/inventory/row.ts';

const now = new Date('2026-12-04T00:00:00Z');
const row = (key: string, encryptionStatus: InventoryRow['encryptionStatus']): InventoryRow => ({ bucket: 'data', key, isDeleteMarker: false, encryptionStatus });

const policy = policyFromDocument({
  version: 1,
  default: { require: 'any' },
  rules: [{ bucket: 'data', prefix: 'fin/', require: 'sse-kms', remediate: true, target: { mode: 'sse-kms', kmsKey: 'alias/finance' } }],
  exemptions: [{ bucket: 'data', prefix: 'fin/vendor/', reason: 'vendor key', owner: 'sec@example.com', expires: '2099-01-01' }],
});

describe('plan --policy: which inventory rows the policy would fix', () => {
  test('a rule with remediate: true fixes the modes it does not accept', () => {
    expect(policyWouldFix(policy, row('fin/a', 'SSE-S3'), now)).toBe(true);
    expect(policyWouldFix(policy, row('fin/b', 'NOT-SSE'), now)).toBe(true);
    expect(policyWouldFix(policy, row('fin/c', 'SSE-KMS'), now)).toBe(false);
  });

  test('report-only rules, exempt objects, delete markers and rows without a status are not fixed', () => {
    expect(policyWouldFix(policy, row('pub/a', 'NOT-SSE'), now)).toBe(false);
    expect(policyWouldFix(policy, row('fin/vendor/x', 'SSE-S3'), now)).toBe(false);
    expect(policyWouldFix(policy, { ...row('fin/d', 'SSE-S3'), isDeleteMarker: true }, now)).toBe(false);
    expect(policyWouldFix(policy, row('fin/e', undefined), now)).toBe(false);
  });
});
