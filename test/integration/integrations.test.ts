// Changes pushed where security teams work (issue 19): EventBridge events to a rule whose target is
// an SQS queue, and Security Hub findings, both on moto, through the outbox written with each change.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { deliverConfigured } from '../../shared/delivery/destinations.ts';
import { deletedObjectFinding } from '../../shared/domain/finding.ts';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { OUTBOX_SHARDS, outboxPk } from '../../shared/findings/outbox.ts';
import { PostureStore } from '../../shared/findings/posture-store.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { createBucket, createKey, disableKey, putObject, scheduleDeletion, type TestKey } from '../support/aws-fixtures.ts';
import { CancelKeyDeletionCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { KmsKeyInspector } from '../../shared/inspect/key-inspector.ts';
import { runCli, runKillableCli } from '../support/cli.ts';
import { startBlackHole, startFaultProxy } from '../support/fault-proxy.ts';
import { drainEvents, hubFindingsOf } from '../support/delivered-events.ts';
import { defaultEncryptionPosture } from '../support/posture-fixtures.ts';

const CLI_TIMEOUT_MS = 180_000;
const BUS = 'security-alerts';
const workdir = mkdtempSync(join(tmpdir(), 'sseguard-integrations-'));
const clients = createAwsClients();
const events = new EventBridgeClient({});
const sqs = new SQSClient({});
const securityHub = new SecurityHubClient({});

interface ReceivedEvent {
  id: string;
  source: string;
  'detail-type': string;
  resources: string[];
  detail: Record<string, unknown> & { eventId: string };
}

async function queueFor(name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(new PutRuleCommand({ Name: name, EventBusName: BUS, EventPattern: JSON.stringify({ source: ['sseguard'] }) }));
  await events.send(new PutTargetsCommand({ Rule: name, EventBusName: BUS, Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn! }] }));
  return QueueUrl!;
}

const drain = (url: string) => drainEvents<ReceivedEvent>(sqs, url);

/** The Security Hub findings of one bucket, by Id. */
const hubFindings = async (bucket: string): Promise<Map<string, AwsSecurityFinding>> =>
  new Map((await hubFindingsOf(securityHub, bucket)).map((f) => [f.Id!, f]));

/** Items waiting in the outbox of a findings table. */
async function outboxSize(table: string): Promise<number> {
  let count = 0;
  for (let shard = 0; shard < OUTBOX_SHARDS; shard++) {
    const page = await clients.documents.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': outboxPk(shard) }, Select: 'COUNT' }));
    count += page.Count ?? 0;
  }
  return count;
}

const byType = (received: ReceivedEvent[], type: string) => received.filter((e) => e['detail-type'] === type);

function policyFile(name: string, text: string): string {
  const path = join(workdir, name);
  writeFileSync(path, text);
  return path;
}

let key: TestKey;
let otherKey: TestKey;

beforeAll(async () => {
  await events.send(new CreateEventBusCommand({ Name: BUS }));
  key = await createKey(clients);
  otherKey = await createKey(clients);
}, CLI_TIMEOUT_MS);

