// The audit worker's logic, free of Lambda types: audit the objects a message names, fix those
// the policy says to fix, record everything in one batch. Findings that a retry could change
// (S3 or KMS failed after the SDK's own retries) are not recorded as final: the caller retries the
// message, and on its last delivery records them as unauditable so that nothing goes unseen.
import type { Finding } from '../domain/finding.ts';
import type { ReasonCode } from '../domain/verdict.ts';
import type { AuditRequest } from '../events/audit-requests.ts';
import type { FindingsStore } from '../findings/store.ts';
import type { ListedObject } from '../inspect/object-inspector.ts';
import { auditObjectInDetail, type AuditDependencies, type ObjectAudit } from './audit-object.ts';

/** Applies the policy's fix to one audited object and returns the finding after it. */
export type Remediator = (audit: ObjectAudit) => Promise<Finding>;

export interface RequestAuditDependencies extends AuditDependencies {
  store: Pick<FindingsStore, 'record'>;
  /** Absent: report only. */
  remediate?: Remediator;
  /** Objects audited at once within one message. */
  concurrency?: number;
}

export interface RequestAuditResult {
  recorded: Finding[];
  /** Findings a retry could change; empty when the message is done. */
  transient: Finding[];
}

const TRANSIENT: readonly ReasonCode[] = ['object-unreadable', 'kms-key-lookup-failed'];
/** A retry could change this finding: S3 or KMS failed after the SDK's retries, or the fix did. */
export const isTransient = (finding: Finding): boolean =>
  finding.reasons.some((r) => TRANSIENT.includes(r.code)) || finding.remediation?.outcome === 'failed';

/** Audits one object and, where the policy says so and the audit is final, fixes it. */
export async function auditThenFix(
  deps: AuditDependencies & { remediate?: Remediator | undefined },
  bucket: string,
  listed: ListedObject,
  versionId?: string,
  sequencer?: string,
): Promise<Finding> {
  const audit = await auditObjectInDetail(deps, bucket, listed, versionId);
  const withSequencer = (finding: Finding): Finding => (sequencer ? { ...finding, sequencer } : finding);
  audit.finding = withSequencer(audit.finding);
  if (audit.finding.remediate && deps.remediate && !isTransient(audit.finding)) return withSequencer(await deps.remediate(audit));
  return audit.finding;
}

async function mapConcurrently<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function auditRequests(
  deps: RequestAuditDependencies,
  requests: AuditRequest[],
  options: { finalAttempt: boolean },
): Promise<RequestAuditResult> {
  const findings = await mapConcurrently(requests, deps.concurrency ?? 8, (request) =>
    auditThenFix(
      deps,
      request.bucket,
      { key: request.key, size: request.size ?? 0, ...(request.etag ? { etag: request.etag } : {}) },
      request.versionId,
      request.sequencer,
    ),
  );
  const transient = findings.filter(isTransient);
  const recorded = options.finalAttempt ? findings : findings.filter((f) => !isTransient(f));
  await deps.store.record(recorded);
  return { recorded, transient };
}
