// Evaluation is a pure function: (object facts, key facts, policy, now) → verdict with reasons.
// Order of precedence, most urgent first:
//   1. the object could not be read            → unauditable (exempt if an exemption covers it)
//   2. its KMS key cannot decrypt it any more  → at-risk (even when exempt: the data is in danger)
//   3. an exemption in force covers it         → exempt
//   4. the policy's requirements are not met   → noncompliant
//   5. a requirement could not be checked      → unauditable
//   6. otherwise                               → compliant
import { isKmsMode, type EncryptionMode, type KeyLookup, type KeyState, type ObjectFacts, type ObjectInspection } from './encryption.ts';
import { exemptionsFor, requirementFor, type RequiredMode, type Requirement, type ResolvedPolicy } from './policy.ts';
import type { Evaluation, Reason, ReasonCode } from './verdict.ts';

export interface EvaluationInput {
  inspection: ObjectInspection;
  /** The lookup of the object's KMS key; required for SSE-KMS and DSSE-KMS objects. */
  key?: KeyLookup | undefined;
  policy: ResolvedPolicy;
  now: Date;
}

export const MODES_SATISFYING: Record<RequiredMode, readonly EncryptionMode[]> = {
  'sse-s3': ['sse-s3'],
  'sse-kms': ['sse-kms'],
  'dsse-kms': ['dsse-kms'],
  'any-kms': ['sse-kms', 'dsse-kms'],
  any: ['sse-s3', 'sse-kms', 'dsse-kms'],
};

export const AT_RISK_STATES: Partial<Record<KeyState, ReasonCode>> = {
  Disabled: 'kms-key-disabled',
  PendingDeletion: 'kms-key-pending-deletion',
  PendingReplicaDeletion: 'kms-key-pending-deletion',
  PendingImport: 'kms-key-pending-import',
  Unavailable: 'kms-key-unavailable',
  Creating: 'kms-key-unavailable',
  Updating: 'kms-key-unavailable',
};

const reason = (code: ReasonCode, message: string): Reason => ({ code, message });

/** The encryption S3 applied at rest: for client-side objects, the layer beneath the ciphertext. */
const serverSideLayer = (facts: ObjectFacts): EncryptionMode =>
  facts.mode === 'client-side' ? (facts.clientSide?.serverSideMode ?? 'none') : facts.mode;

/** Why the key cannot decrypt the object, if it cannot. */
function keyRisk(key: KeyLookup): Reason | undefined {
  if (key.status === 'not-found') {
    return reason('kms-key-not-found', `KMS key ${key.arn} does not exist: the object cannot be decrypted`);
  }
  if (key.status !== 'described') return undefined;
  const code = AT_RISK_STATES[key.state];
  if (!code) return undefined;
  const when = key.deletionDate ? ` (deletion on ${key.deletionDate})` : '';
  return reason(code, `KMS key ${key.arn} is ${key.state}${when}: the object cannot be read until it is usable`);
}

/** Requirement checks: violations make the object noncompliant, unknowns unauditable. */
function checkRequirement(
  facts: ObjectFacts,
  key: KeyLookup | undefined,
  requirement: Requirement,
): { violations: Reason[]; unknowns: Reason[] } {
  const violations: Reason[] = [];
  const unknowns: Reason[] = [];
  const { mode } = facts;

  if (mode === 'client-side') {
    const accepted = requirement.clientSide;
    const algorithm = facts.clientSide?.contentAlgorithm ?? 'unknown';
    if (accepted.accept === 'forbidden') {
      violations.push(reason('client-side-forbidden', `object is encrypted client-side (${algorithm}); policy forbids client-side encryption`));
    }
    if (accepted.algorithms && !accepted.algorithms.includes(algorithm)) {
      violations.push(
        reason('client-side-algorithm-not-allowed', `client-side algorithm ${algorithm} is not one of ${accepted.algorithms.join(', ')}`),
      );
    }
    if (accepted.accept !== 'allowed') return { violations, unknowns };
    // Accepted as client-side: the server-side layer S3 added beneath must still meet the rule.
    const layer = checkRequirement({ ...facts, mode: serverSideLayer(facts) }, key, requirement);
    const beneath = (r: Reason) => ({ ...r, message: `server-side layer of a client-side encrypted object: ${r.message}` });
    return { violations: [...violations, ...layer.violations.map(beneath)], unknowns: layer.unknowns.map(beneath) };
  }

  if (mode === 'sse-c') {
    violations.push(reason('sse-c-forbidden', 'object is encrypted with a customer-provided key (SSE-C), which sseguard can neither read nor fix: whoever holds the key must re-upload it with server-side encryption'));
    return { violations, unknowns };
  }
  if (mode === 'none') {
    violations.push(reason('not-encrypted', 'object has no server-side encryption'));
    return { violations, unknowns };
  }
  if (!MODES_SATISFYING[requirement.require].includes(mode)) {
    violations.push(reason('mode-not-allowed', `policy requires ${requirement.require}; object is ${mode}`));
  }
  if (!isKmsMode(mode)) return { violations, unknowns };

  const arn = facts.kmsKeyArn ?? '(none reported)';
  if (requirement.kmsKeys && !requirement.kmsKeys.includes(arn)) {
    violations.push(reason('kms-key-not-allowed', `KMS key ${arn} is not one of the policy's kmsKeys`));
  }
  if (requirement.bucketKey === 'required' && mode === 'sse-kms' && !facts.bucketKeyEnabled) {
    violations.push(reason('bucket-key-disabled', 'policy requires an S3 Bucket Key; object has none'));
  }
  const needsKeyFacts = requirement.customerManagedKey || requirement.keyRotation === 'required';
  if (!needsKeyFacts) return { violations, unknowns };

  if (!key || key.status !== 'described') {
    // S3 named no key (LocalStack's DSSE HeadObject): asking again cannot change that, so not "lookup failed".
    if (!key && !facts.kmsKeyArn) {
      unknowns.push(reason('kms-key-not-reported', `S3 reports ${mode} without a key id: the key's state and rotation cannot be checked`));
      return { violations, unknowns };
    }
    const code: ReasonCode = key?.status === 'access-denied' ? 'kms-key-access-denied' : 'kms-key-lookup-failed';
    unknowns.push(reason(code, `cannot describe KMS key ${arn}: ${key && 'detail' in key ? key.detail : 'no lookup'}`));
    return { violations, unknowns };
  }
  if (requirement.customerManagedKey && key.manager !== 'CUSTOMER') {
    violations.push(reason('kms-key-aws-managed', `policy requires a customer-managed key; ${arn} is AWS managed`));
  }
  if (requirement.keyRotation === 'required') {
    // AWS rotates AWS-managed keys every year by itself.
    if (key.manager === 'AWS') return { violations, unknowns };
    if (key.rotationEnabled === false) {
      violations.push(reason('kms-key-rotation-disabled', `policy requires key rotation; ${arn} does not rotate`));
    } else if (key.rotationEnabled === undefined) {
      unknowns.push(reason('kms-key-rotation-unknown', `KMS would not tell whether ${arn} rotates`));
    }
  }
  return { violations, unknowns };
}

