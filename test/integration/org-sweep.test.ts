// The deployed sweep over an AWS Organization, on the emulator: the sweep handler (in-process) only
// lists the accounts and enqueues one message each; the audit worker, draining the real queue,
// assumes each member's role, lists its buckets, and walks each account × Region one page per
// message. moto's AssumeRole credentials act in the role's account; moto enforces no trust policy,
// so the account whose role refuses AssumeRole, and STS throttling, are made at the STS client
// boundary in AWS's shapes (test/support/organization.ts). Organizations throttling is injected at
// the wire by the fault proxy. Every AWS call of the handlers goes through that proxy.
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DescribeOrganizationCommand, OrganizationsClient, TagResourceCommand } from '@aws-sdk/client-organizations';
import { STSServiceException } from '@aws-sdk/client-sts';
import { PassThrough } from 'node:stream';
import type { Pluggable } from '@smithy/types';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { accountsScanCommand } from '../../cli/commands/accounts.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetMemberAccounts } from '../../functions/commons/member-accounts.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { resetOrgSweepClient } from '../../functions/commons/sweep-dependencies.ts';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { handler as sweepHandler, type SweepTickOutcome } from '../../functions/sweep.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { orgAccountMessage, orgUnitMessage } from '../../shared/events/org-messages.ts';
import { OrgSweepRuns, type OrgSweepCoverage } from '../../shared/findings/org-sweep-runs.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { buildOrganization, refusingAssumeRole, type TestOrganization } from '../support/organization.ts';
import { runCli } from '../support/cli.ts';
import { drainQueue, pollOnce } from '../support/sqs-event-source.ts';

Object.assign(process.env, {
  SSEGUARD_TABLE: 'org-sweep-findings',
  SSEGUARD_QUEUE: 'org-sweep-audit',
  SSEGUARD_SWEEP_BUCKETS: '',
  SSEGUARD_SWEEP_INTERVAL_HOURS: '24',
  SSEGUARD_MEMBER_ROLE_NAME: 'sseguard-audit',
  SSEGUARD_MAX_RECEIVE_COUNT: '3',
});
delete process.env.SSEGUARD_POLICY;
for (const name of ['SSEGUARD_ORG_TAGS', 'SSEGUARD_ORG_OUS', 'SSEGUARD_ORG_EXCLUDE', 'SSEGUARD_ORG_BUCKETS', 'SSEGUARD_SWEEP_REGIONS']) delete process.env[name];

const MEMBERS = 6;
const workerContext = localLambdaContext('audit-worker');
const sweepContext = localLambdaContext('sweep');
let org: TestOrganization;
let emulator: string;
let proxy: FaultProxy;
let sqs: SQSClient;
let queueUrl: string;
let firstRun: string;

const runs = () => new OrgSweepRuns(createRuntime(loadConfig()).clients.documents, loadConfig().table);
const coverageOf = async (runId: string): Promise<OrgSweepCoverage> => (await runs().coverage(runId))!;
const reachable = () => org.members.filter((m) => m.id !== org.blocked);
/** Objects each member holds (buildOrganization): three, and one more under the shared key for four of them. */
const objectsOf = (id: string) => 3 + (org.sharedKey.usedBy.includes(id) ? 1 : 0);

/** A fresh configuration for the handlers (env changed), member roles assumed through `sts`. */
function reconfigure(env: Record<string, string | undefined>, sts = refusingAssumeRole(org.blocked)) {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  resetHandlerRuntime();
  resetOrgSweepClient();
  resetMemberAccounts({ sts });
}

async function tick(): Promise<SweepTickOutcome & { organization: { status: string; runId?: string; accounts?: number } }> {
  return (await sweepHandler({}, sweepContext)) as never;
}

async function queued(): Promise<number> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

beforeAll(async () => {
  emulator = process.env.AWS_ENDPOINT_URL!;
  org = await buildOrganization({ members: MEMBERS });
  const { Organization } = await new OrganizationsClient({}).send(new DescribeOrganizationCommand({}));
  proxy = await startFaultProxy({ target: emulator, seed: 3 });
  reconfigure({ AWS_ENDPOINT_URL: proxy.endpoint, SSEGUARD_ORGANIZATION_ID: Organization!.Id! });
  const { config, clients } = createRuntime(loadConfig());
  sqs = clients.sqs;
  await ensureFindingsTable(clients.dynamodb, config.table);
  await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  ({ queueUrl } = await ensureQueues(sqs, config));
}, 180_000);

