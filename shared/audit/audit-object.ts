// Audits one object: inspect it, look up its KMS key (cached), evaluate the policy. The scan, the
// event worker and the sweep all audit through this one function.
import type { KeyLookup, ObjectInspection } from '../domain/encryption.ts';
import { evaluate } from '../domain/evaluate.ts';
import { toFinding, type Finding } from '../domain/finding.ts';
import type { ListedObject } from '../domain/listed-object.ts';
import { policyIdOf } from '../domain/policy-identity.ts';
import { requirementFor, type Requirement, type ResolvedPolicy } from '../domain/policy.ts';
import type { KeyInspector } from '../inspect/key-inspector-port.ts';
import type { ObjectInspector } from '../inspect/object-inspector-port.ts';

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

/** Evaluates what an inspection found: looks up the object's KMS key (cached) and applies the policy. */
export async function evaluateInspection(deps: AuditDependencies, inspection: ObjectInspection, listedSize: number): Promise<ObjectAudit> {
  // Any object that names a KMS key depends on it, whatever sits above it (a client-side envelope).
  const keyRef = inspection.status === 'read' ? inspection.facts.kmsKeyArn : undefined;
  const key = keyRef ? await deps.keys.lookup(keyRef) : undefined;
  const now = deps.clock?.() ?? new Date();
  const evaluation = evaluate({ inspection, key, policy: deps.policy, now });
  const bucket = inspection.status === 'read' ? inspection.facts.bucket : inspection.bucket;
  const objectKey = inspection.status === 'read' ? inspection.facts.key : inspection.key;
  const { requirement } = requirementFor(deps.policy, bucket, objectKey);
  // Every finding names the policy that judged it: a verdict means nothing without it.
  const finding = { ...toFinding(inspection, evaluation, key, now, listedSize), policy: policyIdOf(deps.policy) };
  return { finding, inspection, ...(key ? { key } : {}), requirement };
}

export async function auditObjectInDetail(
  deps: AuditDependencies,
  bucket: string,
  listed: ListedObject,
  versionId?: string,
): Promise<ObjectAudit> {
  const audit = await evaluateInspection(deps, await deps.objects.inspect(bucket, listed, versionId), listed.size);
  // What the finding rests on, and since when: this HeadObject.
  audit.finding = { ...audit.finding, evidence: 'head', evidenceAt: audit.finding.auditedAt };
  return audit;
}
