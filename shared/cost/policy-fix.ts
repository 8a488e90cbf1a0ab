// Which inventory rows a policy would fix, for `sseguard plan --policy`: the rule that judges the
// object says remediate: true, no exemption covers it, and its encryption mode (as the inventory
// reports it) is not one the rule accepts. Pure.
//
// The inventory names no KMS key, so an SSE-KMS object under a key the rule does not list is not
// counted here: the plan's fix is then a floor, and says so.
import type { Policy } from '../domain/policy.ts';
import { exemptionsFor, requirementFor } from '../domain/policy.ts';
import { MODES_SATISFYING } from '../domain/evaluate.ts';
import { MODE_OF_STATUS, type InventoryRow } from '../inventory/row.ts';

export function policyWouldFix(policy: Policy, row: InventoryRow, now: Date): boolean {
  if (row.isDeleteMarker || !row.encryptionStatus) return false;
  const { requirement } = requirementFor(policy, row.bucket, row.key);
  if (!requirement.remediate) return false;
  if (exemptionsFor(policy, row.bucket, row.key, now).active) return false;
  return !MODES_SATISFYING[requirement.require].includes(MODE_OF_STATUS[row.encryptionStatus]);
}
