// The audit worker's logic, free of Lambda types: audit the objects a message names, fix those
// the policy says to fix, record everything in one batch. What a retry could change (S3 or KMS
// throttled, failed or timed out; a fix being made by another process) is never recorded as a
// verdict: the caller retries the message, and SQS dead-letters it after its last delivery.
// Objects under a KMS key whose state changed are re-evaluated from their recorded facts through
// the same evaluation (no S3 call: the object did not change, only its key).
import { deletedObjectFinding, inspectionFromStored, type Finding } from '../domain/finding.ts';
import type { ReasonCode } from '../domain/verdict.ts';
import type { AuditRequest } from '../events/audit-queue-messages.ts';
import type { FindingsStore, StoredFinding } from '../findings/store.ts';
import type { ListedObject } from '../inspect/object-inspector.ts';
import { mapConcurrently } from './adaptive-concurrency.ts';
import { auditObjectInDetail, evaluateInspection, type AuditDependencies, type ObjectAudit } from './audit-object.ts';

/** Applies the policy's fix to one audited object and returns the finding after it. */
export type Remediator = (audit: ObjectAudit) => Promise<Finding>;

export interface RequestAuditDependencies extends AuditDependencies {
  store: Pick<FindingsStore, 'record' | 'statesOf'>;
  /** Absent: report only. */
  remediator?: Remediator;
  /** Objects audited at once within one message. */
  concurrency?: number;
}

export interface RequestAuditResult {
  recorded: Finding[];
  /** Findings a retry could change: not recorded; the message is to be retried. */
  transient: Finding[];
}

/** What the event that asked for an audit said about the object version it was about. */
export interface AuditHint {
  versionId?: string;
  etag?: string;
  sequencer?: string;
  /** The version the event says was permanently deleted. */
  removedVersionId?: string;
}

const TRANSIENT: readonly ReasonCode[] = ['object-unreadable', 'kms-key-lookup-failed'];
/** Fix outcomes that a later try can change. */
const TRANSIENT_OUTCOMES: readonly string[] = ['failed', 'skipped-being-fixed-elsewhere'];
/** A retry could change this finding: S3 or KMS failed after the SDK's retries, or the fix did. */
export const isTransient = (finding: Finding): boolean =>
  finding.reasons.some((r) => TRANSIENT.includes(r.code)) || TRANSIENT_OUTCOMES.includes(finding.remediation?.outcome ?? '');

const unquoted = (etag: string | undefined) => etag?.replaceAll('"', '');

/** A key inspector that caches what KMS said (KmsKeyInspector) can be told that a key changed. */
/**
 * Audits the object as it is now and, where the policy says so and the audit is final, fixes it.
 * An event names a version, but only the current version is the object's state: a late event for
 * an older version audits the current one, and its sequencer is kept only when it describes it.
 */
export async function auditThenFix(
  deps: AuditDependencies & { remediator?: Remediator | undefined },
  bucket: string,
  listed: ListedObject,
  hint: AuditHint = {},
  options: { confirmedCurrent?: boolean; exactVersion?: boolean } = {},
): Promise<Finding> {
  // A listing of versions asks about that version itself; anything else, about the object as it is now.
  const audit = await auditObjectInDetail(deps, bucket, listed, options.exactVersion ? listed.versionId : undefined);
  const found = audit.finding;
  // SSE-C objects answer no HeadObject without their key: the event's version is all there is to know.
  if (found.mode === 'sse-c' && !found.versionId && hint.versionId) found.versionId = hint.versionId;
  const describesEvent = hint.versionId
    ? found.versionId === hint.versionId
    : !hint.etag || !found.etag || unquoted(hint.etag) === unquoted(found.etag);
  const annotate = (finding: Finding): Finding => ({
    ...finding,
    ...(hint.sequencer && describesEvent ? { sequencer: hint.sequencer } : {}),
    ...(options.confirmedCurrent ? { confirmedCurrent: true } : {}),
    // Only a HeadObject of the current object (not of one version) says what replaced the removed one.
    ...(hint.removedVersionId && !options.exactVersion && found.versionId !== hint.removedVersionId ? { afterRemovalOf: hint.removedVersionId } : {}),
  });
  audit.finding = annotate(listed.isLatest === false ? { ...found, isLatest: false } : found);
  if (audit.finding.remediate && deps.remediator && !isTransient(audit.finding)) return annotate(await deps.remediator(audit));
  return audit.finding;
}

/**
 * The store kept a recorded version over an audit of the current object because LastModified put
 * the audit behind it. If S3 answers that the recorded version is gone (deleted permanently, its
 * event unheard), the object is audited afresh naming it removed, so the version now current
 * replaces it; otherwise (a newer write raced the audit) nothing more is done. Only a 404 counts as
 * gone: a HeadObject that failed (throttled, 5xx, timed out) comes back as a transient finding, so
 * the caller retries instead of taking the recorded version for settled.
 */