afterAll(async () => {
  resetMemberAccounts();
  await proxy?.close();
});

test('the sweep tick only enqueues: one message per ACTIVE member account (the central account left out), nothing assumed or listed; the run is in progress, every account pending', async () => {
  proxy.resetStats();
  const outcome = await tick();
  expect(outcome.status).toBe('no-buckets');
  expect(outcome.organization).toMatchObject({ status: 'started', accounts: MEMBERS });
  firstRun = outcome.organization.runId!;
  expect(await queued()).toBe(MEMBERS);
  const calls = proxy.stats().requests;
  expect(Object.keys(calls).filter((k) => /^(s3:(ListBuckets|ListObjectsV2|HeadObject|GetBucketLocation)|kms:)/.test(k))).toEqual([]);
  const coverage = await coverageOf(firstRun);
  expect(coverage.run.accounts).toEqual(org.members.map((m) => m.id).sort());
  expect(coverage.run.accounts).not.toContain(org.management);
  expect(coverage.status).toBe('in-progress');
  expect(new Set(coverage.accounts.map((a) => a.status))).toEqual(new Set(['pending']));
  // The next tick within the interval starts nothing.
  expect((await tick()).organization).toMatchObject({ status: 'not-due' });
  expect(await queued()).toBe(MEMBERS);
}, 60_000);

test('draining the queue with the worker covers every reachable account through its own role, account × Region; the account whose role refuses AssumeRole (STS boundary fake) is a named gap, no verdict', async () => {
  expect(await drainQueue(sqs, queueUrl, auditWorker, workerContext, 100)).toEqual([]);
  const coverage = await coverageOf(firstRun);
  expect(coverage.status).toBe('complete');
  expect(coverage.gaps).toEqual([{ account: org.blocked, reason: expect.stringContaining('AccessDenied') }]);
  for (const member of reachable()) {
    expect(coverage.accounts.find((a) => a.account === member.id), member.id).toEqual({
      account: member.id,
      status: 'covered',
      regions: [member.region],
      buckets: 1,
      bucketsDone: 1,
      objects: objectsOf(member.id),
    });
  }
  expect(coverage.accounts.find((a) => a.account === org.blocked)).toMatchObject({ status: 'gap', objects: 0 });
  expect(coverage.objectsAudited).toBe(reachable().reduce((n, m) => n + objectsOf(m.id), 0));
  // Findings carry each member's account and Region; none for the blocked account.
  const { store } = createRuntime(loadConfig());
  for (const member of org.members) {
    const findings = [];
    for await (const page of store.findings({ bucket: member.bucket })) findings.push(...page);
    if (member.id === org.blocked) {
      expect(findings).toEqual([]);
      continue;
    }
    expect(findings.map((f) => [f.account, f.region]), member.id).toEqual(Array(objectsOf(member.id)).fill([member.id, member.region]));
    expect(findings.find((f) => f.key === 'data/sse-c.bin')?.verdict).toBe('noncompliant');
    expect(findings.find((f) => f.key === 'data/own-key.txt')?.verdict).toBe(member.id === org.atRisk ? 'at-risk' : 'compliant');
  }
  // The verdicts counted in the run are the recorded ones.
  expect(Object.values(coverage.verdicts).reduce((a, b) => a + (b ?? 0), 0)).toBe(coverage.objectsAudited);
}, 120_000);

test('a redelivered account or unit message is neither audited nor counted twice', async () => {
  const member = reachable()[0]!;
  const before = await coverageOf(firstRun);
  proxy.resetStats();
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: [
        { Id: 'account', MessageBody: orgAccountMessage(firstRun, member.id) },
        { Id: 'unit', MessageBody: orgUnitMessage(firstRun, member.id, member.region, { bucketIndex: 0, page: 0 }) },
        { Id: 'blocked', MessageBody: orgAccountMessage(firstRun, org.blocked) },
      ],
    }),
  );
  expect(await drainQueue(sqs, queueUrl, auditWorker, workerContext)).toEqual([]);
  const requests = proxy.stats().requests;
  expect(requests['s3:HeadObject'] ?? 0).toBe(0);
  expect(requests['s3:ListObjectsV2'] ?? 0).toBe(0);
  expect(requests['s3:ListBuckets'] ?? 0).toBe(0);
  expect(await coverageOf(firstRun)).toEqual(before);
  expect(await queued()).toBe(0);
}, 60_000);

