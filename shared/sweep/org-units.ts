// The worker's side of the Organization sweep: one account message, then one step per message of
// each account × Region unit. What decides each outcome:
//
// | # | what happened                                                     | recorded                         | message   |
// |---|-------------------------------------------------------------------|----------------------------------|-----------|
// | 1 | account already recorded (a redelivery)                           | nothing; units re-sent only if   | done      |
// |   |                                                                   | the first delivery did not       |           |
// | 2 | role refused, ListBuckets denied (not transient)                  | account gap, why                 | done      |
// | 3 | throttled, 5xx, timed out (transient), not the last delivery      | nothing                          | retried   |
// | 4 | the same on the message's last delivery                           | account gap, why and deliveries  | done      |
// | 5 | buckets listed                                                    | account + one unit per Region    | units sent|
// | 6 | page already counted (a redelivery)                               | nothing; next step re-sent only  | done      |
// |   |                                                                   | if the first delivery did not    |           |
// | 7 | page listed and every object audited                              | page counted into its unit       | next sent |
// | 8 | listing denied (not transient)                                    | bucket gap; unit goes on         | next sent |
// | 9 | listing or some objects transient, not the last delivery          | nothing (audits are idempotent)  | retried   |
// |10 | the same on the last delivery                                     | page counted, bucket/objects gap | next sent |
//
// A gap is never a verdict: no finding is written for what was not audited. A unit's next step is
// sent only after its page is counted, so one message per account × Region is in flight at a time.
import { AccountUnreachableError } from '../accounts/credentials.ts';
import type { AccountBucket } from '../accounts/account-buckets.ts';
import { errorFacts, isTransientServiceError } from '../aws/errors.ts';
import type { ListedObject } from '../domain/listed-object.ts';
import type { Finding } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';
import type { AuditRequest } from '../events/audit-queue-messages.ts';
import { orgUnitMessage, type OrgAccountMessage, type OrgUnitMessage, type OrgUnitStep } from '../events/org-messages.ts';
import type { OrgPageRef, OrgSweepRuns, OrgUnitGap } from '../findings/org-sweep-runs.ts';

export interface OrgUnitDependencies {
  runs: Pick<OrgSweepRuns, 'account' | 'recordAccount' | 'markUnitsSent' | 'unit' | 'page' | 'countPage' | 'markPageSent'>;
  queue: { sendToAuditQueue(bodies: string[]): Promise<void> };
  /** Assumes the account's role (AccountUnreachableError when refused), then lists its buckets in scope with their Regions. */
  buckets(account: string): Promise<AccountBucket[]>;
  /** One listing page of a bucket, with the account's role in the bucket's Region. */
  listPage(account: string, region: string, bucket: string, token?: string): Promise<{ objects: ListedObject[]; nextToken?: string }>;
  /** Audits and records objects of the account (its role, the bucket's Region); transient ones are returned apart. */
  audit(account: string, region: string, requests: AuditRequest[]): Promise<{ recorded: Finding[]; transient: Finding[] }>;
  clock?: () => Date;
}

export interface Delivery {
  /** ApproximateReceiveCount. */
  receives: number;
  /** The last delivery before SQS dead-letters the message: a transient failure becomes a named gap now. */
  last: boolean;
}

export class RetryableOrgUnitError extends Error {
  override name = 'RetryableOrgUnitError';
}

export type OrgUnitOutcome =
  | { outcome: 'duplicate' | 'resent'; unitsSent?: number }
  | { outcome: 'gap'; reason: string }
  | { outcome: 'listed'; regions: string[]; buckets: number }
  | { outcome: 'counted'; objects: number; next: boolean; gap?: string };

const reasonOf = (error: unknown): string => {
  if (error instanceof AccountUnreachableError) return error.reason;
  const { name, message } = errorFacts(error);
  return `${name}: ${message}`;
};
/**
 * Throttling, 5xx, timeouts — here or under it (an AssumeRole refusal wraps STS's error, a listing
 * that exhausted its own retries wraps S3's): retried by SQS until the message's last delivery.
 */
const transient = (error: unknown): boolean => {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) if (isTransientServiceError(e)) return true;
  return false;
};

