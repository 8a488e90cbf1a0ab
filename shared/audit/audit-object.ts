// Audits one object: inspect it, look up its KMS key (cached), evaluate the policy. The scan, the
// event worker and the sweep all audit through this one function.
import { isKmsMode, type KeyLookup, type ObjectInspection } from '../domain/encryption.ts';
import { evaluate } from '../domain/evaluate.ts';
import { toFinding, type Finding } from '../domain/finding.ts';
import { requirementFor, type Requirement, type ResolvedPolicy } from '../domain/policy.ts';
import type { KeyInspector } from '../inspect/key-inspector.ts';
import type { ListedObject, ObjectInspector } from '../inspect/object-inspector.ts';

export interface AuditDependencies {
  objects: ObjectInspector;
  keys: KeyInspector;
  policy: ResolvedPolicy;
  clock?: () => Date;
}

/** The finding and what it was made from: a remediation needs the facts and the requirement. */
export interface ObjectAudit {
  finding: Finding;
  inspection: ObjectInspection;
  key?: KeyLookup;
  requirement: Requirement;
}

export async function auditObjectInDetail(
  deps: AuditDependencies,
  bucket: string,
  listed: ListedObject,
  versionId?: string,
): Promise<ObjectAudit> {
  const inspection = await deps.objects.inspect(bucket, listed, versionId);
  const keyRef = inspection.status === 'read' && isKmsMode(inspection.facts.mode) ? inspection.facts.kmsKeyArn : undefined;
  const key = keyRef ? await deps.keys.lookup(keyRef) : undefined;
  const now = deps.clock?.() ?? new Date();
  const evaluation = evaluate({ inspection, key, policy: deps.policy, now });
  const { requirement } = requirementFor(deps.policy, bucket, listed.key);
  return { finding: toFinding(inspection, evaluation, key, now, listed.size), inspection, ...(key ? { key } : {}), requirement };
}

export async function auditObject(deps: AuditDependencies, bucket: string, listed: ListedObject, versionId?: string): Promise<Finding> {
  return (await auditObjectInDetail(deps, bucket, listed, versionId)).finding;
}