test('a delivery that recorded an account, or counted a page, and stopped before sending the next step: its redelivery sends that step, and the run completes', async () => {
  const member = reachable()[1]!;
  const store = runs();
  // Runs that began long ago (their ids sort first: the sweep's newest run stays the newest).
  const crashedAccount = '2026-01-01T00:00:00.000Z~crash1';
  const crashedPage = '2026-01-01T00:00:00.000Z~crash2';
  for (const runId of [crashedAccount, crashedPage]) {
    await store.start({ runId, startedAt: '2026-01-01T00:00:00.000Z', organizationId: 'o-crashed0000', accounts: [member.id], enqueuedAt: '2026-01-01T00:00:01.000Z' });
  }
  // 1. The account and its unit recorded, the unit's first step never sent.
  await store.recordAccount(crashedAccount, { account: member.id, status: 'listed', regions: [member.region], buckets: 1 }, [{ region: member.region, buckets: [member.bucket] }]);
  // 2. A unit of two buckets whose first page was counted, its next step (the second bucket) never sent.
  await store.recordAccount(crashedPage, { account: member.id, status: 'listed', regions: [member.region], buckets: 2 }, [{ region: member.region, buckets: [`gone-${member.id}`, member.bucket] }]);
  await store.countPage({ runId: crashedPage, account: member.id, region: member.region, bucketIndex: 0, page: 0 }, { objects: 0, verdicts: {}, bucketDone: true, next: { bucketIndex: 1, page: 0 } });
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: [
        { Id: 'account', MessageBody: orgAccountMessage(crashedAccount, member.id) },
        { Id: 'page', MessageBody: orgUnitMessage(crashedPage, member.id, member.region, { bucketIndex: 0, page: 0 }) },
      ],
    }),
  );
  expect(await drainQueue(sqs, queueUrl, auditWorker, workerContext)).toEqual([]);
  expect((await coverageOf(crashedAccount)).accounts).toEqual([{ account: member.id, status: 'covered', regions: [member.region], buckets: 1, bucketsDone: 1, objects: objectsOf(member.id) }]);
  expect((await coverageOf(crashedPage)).accounts).toEqual([{ account: member.id, status: 'covered', regions: [member.region], buckets: 2, bucketsDone: 2, objects: objectsOf(member.id) }]);
  expect((await coverageOf(crashedPage)).status).toBe('complete');
}, 60_000);

/** An STS client whose AssumeRole into `accounts` answers AWS's throttling error, the first `times` calls each (then the emulator answers). */
function throttlingAssumeRole(accounts: Record<string, number>) {
  const client = refusingAssumeRole(org.blocked);
  const left = { ...accounts };
  const plugin: Pluggable<object, object> = {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          const arn = (args.input as { RoleArn?: string }).RoleArn ?? '';
          const account = Object.keys(left).find((id) => arn.includes(`::${id}:`));
          if (context.commandName === 'AssumeRoleCommand' && account && left[account]! > 0) {
            left[account]! -= 1;
            throw new STSServiceException({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
          }
          return next(args);
        },
        { step: 'initialize', name: 'throttleAssumeRole', priority: 'high' },
      );
    },
  };
  (client.middlewareStack as unknown as { use(p: Pluggable<object, object>): void }).use(plugin);
  return client;
}

test('STS throttling (boundary fake, after the client\'s own retries) leaves the account pending and the run in progress — never gap-free — until a redelivery covers it; an account still throttled on its last delivery is a named gap', async () => {
  const [once, always] = reachable();
  reconfigure({ SSEGUARD_SWEEP_INTERVAL_HOURS: '0' }, throttlingAssumeRole({ [once!.id]: 1, [always!.id]: 1_000 }));
  const { organization } = await tick();
  expect(organization).toMatchObject({ status: 'started', accounts: MEMBERS });
  const runId = organization.runId!;
  // The first poll takes every account message; the throttled ones fail and stay on the queue.
  const first = await pollOnce(sqs, queueUrl, auditWorker, workerContext);
  expect(first.received).toBe(MEMBERS);
  expect(first.failed).toHaveLength(2);
  const midway = await coverageOf(runId);
  expect(midway.status).toBe('in-progress');
  expect(midway.accounts.filter((a) => a.status === 'pending').map((a) => a.account)).toEqual(expect.arrayContaining([once!.id, always!.id]));
  expect(midway.gaps.map((g) => g.account)).toEqual([org.blocked]);

  const failures = await drainQueue(sqs, queueUrl, auditWorker, workerContext, 100);
  // The always-throttled account fails its second delivery too; its third (the last) records the gap.
  expect(failures).toHaveLength(1);
  const done = await coverageOf(runId);
  expect(done.status).toBe('complete');
  expect(done.accounts.find((a) => a.account === once!.id)).toMatchObject({ status: 'covered', objects: objectsOf(once!.id) });
  expect(done.accounts.find((a) => a.account === always!.id)).toMatchObject({ status: 'gap', objects: 0 });
  expect(done.gaps).toEqual(
    expect.arrayContaining([
      { account: org.blocked, reason: expect.stringContaining('AccessDenied') },
      { account: always!.id, reason: expect.stringMatching(/Throttling.*still failing after 3 deliveries/) },
    ]),
  );
  expect(done.gaps).toHaveLength(2);
}, 120_000);