describe('scan --event-bus --security-hub', { timeout: CLI_TIMEOUT_MS }, () => {
  const BUCKET = 'pushed';
  const TABLE = 'integrations-pushed';
  const env = { SSEGUARD_TABLE: TABLE };
  let queue: string;
  let policy: string;
  let fixPolicy: string;
  const scan = (extra: string[] = [], policyPath = policy) =>
    runCli(['scan', '--bucket', BUCKET, '--policy', policyPath, '--event-bus', BUS, '--security-hub', '--json', ...extra], env);

  beforeAll(async () => {
    queue = await queueFor('pushed-events');
    await createBucket(clients, BUCKET);
    await putObject(clients, BUCKET, 'plain-1.csv', { mode: 'sse-s3' });
    await putObject(clients, BUCKET, 'plain-2.csv', { mode: 'sse-s3' });
    await putObject(clients, BUCKET, 'kms.csv', { mode: 'sse-kms', key });
    await putObject(clients, BUCKET, 'other-kms.csv', { mode: 'sse-kms', key: otherKey }, 'x'.repeat(1000));
    policy = policyFile('pushed.yaml', `version: 1\ndefault: { require: sse-kms }\n`);
    fixPolicy = policyFile('pushed-fix.yaml', `version: 1\ndefault: { require: sse-kms, kmsKeys: [${key.arn}, ${otherKey.arn}], remediate: true, target: { mode: sse-kms, kmsKey: ${key.arn} } }\n`);
    expect((await runCli(['init'], env)).code).toBe(0);
  }, CLI_TIMEOUT_MS);

  test('first scan: one Security Hub finding and one event per non-compliant object; a re-scan sends no finding again', async () => {
    const first = await scan();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(1);
    const sent = await drain(queue);
    const changed = byType(sent, 'Object Finding Changed');
    expect(changed.map((e) => e.detail.key).sort()).toEqual(['plain-1.csv', 'plain-2.csv']);
    expect(changed.every((e) => e.source === 'sseguard' && e.detail.verdict === 'noncompliant' && e.detail.change === 'new')).toBe(true);
    expect(byType(sent, 'Run Completed')).toHaveLength(1);
    expect(byType(sent, 'Run Completed')[0]!.detail).toMatchObject({ bucket: BUCKET, objects: 4, coverage: 'complete' });
    const hub = await hubFindings(BUCKET);
    expect([...hub.keys()].sort()).toEqual([`sseguard/${BUCKET}/plain-1.csv`, `sseguard/${BUCKET}/plain-2.csv`]);
    const one = hub.get(`sseguard/${BUCKET}/plain-1.csv`)!;
    expect(one).toMatchObject({
      AwsAccountId: '123456789012',
      ProductArn: 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default',
      Compliance: { Status: 'FAILED' },
      RecordState: 'ACTIVE',
      FindingProviderFields: { Severity: { Label: 'MEDIUM' } },
    });
    expect(one.Note).toBeUndefined();
    expect(one.Workflow).toBeUndefined();

    const again = await scan();
    expect(again.code).toBe(1);
    const resent = await drain(queue);
    expect(resent.map((e) => e['detail-type'])).toEqual(['Run Completed']);
    expect((await hubFindings(BUCKET)).get(`sseguard/${BUCKET}/plain-1.csv`)!.UpdatedAt).toBe(one.UpdatedAt);
  });

  test('a fix: the finding turns PASSED and RESOLVED, and one Remediation Applied per fixed object', async () => {
    const run = await scan(['--remediate'], fixPolicy);
    // The fixing policy is not the one the first scan judged under: the scan says so, and nothing else.
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^sseguard: warning: 4 findings under s3:\/\/pushed\/ were judged under another policy/)]);
    expect(run.code).toBe(0);
    const sent = await drain(queue);
    const fixes = byType(sent, 'Remediation Applied');
    expect(fixes.map((e) => e.detail.key).sort()).toEqual(['plain-1.csv', 'plain-2.csv']);
    expect(fixes.every((e) => e.detail.outcome === 'fixed')).toBe(true);
    const changed = byType(sent, 'Object Finding Changed');
    expect(changed.map((e) => [e.detail.key, e.detail.verdict, e.detail.previousVerdict]).sort()).toEqual([
      ['plain-1.csv', 'compliant', 'noncompliant'],
      ['plain-2.csv', 'compliant', 'noncompliant'],
    ]);
    const hub = await hubFindings(BUCKET);
    expect(hub.size).toBe(2);
    for (const finding of hub.values()) expect(finding).toMatchObject({ Compliance: { Status: 'PASSED' }, Workflow: { Status: 'RESOLVED' }, RecordState: 'ACTIVE' });
  });

  test('a key disabled: one KMS Key At Risk with the objects and bytes that depend on it, and their findings CRITICAL', async () => {
    await disableKey(clients, otherKey);
    const run = await scan([], fixPolicy);
    expect(run.code).toBe(1);
    const sent = await drain(queue);
    const atRisk = byType(sent, 'KMS Key At Risk');
    expect(atRisk.map((e) => e.detail), JSON.stringify(atRisk.map((e) => e.detail))).toHaveLength(1);
    expect(atRisk[0]!.detail).toMatchObject({ keyArn: otherKey.arn, keyState: 'Disabled', objects: 1, bytes: 1000 });
    expect(byType(sent, 'Object Finding Changed').map((e) => [e.detail.key, e.detail.verdict])).toEqual([['other-kms.csv', 'at-risk']]);
    const hub = await hubFindings(BUCKET);
    expect(hub.get(`sseguard/${BUCKET}/other-kms.csv`)).toMatchObject({ Compliance: { Status: 'FAILED' }, FindingProviderFields: { Severity: { Label: 'CRITICAL' } } });
    // moto's GetFindings does not apply Filters: pick the key's finding by Id here.
    const keyFinding = ((await securityHub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? []).filter((f) => f.Id === `sseguard/kms-key/${otherKey.arn}`);
    expect(keyFinding).toHaveLength(1);
    expect(keyFinding[0]).toMatchObject({ FindingProviderFields: { Severity: { Label: 'CRITICAL' } }, Resources: [{ Type: 'AwsKmsKey', Id: otherKey.arn }] });

    // Still disabled on the next run: no second alert.
    await scan([], fixPolicy);
    expect(byType(await drain(queue), 'KMS Key At Risk')).toEqual([]);
  });

  test('an object gone: its finding is archived and one Object Finding Changed says removed', async () => {
    await clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'plain-1.csv' }));
    // A removal reaches the table from the S3 event (the audit worker) as a removed finding.
    const config = { ...loadConfig({ ...process.env, ...env }), integrations: { eventBus: BUS, securityHub: true } };
    const store = new DynamoFindingsStore(clients.documents, TABLE, { outbox: ['eventbridge', 'securityhub'] });
    await store.record([deletedObjectFinding(BUCKET, 'plain-1.csv', new Date())]);
    const result = await deliverConfigured(config, clients.documents);
    expect(result).toMatchObject({ delivered: { eventbridge: 1, securityhub: 1 }, failed: { eventbridge: 0, securityhub: 0 } });
    const sent = await drain(queue);
    expect(sent.map((e) => [e['detail-type'], e.detail.key, e.detail.change])).toEqual([['Object Finding Changed', 'plain-1.csv', 'removed']]);
    expect((await hubFindings(BUCKET)).get(`sseguard/${BUCKET}/plain-1.csv`)).toMatchObject({ RecordState: 'ARCHIVED' });
  });
});

