// What auditing and fixing a whole Organization will cost: each bucket priced as `plan` prices one
// (shared/plan/plan.ts), then summed per account and Region, and for the run. Pure.
//
// | figure                   | per account × Region          | total                                        |
// |--------------------------|-------------------------------|----------------------------------------------|
// | objects, bytes, requests,| sum over its buckets          | sum over every account and Region            |
// | KMS calls, dollars       |                               |                                              |
// | hours                    | sum over its buckets (an      | wall time: accounts run `accountConcurrency` |
// |                          | account's buckets run one     | at a time, so the longer of the longest      |
// |                          | after another)                | account and the sum ÷ that concurrency       |
//
// A bucket without a usable inventory report is counted by listing it: objects and bytes are
// exact, their modes unknown, so the audit is priced and the fix is not (`unpricedFixObjects`):
// the fix figures are then a floor, and the output says so.
import type { Cost, Plan } from './estimate.ts';

export interface BucketPlan {
  account: string;
  region: string;
  bucket: string;
  /** Where the counts come from: the bucket's newest S3 Inventory report, or a listing (no modes). */
  evidence: 'inventory' | 'listing';
  /** Why a listing (no inventory configuration, no usable report). */
  reason?: string;
  plan: Plan;
}

export type CostSum = Omit<Cost, 'pacedBy'>;

export interface PlanSums {
  buckets: number;
  /** Buckets counted from an inventory report (the others by listing). */
  fromInventory: number;
  objects: number;
  bytes: number;
  /** Objects whose mode is unknown (listed, no inventory): their fix is not in the fix figures. */
  unpricedFixObjects: number;
  audit: { headSweep: CostSum; inventorySweepFirst: CostSum; inventorySweepSteady: CostSum };
  fix: { perObject: CostSum; batch: CostSum };
}

export interface AccountRegionPlan extends PlanSums {
  account: string;
  region: string;
}

export interface OrganizationPlanTotals extends PlanSums {
  accounts: number;
  /** Accounts worked on at once, which the total hours assume. */
  accountConcurrency: number;
}

const zeroCost = (): CostSum => ({ s3Requests: 0, kmsCalls: 0, dollars: 0, hours: 0 });
const zeroSums = (): PlanSums => ({
  buckets: 0,
  fromInventory: 0,
  objects: 0,
  bytes: 0,
  unpricedFixObjects: 0,
  audit: { headSweep: zeroCost(), inventorySweepFirst: zeroCost(), inventorySweepSteady: zeroCost() },
  fix: { perObject: zeroCost(), batch: zeroCost() },
});

// Micro-dollar precision, as plan.ts.
const round = (n: number) => Math.round(n * 1e6) / 1e6;

function addCost(into: CostSum, cost: CostSum): void {
  into.s3Requests += cost.s3Requests;
  into.kmsCalls += cost.kmsCalls;
  into.dollars = round(into.dollars + cost.dollars);
  into.hours = round(into.hours + cost.hours);
}

function addBucket(into: PlanSums, bucket: BucketPlan): void {
  const { plan } = bucket;
  into.buckets += 1;
  if (bucket.evidence === 'inventory') into.fromInventory += 1;
  into.objects += plan.objects;
  into.bytes += plan.bytes;
  const unknown = plan.byMode.unknown;
  into.unpricedFixObjects += (unknown?.current.objects ?? 0) + (unknown?.noncurrent.objects ?? 0);
  addCost(into.audit.headSweep, plan.audit.headSweep);
  addCost(into.audit.inventorySweepFirst, plan.audit.inventorySweepFirst);
  addCost(into.audit.inventorySweepSteady, plan.audit.inventorySweepSteady);
  addCost(into.fix.perObject, plan.fix.perObject);
  addCost(into.fix.batch, plan.fix.batch);
}

const COSTS = [
  (s: PlanSums) => s.audit.headSweep,
  (s: PlanSums) => s.audit.inventorySweepFirst,
  (s: PlanSums) => s.audit.inventorySweepSteady,
  (s: PlanSums) => s.fix.perObject,
  (s: PlanSums) => s.fix.batch,
];

/** Per account and Region (sorted by account, then Region), and the run's total. */
export function organizationPlan(buckets: readonly BucketPlan[], accounts: readonly string[], accountConcurrency: number): { byAccountRegion: AccountRegionPlan[]; total: OrganizationPlanTotals } {
  const byPlace = new Map<string, AccountRegionPlan>();
  const byAccount = new Map<string, PlanSums>();
  const total: OrganizationPlanTotals = { ...zeroSums(), accounts: accounts.length, accountConcurrency };
  for (const bucket of buckets) {
    const id = `${bucket.account}/${bucket.region}`;
    const place = byPlace.get(id) ?? { account: bucket.account, region: bucket.region, ...zeroSums() };
    byPlace.set(id, place);
    addBucket(place, bucket);
    const account = byAccount.get(bucket.account) ?? zeroSums();
    byAccount.set(bucket.account, account);
    addBucket(account, bucket);
    addBucket(total, bucket);
  }
  // Wall time: accounts in parallel, `accountConcurrency` at a time; an account's buckets in turn.
  for (const costOf of COSTS) {
    const longest = Math.max(0, ...[...byAccount.values()].map((a) => costOf(a).hours));
    costOf(total).hours = round(Math.max(longest, costOf(total).hours / Math.max(1, accountConcurrency)));
  }
  const byAccountRegion = [...byPlace.values()].sort((a, b) => (a.account === b.account ? (a.region < b.region ? -1 : 1) : a.account < b.account ? -1 : 1));
  return { byAccountRegion, total };
}
