// A finding as an OCSF Compliance Finding (class_uid 2003, category Findings), OCSF 1.3.0: the
// version Security Lake custom sources accept, and one whose compliance.standards is required, so
// it is given. Written as JSON lines (one event per line) by `report --format ocsf` and /export.ocsf.
import type { Verdict } from '../domain/verdict.ts';
import type { StoredFinding } from '../findings/store.ts';
import { objectFindingId } from '../delivery/finding-id.ts';

export const OCSF_VERSION = '1.3.0';
const CLASS_UID = 2003;
const CATEGORY_UID = 2;

export interface OcsfContext {
  /** The account the findings belong to, when known (cloud.account.uid). */
  accountId?: string;
  region: string;
  productVersion?: string;
}

/** compliance.status_id: 1 Pass, 2 Warning, 3 Fail (OCSF compliance object). */
const STATUS: Record<Verdict, { id: 1 | 2 | 3; name: string }> = {
  compliant: { id: 1, name: 'Pass' },
  exempt: { id: 1, name: 'Pass' },
  noncompliant: { id: 3, name: 'Fail' },
  'at-risk': { id: 3, name: 'Fail' },
  unauditable: { id: 2, name: 'Warning' },
};

/** severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
function severityId(f: Pick<StoredFinding, 'verdict' | 'reasons'>): 1 | 2 | 3 | 4 | 5 {
  if (f.verdict === 'at-risk') return 5;
  if (f.verdict === 'noncompliant') return f.reasons.some((r) => r.code === 'not-encrypted' || r.code === 'sse-c-forbidden') ? 4 : 3;
  if (f.verdict === 'unauditable') return 2;
  return 1;
}
const SEVERITY = ['Unknown', 'Informational', 'Low', 'Medium', 'High', 'Critical'] as const;

export function findingOcsf(f: StoredFinding, context: OcsfContext) {
  // Each object's own account and Region (a finding recorded before accounts were kept: the context's).
  const accountId = f.account ?? context.accountId;
  const region = f.region ?? context.region;
  const status = STATUS[f.verdict];
  const severity = severityId(f);
  // activity 1 Create for a finding first seen in this state; 2 Update once it has history.
  const activityId = f.firstSeen && f.lastSeen && f.firstSeen !== f.lastSeen ? 2 : 1;
  return {
    activity_id: activityId,
    activity_name: activityId === 1 ? 'Create' : 'Update',
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    class_uid: CLASS_UID,
    class_name: 'Compliance Finding',
    type_uid: CLASS_UID * 100 + activityId,
    severity_id: severity,
    severity: SEVERITY[severity],
    time: Date.parse(f.auditedAt),
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'sseguard', vendor_name: 'sseguard', ...(context.productVersion ? { version: context.productVersion } : {}) },
    },
    finding_info: {
      uid: objectFindingId(f.bucket, f.key),
      title: `S3 object encryption is ${f.verdict}`,
      desc: f.reasons.map((r) => `${r.code}: ${r.message}`).join('\n') || `object is ${f.verdict} with the encryption policy`,
      ...(f.firstSeen ? { first_seen_time: Date.parse(f.firstSeen) } : {}),
      ...(f.lastSeen ? { last_seen_time: Date.parse(f.lastSeen) } : {}),
    },
    compliance: {
      standards: ['sseguard object encryption policy'],
      control: 'S3 object server-side encryption',
      status_id: status.id,
      status: status.name,
      ...(f.reasons.length ? { status_detail: f.reasons.map((r) => r.code).join(',') } : {}),
    },
    status_id: 1,
    status: 'New',
    cloud: { provider: 'AWS', region, ...(accountId ? { account: { uid: accountId, type_id: 10, type: 'AWS Account' } } : {}) },
    resources: [
      {
        type: 'AWS::S3::Object',
        uid: `arn:aws:s3:::${f.bucket}/${f.key}`,
        name: f.key,
        region,
        data: {
          bucket: f.bucket,
          key: f.key,
          ...(f.versionId ? { version_id: f.versionId } : {}),
          ...(f.mode ? { encryption_mode: f.mode } : {}),
          ...(f.kmsKeyArn ? { kms_key_arn: f.kmsKeyArn } : {}),
          verdict: f.verdict,
        },
      },
      ...(f.kmsKeyArn ? [{ type: 'AWS::KMS::Key', uid: f.kmsKeyArn, region: f.kmsKeyArn.split(':')[3] || region }] : []),
    ],
  };
}
