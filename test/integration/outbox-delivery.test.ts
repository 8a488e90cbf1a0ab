// Delivery from the deployed stage (issue 19): what the audit worker records with SSEGUARD_EVENT_BUS
// and SSEGUARD_SECURITY_HUB=on set reaches EventBridge (a rule whose target is an SQS queue) and
// Security Hub through the outbox-delivery function, on moto, with no CLI; two deliverers at once
// never send a change twice; throttling and a deliverer killed mid-push lose and double nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetOutboxDeliveryDependencies } from '../../functions/commons/outbox-delivery-dependencies.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { handler as outboxDelivery, type OutboxDeliveryResult } from '../../functions/outbox-delivery.ts';
import { handler as reportApi, resetReportApi } from '../../functions/report-api.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { createEventBridgeClient, eventBridgeDestination } from '../../shared/delivery/eventbridge.ts';
import { deliverOutbox, type Destination } from '../../shared/delivery/outbox-delivery.ts';
import { cachedCallerAccount, createSecurityHubClients, securityHubDestination } from '../../shared/delivery/securityhub.ts';
import { DynamoFindingsStore, ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { PostureStore } from '../../shared/findings/posture-store.ts';
import { OUTBOX_LEASE_KEY, OUTBOX_STATUS_PK, acquireOutboxLease } from '../../shared/findings/outbox-lease.ts';
import { OUTBOX_SHARDS, objectOutboxItem, outboxKey, outboxPk } from '../../shared/findings/outbox.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { finding } from '../support/report-fixtures.ts';
import { runCli, runKillableCli } from '../support/cli.ts';
import { startBlackHole, startFaultProxy } from '../support/fault-proxy.ts';
import { drainEvents, hubFindingsOf } from '../support/delivered-events.ts';
import { defaultEncryptionPosture } from '../support/posture-fixtures.ts';

const BUS = 'stage-alerts';
const dir = mkdtempSync(join(tmpdir(), 'sseguard-outbox-delivery-'));
const policyPath = join(dir, 'policy.yaml');
writeFileSync(policyPath, 'version: 1\ndefault: { require: sse-kms }\n');
// The stage's settings, as stacks/settings.ts passes them to every function.
Object.assign(process.env, {
  SSEGUARD_TABLE: 'outbox-delivery-findings',
  SSEGUARD_QUEUE: 'outbox-delivery-audit',
  SSEGUARD_DLQ: 'outbox-delivery-audit-dlq',
  SSEGUARD_POLICY: policyPath,
  SSEGUARD_EVENT_BUS: BUS,
  SSEGUARD_SECURITY_HUB: 'on',
  SSEGUARD_API_TOKEN: 'outbox-delivery-test-token-0123456789abcdef',
});
const SCHEDULED_EVENT = fileURLToPath(new URL('../events/outbox-delivery-scheduled.json', import.meta.url));
const TIMEOUT_MS = 180_000;

const clients = createAwsClients();
const events = new EventBridgeClient({});
const sqs = new SQSClient({});
const securityHub = new SecurityHubClient({});
const config = () => loadConfig();

interface ReceivedEvent {
  'detail-type': string;
  detail: Record<string, unknown> & { eventId: string; key?: string };
}

const drain = (url: string) => drainEvents<ReceivedEvent>(sqs, url);
const hubFindings = (bucket: string) => hubFindingsOf(securityHub, bucket);

async function outboxSize(): Promise<number> {
  let count = 0;
  for (let shard = 0; shard < OUTBOX_SHARDS; shard++) {
    const page = await clients.documents.send(new QueryCommand({ TableName: config().table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': outboxPk(shard) }, Select: 'COUNT' }));
    count += page.Count ?? 0;
  }
  return count;
}

/** The audit worker as the queue would run it: one S3 notification per object, one batch. */
async function workerAudits(bucket: string, keys: string[]): Promise<void> {
  const event: SQSEvent = {
    Records: keys.map((key, i) => ({
      messageId: `m-${bucket}-${i}`,
      receiptHandle: 'local',
      body: JSON.stringify({ Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: new Date().toISOString(), eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key, size: 10, sequencer: `00${String(i).padStart(16, '0')}` } } }] }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'test', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:outbox-delivery-audit',
      awsRegion: 'us-east-1',
    })),
  };
  const result = await auditWorker(event, localLambdaContext('audit-worker'));
  expect(result.batchItemFailures).toEqual([]);
}

async function seed(bucket: string, count: number): Promise<string[]> {
  await createBucket(clients, bucket);
  const keys = Array.from({ length: count }, (_, i) => `plain-${i}.csv`);
  for (const key of keys) await putObject(clients, bucket, key, { mode: 'sse-s3' });
  await workerAudits(bucket, keys);
  return keys;
}

/** GET /deliveries through the report API's Lambda handler, as the dashboard asks it. */
async function deliveries(): Promise<{ pending: number; destinations: Record<string, unknown>[]; deliverer?: unknown }> {
  resetReportApi();
  const event = { version: '2.0', rawPath: '/deliveries', rawQueryString: '', headers: { authorization: `Bearer ${process.env.SSEGUARD_API_TOKEN}` }, requestContext: { http: { method: 'GET', path: '/deliveries' } } };
  const response = (await reportApi(event as never, localLambdaContext('report-api'))) as { statusCode: number; body: string };
  expect(response.statusCode).toBe(200);
  return JSON.parse(response.body);
}

/** The scheduled function's ticks: invoked again while another deliverer holds the lease, as the schedule would. */
async function tickUntilDelivered(): Promise<Extract<OutboxDeliveryResult, { status: 'delivered' }>> {
  for (let tick = 0; tick < 60; tick++) {
    const result = await outboxDelivery({}, localLambdaContext('outbox-delivery', 120_000));
    if (result.status === 'delivered') return result;
    expect(result.status).toBe('busy');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error('the outbox lease was never free');
}

let queueUrl: string;

beforeAll(async () => {
  resetHandlerRuntime();
  resetOutboxDeliveryDependencies();
  await ensureFindingsTable(clients.dynamodb, config().table);
  await ensureIdempotencyTable(clients.dynamodb, config().idempotencyTable);
  await ensureQueues(clients.sqs, config());
  await events.send(new CreateEventBusCommand({ Name: BUS }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'stage-alert-target' }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(new PutRuleCommand({ Name: 'stage-alerts-to-queue', EventBusName: BUS, EventPattern: JSON.stringify({ source: ['sseguard'] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'stage-alerts-to-queue', EventBusName: BUS, Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn! }] }));
  queueUrl = QueueUrl!;
}, TIMEOUT_MS);

beforeEach(async () => {
  resetOutboxDeliveryDependencies();
  await drain(queueUrl);
});

describe('the outbox-delivery function', { timeout: TIMEOUT_MS }, () => {
  test('delivers what the audit worker recorded, without the CLI: one event per change, one Security Hub finding per object, then nothing', async () => {
    const keys = await seed('stage-worker', 5);
    expect(await outboxSize()).toBe(5);
    // Nothing sent yet: no destination has run, five changes wait.
    expect(await deliveries()).toEqual({ pending: 5, oldestPendingAt: expect.any(String), destinations: [] });

    const result = await outboxDelivery({}, localLambdaContext('outbox-delivery', 120_000));
    expect(result).toMatchObject({ status: 'delivered', delivered: { eventbridge: 5, securityhub: 5 }, failed: { eventbridge: 0, securityhub: 0 }, completed: 5 });
    const sent = await drain(queueUrl);
    expect(sent.map((e) => [e['detail-type'], e.detail.key]).sort()).toEqual(keys.map((k) => ['Object Finding Changed', k]).sort());
    expect((await hubFindings('stage-worker')).map((f) => f.Id).sort()).toEqual(keys.map((k) => `sseguard/stage-worker/${k}`).sort());
    expect(await outboxSize()).toBe(0);

    // What was sent where, for GET /deliveries: each destination's last push, by the function.
    const status = await clients.documents.send(new GetCommand({ TableName: config().table, Key: { pk: OUTBOX_STATUS_PK, sk: 'eventbridge' } }));
    expect(status.Item).toMatchObject({ lastRunBy: 'lambda', lastRunDelivered: 5, lastRunFailed: 0, lastPushAt: expect.any(String) });
    expect(await deliveries()).toEqual({
      pending: 0,
      destinations: ['eventbridge', 'securityhub'].map((name) => ({
        name,
        pending: 0,
        lastRunAt: expect.any(String),
        lastRunBy: 'lambda',
        lastRunDelivered: 5,
        lastRunFailed: 0,
        lastPushAt: expect.any(String),
        totalDelivered: 5,
        totalFailed: 0,
      })),
    });
    // The lease is released when the run ends.
    expect((await clients.documents.send(new GetCommand({ TableName: config().table, Key: OUTBOX_LEASE_KEY }))).Item).toBeUndefined();

    // A re-audit that finds the objects as recorded writes no outbox item: the next tick sends nothing.
    await workerAudits('stage-worker', keys);
    expect(await outboxDelivery({}, localLambdaContext('outbox-delivery', 120_000))).toMatchObject({ status: 'delivered', delivered: {}, completed: 0 });
    expect(await drain(queueUrl)).toEqual([]);
  });

  test('two deliverers draining at once (the CLI and the function) send each change once: one event per change, one import per finding', async () => {
    const keys = await seed('stage-race', 30);
    // Count what reaches Security Hub: moto updates a finding imported twice by its Id, so the
    // finding count alone could not show a double import.
    let imported = 0;
    const countingHub = () => {
      const { securityHub: client, sts } = createSecurityHubClients();
      client.middlewareStack.add((next) => async (args) => {
        imported += ((args.input as { Findings?: unknown[] }).Findings ?? []).length;
        return next(args);
      }, { step: 'initialize', name: 'countImports' });
      return securityHubDestination(client, { region: 'us-east-1', callerAccount: cachedCallerAccount(sts) });
    };
    const destinations = (): Destination[] => [eventBridgeDestination(createEventBridgeClient(), BUS), countingHub()];
    const drainer = (holder: string) => deliverOutbox(clients.documents, config().table, destinations(), { holder, waitMs: 30_000 });

    const [cli, lambda] = await Promise.all([drainer('cli'), drainer('lambda')]);
    // One drained everything; the other waited for the lease and found the outbox empty.
    expect([cli.completed, lambda.completed].sort((a, b) => a - b)).toEqual([0, 30]);
    const changed = (await drain(queueUrl)).filter((e) => e['detail-type'] === 'Object Finding Changed');
    expect(changed).toHaveLength(30);
    expect(new Set(changed.map((e) => e.detail.eventId)).size).toBe(30);
    expect(imported).toBe(30);
    const hub = await hubFindings('stage-race');
    expect(hub.map((f) => f.Id).sort()).toEqual(keys.map((k) => `sseguard/stage-race/${k}`).sort());
    expect(await outboxSize()).toBe(0);
  });

  test('different destinations: a CLI drain with only --event-bus leaves what Security Hub still needs; the stage function then imports every finding once and sends no event again', async () => {
    // Written by the stage's worker (SSEGUARD_EVENT_BUS and SSEGUARD_SECURITY_HUB=on): each item is for both.
    const keys = await seed('stage-split', 4);
    // `scan --event-bus` as a person runs it on their machine, without Security Hub: it re-audits
    // (nothing changed, nothing new in the outbox) and drains what waits, to EventBridge only.
    const cli = await runCli(['scan', '--bucket', 'stage-split', '--event-bus', BUS], { SSEGUARD_SECURITY_HUB: 'off', SSEGUARD_EVENT_BUS: '' });
    // The worker's four changes and the CLI's own Run Completed (written for EventBridge alone: its writer's destinations).
    expect(cli.stdout, cli.stderr).toContain('eventbridge: 5 sent.');
    expect(cli.stdout).toContain('4 also wait for a destination this run does not push to');
    expect(cli.stdout).not.toContain('securityhub');
    const sent = await drain(queueUrl);
    expect(sent.map((e) => e['detail-type']).sort()).toEqual([...keys.map(() => 'Object Finding Changed'), 'Run Completed']);
    expect(sent.filter((e) => e['detail-type'] === 'Object Finding Changed').map((e) => e.detail.key).sort()).toEqual([...keys].sort());
    expect(await outboxSize()).toBe(4);
    const view = await deliveries();
    expect(view.pending).toBe(4);
    expect(view.destinations.find((d) => d.name === 'eventbridge')).toMatchObject({ pending: 0, lastRunBy: 'cli', lastRunDelivered: 5 });
    expect(view.destinations.find((d) => d.name === 'securityhub')).toMatchObject({ pending: 4 });

    // The stage's function (both destinations): Security Hub takes each finding once, EventBridge nothing again.
    const result = await tickUntilDelivered();
    expect(result).toMatchObject({ delivered: { securityhub: 4 }, completed: 4 });
    expect(result.delivered.eventbridge ?? 0).toBe(0);
    expect(await drain(queueUrl)).toEqual([]);
    expect((await hubFindings('stage-split')).map((f) => f.Id).sort()).toEqual(keys.map((k) => `sseguard/stage-split/${k}`).sort());
    expect(await outboxSize()).toBe(0);
  });

  test('an item an earlier version wrote (no destinations, `delivered` a list: EventBridge took it): the function imports it into Security Hub alone and removes it', async () => {
    const legacy = objectOutboxItem('object', { bucket: 'stage-legacy', key: 'old.csv', entry: { auditedAt: new Date().toISOString(), rev: 1, verdict: 'noncompliant', reasons: [] } }, 'HIST#legacy');
    await clients.documents.send(new PutCommand({ TableName: config().table, Item: { ...outboxKey(legacy), ...legacy, delivered: ['eventbridge'] } }));
    expect(await tickUntilDelivered()).toMatchObject({ status: 'delivered', delivered: { securityhub: 1 }, completed: 1 });
    expect(await drain(queueUrl)).toEqual([]);
    expect((await hubFindings('stage-legacy')).map((f) => f.Id)).toEqual(['sseguard/stage-legacy/old.csv']);
    expect(await outboxSize()).toBe(0);
  });

  test('a deliverer that does not wait gives way to the one holding the lease: it sends nothing, the holder sends each change once', async () => {
    await seed('stage-busy', 3);
    // The stage's own destinations, each a little slow: the holder is still sending when the tick comes.
    const slow = (destination: Destination): Destination => ({
      name: destination.name,
      send: async (items, context) => {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return destination.send(items, context);
      },
    });
    const holding = deliverOutbox(clients.documents, config().table, [slow(eventBridgeDestination(createEventBridgeClient(), BUS))], { holder: 'cli' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const tick = await outboxDelivery({}, localLambdaContext('outbox-delivery', 120_000));
    expect(tick).toMatchObject({ status: 'busy', leaseHeldElsewhere: true, delivered: {}, completed: 0 });
    expect(await deliveries()).toMatchObject({ pending: 3, deliverer: { holder: 'cli' } });
    expect((await holding).delivered).toEqual({ eventbridge: 3 });
    expect((await drain(queueUrl)).filter((e) => e['detail-type'] === 'Object Finding Changed')).toHaveLength(3);
    // The holder had only EventBridge: the next tick imports the three into Security Hub and sends no event again.
    expect(await tickUntilDelivered()).toMatchObject({ delivered: { securityhub: 3 }, completed: 3 });
    expect(await drain(queueUrl)).toEqual([]);
  });

  test('30% throttling on both APIs and a deliverer killed mid-push: after the next ticks every change is delivered exactly once', async () => {
    const keys = await seed('stage-crash', 20);
    // EventBridge never answers: the function (as `sseguard invoke`, its own process) hangs in PutEvents and is killed there.
    const hole = await startBlackHole();
    let pid = 0;
    const killer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 8_000);
    const killed = await runKillableCli(
      ['invoke', 'outbox-delivery', '--event', SCHEDULED_EVENT, '--timeout', '60'],
      { AWS_ENDPOINT_URL_EVENTBRIDGE: hole.endpoint, SSEGUARD_MAX_ATTEMPTS: '1', SSEGUARD_SOCKET_TIMEOUT_MS: '60000' },
      (p) => (pid = p),
    );
    clearTimeout(killer);
    await hole.close();
    expect(killed.code, killed.stdout + killed.stderr).toBeNull();
    expect(await drain(queueUrl)).toEqual([]);
    expect(await outboxSize()).toBe(20);
    // It died holding the lease: no renewal, so the lease ends by itself (20 s; never past the invocation's deadline).
    expect((await clients.documents.send(new GetCommand({ TableName: config().table, Key: OUTBOX_LEASE_KEY }))).Item).toMatchObject({ holder: 'lambda' });

    const proxy = await startFaultProxy({
      target: process.env.AWS_ENDPOINT_URL!,
      seed: 7,
      rules: [
        { service: 'events', operation: 'PutEvents', rate: 0.3, kind: 'throttle' },
        { service: 'securityhub', operation: 'BatchImportFindings', rate: 0.3, kind: 'throttle' },
      ],
    });
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = proxy.endpoint;
    process.env.AWS_ENDPOINT_URL_SECURITYHUB = proxy.endpoint;
    try {
      resetOutboxDeliveryDependencies();
      let result = await tickUntilDelivered();
      // Throttled past every retry: left for the next tick, never lost.
      while (Object.values(result.failed).some((n) => n > 0)) result = await tickUntilDelivered();
      const { faults } = proxy.stats();
      expect(faults['events:PutEvents:throttle'] ?? 0).toBeGreaterThan(0);
      expect(faults['securityhub:BatchImportFindings:throttle'] ?? 0).toBeGreaterThan(0);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
      delete process.env.AWS_ENDPOINT_URL_SECURITYHUB;
      await proxy.close();
    }
    const changed = (await drain(queueUrl)).filter((e) => e['detail-type'] === 'Object Finding Changed');
    expect(changed.map((e) => e.detail.key).sort()).toEqual([...keys].sort());
    expect(new Set(changed.map((e) => e.detail.eventId)).size).toBe(20);
    expect((await hubFindings('stage-crash')).length).toBe(20);
    expect(await outboxSize()).toBe(0);
  });

  test('Security Hub: a noncurrent version is a finding of its own (its Id names the version), a bucket posture one per bucket', async () => {
    const store = new DynamoFindingsStore(clients.documents, config().table, { outbox: ['eventbridge', 'securityhub'] });
    const current = { ...finding('stage-versions', 'doc.csv', 'noncompliant', 'sse-s3', 10), versionId: 'v2', isLatest: true };
    const noncurrent = { ...finding('stage-versions', 'doc.csv', 'noncompliant', 'sse-c', 10), versionId: 'v1', isLatest: false };
    await store.record([current, noncurrent]);
    // Recorded again unchanged: nothing more waits.
    await store.record([noncurrent]);
    const postures = new PostureStore(clients.documents, config().table, { outbox: ['eventbridge', 'securityhub'] });
    const posture = (verdict: 'compliant' | 'noncompliant') => postures.record(defaultEncryptionPosture('stage-versions', verdict, new Date().toISOString()));
    await posture('noncompliant');
    expect(await outboxSize()).toBe(3);

    expect(await tickUntilDelivered()).toMatchObject({ delivered: { eventbridge: 3, securityhub: 3 }, completed: 3 });
    const events = await drain(queueUrl);
    expect(events.filter((e) => e['detail-type'] === 'Object Finding Changed').map((e) => [e.detail.versionId, e.detail.noncurrent ?? false]).sort()).toEqual([
      ['v1', true],
      ['v2', false],
    ]);
    const hub = ((await securityHub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? []).filter((f) => f.Id?.includes('stage-versions'));
    expect(hub.map((f) => f.Id).sort()).toEqual(['sseguard/bucket-posture/stage-versions', 'sseguard/stage-versions/doc.csv', 'sseguard/stage-versions/doc.csv#v1']);
    expect(hub.find((f) => f.Id === 'sseguard/stage-versions/doc.csv#v1')).toMatchObject({
      Compliance: { Status: 'FAILED' },
      Resources: [{ Type: 'AwsS3Object', Details: { AwsS3Object: { VersionId: 'v1' } } }],
    });
    expect(hub.find((f) => f.Id === 'sseguard/bucket-posture/stage-versions')).toMatchObject({
      Compliance: { Status: 'FAILED', StatusReasons: [{ ReasonCode: 'bucket-default-mode-not-allowed' }] },
      Resources: [{ Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::stage-versions' }],
      RecordState: 'ACTIVE',
    });

    // The bucket's default fixed: the same finding turns PASSED and RESOLVED.
    await posture('compliant');
    expect(await tickUntilDelivered()).toMatchObject({ delivered: { eventbridge: 1, securityhub: 1 }, completed: 1 });
    await drain(queueUrl);
    const fixed = ((await securityHub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? []).filter((f) => f.Id === 'sseguard/bucket-posture/stage-versions');
    expect(fixed).toHaveLength(1);
    expect(fixed[0]).toMatchObject({ Compliance: { Status: 'PASSED' }, Workflow: { Status: 'RESOLVED' } });
  });

  test('an Organization member\'s findings are imported with the member\'s assumed audit role, under its own product: GetFindings as the member shows them, the central account has none', async () => {
    const MEMBER = '111111111111';
    const store = new DynamoFindingsStore(clients.documents, config().table, { outbox: ['eventbridge', 'securityhub'] });
    const central = { ...finding('stage-central', 'a.csv', 'noncompliant', 'sse-s3', 10) };
    const member = { ...finding('stage-member', 'b.csv', 'noncompliant', 'sse-s3', 10), account: MEMBER, region: 'us-east-1' };
    await store.record([central, member]);
    expect(await tickUntilDelivered()).toMatchObject({ delivered: { securityhub: 2 }, failed: { securityhub: 0 }, completed: 2 });
    await drain(queueUrl);

    // moto's AssumeRole credentials act in the role's account: what the member's Security Hub holds.
    const sts = new STSClient({});
    const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${MEMBER}:role/sseguard-audit`, RoleSessionName: 'test' }));
    const asMember = new SecurityHubClient({ credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! } });
    const memberHub = ((await asMember.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? []).filter((f) => f.Id?.startsWith('sseguard/stage-'));
    expect(memberHub.map((f) => [f.Id, f.AwsAccountId, f.ProductArn])).toEqual([
      ['sseguard/stage-member/b.csv', MEMBER, `arn:aws:securityhub:us-east-1:${MEMBER}:product/${MEMBER}/default`],
    ]);
    expect((await hubFindings('stage-member')).length).toBe(0);
    expect((await hubFindings('stage-central')).map((f) => f.AwsAccountId)).toEqual(['123456789012']);
  });

  test('the outbox lease: one holder at a time; a holder whose lease another took (a clock ahead, or its own pause) learns it at its next renewal and leaves the new lease alone', async () => {
    const table = config().table;
    const first = await acquireOutboxLease(clients.documents, table, { holder: 'cli', leaseMs: 3_000 });
    expect(first).toBeDefined();
    expect(await acquireOutboxLease(clients.documents, table, { holder: 'lambda' })).toBeUndefined();
    // A deliverer whose clock is a minute ahead sees the lease expired and takes it.
    const second = await acquireOutboxLease(clients.documents, table, { holder: 'lambda', now: () => Date.now() + 60_000 });
    expect(second).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(first!.held()).toBe(false);
    expect(second!.held()).toBe(true);
    await first!.release();
    expect((await clients.documents.send(new GetCommand({ TableName: table, Key: OUTBOX_LEASE_KEY }))).Item).toMatchObject({ owner: second!.owner, holder: 'lambda' });
    await second!.release();
    expect((await clients.documents.send(new GetCommand({ TableName: table, Key: OUTBOX_LEASE_KEY }))).Item).toBeUndefined();
  });
});