test('a bucket posture whose verdict changes: one Bucket Posture Changed per change, none while it stays', async () => {
  const table = 'integrations-posture';
  await ensureFindingsTable(clients.dynamodb, table);
  const queue = await queueFor('posture-events');
  const posture = new PostureStore(clients.documents, table, { outbox: ['eventbridge'] });
  const config = { ...loadConfig({ ...process.env, SSEGUARD_TABLE: table }), integrations: { eventBus: BUS, securityHub: false } };
  const at = (s: number) => new Date(Date.UTC(2026, 11, 4, 0, 0, s)).toISOString();
  const finding = (verdict: 'compliant' | 'noncompliant', s: number) => defaultEncryptionPosture('posture-bucket', verdict, at(s));
  await posture.record(finding('noncompliant', 1));
  await posture.record(finding('noncompliant', 2));
  await posture.record(finding('compliant', 3));
  await deliverConfigured(config, clients.documents);
  // EventBridge keeps no order: the events carry their time.
  const sent = (await drain(queue)).sort((a, b) => String(a.detail.at).localeCompare(String(b.detail.at)));
  expect(sent.map((e) => [e['detail-type'], e.detail.verdict, e.detail.previousVerdict ?? null])).toEqual([
    ['Bucket Posture Changed', 'noncompliant', null],
    ['Bucket Posture Changed', 'compliant', 'noncompliant'],
  ]);
}, CLI_TIMEOUT_MS);