export function evaluate({ inspection, key, policy, now }: EvaluationInput): Evaluation {
  const bucket = inspection.status === 'read' ? inspection.facts.bucket : inspection.bucket;
  const objectKey = inspection.status === 'read' ? inspection.facts.key : inspection.key;
  const { requirement, ruleIndex } = requirementFor(policy, bucket, objectKey);
  const { active, expired } = exemptionsFor(policy, bucket, objectKey, now);
  const base = { ...(ruleIndex === undefined ? {} : { ruleIndex }), remediate: false };
  const exempted = active
    ? reason('exempted', `exempt until ${active.expires.toISOString()} (owner ${active.owner}): ${active.reason}`)
    : undefined;
  const notes = expired
    ? [reason('exemption-expired', `exemption (owner ${expired.owner}) expired ${expired.expires.toISOString()}`)]
    : [];

  if (inspection.status === 'unreadable') {
    if (exempted) return { ...base, verdict: 'exempt', reasons: [exempted] };
    return { ...base, verdict: 'unauditable', reasons: [reason(inspection.reason, inspection.detail), ...notes] };
  }

  const { facts } = inspection;
  const risk = isKmsMode(serverSideLayer(facts)) && key ? keyRisk(key) : undefined;
  if (risk) return { ...base, verdict: 'at-risk', reasons: [risk, ...(exempted ? [exempted] : notes)] };
  // A key whose state KMS did not tell (throttled, failing) may be disabled: no verdict can stand on it.
  if (isKmsMode(serverSideLayer(facts)) && key?.status === 'error') {
    return { ...base, verdict: 'unauditable', reasons: [reason('kms-key-lookup-failed', `cannot describe KMS key ${facts.kmsKeyArn ?? ''}: ${key.detail}`), ...notes] };
  }
  // S3 named no key (LocalStack's DSSE HeadObject): its state is unknowable, and asking again cannot change that.
  if (isKmsMode(serverSideLayer(facts)) && !key && !facts.kmsKeyArn && !exempted) {
    return { ...base, verdict: 'unauditable', reasons: [reason('kms-key-not-reported', `S3 reports ${serverSideLayer(facts)} without a key id: the key's state and rotation cannot be checked`), ...notes] };
  }
  if (exempted) return { ...base, verdict: 'exempt', reasons: [exempted] };

  const { violations, unknowns } = checkRequirement(facts, key, requirement);
  if (violations.length > 0) {
    // SSE-C objects cannot be re-encrypted without the customer's key; never plan a fix for them.
    // Client-side objects are never decrypted; their server-side layer is re-encrypted only when the
    // policy opts in, and never to fix what only the client can change.
    const clientSideOnly = violations.some((v) => v.code === 'client-side-forbidden' || v.code === 'client-side-algorithm-not-allowed');
    const fixable =
      requirement.remediate &&
      facts.mode !== 'sse-c' &&
      (facts.mode !== 'client-side' || (requirement.clientSide.remediateServerSide && !clientSideOnly));
    return { ...base, remediate: fixable, verdict: 'noncompliant', reasons: [...violations, ...unknowns, ...notes] };
  }
  if (unknowns.length > 0) return { ...base, verdict: 'unauditable', reasons: [...unknowns, ...notes] };
  return { ...base, verdict: 'compliant', reasons: notes };
}