test('Organizations throttling during the fan-out is retried (the client\'s retries); when it persists the tick fails and records no run', async () => {
  reconfigure({ SSEGUARD_SWEEP_INTERVAL_HOURS: '0' });
  proxy.setRules([{ service: 'organizations', operation: 'ListAccounts', kind: 'throttle', rate: 1, times: 2 }]);
  const retried = await tick();
  expect(retried.organization).toMatchObject({ status: 'started', accounts: MEMBERS });
  expect(proxy.stats().faults['organizations:ListAccounts:throttle']).toBe(2);
  expect(await drainQueue(sqs, queueUrl, auditWorker, workerContext, 100)).toEqual([]);
  expect((await coverageOf(retried.organization.runId!)).status).toBe('complete');

  // Persistent throttling: no Organization run, the tick fails — after the central account's own
  // buckets were swept as usual (one failing part never stops the other).
  const { CreateBucketCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { s3 } = createRuntime(loadConfig()).clients;
  await s3.send(new CreateBucketCommand({ Bucket: 'org-central-data' }));
  await s3.send(new PutObjectCommand({ Bucket: 'org-central-data', Key: 'central.txt', Body: 'x', ServerSideEncryption: 'AES256' }));
  reconfigure({ SSEGUARD_SWEEP_BUCKETS: 'org-central-*' });
  proxy.setRules([{ service: 'organizations', operation: 'ListAccounts', kind: 'throttle', rate: 1 }]);
  try {
    await expect(tick()).rejects.toThrow(/too many requests/i);
  } finally {
    proxy.setRules([]);
    reconfigure({ SSEGUARD_SWEEP_BUCKETS: '' });
  }
  expect((await runs().latest())?.runId).toBe(retried.organization.runId);
  const { SweepRuns } = await import('../../shared/findings/sweep-runs.ts');
  const [central] = await new SweepRuns(createRuntime(loadConfig()).clients.documents, loadConfig().table).runs(1);
  expect(central).toMatchObject({ buckets: ['org-central-data'], objectsEnqueued: 1, finishedAt: expect.any(String) });
  expect(await drainQueue(sqs, queueUrl, auditWorker, workerContext)).toEqual([]);
  expect(await queued()).toBe(0);
}, 120_000);

test('tag filters: SSEGUARD_ORG_TAGS on the sweep, --org-tag on scan and accounts select the accounts whose Organizations tags match (every key, one of its values)', async () => {
  const organizations = new OrganizationsClient({});
  const [a, b, c] = reachable();
  const tag = (id: string, tags: Record<string, string>) =>
    organizations.send(new TagResourceCommand({ ResourceId: id, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  await tag(a!.id, { env: 'prod', team: 'data' });
  await tag(b!.id, { env: 'prod' });
  await tag(c!.id, { env: 'stage', team: 'data' });

  reconfigure({ SSEGUARD_SWEEP_INTERVAL_HOURS: '0', SSEGUARD_ORG_TAGS: 'env=prod,team=data' });
  const sweptRun = (await tick()).organization;
  expect((await coverageOf(sweptRun.runId!)).run.accounts).toEqual([a!.id]);
  expect(await drainQueue(sqs, queueUrl, auditWorker, workerContext, 100)).toEqual([]);
  reconfigure({ SSEGUARD_ORG_TAGS: 'env=prod,env=stage' });
  const both = (await tick()).organization;
  expect((await coverageOf(both.runId!)).run.accounts).toEqual([a!.id, b!.id, c!.id].sort());
  expect(await drainQueue(sqs, queueUrl, auditWorker, workerContext, 100)).toEqual([]);
  reconfigure({ SSEGUARD_ORG_TAGS: undefined, AWS_ENDPOINT_URL: emulator });

  // scan --org --org-tag: the same filter, the run covers exactly those accounts.
  const out = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  await accountsScanCommand(loadConfig(), { org: true, orgTags: ['env=prod'], roleName: 'sseguard-audit', concurrency: 4, json: true, record: false }, out);
  const summary = (JSON.parse(printed) as { summary: { accounts: { account: string }[] } }).summary;
  expect(summary.accounts.map((x) => x.account)).toEqual([a!.id, b!.id].sort());

  // accounts --org --org-tag, through the CLI.
  const cli = await runCli(['accounts', '--org', '--org-tag', 'team=data', '--json']);
  expect((JSON.parse(cli.stdout) as { accounts: { account: string }[] }).accounts.map((x) => x.account)).toEqual([a!.id, c!.id].sort());
  const bad = await runCli(['accounts', '--accounts', a!.id, '--org-tag', 'env=prod']);
  expect(bad.stderr).toMatch(/--org-tag needs --org/);
}, 180_000);

test('an account × Region unit walks its buckets in turn, one per Region; a bucket whose listing still fails on its last delivery is a named gap and the unit goes on (the account is partial, never covered)', async () => {
  // A member in us-east-1: its client creates the other Region's bucket with a LocationConstraint (moto, like S3, puts a bucket where the request says).
  const member = reachable().filter((m) => m.region === 'us-east-1')[1]!;
  const other = 'eu-west-1';
  const { s3 } = member.clients;
  const failing = `extra-a-${member.id}`;
  const extras: [string, string][] = [[failing, member.region], [`extra-b-${member.id}`, member.region], [`extra-c-${member.id}`, other]];
  for (const [bucket, region] of extras) {
    const { CreateBucketCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } }) }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'one.txt', Body: 'x', ServerSideEncryption: 'AES256' }));
  }
  await new OrganizationsClient({}).send(new TagResourceCommand({ ResourceId: member.id, Tags: [{ Key: 'scope', Value: 'multi' }] }));
  reconfigure({ AWS_ENDPOINT_URL: proxy.endpoint, SSEGUARD_SWEEP_INTERVAL_HOURS: '0', SSEGUARD_ORG_TAGS: 'scope=multi' });
  proxy.setRules([{ service: 's3', operation: 'ListObjectsV2', path: new RegExp(`^/${failing}`), kind: 'server-error', rate: 1 }]);
  try {
    const { organization } = await tick();
    expect(organization).toMatchObject({ status: 'started', accounts: 1 });
    const failures = await drainQueue(sqs, queueUrl, auditWorker, workerContext, 100);
    // The failing bucket's step: two failed deliveries, then the gap on the third (the last).
    expect(failures).toHaveLength(2);
    const coverage = await coverageOf(organization.runId!);
    expect(coverage.status).toBe('complete');
    expect(coverage.accounts).toEqual([
      { account: member.id, status: 'partial', regions: [member.region, other].sort(), buckets: 4, bucketsDone: 4, objects: objectsOf(member.id) + 2 },
    ]);
    expect(coverage.gaps).toEqual([{ account: member.id, region: member.region, bucket: failing, reason: expect.stringMatching(/ListObjectsV2: still throttled or failing.*still failing after 3 deliveries/) }]);
    // No finding for the bucket that was not listed.
    const findings = [];
    for await (const page of createRuntime(loadConfig()).store.findings({ bucket: failing })) findings.push(...page);
    expect(findings).toEqual([]);
  } finally {
    proxy.setRules([]);
    reconfigure({ SSEGUARD_ORG_TAGS: undefined });
  }
}, 180_000);

test('a tick that recorded its run and stopped before sending every account: the next tick resumes that run (re-sending is harmless), not a new one', async () => {
  const member = reachable()[0]!;
  const startedAt = new Date().toISOString();
  const runId = `${startedAt}~stoppd`;
  await runs().start({ runId, startedAt, organizationId: loadConfig().organization!.id, accounts: [member.id] });
  reconfigure({ SSEGUARD_SWEEP_INTERVAL_HOURS: '24' });
  expect((await tick()).organization).toEqual({ status: 'resumed', runId, accounts: 1 });
  expect(await drainQueue(sqs, queueUrl, auditWorker, workerContext)).toEqual([]);
  const coverage = await coverageOf(runId);
  expect(coverage.status).toBe('complete');
  expect(coverage.accounts).toMatchObject([{ account: member.id, status: 'covered', objects: objectsOf(member.id) }]);
  // Enqueued now: the next tick within the interval starts nothing.
  expect((await tick()).organization).toMatchObject({ status: 'not-due' });
}, 60_000);
