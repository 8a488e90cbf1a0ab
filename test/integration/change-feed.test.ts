// GET /events: the change feed (shared/findings/change-feed.ts) through the report API on moto. Changes
// are recorded by the real stores with the outbox on, delivered to an EventBridge bus whose rule feeds
// an SQS queue (which empties the outbox), and the feed still lists each once, in a stable order, with
// the detail type and detail the bus delivered (checked against schemas/events/*.v1.json).
import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, inject, test, vi } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { deliverConfigured } from '../../shared/delivery/destinations.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { FEED_SETTLE_MS } from '../../shared/findings/change-feed.ts';
import { DynamoFindingsStore, ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { OUTBOX_SHARDS, outboxPk } from '../../shared/findings/outbox.ts';
import { PostureStore } from '../../shared/findings/posture-store.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';
import { bodyText, createReportApi } from '../../shared/report-api/create-report-api.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { eventSchemaValidator } from '../support/event-schemas.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { defaultEncryptionPosture } from '../support/posture-fixtures.ts';
import { KEY_DISABLED, finding } from '../support/report-fixtures.ts';

const TABLE = 'change-feed';
const BUS = 'feed-alerts';
const TOKEN = 'feed-token-0123456789abcdef0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const clients = createAwsClients();
const events = new EventBridgeClient({});
const sqs = new SQSClient({});
const validate = eventSchemaValidator();

interface FeedEvent {
  id: string;
  recordedAt: string;
  source: string;
  detailType: string;
  resources: string[];
  detail: Record<string, unknown> & { eventId: string };
}
interface BusEvent {
  'detail-type': string;
  resources: string[];
  detail: Record<string, unknown> & { eventId: string };
}

let queueUrl: string;
const store = () => new DynamoFindingsStore(clients.documents, TABLE, { outbox: ['eventbridge'] });
const api = () => createReportApi(createRuntime(loadConfig()), loadReportApiConfig());

async function get(path: string, query = '', headers: Record<string, string> = auth, through = api()) {
  const response = await through.handle({ method: 'GET', rawPath: path, rawQuery: query, headers });
  return { status: response.status, json: JSON.parse(await bodyText(response.body)) as Record<string, any> };
}

/** Every page of /events from `since`, `limit` at a time; the last nextCursor. */
async function readAll(limit: number, since?: string, through = api()): Promise<{ events: FeedEvent[]; cursor: string; pages: number }> {
  const all: FeedEvent[] = [];
  let cursor = since;
  let pages = 0;
  for (;;) {
    const { status, json } = await get('/events', new URLSearchParams({ limit: String(limit), ...(cursor ? { since: cursor } : {}) }).toString(), auth, through);
    expect(status, JSON.stringify(json)).toBe(200);
    pages++;
    cursor = json.nextCursor as string;
    all.push(...(json.events as FeedEvent[]));
    if (json.events.length < limit) return { events: all, cursor, pages };
  }
}

async function drain(): Promise<BusEvent[]> {
  const all: BusEvent[] = [];
  for (;;) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages?.length) return all;
    all.push(...Messages.map((m) => JSON.parse(m.Body!) as BusEvent));
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

async function outboxSize(): Promise<number> {
  let count = 0;
  for (let shard = 0; shard < OUTBOX_SHARDS; shard++) {
    const page = await clients.documents.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': outboxPk(shard) } }));
    count += page.Items?.length ?? 0;
  }
  return count;
}

/** The clock a settle window later (Date only: timers and the SDK's waits stay real). */
function afterSettling(): void {
  // Advancing with real time: the SDK's retry rate limiter reads Date.now() and waits for it to move.
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(new Date(Date.now() + FEED_SETTLE_MS + 1_000));
}
afterEach(() => {
  vi.useRealTimers();
});

const posture = (verdict: 'noncompliant') => defaultEncryptionPosture('feed-bucket', verdict, '2026-11-20T10:00:00.000Z');

beforeAll(async () => {
  process.env.SSEGUARD_TABLE = TABLE;
  process.env.SSEGUARD_API_TOKEN = TOKEN;
  delete process.env.SSEGUARD_CURSOR_SECRET;
  await ensureFindingsTable(clients.dynamodb, TABLE);
  await events.send(new CreateEventBusCommand({ Name: BUS }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'feed-events' }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await events.send(new PutRuleCommand({ Name: 'feed', EventBusName: BUS, EventPattern: JSON.stringify({ source: ['sseguard'] }) }));
  await events.send(new PutTargetsCommand({ Rule: 'feed', EventBusName: BUS, Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn! }] }));
  queueUrl = QueueUrl!;
});

