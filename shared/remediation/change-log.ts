// One change an object's fix made, as `scan --remediate` lists it and `report --remediations` reads
// it back from the history: object, version before → after, encryption before → after, fix kind.
import type { EncryptionSnapshot } from '../domain/encryption-snapshot.ts';
import type { RemediationRecord } from '../domain/finding.ts';

/** Outcomes after which S3 holds a changed object: a fix made (verified or not). */
export const CHANGING_OUTCOMES: readonly string[] = ['fixed', 'unverified'];

export interface ObjectChange {
  bucket: string;
  key: string;
  at: string;
  /** The fix kind: update-encryption, copy, multipart-copy. */
  action: string;
  outcome: string;
  versionBefore: string | null;
  versionAfter: string | null;
  before: EncryptionSnapshot;
  after: EncryptionSnapshot | null;
  batchJobId?: string;
}

export const isChange = (remediation: RemediationRecord | undefined): remediation is RemediationRecord =>
  Boolean(remediation && CHANGING_OUTCOMES.includes(remediation.outcome));

export function objectChange(bucket: string, key: string, remediation: RemediationRecord): ObjectChange {
  return {
    bucket,
    key,
    at: remediation.at,
    action: remediation.action,
    outcome: remediation.outcome,
    versionBefore: remediation.before.versionId ?? null,
    versionAfter: remediation.after?.versionId ?? null,
    before: remediation.before,
    after: remediation.after ?? null,
    ...(remediation.batchJobId ? { batchJobId: remediation.batchJobId } : {}),
  };
}

const encryption = (s: EncryptionSnapshot | null): string =>
  !s ? '?' : `${s.mode ?? '?'}${s.kmsKeyArn ? ` ${s.kmsKeyArn}` : ''}${s.bucketKeyEnabled ? ' +bucket key' : ''}`;

/** "s3://b/k (version v1 → v2): sse-s3 → sse-kms arn… +bucket key, update-encryption" */
export function describeChange(change: ObjectChange): string {
  const versions =
    change.versionBefore || change.versionAfter
      ? ` (version ${change.versionBefore ?? '-'}${change.versionAfter !== change.versionBefore ? ` → ${change.versionAfter ?? '-'}` : ', kept'})`
      : '';
  const unverified = change.outcome === 'unverified' ? ' (UNVERIFIED: HeadObject after the fix did not show the target)' : '';
  return `s3://${change.bucket}/${change.key}${versions}: ${encryption(change.before)} → ${encryption(change.after)}, ${change.action}${unverified}`;
}
