// The audit worker's logic, free of Lambda types: audit the objects a message names, fix those
// the policy says to fix, record everything in one batch. Findings that a retry could change
// (S3 or KMS failed after the SDK's own retries) are not recorded as final: the caller retries the
// message, and on its last delivery records them as unauditable so that nothing goes unseen.
import type { Finding } from '../domain/finding.ts';
import type { ReasonCode } from '../domain/verdict.ts';
import type { AuditRequest } from '../events/audit-requests.ts';
import type { FindingsStore } from '../findings/store.ts';
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
export const isTransient = (finding: Finding): boolean => finding.reasons.some((r) => TRANSIENT.includes(r.code));

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
  const findings = await mapConcurrently(requests, deps.concurrency ?? 8, async (request) => {
    const listed = { key: request.key, size: request.size ?? 0, ...(request.etag ? { etag: request.etag } : {}) };
    const audit = await auditObjectInDetail(deps, request.bucket, listed, request.versionId);
    const withSequencer = (finding: Finding): Finding => (request.sequencer ? { ...finding, sequencer: request.sequencer } : finding);
    audit.finding = withSequencer(audit.finding);
    if (audit.finding.remediate && deps.remediate && !isTransient(audit.finding)) {
      return withSequencer(await deps.remediate(audit));
    }
    return audit.finding;
  });
  const transient = findings.filter(isTransient);
  const recorded = options.finalAttempt ? findings : findings.filter((f) => !isTransient(f));
  await deps.store.record(recorded);
  return { recorded, transient };
}
