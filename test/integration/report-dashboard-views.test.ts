// What the dashboard's views say, on the emulator: fixes in words and the paged change log, the
// compliance trend per scope without runs that audited nothing, at-risk keys only when objects
// depend on them, key aliases (from ListAliases) in the API, `scan` and `report`, and a `serve`
// log of one line per failed request.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { CreateAliasCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { handler as keyEvents } from '../../functions/key-events.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import type { Finding, RemediationRecord } from '../../shared/domain/finding.ts';
import { DynamoFindingsStore, ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { KmsKeyInspector } from '../../shared/inspect/key-inspector.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { loadReportApiConfig } from '../../shared/report/api-config.ts';
import type { ReportApi } from '../../shared/report/api.ts';
import { bodyText, createReportApi } from '../../shared/report-api/create-report-api.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { createBucket, createKey, putObject, scheduleDeletion, type TestKey } from '../support/aws-fixtures.ts';
import { runCli, runKillableCli } from '../support/cli.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { finding } from '../support/report-fixtures.ts';

const TABLE = 'dashboard-views';
const TOKEN = 'views-token-0123456789abcdef0123456789abcdef';
Object.assign(process.env, { SSEGUARD_TABLE: TABLE, SSEGUARD_QUEUE: 'dashboard-views-audit', SSEGUARD_DLQ: 'dashboard-views-audit-dlq' });
delete process.env.SSEGUARD_POLICY;
const emulator = inject('emulatorEndpoint');
const clients = createAwsClients();
const store = new DynamoFindingsStore(clients.documents, TABLE);
const runtime = () => createRuntime(loadConfig());
let api: ReportApi;
let finance: TestKey;
let proxy: FaultProxy;

async function get(path: string, query = ''): Promise<{ status: number; json: any }> {
  const response = await api.handle({ method: 'GET', rawPath: path, rawQuery: query, headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.status, json: JSON.parse(await bodyText(response.body)) };
}

beforeAll(async () => {
  await ensureFindingsTable(clients.dynamodb, TABLE);
  await ensureIdempotencyTable(clients.dynamodb, runtime().config.idempotencyTable);
  await ensureQueues(clients.sqs, runtime().config);
  finance = await createKey(clients, { rotation: true, alias: 'alias/finance' });
  api = createReportApi(runtime(), loadReportApiConfig({ SSEGUARD_API_TOKEN: TOKEN }));
  proxy = await startFaultProxy({ target: emulator, seed: 3 });
});

afterAll(async () => {
  await proxy?.close();
});

describe('key aliases', () => {
  test("a key's aliases come from ListAliases once per key ARN, however the key is named, and are stored with its facts", async () => {
    const inspector = new KmsKeyInspector(createAwsClients({ endpoint: proxy.endpoint }).kms);
    proxy.resetStats();
    for (const ref of [finance.arn, finance.id, 'alias/finance']) {
      expect(await inspector.lookup(ref), ref).toMatchObject({ status: 'described', arn: finance.arn, aliases: ['alias/finance'] });
    }
    expect(proxy.stats().requests['kms:ListAliases']).toBe(1);

    // A scan records the key's facts with its aliases; the API lists them with the key.
    await createBucket(clients, 'aliased');
    await putObject(clients, 'aliased', 'ledger.csv', { mode: 'sse-kms', key: finance });
    await scanBucket(await scanDependencies(runtime()), { bucket: 'aliased', concurrency: 2 });
    expect((await runtime().store.summary()).keyFacts[finance.arn]).toMatchObject({ aliases: ['alias/finance'] });
    expect((await get('/keys')).json.keys).toContainEqual(expect.objectContaining({ arn: finance.arn, aliases: ['alias/finance'], objects: 1 }));
  });

  test('ListAliases throttled (AWS error shape): the key is still described, its aliases unknown, and asked again once forgotten', async () => {
    const inspector = new KmsKeyInspector(createAwsClients({ endpoint: proxy.endpoint }).kms);
    proxy.setRules([{ service: 'kms', operation: 'ListAliases', rate: 1, kind: 'throttle', times: 3 }]);
    proxy.resetStats();
    const found = await inspector.lookup(finance.arn);
    expect(found).toMatchObject({ status: 'described', state: 'Enabled', rotationEnabled: true });
    expect(found).not.toHaveProperty('aliases');
    expect(proxy.stats().faults['kms:ListAliases:throttle']).toBe(3);
    inspector.forget(finance.arn);
    expect(await inspector.lookup(finance.arn)).toMatchObject({ status: 'described', aliases: ['alias/finance'] });
    proxy.setRules([]);
  });

  test('a long-lived inspector (a warm Lambda) sees an alias added since, once its entries expire', async () => {
    let now = 0;
    const key = await createKey(clients, { alias: 'alias/before' });
    const inspector = new KmsKeyInspector(clients.kms, { ttlMs: 60_000, now: () => now });
    expect(await inspector.lookup(key.arn)).toMatchObject({ aliases: ['alias/before'] });
    await clients.kms.send(new CreateAliasCommand({ AliasName: 'alias/after', TargetKeyId: key.id }));
    now = 30_000;
    expect(await inspector.lookup(key.arn)).toMatchObject({ aliases: ['alias/before'] });
    now = 61_000;
    expect(await inspector.lookup(key.arn)).toMatchObject({ aliases: ['alias/after', 'alias/before'] });
  });

  test('`scan` (table and --json) and `report` name each key by its aliases beside its ARN', async () => {
    const scan = await runCli(['scan', '--bucket', 'aliased']);
    expect(scan.code, scan.stderr).toBe(0);
    const scanKeyRow = scan.stdout.split('\n').find((line) => line.includes(finance.arn));
    expect(scanKeyRow).toContain('alias/finance');
    const json = await runCli(['scan', '--bucket', 'aliased', '--json']);
    expect(JSON.parse(json.stdout).summary.keyAliases).toEqual({ [finance.arn]: ['alias/finance'] });
    const report = await runCli(['report', '--bucket', 'aliased']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout.split('\n').find((line) => line.includes(finance.arn))).toContain('alias/finance');
  }, 90_000);
});

describe('at-risk keys', () => {
  test('a key event for a key no object depends on adds nothing to the at-risk keys; a key objects depend on is listed', async () => {
    const stranger = await createKey(clients, { alias: 'alias/nobody-uses-this' });
    await scheduleDeletion(clients, stranger);
    const sample = JSON.parse(readFileSync(new URL('../events/kms-disable-key.json', import.meta.url), 'utf8'));
    const event = (call: string, key: TestKey) => ({
      ...sample,
      detail: { ...sample.detail, eventName: call, requestParameters: { keyId: key.id }, resources: [{ ...sample.detail.resources[0], ARN: key.arn }] },
    });
    resetHandlerRuntime();
    expect(await keyEvents(event('ScheduleKeyDeletion', stranger), localLambdaContext('key-events'))).toMatchObject({ status: 'reevaluated', objects: 0 });
    const summary = (await get('/summary')).json;
    expect(summary.atRiskKeys.map((k: { arn: string }) => k.arn)).not.toContain(stranger.arn);
    // Its facts are kept (the key list says what KMS said), but it is not at risk: nothing depends on it.
    expect((await get('/keys')).json.keys).toContainEqual(expect.objectContaining({ arn: stranger.arn, state: 'PendingDeletion', objects: 0, atRisk: false }));

    // The finance key, on which an object depends, scheduled for deletion: it is at risk, by its alias.
    await scheduleDeletion(clients, finance);
    expect((await clients.kms.send(new DescribeKeyCommand({ KeyId: finance.id }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
    resetHandlerRuntime();
    await keyEvents(event('ScheduleKeyDeletion', finance), localLambdaContext('key-events'));
    const after = (await get('/summary')).json;
    expect(after.atRiskKeys).toEqual([expect.objectContaining({ arn: finance.arn, aliases: ['alias/finance'], objects: 1, atRisk: true })]);
  }, 60_000);
});

describe('remediations in words, and the change log', () => {
  const FINANCE_ARN = 'arn:aws:kms:us-east-1:123456789012:key/33333333-3333-3333-3333-333333333333';
  const fix = (minute: number, record: Partial<RemediationRecord> = {}): RemediationRecord => ({
    action: 'copy',
    outcome: 'fixed',
    at: `2026-11-23T09:${String(minute).padStart(2, '0')}:00.000Z`,
    before: { mode: 'sse-s3', bucketKeyEnabled: false, etag: '"e1"', versionId: 'v1' },
    after: { mode: 'sse-kms', kmsKeyArn: FINANCE_ARN, bucketKeyEnabled: true, etag: '"e1"', versionId: 'v1' },
    ...record,
  });
  const fixed = (key: string, remediation: RemediationRecord): Finding => ({
    ...finding('fixed-bucket', key, 'compliant', 'sse-kms', 10, FINANCE_ARN),
    auditedAt: remediation.at.replace(':00.000Z', ':01.000Z'),
    remediation,
  });

  beforeAll(async () => {
    await store.recordKeys(
      [{ status: 'described', arn: FINANCE_ARN, keyId: FINANCE_ARN.split('/')[1]!, accountId: '123456789012', state: 'Enabled', manager: 'CUSTOMER', origin: 'AWS_KMS', rotationEnabled: true, aliases: ['alias/finance'] }],
      new Date('2026-11-23T09:00:00.000Z'),
    );
    for (let i = 0; i < 7; i++) await store.record([fixed(`obj-${i}.csv`, fix(i))]);
  });

  test('the summary shows the five newest fixes, each in words, never raw JSON', async () => {
    const { recentRemediations } = (await get('/summary')).json;
    expect(recentRemediations.map((r: { key: string }) => r.key)).toEqual(['obj-6.csv', 'obj-5.csv', 'obj-4.csv', 'obj-3.csv', 'obj-2.csv']);
    expect(recentRemediations[0]).toMatchObject({ action: 'copy', outcome: 'fixed', description: 'sse-s3 → sse-kms (alias/finance), bucket key on, ETag kept' });
  });

  test('/remediations pages through the whole log newest first; a cursor only continues its own query', async () => {
    const keys: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get('/remediations', new URLSearchParams({ limit: '3', ...(cursor ? { cursor } : {}) }).toString());
      expect(page.status).toBe(200);
      expect(page.json.remediations.length).toBeLessThanOrEqual(3);
      keys.push(...page.json.remediations.map((r: { key: string }) => r.key));
      cursor = page.json.nextCursor;
      pages++;
    } while (cursor);
    expect(keys).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => `obj-${i}.csv`));
    expect(pages).toBe(3);
    const first = await get('/remediations', 'limit=3');
    expect((await get('/remediations', `limit=4&cursor=${first.json.nextCursor}`)).status).toBe(400);
    expect((await get('/remediations', 'limit=0')).status).toBe(400);
    const openapi = (await get('/openapi.json')).json;
    expect(openapi.paths['/remediations'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['cursor', 'limit']);
  });
});

describe('the compliance trend', () => {
  test('is per scope, leaves out runs that audited no object or were interrupted, and such runs cover nothing', async () => {
    const run = (id: string, bucket: string, prefix: string, finishedAt: string, objects: number, compliant: number) =>
      store.recordScan({ id, bucket, prefix, startedAt: finishedAt.replace(/:\d\d\.000Z$/, ':00.000Z'), finishedAt, objects, verdicts: objects ? { compliant, noncompliant: objects - compliant } : {} });
    await store.record([finding('trend-bucket', 'finance/a.csv', 'compliant', 'sse-s3', 1), finding('trend-bucket', 'logs/b.log', 'noncompliant', 'none', 1)]);
    await run('t1', 'trend-bucket', '', '2026-11-24T08:00:30.000Z', 2, 1);
    await run('t2', 'trend-bucket', '', '2026-11-24T09:30:30.000Z', 2, 2);
    await run('t3', 'trend-bucket', 'finance/', '2026-11-24T10:00:30.000Z', 1, 1);
    // The typo: zero objects audited, recorded by a scan from before the scan refused such runs.
    await run('t4', 'trend-bucket', 'finanse/', '2026-11-24T11:00:30.000Z', 0, 0);
    await run('t5', 'empty-bucket', '', '2026-11-24T12:00:30.000Z', 0, 0);
    // Ctrl-C after one of two objects: 100% of what it reached is no figure for the bucket, nor coverage.
    await store.recordScan({ id: 't6', bucket: 'trend-bucket', prefix: '', startedAt: '2026-11-24T13:00:00.000Z', finishedAt: '2026-11-24T13:00:30.000Z', objects: 1, verdicts: { compliant: 1 }, interrupted: { listingFinished: true } });
    const summary = (await get('/summary')).json;
    const trend = summary.trend.filter((t: { bucket: string }) => t.bucket === 'trend-bucket' || t.bucket === 'empty-bucket');
    expect(trend.map((t: { scope: string; id: string; compliancePercent: number }) => [t.scope, t.id, t.compliancePercent])).toEqual([
      ['trend-bucket', 't1', 50],
      ['trend-bucket', 't2', 100],
      ['trend-bucket/finance/', 't3', 100],
    ]);
    expect(summary.buckets.find((b: { bucket: string }) => b.bucket === 'trend-bucket').lastSweepAt).toBe('2026-11-24T09:30:30.000Z');
  });
});

describe('sseguard serve', () => {
  test('logs one line per failed request, naming the route and the cause, with no stack trace', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let pid = 0;
    const served = runKillableCli(['serve', '--port', String(port)], { SSEGUARD_TABLE: 'no-such-table', SSEGUARD_API_TOKEN: TOKEN }, (started) => (pid = started));
    const deadline = Date.now() + 60_000;
    while (!(await fetch(`${url}/health`).then((r) => r.ok, () => false))) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    for (const path of ['/summary', '/keys']) {
      const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(500);
      expect(JSON.stringify(await response.json())).not.toContain('no-such-table');
    }
    process.kill(-pid, 'SIGTERM');
    const { stderr } = await served;
    const lines = stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines, stderr).toHaveLength(2);
    expect(lines[0]).toMatch(/^sseguard serve: report API request failed: GET \/summary: ResourceNotFoundException.*: .+/);
    expect(lines[1]).toMatch(/^sseguard serve: report API request failed: GET \/keys: ResourceNotFoundException/);
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 90_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
