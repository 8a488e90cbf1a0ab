// Turns an audit that calls for a fix into the finding after the fix: carry out the policy's
// target with the remediation engine, then audit the object afresh (new facts, new version) and
// keep what was done — before and after — in the finding's remediation record.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Finding, RemediationRecord } from '../domain/finding.ts';
import { remediateObject, type RemediationOptions, type RemediationOutcome, type RemediationTarget } from '../remediation/index.ts';
import type { RemediationFacts } from '../remediation/plan.ts';
import { auditObjectInDetail, evaluateInspection, type AuditDependencies, type ObjectAudit } from './audit-object.ts';
import type { Remediator } from './audit-requests.ts';

/** Runs the fix of one object version at most once (an idempotency store); identity when absent. */
export type FixOnce = (
  identity: { bucket: string; key: string; versionId?: string; etag?: string; target: RemediationTarget },
  fix: () => Promise<RemediationOutcome>,
) => Promise<RemediationOutcome>;

export interface RemediatorDependencies extends AuditDependencies {
  s3: S3Client;
  options?: RemediationOptions;
  fixOnce?: FixOnce;
  /** Sees every outcome (the CLI prints plans and totals from here). */
  onOutcome?: (outcome: RemediationOutcome) => void;
}

const AUDIT_AGAIN: readonly string[] = ['fixed', 'unverified', 'already-at-target'];

function record(outcome: RemediationOutcome, at: Date): RemediationRecord {
  const detail = [outcome.message, outcome.instruction, ...outcome.notes].filter(Boolean).join(' ');
  const { before, after } = outcome;
  return {
    action: outcome.plan.action,
    outcome: outcome.outcome,
    at: at.toISOString(),
    before: { mode: before.mode, bucketKeyEnabled: before.bucketKeyEnabled, ...(before.kmsKeyArn ? { kmsKeyArn: before.kmsKeyArn } : {}), ...(before.versionId ? { versionId: before.versionId } : {}), ...(before.etag ? { etag: before.etag } : {}) },
    ...(after
      ? { after: { mode: after.mode, bucketKeyEnabled: after.bucketKeyEnabled, ...(after.kmsKeyArn ? { kmsKeyArn: after.kmsKeyArn } : {}), ...(after.versionId ? { versionId: after.versionId } : {}), ...(after.etag ? { etag: after.etag } : {}) } }
      : {}),
    ...(detail ? { detail } : {}),
  };
}

export function createRemediator(deps: RemediatorDependencies): Remediator {
  const fixOnce: FixOnce = deps.fixOnce ?? ((_identity, fix) => fix());
  return async (audit: ObjectAudit): Promise<Finding> => {
    const target = audit.requirement.target;
    if (audit.inspection.status !== 'read' || !target) return audit.finding;
    const facts: RemediationFacts = audit.inspection.facts;
    let ran = false;
    const outcome = await fixOnce(
      { bucket: facts.bucket, key: facts.key, ...(facts.versionId ? { versionId: facts.versionId } : {}), ...(facts.etag ? { etag: facts.etag } : {}), target },
      () => {
        ran = true;
        return remediateObject({ s3: deps.s3, ...(deps.clock ? { clock: deps.clock } : {}) }, facts, target, deps.options ?? {});
      },
    );
    deps.onOutcome?.(outcome);
    // A replayed outcome (this version was fixed before) did nothing now: no new history entry.
    const remediation = ran ? { remediation: record(outcome, deps.clock?.() ?? new Date()) } : {};
    if (!AUDIT_AGAIN.includes(outcome.outcome) || deps.options?.dryRun) return { ...audit.finding, ...remediation };
    const { after } = outcome;
    // The engine verified the fix with a HeadObject: judge the object on what it saw there instead
    // of asking S3 a second time. Without a verified state, audit what is there now.
    const audited = after
      ? await evaluateInspection(
          deps,
          {
            status: 'read',
            facts: {
              ...facts,
              mode: after.mode,
              bucketKeyEnabled: after.bucketKeyEnabled,
              kmsKeyArn: after.kmsKeyArn,
              ...(after.versionId ? { versionId: after.versionId } : {}),
              ...(after.etag ? { etag: after.etag } : {}),
            },
          },
          facts.size,
        )
      : await auditObjectInDetail(deps, facts.bucket, { key: facts.key, size: facts.size });
    return { ...audited.finding, remediate: false, ...remediation };
  };
}