export async function auditOrgAccount(deps: OrgUnitDependencies, message: OrgAccountMessage, delivery: Delivery): Promise<OrgUnitOutcome> {
  const { runId, account } = message;
  const now = () => (deps.clock?.() ?? new Date()).toISOString();
  const recorded = await deps.runs.account(runId, account);
  if (recorded) {
    if (recorded.status === 'gap' || recorded.unitsSentAt) return { outcome: 'duplicate' };
    // Recorded, but the delivery that recorded it stopped before sending its units.
    const units = await Promise.all(recorded.regions.map((region) => deps.runs.unit(runId, account, region)));
    const sent = units.filter((u) => u && u.buckets.length > 0 && u.bucketsDone === 0 && u.pagesAudited === 0);
    await deps.queue.sendToAuditQueue(sent.map((u) => orgUnitMessage(runId, account, u!.region, { bucketIndex: 0, page: 0 })));
    await deps.runs.markUnitsSent(runId, account, now());
    return { outcome: 'resent', unitsSent: sent.length };
  }
  let buckets: AccountBucket[];
  try {
    buckets = await deps.buckets(account);
  } catch (error) {
    if (transient(error) && !delivery.last) throw new RetryableOrgUnitError(`account ${account} (delivery ${delivery.receives}): ${reasonOf(error)}`, { cause: error });
    const reason = transient(error) ? `${reasonOf(error)} (still failing after ${delivery.receives} deliveries)` : reasonOf(error);
    await deps.runs.recordAccount(runId, { account, status: 'gap', reason });
    return { outcome: 'gap', reason };
  }
  const byRegion = new Map<string, string[]>();
  for (const b of buckets) byRegion.set(b.region, [...(byRegion.get(b.region) ?? []), b.name]);
  const regions = [...byRegion.keys()].sort();
  const units = regions.map((region) => ({ region, buckets: byRegion.get(region)! }));
  if (await deps.runs.recordAccount(runId, { account, status: 'listed', regions, buckets: buckets.length }, units)) {
    await deps.queue.sendToAuditQueue(regions.map((region) => orgUnitMessage(runId, account, region, { bucketIndex: 0, page: 0 })));
    await deps.runs.markUnitsSent(runId, account, now());
  }
  return { outcome: 'listed', regions, buckets: buckets.length };
}

const tallyOf = (findings: Finding[]): Partial<Record<Verdict, number>> => {
  const verdicts: Partial<Record<Verdict, number>> = {};
  for (const f of findings) verdicts[f.verdict] = (verdicts[f.verdict] ?? 0) + 1;
  return verdicts;
};

export async function auditOrgUnitStep(deps: OrgUnitDependencies, message: OrgUnitMessage, delivery: Delivery): Promise<OrgUnitOutcome> {
  const { runId, account, region, bucketIndex, page, token } = message;
  const ref: OrgPageRef = { runId, account, region, bucketIndex, page };
  const now = () => (deps.clock?.() ?? new Date()).toISOString();
  const send = async (next: OrgUnitStep | undefined) => {
    if (!next) return;
    await deps.queue.sendToAuditQueue([orgUnitMessage(runId, account, region, next)]);
    await deps.runs.markPageSent(ref, now());
  };

  const marker = await deps.runs.page(ref);
  if (marker) {
    if (marker.nextSentAt || !marker.next) return { outcome: 'duplicate' };
    await send(marker.next);
    return { outcome: 'resent' };
  }
  const unit = await deps.runs.unit(runId, account, region);
  const bucket = unit?.buckets[bucketIndex];
  if (!unit || bucket === undefined) return { outcome: 'gap', reason: `no unit ${account} ${region} bucket #${bucketIndex} in run ${runId}` };

  let gap: OrgUnitGap | undefined;
  let objects: ListedObject[] = [];
  let nextToken: string | undefined;
  try {
    ({ objects, nextToken } = await deps.listPage(account, region, bucket, token));
  } catch (error) {
    if (transient(error) && !delivery.last) throw new RetryableOrgUnitError(`s3://${bucket} (${account}, ${region}, delivery ${delivery.receives}): ${reasonOf(error)}`, { cause: error });
    gap = { account, region, bucket, reason: `listing: ${reasonOf(error)}${transient(error) ? ` (still failing after ${delivery.receives} deliveries)` : ''}` };
  }
  const requests: AuditRequest[] = objects.map((o) => ({
    account,
    region,
    bucket,
    key: o.key,
    size: o.size,
    ...(o.etag ? { etag: o.etag } : {}),
    source: 'sweep' as const,
  }));
  const audited = requests.length > 0 ? await deps.audit(account, region, requests) : { recorded: [], transient: [] };
  if (audited.transient.length > 0) {
    const what = audited.transient.slice(0, 3).map((f) => `${f.key}: ${f.reasons.map((r) => r.message).join('; ')}`).join(' | ');
    if (!delivery.last) throw new RetryableOrgUnitError(`${audited.transient.length} objects of s3://${bucket} not audited (delivery ${delivery.receives}): ${what}`);
    gap = { account, region, bucket, reason: `${audited.transient.length} objects not audited after ${delivery.receives} deliveries (${what})` };
  }
  const next: OrgUnitStep | undefined = nextToken
    ? { bucketIndex, page: page + 1, token: nextToken }
    : bucketIndex + 1 < unit.buckets.length
      ? { bucketIndex: bucketIndex + 1, page: 0 }
      : undefined;
  const counted = await deps.runs.countPage(ref, {
    objects: audited.recorded.length,
    verdicts: tallyOf(audited.recorded),
    bucketDone: !nextToken,
    ...(gap ? { gap } : {}),
    ...(next ? { next } : {}),
  });
  // Counted by another delivery of this message, which sends the next step itself.
  if (!counted) return { outcome: 'duplicate' };
  await send(next);
  return { outcome: 'counted', objects: audited.recorded.length, next: next !== undefined, ...(gap ? { gap: gap.reason } : {}) };
}
