// The scheduled sweep's Organization fan-out (SSEGUARD_ORGANIZATION_ID): the tick lists the accounts
// in scope and sends one `sseguard.org-account` message per account onto the audit queue; it never
// assumes a role or lists a bucket itself, so a thousand accounts never sit in one invocation. The
// worker does the rest (org-units.ts).
//
// | # | newest run                                   | this tick                                                   |
// |---|----------------------------------------------|-------------------------------------------------------------|
// | 1 | none, or started ≥ interval ago and enqueued | lists accounts, records the run, sends every account, marks it enqueued |
// | 2 | not marked enqueued (a tick stopped midway)  | sends every account of that run again (the worker records each once), marks it |
// | 3 | enqueued, started < interval ago             | nothing: not due                                            |
//
// Listing the accounts (Organizations, and ListTagsForResource with a tag filter) fails the tick
// when it keeps failing after the client's retries: no run is recorded from a partial listing, so a
// throttled Organizations API never yields a run that looks complete with accounts missing.
import { randomBytes } from 'node:crypto';
import { orgAccountMessage } from '../events/org-messages.ts';
import type { OrgSweepRun, OrgSweepRuns } from '../findings/org-sweep-runs.ts';

export interface OrgSweepDependencies {
  runs: Pick<OrgSweepRuns, 'latest' | 'start' | 'markEnqueued'>;
  queue: { sendToAuditQueue(bodies: string[]): Promise<void> };
  /** The ACTIVE accounts in scope (OUs, tags, exclusions; the central account left out: the stage sweeps its own buckets). */
  accounts(): Promise<string[]>;
  clock?: () => Date;
}

export type OrgSweepOutcome =
  | { status: 'started' | 'resumed'; runId: string; accounts: number }
  | { status: 'not-due'; reason: string };

export async function orgSweep(deps: OrgSweepDependencies, options: { organizationId: string; minimumIntervalMs: number }): Promise<OrgSweepOutcome> {
  const clock = deps.clock ?? (() => new Date());
  const latest = await deps.runs.latest();
  let run: OrgSweepRun;
  let status: 'started' | 'resumed';
  if (latest && !latest.enqueuedAt) {
    run = latest;
    status = 'resumed';
  } else if (latest && clock().getTime() - Date.parse(latest.startedAt) < options.minimumIntervalMs) {
    return { status: 'not-due', reason: `last Organization run started ${latest.startedAt}` };
  } else {
    const accounts = await deps.accounts();
    const startedAt = clock().toISOString();
    run = { runId: `${startedAt}~${randomBytes(3).toString('hex')}`, startedAt, organizationId: options.organizationId, accounts };
    await deps.runs.start(run);
    status = 'started';
  }
  await deps.queue.sendToAuditQueue(run.accounts.map((account) => orgAccountMessage(run.runId, account)));
  await deps.runs.markEnqueued(run.runId, clock().toISOString());
  return { status, runId: run.runId, accounts: run.accounts.length };
}