describe('a crash between the table write and the push', { timeout: CLI_TIMEOUT_MS }, () => {
  const BUCKET = 'crashed';
  const TABLE = 'integrations-crashed';
  let queue: string;

  beforeAll(async () => {
    queue = await queueFor('crashed-events');
    await createBucket(clients, BUCKET);
    for (let i = 0; i < 12; i++) await putObject(clients, BUCKET, `plain-${i}.csv`, { mode: 'sse-s3' });
    await ensureFindingsTable(clients.dynamodb, TABLE);
  }, CLI_TIMEOUT_MS);

  test('killed while pushing, the next run delivers every change once', async () => {
    const policy = policyFile('crashed.yaml', `version: 1\ndefault: { require: sse-kms }\n`);
    const args = ['scan', '--bucket', BUCKET, '--policy', policy, '--event-bus', BUS, '--security-hub'];
    // EventBridge never answers: the findings are recorded, the push hangs, and the process is killed there.
    const hole = await startBlackHole();
    let pid = 0;
    const killer = setTimeout(() => process.kill(-pid, 'SIGKILL'), 15_000);
    const killed = await runKillableCli(args, { SSEGUARD_TABLE: TABLE, AWS_ENDPOINT_URL_EVENTBRIDGE: hole.endpoint, SSEGUARD_MAX_ATTEMPTS: '1', SSEGUARD_SOCKET_TIMEOUT_MS: '60000' }, (p) => (pid = p));
    clearTimeout(killer);
    await hole.close();
    expect(killed.code).toBeNull();
    expect(await drain(queue)).toEqual([]);
    // Killed after the findings were recorded: their changes wait in the outbox (and the run's end).
    expect(await outboxSize(TABLE)).toBe(13);

    const rerun = await runCli(args, { SSEGUARD_TABLE: TABLE });
    expect(rerun.code).toBe(1);
    const sent = await drain(queue);
    const changed = byType(sent, 'Object Finding Changed');
    expect(changed).toHaveLength(12);
    expect(new Set(changed.map((e) => e.detail.key)).size).toBe(12);
    // The killed run had recorded its end before it was killed pushing: both runs' ends arrive, once each.
    const runs = byType(sent, 'Run Completed').map((e) => e.detail.runId);
    expect(runs).toHaveLength(2);
    expect(new Set(runs).size).toBe(2);
    expect((await hubFindings(BUCKET)).size).toBe(12);

    expect(await outboxSize(TABLE)).toBe(0);
    const third = await runCli(args, { SSEGUARD_TABLE: TABLE });
    expect(byType(await drain(queue), 'Object Finding Changed')).toEqual([]);
    expect(third.code).toBe(1);
  });
});

describe('30% throttling on PutEvents and BatchImportFindings', { timeout: CLI_TIMEOUT_MS }, () => {
  const BUCKET = 'throttled';
  const TABLE = 'integrations-throttled';
  let queue: string;

  beforeAll(async () => {
    queue = await queueFor('throttled-events');
    await createBucket(clients, BUCKET);
    for (let i = 0; i < 25; i++) await putObject(clients, BUCKET, `plain-${i}.csv`, { mode: 'sse-s3' });
    await ensureFindingsTable(clients.dynamodb, TABLE);
  }, CLI_TIMEOUT_MS);

  test('every change is delivered exactly once, in AWS error shapes the SDK and the retry policy see as throttling', async () => {
    const proxy = await startFaultProxy({
      target: process.env.AWS_ENDPOINT_URL!,
      seed: 3,
      rules: [
        { service: 'events', operation: 'PutEvents', rate: 0.3, kind: 'throttle' },
        { service: 'securityhub', operation: 'BatchImportFindings', rate: 0.3, kind: 'throttle' },
      ],
    });
    try {
      const policy = policyFile('throttled.yaml', `version: 1\ndefault: { require: sse-kms }\n`);
      const run = await runCli(['scan', '--bucket', BUCKET, '--policy', policy, '--event-bus', BUS, '--security-hub', '--json'], {
        SSEGUARD_TABLE: TABLE,
        AWS_ENDPOINT_URL_EVENTBRIDGE: proxy.endpoint,
        AWS_ENDPOINT_URL_SECURITYHUB: proxy.endpoint,
      });
      expect(run.code).toBe(1);
      const { faults } = proxy.stats();
      expect(faults['events:PutEvents:throttle'] ?? 0).toBeGreaterThan(0);
      expect(faults['securityhub:BatchImportFindings:throttle'] ?? 0).toBeGreaterThan(0);
      const summary = JSON.parse(run.stdout).summary as { delivery: { delivered: Record<string, number>; failed: Record<string, number> } };
      expect(summary.delivery.failed).toEqual({ eventbridge: 0, securityhub: 0 });
      const changed = byType(await drain(queue), 'Object Finding Changed');
      expect(changed).toHaveLength(25);
      expect(new Set(changed.map((e) => e.detail.eventId)).size).toBe(25);
      expect((await hubFindings(BUCKET)).size).toBe(25);
    } finally {
      await proxy.close();
    }
  });
});

