// plan --org's sums (shared/plan/account-plan.ts): per account and Region, and the run's total,
// whose hours are wall time with accounts in parallel.
import { expect, test } from 'vitest';
import { organizationPlan, type BucketPlan } from '../../shared/cost/account-plan.ts';
import { planFor } from '../../shared/cost/estimate.ts';
import { PRICES } from '../../shared/cost/prices.ts';
import { tallier } from '../../shared/cost/tally.ts';

function bucketPlan(account: string, region: string, bucket: string, objects: number, encryptionStatus?: 'SSE-S3'): BucketPlan {
  const tally = tallier({ partBytes: PRICES.assumptions.multipartPartBytes });
  for (let i = 0; i < objects; i++) tally.add({ bucket, key: `k${i}`, isDeleteMarker: false, size: 100, ...(encryptionStatus ? { encryptionStatus } : {}) });
  const plan = planFor(bucket, tally.result(), PRICES, { region, target: 'sse-kms', bucketKey: true, clientSideMatters: false });
  return { account, region, bucket, evidence: encryptionStatus ? 'inventory' : 'listing', plan };
}

test('rows per account and Region add their buckets; the total adds every row; listed objects are counted as not priced for the fix', () => {
  const buckets = [
    bucketPlan('111111111111', 'us-east-1', 'a1', 3000, 'SSE-S3'),
    bucketPlan('111111111111', 'us-east-1', 'a2', 1000),
    bucketPlan('111111111111', 'eu-west-1', 'a3', 500, 'SSE-S3'),
    bucketPlan('222222222222', 'us-east-1', 'b1', 200, 'SSE-S3'),
  ];
  const { byAccountRegion, total } = organizationPlan(buckets, ['111111111111', '222222222222', '333333333333'], 4);
  expect(byAccountRegion.map((p) => [p.account, p.region, p.buckets, p.objects, p.fromInventory, p.unpricedFixObjects])).toEqual([
    ['111111111111', 'eu-west-1', 1, 500, 1, 0],
    ['111111111111', 'us-east-1', 2, 4000, 1, 1000],
    ['222222222222', 'us-east-1', 1, 200, 1, 0],
  ]);
  const usEast = byAccountRegion[1]!;
  expect(usEast.audit.headSweep.s3Requests).toBe(buckets[0]!.plan.audit.headSweep.s3Requests + buckets[1]!.plan.audit.headSweep.s3Requests);
  expect(total).toMatchObject({ accounts: 3, buckets: 4, objects: 4700, unpricedFixObjects: 1000 });
  expect(total.fix.perObject.dollars).toBeCloseTo(buckets.reduce((n, b) => n + b.plan.fix.perObject.dollars, 0), 6);
});

test("the total's hours are wall time: the longest account, or the work shared by the accounts run at once, whichever is longer", () => {
  const one = [bucketPlan('111111111111', 'us-east-1', 'big', 200_000), bucketPlan('222222222222', 'us-east-1', 'small', 1000)];
  const longest = one[0]!.plan.audit.headSweep.hours;
  expect(organizationPlan(one, ['111111111111', '222222222222'], 4).total.audit.headSweep.hours).toBe(longest);
  // Eight equal accounts at four at once: twice one account's time.
  const eight = Array.from({ length: 8 }, (_, i) => bucketPlan(String(i).repeat(12), 'us-east-1', `b${i}`, 100_000));
  const each = eight[0]!.plan.audit.headSweep.hours;
  expect(organizationPlan(eight, eight.map((b) => b.account), 4).total.audit.headSweep.hours).toBeCloseTo(2 * each, 5);
});
