// The remediator of `scan --remediate --batch`: an object whose fix is UpdateObjectEncryption becomes
// a task of its target's Batch job (jobs.ts); every other object takes the per-object path
// (copies stay conditional on the audited ETag). A target key of another account is refused for
// every object under it, with the reason, and no job.
import type { Remediator } from '../audit/audit-batch.ts';
import type { RemediationRecord } from '../domain/finding.ts';
import { planRemediation, type RemediationFacts } from '../remediation/fix-plan.ts';
import type { RemediationOutcomeCode } from '../remediation/outcomes.ts';
import { decideBatch } from './job-rules.ts';
import type { BatchCollector } from './jobs.ts';

export interface BatchRemediatorDependencies {
  perObject: Remediator;
  collector: Pick<BatchCollector, 'add'>;
  accountId: string;
  clock?: () => Date;
  onOutcome?: (outcome: RemediationOutcomeCode, line?: string) => void;
}

export function createBatchRemediator(deps: BatchRemediatorDependencies): Remediator {
  return async (audit) => {
    const target = audit.requirement.target;
    if (audit.inspection.status !== 'read' || !target) return deps.perObject(audit);
    const facts: RemediationFacts = audit.inspection.facts;
    const now = deps.clock?.() ?? new Date();
    const plan = planRemediation({ facts, target, now });
    const decision = decideBatch(plan, deps.accountId, facts.isLatest);
    if (decision.kind === 'per-object') return deps.perObject(audit);
    if (decision.kind === 'refused') {
      deps.onOutcome?.(decision.outcome, `s3://${facts.bucket}/${facts.key}: ${decision.outcome}: ${decision.why}`);
      const remediation: RemediationRecord = {
        action: 'update-encryption',
        outcome: decision.outcome,
        at: now.toISOString(),
        before: plan.from,
        detail: `${decision.why}; ${decision.instruction}`,
      };
      return { ...audit.finding, remediation };
    }
    await deps.collector.add(facts, { ...decision.target, policyTarget: target }, audit.finding.verdict);
    deps.onOutcome?.('in-batch-job');
    // The intent is the record of what is under way; the finding stays as audited until the job is folded.
    return audit.finding;
  };
}
