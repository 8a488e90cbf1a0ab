// Turns an audit that calls for a fix into the finding after the fix: carry out the policy's
// target with the remediation engine, then audit the object afresh (new facts, new version) and
// keep what was done — before and after — in the finding's remediation record.
//
// A fix is recorded durably before it is reported: its intent (object, version, ETag, planned fix)
// is written before the S3 call, and its outcome right after it (fixLog), not with the findings
// batch that a crash would lose. A crash between the two leaves the intent for the next audit of
// the object to close with what S3 shows (findings/record-decision.ts).
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Finding, RemediationRecord } from '../domain/finding.ts';
import type { FixIntent, FixLog } from '../findings/store.ts';
import { remediateObject, type RemediationOptions, type RemediationOutcome, type RemediationTarget } from '../remediation/index.ts';
import { planRemediation, type RemediationFacts } from '../remediation/fix-plan.ts';
import { auditObjectInDetail, evaluateInspection, type AuditDependencies, type ObjectAudit } from './audit-object.ts';
import type { Remediator } from './audit-batch.ts';
import { describeHolder, FixInProgressElsewhere, type FixOnce } from './idempotent-fix.ts';

export interface RemediatorDependencies extends AuditDependencies {
  s3: S3Client;
  options?: RemediationOptions;
  fixOnce?: FixOnce;
  /** Where intents and outcomes are written as they happen; absent: the outcome rides with the finding. */
  fixLog?: FixLog;
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

/** The fixes that change the object, and so need an intent before their S3 call. */
const WRITING_ACTIONS: readonly string[] = ['update-encryption', 'copy', 'multipart-copy'];

const beforeOf = (facts: RemediationFacts): RemediationOutcome['before'] => ({
  mode: facts.mode,
  bucketKeyEnabled: facts.bucketKeyEnabled,
  ...(facts.kmsKeyArn ? { kmsKeyArn: facts.kmsKeyArn } : {}),
  ...(facts.versionId ? { versionId: facts.versionId } : {}),
  ...(facts.etag ? { etag: facts.etag } : {}),
});

/** An outcome for a fix that did not run here: another process holds it, or the lock could not be had. */
function notRunHere(facts: RemediationFacts, target: RemediationTarget, outcome: 'skipped-being-fixed-elsewhere' | 'failed', message: string, now: Date): RemediationOutcome {
  const plan = planRemediation({ facts, target, now });
  return {
    outcome,
    plan,
    message,
    before: beforeOf(facts),
    notes: [],
  };
}

/** The outcome for a version whose recorded fix was a copy to another version: it was left as it is. */
function describesOtherVersion(facts: RemediationFacts, target: RemediationTarget, copiedTo: string, now: Date): RemediationOutcome {
  const plan = planRemediation({ facts, target, now });
  const before = beforeOf(facts);
  if (plan.action === 'blocked') return { outcome: plan.outcome, plan, message: plan.why, instruction: plan.instruction, before, notes: [] };
  return {
    outcome: 'skipped-object-changed',
    plan,
    message: `an earlier fix copied this version to version ${copiedTo}; this version itself is not at the target and was not changed`,
    before,
    notes: [],
  };
}

export function createRemediator(deps: RemediatorDependencies): Remediator {
  const fixOnce: FixOnce = deps.fixOnce ?? ((_identity, fix) => fix());
  return async (audit: ObjectAudit): Promise<Finding> => {
    const target = audit.requirement.target;
    if (audit.inspection.status !== 'read' || !target) return audit.finding;
    const facts: RemediationFacts = audit.inspection.facts;
    const now = deps.clock?.() ?? new Date();
    const dryRun = Boolean(deps.options?.dryRun);
    const planned = planRemediation({ facts, target, now, options: deps.options ?? {} });
    const writes = !dryRun && (WRITING_ACTIONS.includes(planned.action) || (planned.action === 'blocked' && planned.outcome === 'blocked-archived'));
    const intent: FixIntent | undefined =
      // Intents describe the object's current version; a noncurrent version's in-place update has none.
      writes && deps.fixLog && facts.etag && facts.isLatest !== false
        ? {
            id: `${now.toISOString()}#${randomBytes(4).toString('hex')}`,
            bucket: facts.bucket,
            key: facts.key,
            startedAt: now.toISOString(),
            action: planned.action,
            target,
            before: {
              mode: facts.mode,
              bucketKeyEnabled: facts.bucketKeyEnabled,
              ...(facts.kmsKeyArn ? { kmsKeyArn: facts.kmsKeyArn } : {}),
              ...(facts.versionId ? { versionId: facts.versionId } : {}),
              etag: facts.etag,
              ...(facts.lastModified ? { lastModified: facts.lastModified } : {}),
            },
            verdict: audit.finding.verdict,
          }
        : undefined;
    let ran = false;
    let outcome: RemediationOutcome;
    try {
      outcome = await fixOnce(
        {
          bucket: facts.bucket,
          key: facts.key,
          ...(facts.versionId ? { versionId: facts.versionId } : {}),
          ...(facts.etag ? { etag: facts.etag } : {}),
          // A copy fix of this version while it was current wrote a new version and left this one as
          // it was: its record must not stand for the version once it is noncurrent (the plan differs).
          ...(facts.isLatest === false ? { noncurrent: true } : {}),
          size: facts.size,
          target,
        },
        async () => {
          // Inside the lock: a duplicate that replays the first outcome writes no intent.
          if (intent) await deps.fixLog!.recordIntent(intent);
          ran = true;
          return remediateObject({ s3: deps.s3, ...(deps.clock ? { clock: deps.clock } : {}) }, facts, target, deps.options ?? {});
        },
      );
    } catch (error) {
      // Held by another live process, or the lock itself failed (its table throttled): try later.
      outcome =
        error instanceof FixInProgressElsewhere
          ? notRunHere(facts, target, 'skipped-being-fixed-elsewhere', `another process is fixing this object version now (${describeHolder(error.holder)}); it is audited again later`, now)
          : notRunHere(facts, target, 'failed', `the fix could not start: ${(error as Error).message}`, now);
    }
    // A replayed fix that wrote another version (a copy) says nothing about this version's encryption:
    // only a HeadObject of this exact version could, and the audit just made says it is not at target.
    if (!ran && outcome.after?.versionId && facts.versionId && outcome.after.versionId !== facts.versionId) {
      outcome = describesOtherVersion(facts, target, outcome.after.versionId, now);
    }
    deps.onOutcome?.(outcome);
    const at = deps.clock?.() ?? new Date();
    // Weather, or held elsewhere: the caller audits the object again later; nothing to log.
    if (outcome.outcome === 'failed' || outcome.outcome === 'skipped-being-fixed-elsewhere') {
      return { ...audit.finding, remediation: record(outcome, at), remediationRecorded: true };
    }
    // A replayed outcome (this version was fixed before) did nothing now: no new history entry.
    let remediation: Pick<Finding, 'remediation' | 'remediationRecorded'> = {};
    if (ran) {
      const done = record(outcome, at);
      if (intent) {
        try {
          await deps.fixLog!.recordOutcome(intent, done);
        } catch (error) {
          // The fix is made but not yet on record: the intent stays, and the next audit closes it.
          return { ...audit.finding, remediation: { ...done, outcome: 'failed', detail: `the outcome could not be recorded: ${(error as Error).message}` }, remediationRecorded: true };
        }
      }
      remediation = { remediation: done, ...(intent ? { remediationRecorded: true } : {}) };
    }
    if (!AUDIT_AGAIN.includes(outcome.outcome) || dryRun) return { ...audit.finding, ...remediation };
    const { after } = outcome;
    // A copy is a new write with its own LastModified, which the verifying HeadObject does not carry:
    // kept, the old one would make the next audit of the copy look like another version (a rewrite).
    const { lastModified: auditedLastModified, ...unchangedFacts } = facts;
    const keptFacts = outcome.plan.action === 'update-encryption' && auditedLastModified ? { ...unchangedFacts, lastModified: auditedLastModified } : unchangedFacts;
    // The engine verified the fix with a HeadObject: judge the object on what it saw there instead
    // of asking S3 a second time. Without a verified state, audit what is there now.
    const audited = after
      ? await evaluateInspection(
          deps,
          {
            status: 'read',
            facts: {
              ...keptFacts,
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
