// `sseguard plan --org` on the emulator: a small Organization (test/support/organization.ts), one
// member bucket with a delivered S3 Inventory report, the others counted by listing; the account
// whose role refuses AssumeRole (STS boundary fake: moto enforces no trust policy) is a named gap.
import { PassThrough } from 'node:stream';
import { CreateBucketCommand, PutBucketInventoryConfigurationCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { beforeAll, expect, test } from 'vitest';
import { planAccountsCommand, type PlanAccountsOptions } from '../../cli/commands/plan-accounts.ts';
import { loadConfig } from '../../shared/config.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { runCli } from '../support/cli.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { buildOrganization, refusingAssumeRole, type TestOrganization } from '../support/organization.ts';

let org: TestOrganization;

interface Cost {
  s3Requests: number;
  kmsCalls: number;
  dollars: number;
  hours: number;
}
interface Sums {
  buckets: number;
  fromInventory: number;
  objects: number;
  bytes: number;
  unpricedFixObjects: number;
  audit: { headSweep: Cost; inventorySweepFirst: Cost; inventorySweepSteady: Cost };
  fix: { perObject: Cost; batch: Cost };
}
interface PlanOutput {
  accounts: { account: string; status: string }[];
  byAccountRegion: (Sums & { account: string; region: string })[];
  buckets: { account: string; region: string; bucket: string; evidence: string; reason?: string; objects: number; fix: { byMethod: { method: string; objects: number }[] } }[];
  total: Sums & { accounts: number };
  gaps: { account: string; reason: string }[];
  exitCode: number;
}

async function plan(options: Partial<PlanAccountsOptions> = {}): Promise<{ code: number; output: PlanOutput; sts: ReturnType<typeof refusingAssumeRole> }> {
  const sts = refusingAssumeRole(org.blocked);
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const code = await planAccountsCommand(
    loadConfig(),
    { org: true, roleName: 'sseguard-audit', buckets: ['org-member-*'], target: 'sse-kms', bucketKey: true, clientSide: false, json: true, ...options },
    out,
    { sts },
  );
  return { code, output: JSON.parse(printed) as PlanOutput, sts };
}

beforeAll(async () => {
  org = await buildOrganization({ members: 4 });
  // members[0]: an S3 Inventory report of its bucket, delivered to a bucket of the same account and Region.
  const member = org.members[0]!;
  const reports = `org-reports-${member.id}`;
  await member.clients.s3.send(
    new CreateBucketCommand({ Bucket: reports, ...(member.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: member.region as BucketLocationConstraint } }) }),
  );
  const configuration = inventoryConfiguration({ bucket: member.bucket, destinationBucket: reports, prefix: 'inv' });
  await member.clients.s3.send(new PutBucketInventoryConfigurationCommand({ Bucket: member.bucket, Id: configuration.Id!, InventoryConfiguration: configuration }));
  const delivered = await fetch(new URL(`/moto-api/sseguard/deliver-inventory?bucket=${member.bucket}&account=${member.id}`, process.env.AWS_ENDPOINT_URL), { method: 'POST' });
  expect(delivered.status).toBe(200);
}, 120_000);

test('plan --org prices every account and Region (per-account sums add up to the total); the refusing account (STS boundary fake) is a named gap, exit 2', async () => {
  const { code, output, sts } = await plan();
  expect(code).toBe(2);
  expect(output.exitCode).toBe(2);
  expect(output.gaps).toEqual([{ account: org.blocked, reason: expect.stringContaining('AccessDenied') }]);
  expect(output.accounts.find((a) => a.account === org.blocked)?.status).toBe('gap');
  expect(output.byAccountRegion.some((p) => p.account === org.blocked)).toBe(false);
  // Each reachable member: one row, its own Region, its bucket's objects.
  const reachable = org.members.filter((m) => m.id !== org.blocked);
  expect(output.byAccountRegion.map((p) => `${p.account}/${p.region}`).sort()).toEqual(reachable.map((m) => `${m.id}/${m.region}`).sort());
  for (const member of reachable) {
    const row = output.byAccountRegion.find((p) => p.account === member.id)!;
    const objects = member.id === org.sharedKey.owner || !org.sharedKey.usedBy.includes(member.id) ? 3 : 4;
    expect(row).toMatchObject({ buckets: 1, objects });
    // A HEAD sweep: one HeadObject per object and one ListObjectsV2 page.
    expect(row.audit.headSweep.s3Requests).toBe(objects + 1);
  }
  // The total is the sum of the rows.
  const sum = (pick: (s: Sums) => number) => output.byAccountRegion.reduce((n, p) => n + pick(p), 0);
  expect(output.total.objects).toBe(sum((s) => s.objects));
  expect(output.total.bytes).toBe(sum((s) => s.bytes));
  expect(output.total.audit.headSweep.s3Requests).toBe(sum((s) => s.audit.headSweep.s3Requests));
  expect(output.total.fix.perObject.dollars).toBeCloseTo(sum((s) => s.fix.perObject.dollars), 6);
  expect(output.total.accounts).toBe(org.members.length + 1);
  // One AssumeRole per member account.
  expect(new Set(sts.assumeRoleCalls).size).toBe(org.members.length);
});