export async function auditAfterRecordedVersionGone(
  deps: AuditDependencies & { remediator?: Remediator | undefined },
  bucket: string,
  recheck: { finding: Finding; recordedVersionId: string },
): Promise<Finding | undefined> {
  const listed = { key: recheck.finding.key, size: recheck.finding.size };
  const recorded = await deps.objects.inspect(bucket, listed, recheck.recordedVersionId);
  if (recorded.status === 'unreadable' && recorded.reason === 'object-unreadable') return (await evaluateInspection(deps, recorded, listed.size)).finding;
  if (recorded.status !== 'unreadable' || recorded.reason !== 'object-vanished') return undefined;
  return auditThenFix(deps, bucket, listed, { removedVersionId: recheck.recordedVersionId });
}

const listedOf = (request: AuditRequest): ListedObject => ({
  key: request.key,
  size: request.size ?? 0,
  // A sweep of every version names the version to audit and whether it is the current one.
  ...(request.exactVersion && request.versionId ? { versionId: request.versionId } : {}),
  ...(request.isLatest === undefined ? {} : { isLatest: request.isLatest }),
});
const hintOf = (request: AuditRequest): AuditHint => ({
  ...(request.versionId ? { versionId: request.versionId } : {}),
  ...(request.etag ? { etag: request.etag } : {}),
  ...(request.sequencer ? { sequencer: request.sequencer } : {}),
  ...(request.removedVersionId ? { removedVersionId: request.removedVersionId } : {}),
});

/**
 * Re-evaluates an object after a change of the KMS key it depends on. Nothing to do when the table
 * holds no state for it (its own audit records it) or it has moved to another key since the page
 * was queued. Recorded facts are never fixed from (a fix starts from a fresh HeadObject); an object
 * audited afresh goes through auditThenFix like any other.
 */
async function reevaluate(deps: AuditDependencies, request: AuditRequest, stored: StoredFinding | undefined): Promise<Finding | undefined> {
  if (!stored || stored.kmsKeyArn !== request.changedKeyArn) return undefined;
  const inspection = inspectionFromStored(stored);
  // Recorded before its facts were kept: a fresh HeadObject tells, never a guess from what is left.
  if (!inspection) return auditThenFix(deps, request.bucket, { key: request.key, size: stored.size });
  const { finding } = await evaluateInspection(deps, inspection, stored.size);
  // Only the key changed: the finding rests on the evidence the recorded facts came from, as old as it.
  return {
    ...finding,
    ...(stored.evidence ? { evidence: stored.evidence } : {}),
    ...(stored.evidenceAt ? { evidenceAt: stored.evidenceAt } : {}),
  };
}

/** The finding with the account and Region of what it was audited for (a request or an earlier finding), when known. */
function originOf(from: Pick<AuditRequest, 'account' | 'region'>, finding: Finding): Finding {
  return from.account ? { ...finding, account: from.account, ...(from.region ? { region: from.region } : {}) } : finding;
}

export async function auditRequests(deps: RequestAuditDependencies, requests: AuditRequest[]): Promise<RequestAuditResult> {
  const changedKeys = new Set(requests.flatMap((r) => (r.source === 'key-event' && r.changedKeyArn ? [r.changedKeyArn] : [])));
  // The key's state changed: describe it afresh, whatever this process cached.
  for (const arn of changedKeys) deps.keys.forget?.(arn);
  // What is recorded now about the objects to re-evaluate: one consistent read per bucket.
  const keysByBucket = new Map<string, string[]>();
  for (const r of requests) if (r.source === 'key-event') keysByBucket.set(r.bucket, [...(keysByBucket.get(r.bucket) ?? []), r.key]);
  const stored = new Map<string, Map<string, StoredFinding>>();
  for (const [bucket, keys] of keysByBucket) stored.set(bucket, await deps.store.statesOf(bucket, keys));
  const audited = await mapConcurrently(requests, deps.concurrency ?? 8, (request) =>
    request.source === 'key-event'
      ? reevaluate(deps, request, stored.get(request.bucket)?.get(request.key))
      : request.deleteMarker
        ? Promise.resolve(request.isLatest ? deletedObjectFinding(request.bucket, request.key, deps.clock?.() ?? new Date()) : undefined)
        : auditThenFix(deps, request.bucket, listedOf(request), hintOf(request), request.exactVersion ? { exactVersion: true } : {}),
  );
  // Each finding carries its bucket's account and Region where the request names them.
  const findings = audited.map((f, i) => (f ? originOf(requests[i]!, f) : f)).filter((f): f is Finding => f !== undefined);
  const transient = findings.filter(isTransient);
  const recorded = findings.filter((f) => !isTransient(f));
  const { undecided, recheck = [] } = await deps.store.record(recorded);
  if (recheck.length > 0) {
    const after = await mapConcurrently(recheck, deps.concurrency ?? 8, (r) => auditAfterRecordedVersionGone(deps, r.finding.bucket, r));
    const found = after.filter((f): f is Finding => f !== undefined);
    transient.push(...found.filter(isTransient));
    await deps.store.record(found.filter((f) => !isTransient(f)));
  }
  if (undecided.length > 0) {
    // Two versions the object itself cannot order: a fresh HeadObject of the current one decides.
    const again = await mapConcurrently(undecided, deps.concurrency ?? 8, async (f) =>
      originOf(f, await auditThenFix(deps, f.bucket, { key: f.key, size: f.size }, {}, { confirmedCurrent: true })),
    );
    transient.push(...again.filter(isTransient));
    await deps.store.record(again.filter((f) => !isTransient(f)));
  }
  return { recorded, transient };
}