describe('GET /events', { timeout: 120_000 }, () => {
  let first: { events: FeedEvent[]; cursor: string };
  let busEvents: BusEvent[];

  test('lists each change once, oldest first, as the EventBridge event the bus delivered, after the outbox was emptied', async () => {
    const findings: Finding[] = [
      ...['a.csv', 'b.csv', 'c.csv', 'd.csv', 'e.csv'].map((key) => finding('feed-bucket', key, 'noncompliant', 'none', 10)),
      finding('feed-bucket', 'quiet.csv', 'compliant', 'sse-s3', 10),
      finding('feed-bucket', 'locked.csv', 'at-risk', 'sse-kms', 99, KEY_DISABLED),
    ];
    await store().record(findings);
    // A fix of a.csv recorded with its outcome: one Remediation Applied.
    const fixedAt = '2026-11-20T11:00:00.000Z';
    await store().record([
      {
        ...finding('feed-bucket', 'a.csv', 'compliant', 'sse-kms', 10, KEY_DISABLED.replace('22222222', '11111111')),
        auditedAt: fixedAt,
        remediation: { action: 'copy-in-place', outcome: 'fixed', at: fixedAt, before: { mode: 'none' }, after: { mode: 'sse-kms', kmsKeyArn: KEY_DISABLED.replace('22222222', '11111111') } },
      },
    ]);
    await store().recordKeys([{ status: 'described', arn: KEY_DISABLED, keyId: KEY_DISABLED.split('/')[1]!, accountId: '123456789012', state: 'Disabled', manager: 'CUSTOMER', origin: 'AWS_KMS', rotationEnabled: false }], new Date('2026-11-20T12:00:00.000Z'));
    await new PostureStore(clients.documents, TABLE, { outbox: ['eventbridge'] }).record(posture('noncompliant'));
    await store().recordScan({ id: 'run-1', bucket: 'feed-bucket', prefix: '', startedAt: '2026-11-20T09:00:00.000Z', finishedAt: '2026-11-20T09:05:00.000Z', objects: 7, verdicts: { noncompliant: 5, compliant: 1, 'at-risk': 1 } });
    const recorded = await outboxSize();
    // 6 new findings that fail, the fix, the key, the posture, the run.
    expect(recorded).toBe(10);

    // Not yet settled: nothing listed, and the cursor stays at the start.
    const early = await get('/events');
    expect(early.json.events).toEqual([]);

    const config = { ...loadConfig(), integrations: { eventBus: BUS, securityHub: false } };
    await deliverConfigured(config, clients.documents);
    expect(await outboxSize()).toBe(0);
    busEvents = await drain();
    expect(busEvents).toHaveLength(recorded);

    afterSettling();
    first = await readAll(3, early.json.nextCursor as string);
    expect(first.events).toHaveLength(recorded);
    expect(new Set(first.events.map((e) => e.id)).size).toBe(recorded);
    const order = first.events.map((e) => `${e.recordedAt}#${e.id}`);
    expect(order).toEqual([...order].sort());
    const byId = new Map(busEvents.map((e) => [e.detail.eventId, e]));
    for (const event of first.events) {
      expect(validate(event.detailType, event.detail), `${event.detailType} ${JSON.stringify(event.detail)}`).toEqual([]);
      expect(event.source).toBe('sseguard');
      expect(event.detail.eventId).toBe(event.id);
      const delivered = byId.get(event.id)!;
      expect([event.detailType, event.resources, event.detail]).toEqual([delivered['detail-type'], delivered.resources, delivered.detail]);
    }
    expect(first.events.map((e) => e.detailType).sort()).toEqual(
      [...Array(6).fill('Object Finding Changed'), 'Remediation Applied', 'KMS Key At Risk', 'Bucket Posture Changed', 'Run Completed'].sort(),
    );
    expect(first.events.find((e) => e.detailType === 'KMS Key At Risk')!.detail).toMatchObject({ keyArn: KEY_DISABLED, keyState: 'Disabled', objects: 1, bytes: 99 });
  });

  test('the cursor continues where the last page ended: a later change is the only one listed, and an empty answer keeps the cursor', async () => {
    await store().record([finding('feed-bucket', 'late.csv', 'noncompliant', 'none', 10)]);
    afterSettling();
    const next = await readAll(100, first.cursor);
    expect(next.events.map((e) => [e.detailType, e.detail.key, e.detail.change])).toEqual([['Object Finding Changed', 'late.csv', 'new']]);
    const again = await get('/events', `since=${next.cursor}`);
    expect([again.json.events, again.json.nextCursor]).toEqual([[], next.cursor]);
    // Page size is free from one call to the next: the same changes in pages of one.
    const ones = await readAll(1);
    expect(ones.events.map((e) => e.id)).toEqual([...first.events, ...next.events].map((e) => e.id));
  });

  test('needs the bearer token, refuses an altered cursor or one from another route, and is in the OpenAPI document', async () => {
    expect((await get('/events', '', {})).status).toBe(401);
    afterSettling();
    const { cursor } = await readAll(100);
    const [payload, mac] = cursor.split('.');
    const altered = await get('/events', `since=${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), k: '0' })).toString('base64url')}.${mac}`);
    expect([altered.status, altered.json.error.code]).toEqual([400, 'bad-request']);
    const findingsCursor = (await get('/findings', 'limit=1')).json.nextCursor as string;
    expect((await get('/events', `since=${findingsCursor}`)).status).toBe(400);
    expect((await get('/events', 'limit=0')).status).toBe(400);
    const document = (await get('/openapi.json')).json;
    const parameters = document.paths['/events'].get.parameters.map((p: { name: string }) => p.name);
    expect(parameters).toEqual(['since', 'limit']);
    expect(document.paths['/events'].get.responses[200].content['application/json'].schema.properties.events.type).toBe('array');
  });
});