test('a key back from at risk: pending deletion → cancelled (Disabled, no deletion date) → enabled; its Security Hub finding turns PASSED and RESOLVED, one event per change, none while it stays', async () => {
  const table = 'integrations-key-recovery';
  await ensureFindingsTable(clients.dynamodb, table);
  const queue = await queueFor('key-recovery-events');
  const store = new DynamoFindingsStore(clients.documents, table, { outbox: ['eventbridge', 'securityhub'] });
  const config = { ...loadConfig({ ...process.env, SSEGUARD_TABLE: table }), integrations: { eventBus: BUS, securityHub: true } };
  const key = await createKey(clients);
  // As key events and the sweep record it (shared/audit/reevaluate-key.ts): KMS's answer now, then the push.
  const recordAndDeliver = async () => {
    await store.recordKeys([await new KmsKeyInspector(clients.kms).lookup(key.arn)], new Date());
    await deliverConfigured(config, clients.documents);
    return drain(queue);
  };
  const keyFinding = async () => ((await securityHub.send(new GetFindingsCommand({ MaxResults: 100 }))).Findings ?? []).filter((f) => f.Id === `sseguard/kms-key/${key.arn}`);

  expect(await recordAndDeliver()).toEqual([]);
  await scheduleDeletion(clients, key);
  const pending = await recordAndDeliver();
  expect(pending.map((e) => [e['detail-type'], e.detail.keyState])).toEqual([['KMS Key At Risk', 'PendingDeletion']]);
  expect(await keyFinding()).toMatchObject([{ Compliance: { Status: 'FAILED' } }]);

  // Cancelling a deletion leaves the key Disabled (as on AWS): still at risk, but no longer to be deleted.
  await clients.kms.send(new CancelKeyDeletionCommand({ KeyId: key.id }));
  const cancelled = await recordAndDeliver();
  expect(cancelled.map((e) => [e['detail-type'], e.detail.keyState, e.detail.previousState, e.detail.deletionDate])).toEqual([['KMS Key At Risk', 'Disabled', 'PendingDeletion', undefined]]);
  expect((await keyFinding())[0]!.Title).toContain('Disabled');

  await clients.kms.send(new EnableKeyCommand({ KeyId: key.id }));
  const recovered = await recordAndDeliver();
  expect(recovered.map((e) => [e['detail-type'], e.detail.keyState, e.detail.previousState])).toEqual([['KMS Key Recovered', 'Enabled', 'Disabled']]);
  const resolved = await keyFinding();
  expect(resolved).toHaveLength(1);
  expect(resolved[0]).toMatchObject({ Compliance: { Status: 'PASSED' }, Workflow: { Status: 'RESOLVED' }, FindingProviderFields: { Severity: { Label: 'INFORMATIONAL' } } });

  // Enabled on the next check too: nothing more.
  expect(await recordAndDeliver()).toEqual([]);
});
