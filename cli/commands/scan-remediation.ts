// What `sseguard scan` does about objects the policy says to fix: nothing (the default: it only
// counts them), print the plan (--dry-run: per object the fix, and totals of objects, bytes copied
// and KMS requests), or fix them (--remediate), each fix at most once per object version.
import type { Remediator } from '#shared/audit/audit-batch.ts';
import { idempotentFix } from '#shared/audit/idempotent-fix.ts';
import { createRemediator } from '#shared/audit/remediator.ts';
import type { OwnedFixLocks } from '#shared/audit/owned-fix-locks.ts';
import type { ScanDependencies } from '#shared/audit/scan.ts';
import { describePlan, dryRunTotals, type DryRunTotals, type RemediationOutcome } from '#shared/remediation/index.ts';
import type { Runtime } from '#shared/runtime.ts';
import { BatchJobStore } from '#shared/findings/batch-job-store.ts';
import { BatchCollector } from '#shared/batch-operations/jobs.ts';
import { policyIdOf } from '#shared/domain/policy-identity.ts';
import type { BatchSettings } from '#shared/domain/batch-settings.ts';
import { createBatchRemediator } from '#shared/batch-operations/batch-remediator.ts';
import { createS3ControlClient } from '#shared/batch-operations/s3-control.ts';

export type RemediationMode = 'report' | 'dry-run' | 'fix';

export interface ScanRemediation {
  remediator?: Remediator;
  /** Outcomes by code ('planned' in a dry run). */
  outcomes: Record<string, number>;
  totals?: DryRunTotals;
  /** --batch: the objects whose fix is UpdateObjectEncryption, collected into S3 Batch Operations jobs. */
  batch?: BatchCollector;
  /** --remediate: this run's fix locks (released when the run is interrupted). */
  locks?: OwnedFixLocks;
}

function addTotals(into: DryRunTotals, more: DryRunTotals): void {
  into.objects += more.objects;
  into.bytesCopied += more.bytesCopied;
  into.kmsRequests += more.kmsRequests;
  for (const [action, n] of Object.entries(more.byAction)) into.byAction[action as keyof DryRunTotals['byAction']] += n;
  for (const [code, n] of Object.entries(more.blocked)) {
    const key = code as keyof DryRunTotals['blocked'];
    into.blocked[key] = (into.blocked[key] ?? 0) + (n ?? 0);
  }
}

export function scanRemediation(
  runtime: Runtime,
  deps: ScanDependencies,
  mode: RemediationMode,
  onPlan: (line: string) => void,
  batch?: { settings: BatchSettings; bucket: string },
): ScanRemediation {
  const state: ScanRemediation = { outcomes: {} };
  if (mode === 'report') return state;
  const count = (outcome: RemediationOutcome) => {
    state.outcomes[outcome.outcome] = (state.outcomes[outcome.outcome] ?? 0) + 1;
  };
  if (mode === 'dry-run') {
    const totals = dryRunTotals([]);
    state.totals = totals;
    const planOnly = createRemediator({
      ...deps,
      s3: runtime.clients.s3,
      options: { dryRun: true },
      onOutcome: (outcome) => {
        count(outcome);
        addTotals(totals, dryRunTotals([outcome.plan]));
        onPlan(describePlan(outcome.plan));
      },
    });
    // A plan is not an event in the object's life: keep it out of the recorded history.
    state.remediator = async (audit) => {
      const { remediation: _planned, ...finding } = await planOnly(audit);
      return finding;
    };
    return state;
  }
  // A fix left "in progress" by a CLI that died is taken over at once when that CLI ran on this host,
  // else once its lease (derived from the object's size) has run out; one held by a live process is
  // skipped and audited again later.
  const { fixOnce, locks } = idempotentFix(runtime.clients.dynamodb, runtime.config.idempotencyTable, { leaseBaseMs: runtime.config.fixLeaseBaseMs });
  const perObject = createRemediator({
    ...deps,
    s3: runtime.clients.s3,
    fixOnce,
    onOutcome: count,
    // Intents and outcomes are recorded as they happen, unless the scan records nothing.
    ...(deps.store ? { fixLog: runtime.store } : {}),
  });
  state.remediator = perObject;
  state.locks = locks;
  if (batch) {
    const collector = new BatchCollector(
      {
        jobs: new BatchJobStore(runtime.clients.documents, runtime.config.table),
        s3: runtime.clients.s3,
        control: createS3ControlClient(runtime.config),
        settings: batch.settings,
        // The job is folded under the policy it was made under (stored by its hash: scan records it first).
        policy: policyIdOf(deps.policy),
      },
      batch.bucket,
    );
    state.batch = collector;
    state.remediator = createBatchRemediator({
      perObject,
      collector,
      accountId: batch.settings.accountId,
      onOutcome: (outcome, line) => {
        state.outcomes[outcome] = (state.outcomes[outcome] ?? 0) + 1;
        if (line) onPlan(line);
      },
    });
  }
  return state;
}