test('under 30% throttling and 5xx, and a lost TransactWriteItems answer, each change is in the feed once, and a throttled reader pages through the same feed', async () => {
  const proxy = await startFaultProxy({ target: inject('emulatorEndpoint'), seed: 11 });
  try {
    afterSettling();
    const before = await readAll(100);
    vi.useRealTimers();
    const faulty = createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: proxy.endpoint }));
    const keys = Array.from({ length: 12 }, (_, i) => `faulty-${String(i).padStart(2, '0')}.csv`);
    const faultyStore = new DynamoFindingsStore(faulty.clients.documents, TABLE, { outbox: ['eventbridge'] });
    // The first transaction commits and its answer is lost: the retry (same token) writes nothing twice.
    proxy.setRules([{ service: 'dynamodb', operation: 'TransactWriteItems', rate: 1, kind: 'lost-response', times: 1 }]);
    await faultyStore.record(keys.slice(0, 6).map((key) => finding('feed-bucket', key, 'noncompliant', 'none', 10)));
    expect(proxy.stats().faults['dynamodb:TransactWriteItems:lost-response']).toBe(1);
    proxy.setRules([
      { service: 'dynamodb', rate: 0.3, kind: 'throttle' },
      { service: 'dynamodb', rate: 0.1, kind: 'server-error' },
    ]);
    for (const key of keys.slice(6)) await faultyStore.record([finding('feed-bucket', key, 'noncompliant', 'none', 10)]);
    afterSettling();
    const through = createReportApi(faulty, loadReportApiConfig());
    const after = await readAll(5, before.cursor, through);
    const faults = Object.keys(proxy.stats().faults);
    expect(faults.filter((k) => k.startsWith('dynamodb:Query:') || k.startsWith('dynamodb:TransactWriteItems:')).length).toBeGreaterThan(1);
    expect(after.events.map((e) => e.detail.key).sort()).toEqual(keys);
    proxy.setRules([]);
    const clean = await readAll(100, before.cursor);
    expect(clean.events.map((e) => e.id)).toEqual(after.events.map((e) => e.id));
  } finally {
    await proxy.close();
  }
}, 120_000);