test("a bucket with an inventory report is priced from it (modes known: the SSE-S3 object is an update, SSE-C blocked); the others by listing, their fix not priced", async () => {
  const { output } = await plan();
  const fromReport = output.buckets.find((b) => b.bucket === org.members[0]!.bucket)!;
  expect(fromReport.evidence).toBe('inventory');
  expect(Object.fromEntries(fromReport.fix.byMethod.map((m) => [m.method, m.objects]))).toEqual({ update: 1, none: 1, blocked: 1 });
  const ownRow = output.byAccountRegion.find((p) => p.account === org.members[0]!.id)!;
  expect(ownRow).toMatchObject({ fromInventory: 1, unpricedFixObjects: 0 });
  // UpdateObjectEncryption and its verifying HeadObject.
  expect(ownRow.fix.perObject.s3Requests).toBe(2);
  const listed = output.buckets.find((b) => b.bucket === org.members[1]!.bucket)!;
  expect(listed).toMatchObject({ evidence: 'listing', reason: 'no inventory configuration' });
  const listedRow = output.byAccountRegion.find((p) => p.account === org.members[1]!.id)!;
  expect(listedRow).toMatchObject({ fromInventory: 0, unpricedFixObjects: listedRow.objects });
  expect(output.total.unpricedFixObjects).toBe(output.total.objects - 3);
});

test('--accounts prices only those accounts; all reachable: exit 0', async () => {
  const chosen = [org.members[1]!.id, org.members[2]!.id];
  const { code, output } = await plan({ org: false, accounts: chosen });
  expect(code).toBe(0);
  expect(output.gaps).toEqual([]);
  expect(output.byAccountRegion.map((p) => p.account).sort()).toEqual([...chosen].sort());
});

test('injected faults: a member bucket whose listing fails with 5xx after every retry is a named gap (exit 2), never a zero count', async () => {
  const failing = org.members[1]!;
  const proxy = await startFaultProxy({ target: process.env.AWS_ENDPOINT_URL!, rules: [{ service: 's3', operation: 'ListObjectsV2', path: new RegExp(`^/${failing.bucket}`), rate: 1, kind: 'server-error' }] });
  try {
    const base = loadConfig();
    const config = { ...base, endpoints: Object.fromEntries(Object.keys(base.endpoints).map((service) => [service, proxy.endpoint])) };
    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const options: PlanAccountsOptions = { accounts: [failing.id, org.members[2]!.id], roleName: 'sseguard-audit', target: 'sse-kms', bucketKey: true, clientSide: false, json: true };
    const code = await planAccountsCommand(config, options, out, { sts: refusingAssumeRole('000000000000') });
    const output = JSON.parse(printed) as PlanOutput;
    expect(code).toBe(2);
    expect(output.gaps).toEqual([{ account: failing.id, region: failing.region, bucket: failing.bucket, reason: expect.any(String) }]);
    expect(output.accounts.find((a) => a.account === failing.id)?.status).toBe('partial');
    expect(output.buckets.some((b) => b.bucket === failing.bucket)).toBe(false);
    expect(output.byAccountRegion.map((p) => p.account)).toEqual([org.members[2]!.id]);
    expect(proxy.stats().faults).not.toEqual({});
  } finally {
    await proxy.close();
  }
}, 120_000);

test('the CLI: plan --accounts prints the table per account and Region with a total; plan without a bucket or accounts says what to name (exit 2)', async () => {
  const member = org.members[2]!;
  const run = await runCli(['plan', '--accounts', member.id, '--buckets', 'org-member-*']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(new RegExp(`${member.id}\\s+${member.region}\\s+1 \\(0 by inventory\\)`));
  expect(run.stdout).toContain('Total: ');
  expect(run.stdout).toContain('their fix is not priced');
  const bare = await runCli(['plan']);
  expect(bare.code).toBe(2);
  expect(bare.stderr).toContain('name a bucket and its inventory');
});
