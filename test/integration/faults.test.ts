// Evidence under faults: throttling in AWS's own error shapes, dead endpoints, crashes at each step
// of a fix, two fixing runs at once, late events. The fault proxy (test/support/fault-proxy.ts)
// sits between sseguard and the emulator; every assertion is about what ends up recorded.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { auditRequests } from '../../shared/audit/audit-batch.ts';
import { scanBucket, type ScanResult } from '../../shared/audit/scan.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import type { Verdict } from '../../shared/domain/verdict.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { transactWrite } from '../../shared/findings/dynamodb-writes.ts';
import { PostureStore } from '../../shared/findings/posture-store.ts';
import type { PostureChange } from '../../shared/domain/posture-change.ts';
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { createRuntime, scanDependencies, type Runtime } from '../../shared/runtime.ts';
import { createBucket, createKey, disableKey, enableVersioning, putObject, type TestKey } from '../support/aws-fixtures.ts';
import { startBlackHole, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { runKillableCli, type KillableRun } from '../support/cli.ts';

const TABLE = 'faults-findings';
const dir = mkdtempSync(join(tmpdir(), 'sseguard-faults-'));
const emulator = inject('emulatorEndpoint');
Object.assign(process.env, { SSEGUARD_TABLE: TABLE, SSEGUARD_IDEMPOTENCY_TABLE: 'faults-idempotency' });

const writer = createAwsClients({ maxSockets: 32 });
let proxy: FaultProxy;
let enabledKey: TestKey;
let disabledKey: TestKey;
let targetKey: TestKey;

/** A runtime whose every AWS call goes to `endpoint` (the proxy or the emulator itself). */
function runtimeAt(endpoint: string, env: Record<string, string> = {}): Runtime {
  return createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: endpoint, ...env }), { maxSockets: 32 });
}

async function scanAt(endpoint: string, bucket: string, policyPath?: string): Promise<ScanResult> {
  const runtime = runtimeAt(endpoint);
  const deps = await scanDependencies(runtime, policyPath);
  return scanBucket(deps, { bucket, concurrency: 16, defer: { baseDelayMs: 50, maxDelayMs: 1_000 } });
}

async function storedStates(bucket: string): Promise<Map<string, StoredFinding>> {
  const states = new Map<string, StoredFinding>();
  for await (const page of runtimeAt(emulator).store.findings({ bucket })) for (const f of page) states.set(f.key, f);
  return states;
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

function policy(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

type Run = KillableRun;

const sseguard = (args: string[], env: Record<string, string>, onStart?: (pid: number) => void) => runKillableCli(args, env, onStart);

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator, seed: 7 });
  const runtime = runtimeAt(emulator);
  await ensureFindingsTable(runtime.clients.dynamodb, TABLE);
  await ensureIdempotencyTable(runtime.clients.dynamodb, 'faults-idempotency');
  enabledKey = await createKey(writer, { rotation: true });
  disabledKey = await createKey(writer, { rotation: true });
  targetKey = await createKey(writer, { rotation: true });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
});

describe('throttling is weather, not a verdict', () => {
  const BUCKET = 'weather';
  const N = 1_000;
  const strict = () =>
    policy('weather.yaml', `version: 1\ndefault:\n  require: any\nrules:\n  - bucket: ${BUCKET}\n    prefix: strict/\n    require: sse-kms\n`);
  let baseline: Map<string, { verdict: Verdict; rev: number }>;

  beforeAll(async () => {
    await createBucket(writer, BUCKET);
    const keys = Array.from({ length: N }, (_, i) => i);
    // Compliant SSE-S3 and SSE-KMS, at-risk under a key disabled after the writes, non-compliant SSE-S3 under strict/.
    await inBatches(keys, 32, (i) => {
      const key = `${i % 4 === 3 ? 'strict/' : ''}obj-${String(i).padStart(5, '0')}`;
      if (i % 4 === 1) return putObject(writer, BUCKET, key, { mode: 'sse-kms', key: enabledKey });
      if (i % 4 === 2) return putObject(writer, BUCKET, key, { mode: 'sse-kms', key: disabledKey });
      return putObject(writer, BUCKET, key, { mode: 'sse-s3' });
    });
    await disableKey(writer, disabledKey);
    const first = await scanAt(emulator, BUCKET, strict());
    expect(first.notAudited).toBe(0);
    baseline = new Map([...(await storedStates(BUCKET))].map(([key, f]) => [key, { verdict: f.verdict, rev: f.rev }]));
    expect(baseline.size).toBe(N);
    expect(new Set([...baseline.values()].map((b) => b.verdict))).toEqual(new Set(['compliant', 'at-risk', 'noncompliant']));
  }, 300_000);

  test.each([0.1, 0.3, 0.5])(
    'at %s of HeadObject answered 503 SlowDown, KMS and DynamoDB throttled: every verdict equals the fault-free one or the object is reported not audited with its finding intact; nothing is written twice',
    async (rate) => {
      proxy.setRules([
        { service: 's3', operation: 'HeadObject', rate, kind: 'throttle' },
        { service: 'kms', rate, kind: 'throttle' },
        { service: 'dynamodb', rate, kind: 'throttle' },
      ]);
      proxy.resetStats();
      const result = await scanAt(proxy.endpoint, BUCKET, strict());
      const stats = proxy.stats();
      proxy.setRules([]);
      expect(stats.faults['s3:HeadObject:throttle'] ?? 0).toBeGreaterThan(N * rate * 0.5);
      expect(result.objects + result.notAudited).toBe(N);
      expect(result.notAudited).toBeLessThan(N * 0.01);
      const states = await storedStates(BUCKET);
      expect(states.size).toBe(N);
      // Every object as recorded without faults: same verdict, and not even rewritten (same revision).
      const differing = [...states].filter(([key, f]) => f.verdict !== baseline.get(key)?.verdict || f.rev !== baseline.get(key)?.rev);
      expect(differing).toEqual([]);
      // So no state, history or counter was written at all.
      expect(stats.forwarded['dynamodb:TransactWriteItems'] ?? 0).toBe(0);
      expect(result.verdicts['unauditable'] ?? 0).toBe(0);
      // At 10% the SDK's own attempts absorb most faults; from 30% on the scan defers objects too.
      if (rate >= 0.3) expect(result.retries).toBeGreaterThan(0);
    },
    300_000,
  );

  test('ListObjectsV2 answered 503 SlowDown half the time: the listing retries its pages, every object is audited as before', async () => {
    proxy.setRules([{ service: 's3', operation: 'ListObjectsV2', rate: 0.5, kind: 'throttle' }]);
    proxy.resetStats();
    const result = await scanAt(proxy.endpoint, BUCKET, strict());
    const faults = proxy.stats().faults['s3:ListObjectsV2:throttle'] ?? 0;
    proxy.setRules([]);
    expect(faults).toBeGreaterThan(0);
    expect(result.objects + result.notAudited).toBe(N);
    const states = await storedStates(BUCKET);
    expect([...states].filter(([key, f]) => f.verdict !== baseline.get(key)?.verdict)).toEqual([]);
  }, 300_000);

  test('DynamoDB throttling on the first recording loses no finding, and the counters equal a recount', async () => {
    const bucket = 'weather-writes';
    await createBucket(writer, bucket);
    await inBatches(Array.from({ length: 300 }, (_, i) => i), 32, (i) => putObject(writer, bucket, `w-${i}`, { mode: i % 2 ? 'sse-s3' : 'sse-kms', key: enabledKey }));
    proxy.setRules([{ service: 'dynamodb', rate: 0.4, kind: 'throttle' }, { service: 'dynamodb', operation: 'TransactWriteItems', rate: 0.2, kind: 'server-error' }]);
    proxy.resetStats();
    const result = await scanAt(proxy.endpoint, bucket);
    const faults = Object.entries(proxy.stats().faults).filter(([name]) => name.startsWith('dynamodb:'));
    proxy.setRules([]);
    expect(faults.length).toBeGreaterThan(0);
    expect(result.objects).toBe(300);
    const states = await storedStates(bucket);
    expect(states.size).toBe(300);
    const summary = await runtimeAt(emulator).store.summary();
    expect(summary.buckets[bucket]).toMatchObject({ objects: 300, verdicts: { compliant: 300 } });
  }, 300_000);

  test('answers lost after DynamoDB applied the write (the caller retries a write that happened): no error, nothing recorded twice, counters equal a recount', async () => {
    const bucket = 'lost-answers';
    await createBucket(writer, bucket);
    await inBatches(Array.from({ length: 200 }, (_, i) => i), 32, (i) => putObject(writer, bucket, `l-${i}`, { mode: i % 2 ? 'sse-s3' : 'sse-kms', key: enabledKey }));
    // One SDK attempt: every lost answer reaches sseguard's own retry, the path under test.
    const runtime = runtimeAt(proxy.endpoint, { SSEGUARD_MAX_ATTEMPTS: '1' });
    proxy.setRules([
      { service: 'dynamodb', operation: 'TransactWriteItems', rate: 0.3, kind: 'lost-response' },
      { service: 'dynamodb', operation: 'BatchWriteItem', rate: 0.3, kind: 'lost-response' },
      { service: 'dynamodb', operation: 'PutItem', rate: 0.3, kind: 'lost-response' },
    ]);
    proxy.resetStats();
    const result = await scanBucket(await scanDependencies(runtime), { bucket, concurrency: 16, defer: { baseDelayMs: 50, maxDelayMs: 1_000 } });
    const lost = proxy.stats().faults['dynamodb:TransactWriteItems:lost-response'] ?? 0;
    proxy.setRules([]);
    expect(lost).toBeGreaterThan(0);
    expect(result).toMatchObject({ objects: 200, notAudited: 0 });
    const states = await storedStates(bucket);
    expect(states.size).toBe(200);
    const reader = runtimeAt(emulator).store;
    expect((await reader.summary()).buckets[bucket]).toMatchObject({ objects: 200, verdicts: { compliant: 200 } });
    for (const key of ['l-0', 'l-1', 'l-2', 'l-3', 'l-100', 'l-199']) expect(await reader.history(bucket, key)).toHaveLength(1);
  }, 300_000);

  test('a transaction whose answer was lost is retried with its token: it succeeds once, its conditions do not fail against itself, its counter moves once', async () => {
    const runtime = runtimeAt(proxy.endpoint, { SSEGUARD_MAX_ATTEMPTS: '1' });
    proxy.setRules([{ service: 'dynamodb', operation: 'TransactWriteItems', rate: 0.5, kind: 'lost-response' }]);
    proxy.resetStats();
    const runId = `lost-${Date.now()}`;
    for (let i = 0; i < 20; i++) {
      await transactWrite(runtime.clients.documents, [
        { Put: { TableName: TABLE, Item: { pk: runId, sk: `marker-${i}` }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Update: { TableName: TABLE, Key: { pk: runId, sk: 'counter' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } } },
      ]);
    }
    expect(proxy.stats().faults['dynamodb:TransactWriteItems:lost-response'] ?? 0).toBeGreaterThan(0);
    proxy.setRules([]);
    const { Item } = await runtimeAt(emulator).clients.documents.send(new GetCommand({ TableName: TABLE, Key: { pk: runId, sk: 'counter' } }));
    expect(Item?.n).toBe(20);
  }, 120_000);

  test('a posture change whose PutItem answer was lost is recorded once, without an error', async () => {
    const runtime = runtimeAt(proxy.endpoint, { SSEGUARD_MAX_ATTEMPTS: '1' });
    const store = new PostureStore(runtime.clients.documents, TABLE);
    proxy.setRules([{ service: 'dynamodb', operation: 'PutItem', rate: 0.5, kind: 'lost-response' }]);
    proxy.resetStats();
    const at = new Date().toISOString();
    // A lost answer is retried; the retry finds the change's own write (a failed condition) and stops there, without an error.
    for (let i = 0; i < 10; i++) {
      const change: PostureChange = { id: `c-${i}`, bucket: 'lost-posture', at, kind: 'bucket-policy', before: null, after: '{}', fixes: [], diff: '+{}' };
      await store.recordChange(change);
    }
    expect(proxy.stats().faults['dynamodb:PutItem:lost-response'] ?? 0).toBeGreaterThan(0);
    proxy.setRules([]);
    expect(await new PostureStore(runtimeAt(emulator).clients.documents, TABLE).changes('lost-posture')).toHaveLength(10);
  }, 120_000);
});

describe('bounded time', () => {
  test('an endpoint that accepts connections and never answers fails the scan in seconds, with one line naming it', async () => {
    const hole = await startBlackHole();
    try {
      const run = await sseguard(['scan', '--bucket', 'weather'], { AWS_ENDPOINT_URL: hole.endpoint, SSEGUARD_SOCKET_TIMEOUT_MS: '3000' });
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(`no answer from ${hole.endpoint}`);
      // Three attempts of a three-second idle timeout, plus start-up: well under a minute, never forever.
      expect(run.ms).toBeLessThan(30_000);
    } finally {
      await hole.close();
    }
  }, 60_000);
});

describe('crash-safe remediation', () => {
  const OBJECTS = 24;
  let bucketCount = 0;

  async function fixableBucket(): Promise<{ bucket: string; policyPath: string; bodies: Map<string, string> }> {
    const bucket = `crash-${++bucketCount}-${process.pid}`;
    await createBucket(writer, bucket);
    await enableVersioning(writer, bucket);
    const bodies = new Map<string, string>();
    await inBatches(Array.from({ length: OBJECTS }, (_, i) => i), 12, async (i) => {
      const key = `doc-${i}`;
      const body = `content of ${key} `.repeat(50);
      bodies.set(key, createHash('sha256').update(body).digest('hex'));
      // DSSE-KMS → SSE-KMS is a copy in place: a second copy would leave a third version.
      await writer.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ServerSideEncryption: 'aws:kms:dsse',
          SSEKMSKeyId: enabledKey.arn,
          Metadata: { owner: 'alice' },
          Tagging: 'team=data',
        }),
      );
    });
    const policyPath = policy(
      `${bucket}.yaml`,
      `version: 1\nrules:\n  - bucket: ${bucket}\n    require: sse-kms\n    kmsKeys: [${targetKey.arn}]\n    remediate: true\n` +
        `    target: { mode: sse-kms, kmsKey: ${targetKey.arn}, bucketKey: false }\n`,
    );
    return { bucket, policyPath, bodies };
  }

  /** Every object fixed exactly once, content and metadata intact, history complete, counters right. */
  async function expectFixedExactlyOnce(bucket: string, bodies: Map<string, string>) {
    const store = runtimeAt(emulator).store;
    for (const [key, sha] of bodies) {
      const head = await writer.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect({ key, sse: head.ServerSideEncryption, kmsKey: head.SSEKMSKeyId }).toEqual({ key, sse: 'aws:kms', kmsKey: targetKey.arn });
      expect(head.Metadata).toEqual({ owner: 'alice' });
      const body = await (await writer.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
      expect(createHash('sha256').update(body).digest('hex')).toBe(sha);
      const tags = await writer.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      expect(tags.TagSet).toEqual([{ Key: 'team', Value: 'data' }]);
      const versions = await writer.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
      expect({ key, versions: (versions.Versions ?? []).filter((v) => v.Key === key).length }).toEqual({ key, versions: 2 });
      const fixes = (await store.history(bucket, key)).filter((entry) => entry.remediation?.outcome === 'fixed');
      expect({ key, fixes: fixes.length }).toEqual({ key, fixes: 1 });
    }
    const states = await storedStates(bucket);
    expect([...states.values()].every((f) => f.verdict === 'compliant')).toBe(true);
    const summary = await store.summary();
    expect(summary.buckets[bucket]).toMatchObject({ objects: bodies.size, verdicts: { compliant: bodies.size } });
  }

  const KILL_POINTS: [string, string, 'request' | 'response', number][] = [
    ['before the S3 copy is sent', 's3:CopyObject', 'request', 6],
    ['right after S3 made the copy, before anything was recorded', 's3:CopyObject', 'response', 6],
    ['while the findings batch is being recorded', 'dynamodb:TransactWriteItems', 'response', 8],
    ['right after an intent was written', 'dynamodb:PutItem', 'response', 10],
  ];

  test.each(KILL_POINTS)('killed %s: the rerun at once fixes every object exactly once and the history is complete', async (_when, operation, phase, nth) => {
    const { bucket, policyPath, bodies } = await fixableBucket();
    let seen = 0;
    let victim: number | undefined;
    proxy.observe((key, at) => {
      if (key !== operation || at !== phase || victim === undefined) return;
      if (++seen === nth) process.kill(-victim, 'SIGKILL');
    });
    const env = { AWS_ENDPOINT_URL: proxy.endpoint, SSEGUARD_FIX_LEASE_MS: '1500' };
    const crashed = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate', '--concurrency', '4'], env, (pid) => (victim = pid));
    proxy.observe(undefined);
    expect(crashed.code).toBeNull(); // killed
    const rerun = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate'], { AWS_ENDPOINT_URL: emulator, SSEGUARD_FIX_LEASE_MS: '1500' });
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    await expectFixedExactlyOnce(bucket, bodies);
  }, 180_000);

  // Interrupted runs say what they did, and the rerun is not blocked by the locks the dead run held:
  // no short lease here (SSEGUARD_FIX_LEASE_MS unset: one minute), so only a take-over can fix at once.
  const IDEMPOTENCY = 'faults-idempotency';
  const INTERRUPTED = /interrupted: (\d+) fixed so far, (\d+) not audited: rerun to finish/;

  /** The fix locks in progress that name process `pid` as their owner. */
  async function locksOf(pid: number): Promise<Record<string, unknown>[]> {
    const { Items } = await writer.documents.send(
      new ScanCommand({ TableName: IDEMPOTENCY, FilterExpression: 'owner_pid = :pid AND #s = :inprogress', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':pid': pid, ':inprogress': 'INPROGRESS' } }),
    );
    return Items ?? [];
  }

  async function fixedSoFar(bucket: string, bodies: Map<string, string>): Promise<number> {
    const store = runtimeAt(emulator).store;
    let fixed = 0;
    for (const key of bodies.keys()) if ((await store.history(bucket, key)).some((entry) => entry.remediation?.outcome === 'fixed')) fixed += 1;
    return fixed;
  }

  const GRACEFUL: [NodeJS.Signals, string, 'request' | 'response', number][] = [
    ['SIGINT', 's3:CopyObject', 'response', 6],
    ['SIGTERM', 'dynamodb:PutItem', 'response', 8],
  ];

  test.each(GRACEFUL)(
    '%s during scan --remediate: fixes in flight finish, the locks are released, it says "interrupted: N fixed so far, M not audited" truly and exits 2; the rerun fixes the rest at once, each exactly once, and lists them',
    async (signal, operation, phase, nth) => {
      const { bucket, policyPath, bodies } = await fixableBucket();
      let seen = 0;
      let victim: number | undefined;
      proxy.observe((key, at) => {
        if (key !== operation || at !== phase || victim === undefined) return;
        if (++seen === nth) process.kill(-victim, signal);
      });
      const args = ['scan', '--bucket', bucket, '--policy', policyPath, '--remediate', '--concurrency', '4'];
      const interrupted = await sseguard(args, { AWS_ENDPOINT_URL: proxy.endpoint }, (pid) => (victim = pid));
      proxy.observe(undefined);
      expect(interrupted.code).toBe(2);
      const said = INTERRUPTED.exec(interrupted.stdout);
      expect(said, interrupted.stdout + interrupted.stderr).not.toBeNull();
      const [fixed, notAudited] = [Number(said![1]), Number(said![2])];
      // What it says is what is on record: every object is either fixed (history) or not audited.
      expect(fixed).toBe(await fixedSoFar(bucket, bodies));
      expect(fixed).toBeGreaterThan(0);
      expect(notAudited).toBeGreaterThan(0);
      expect(fixed + notAudited).toBe(OBJECTS);
      expect(interrupted.stdout.match(/^ {2}s3:\/\/.*, copy$/gm)?.length).toBe(fixed);
      expect(await locksOf(victim!)).toEqual([]);

      const rerun = await sseguard([...args.slice(0, -2), '--json'], { AWS_ENDPOINT_URL: emulator });
      expect(rerun.stderr).toBe('');
      expect(rerun.code).toBe(0);
      const { summary } = JSON.parse(rerun.stdout);
      expect(summary.remediation.outcomes['skipped-being-fixed-elsewhere']).toBeUndefined();
      const changes = summary.remediation.changes as { key: string; action: string; versionBefore: string; versionAfter: string; before: { mode: string }; after: { mode: string; kmsKeyArn: string } }[];
      expect(changes).toHaveLength(OBJECTS - fixed);
      for (const change of changes) {
        expect(change).toMatchObject({ action: 'copy', before: { mode: 'dsse-kms' }, after: { mode: 'sse-kms', kmsKeyArn: targetKey.arn } });
        expect(change.versionAfter).not.toBe(change.versionBefore);
      }
      await expectFixedExactlyOnce(bucket, bodies);

      // `report --remediations` reads the same changes back from the table: one per `fixed` history entry.
      const log = await sseguard(['report', '--remediations', '--bucket', bucket, '--format', 'json'], { AWS_ENDPOINT_URL: emulator });
      expect(log.code).toBe(0);
      const logged = (JSON.parse(log.stdout).remediations as { key: string; versionBefore: string; versionAfter: string; action: string }[]).map((c) => `${c.key} ${c.versionBefore} ${c.versionAfter} ${c.action}`);
      const fromHistory: string[] = [];
      const store = runtimeAt(emulator).store;
      for (const key of bodies.keys()) {
        for (const { remediation } of await store.history(bucket, key)) {
          if (remediation?.outcome === 'fixed') fromHistory.push(`${key} ${remediation.before.versionId} ${remediation.after?.versionId} ${remediation.action}`);
        }
      }
      expect(logged.sort()).toEqual(fromHistory.sort());
      expect(logged).toHaveLength(OBJECTS);
      const text = await sseguard(['report', '--remediations', '--bucket', bucket], { AWS_ENDPOINT_URL: emulator });
      expect(text.stdout).toContain(`${OBJECTS} changes.`);
      expect(text.stdout).toMatch(new RegExp(`s3://${bucket}/doc-0 \\(version \\S+ → \\S+\\): dsse-kms \\S+ → sse-kms ${targetKey.arn}, copy`));
    },
    180_000,
  );

  test.each([KILL_POINTS[0]!, KILL_POINTS[3]!])(
    'kill -9 %s, one-minute leases: the rerun on this host takes over the dead process\'s locks at once and fixes every object exactly once',
    async (_when, operation, phase, nth) => {
      const { bucket, policyPath, bodies } = await fixableBucket();
      let seen = 0;
      let victim: number | undefined;
      proxy.observe((key, at) => {
        if (key !== operation || at !== phase || victim === undefined) return;
        if (++seen === nth) process.kill(-victim, 'SIGKILL');
      });
      const args = ['scan', '--bucket', bucket, '--policy', policyPath, '--remediate', '--concurrency', '4'];
      const crashed = await sseguard(args, { AWS_ENDPOINT_URL: proxy.endpoint }, (pid) => (victim = pid));
      proxy.observe(undefined);
      expect(crashed.code).toBeNull();
      const rerun = await sseguard(args, { AWS_ENDPOINT_URL: emulator });
      expect(rerun.stderr).toBe('');
      expect(rerun.stdout).not.toContain('skipped-being-fixed-elsewhere');
      expect(rerun.code).toBe(0);
      await expectFixedExactlyOnce(bucket, bodies);
    },
    180_000,
  );

  describe('locks another process holds', () => {
    /** A remediating scan whose copies hang (black-holed) while it holds their locks; resolves once it holds some. */
    async function hangingFixer(bucket: string, policyPath: string): Promise<{ pid: number; held: Record<string, unknown>[]; done: Promise<Run> }> {
      proxy.setRules([{ service: 's3', operation: 'CopyObject', path: new RegExp(`^/${bucket}/`), rate: 1, kind: 'black-hole' }]);
      let pid = 0;
      const done = sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate', '--concurrency', '3'], { AWS_ENDPOINT_URL: proxy.endpoint, SSEGUARD_SOCKET_TIMEOUT_MS: '300000' }, (p) => (pid = p));
      for (let i = 0; i < 300; i++) {
        const held = pid ? await locksOf(pid) : [];
        if (held.length === 3) return { pid, held, done };
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error('the hanging fixer never took its locks');
    }

    test('a live process on this host: its locks are not taken, the scan names the holder and the lease end; after kill -9 the rerun takes them over at once', async () => {
      const { bucket, policyPath, bodies } = await fixableBucket();
      const fixer = await hangingFixer(bucket, policyPath);
      try {
        const args = ['scan', '--bucket', bucket, '--policy', policyPath, '--remediate'];
        const meanwhile = await sseguard(args, { AWS_ENDPOINT_URL: emulator });
        expect(meanwhile.code).toBe(1); // three objects still not compliant
        expect(meanwhile.stdout).toMatch(/skipped-being-fixed-elsewhere +3/);
        for (const lock of fixer.held) {
          const until = new Date(lock.in_progress_expiration as number).toISOString();
          expect(meanwhile.stdout).toContain(`held by pid ${fixer.pid} on ${lock.owner_host} until ${until}`);
        }
        expect(await locksOf(fixer.pid)).toHaveLength(3);
      } finally {
        process.kill(-fixer.pid, 'SIGKILL');
        await fixer.done;
        proxy.setRules([]);
      }
      const rerun = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate'], { AWS_ENDPOINT_URL: emulator });
      expect(rerun.stderr).toBe('');
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toContain('Changed (3):');
      await expectFixedExactlyOnce(bucket, bodies);
    }, 180_000);

    test('Ctrl-C while fixes hang: the scan waits for them and says so; a second Ctrl-C stops at once (exit 2) and the rerun takes its locks over at once', async () => {
      const { bucket, policyPath, bodies } = await fixableBucket();
      const fixer = await hangingFixer(bucket, policyPath);
      process.kill(-fixer.pid, 'SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // Still draining: its fixes in flight hold their locks.
      expect(await locksOf(fixer.pid)).toHaveLength(3);
      process.kill(-fixer.pid, 'SIGINT');
      const stopped = await fixer.done;
      proxy.setRules([]);
      expect(stopped.code).toBe(2);
      expect(stopped.stderr).toContain('SIGINT: taking no new objects');
      expect(stopped.stderr).toContain('SIGINT again: stopped at once');
      const rerun = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate'], { AWS_ENDPOINT_URL: emulator });
      expect(rerun.stderr).toBe('');
      expect(rerun.code).toBe(0);
      await expectFixedExactlyOnce(bucket, bodies);
    }, 180_000);

    test('an owner on another host is never taken over before its lease ends, even if a process of that pid is gone here; after the lease the rerun fixes', async () => {
      const { bucket, policyPath, bodies } = await fixableBucket();
      const fixer = await hangingFixer(bucket, policyPath);
      process.kill(-fixer.pid, 'SIGKILL');
      await fixer.done;
      proxy.setRules([]);
      // The same records, as if a machine elsewhere had written them.
      for (const lock of fixer.held) {
        await writer.documents.send(new UpdateCommand({ TableName: IDEMPOTENCY, Key: { id: lock.id }, UpdateExpression: 'SET owner_host = :elsewhere', ExpressionAttributeValues: { ':elsewhere': 'build-host-2' } }));
      }
      const args = ['scan', '--bucket', bucket, '--policy', policyPath, '--remediate'];
      const early = await sseguard(args, { AWS_ENDPOINT_URL: emulator });
      expect(early.code).toBe(1);
      expect(early.stdout).toMatch(/skipped-being-fixed-elsewhere +3/);
      expect(early.stdout).toContain(`held by pid ${fixer.pid} on build-host-2 until`);
      // The lease ends (moved into the past rather than waited for): Powertools' own rule lets the rerun in.
      for (const lock of fixer.held) {
        await writer.documents.send(new UpdateCommand({ TableName: IDEMPOTENCY, Key: { id: lock.id }, UpdateExpression: 'SET in_progress_expiration = :past', ExpressionAttributeValues: { ':past': Date.now() - 1_000 } }));
      }
      const late = await sseguard(args, { AWS_ENDPOINT_URL: emulator });
      expect(late.stderr).toBe('');
      expect(late.code).toBe(0);
      await expectFixedExactlyOnce(bucket, bodies);
    }, 180_000);
  });

  test('CopyObject answers lost after S3 made the copy (the SDK retries a copy that happened): one scan fixes every object exactly once, the history says fixed', async () => {
    const { bucket, policyPath, bodies } = await fixableBucket();
    proxy.setRules([{ service: 's3', operation: 'CopyObject', rate: 0.4, kind: 'lost-response' }]);
    proxy.resetStats();
    const run = await sseguard(['scan', '--bucket', bucket, '--policy', policyPath, '--remediate', '--concurrency', '4'], { AWS_ENDPOINT_URL: proxy.endpoint, SSEGUARD_FIX_LEASE_MS: '1500' });
    const lost = proxy.stats().faults['s3:CopyObject:lost-response'] ?? 0;
    proxy.setRules([]);
    expect(lost).toBeGreaterThan(0);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    await expectFixedExactlyOnce(bucket, bodies);
  }, 180_000);

  test('two remediating scans of one bucket at once: every object fixed exactly once, both finish by the findings', async () => {
    const { bucket, policyPath, bodies } = await fixableBucket();
    const args = ['scan', '--bucket', bucket, '--policy', policyPath, '--remediate', '--concurrency', '8'];
    const env = { AWS_ENDPOINT_URL: emulator, SSEGUARD_FIX_LEASE_MS: '1500' };
    const [a, b] = await Promise.all([sseguard(args, env), sseguard(args, env)]);
    for (const run of [a, b]) {
      expect(run.stderr).toBe('');
      expect([0, 1]).toContain(run.code);
    }
    await expectFixedExactlyOnce(bucket, bodies);
  }, 180_000);
});

describe('order by the object, not by the clock', () => {
  test('a late event for the previous version does not overwrite the scan finding of the current one', async () => {
    const bucket = 'late-events';
    await createBucket(writer, bucket);
    await enableVersioning(writer, bucket);
    const policyPath = policy('late.yaml', `version: 1\ndefault:\n  require: sse-kms\n`);
    const v1 = await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'one', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: enabledKey.arn }));
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // another LastModified second
    const v2 = await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'two', ServerSideEncryption: 'AES256' }));
    await scanAt(emulator, bucket, policyPath);
    const scanned = (await storedStates(bucket)).get('doc')!;
    expect(scanned).toMatchObject({ verdict: 'noncompliant', versionId: v2.VersionId });

    const runtime = runtimeAt(emulator);
    const deps = { ...(await scanDependencies(runtime, policyPath)), store: runtime.store };
    const event = (versionId: string, sequencer: string) =>
      JSON.stringify({
        Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: 'doc', versionId, sequencer } } }],
      });
    // The late event for v1, then a duplicate of it, then one with the same sequencer as LocalStack sends.
    for (const body of [event(v1.VersionId!, '0055AED6DCD90281E5'), event(v1.VersionId!, '0055AED6DCD90281E5'), event(v1.VersionId!, '0055AED6DCD90281F0')]) {
      const parsed = parseMessageBody(body);
      if (parsed.kind !== 'audit') throw new Error('reason' in parsed ? parsed.reason : parsed.kind);
      const result = await auditRequests(deps, parsed.requests);
      expect(result.transient).toEqual([]);
    }
    const after = (await storedStates(bucket)).get('doc')!;
    expect(after).toMatchObject({ verdict: 'noncompliant', versionId: v2.VersionId, rev: scanned.rev });
    expect((await runtime.store.history(bucket, 'doc')).length).toBe(1);
  }, 60_000);

  test('a scan racing overwrites, then the overwrites\' own events in any order: every state describes the newest version', async () => {
    const bucket = 'racing-writes';
    await createBucket(writer, bucket);
    await enableVersioning(writer, bucket);
    const keys = Array.from({ length: 150 }, (_, i) => `r-${i}`);
    await inBatches(keys, 32, (key) => putObject(writer, bucket, key, { mode: 'sse-s3' }));
    const newest = new Map<string, string>();
    const overwrite = inBatches(keys, 8, async (key) => {
      const put = await writer.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `v2 of ${key}`, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: enabledKey.arn }));
      newest.set(key, put.VersionId!);
    });
    await Promise.all([scanAt(emulator, bucket), overwrite]);
    const runtime = runtimeAt(emulator);
    const deps = { ...(await scanDependencies(runtime)), store: runtime.store };
    // The overwrites' events, shuffled and duplicated, as SQS may deliver them.
    const events = [...keys, ...keys.slice(0, 40)].sort(() => Math.random() - 0.5);
    await inBatches(events, 10, async (key) => {
      const parsed = parseMessageBody(
        JSON.stringify({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key, versionId: newest.get(key) } } }] }),
      );
      if (parsed.kind !== 'audit') throw new Error('reason' in parsed ? parsed.reason : parsed.kind);
      expect((await auditRequests(deps, parsed.requests)).transient).toEqual([]);
    });
    const states = await storedStates(bucket);
    const stale = keys.filter((key) => states.get(key)?.versionId !== newest.get(key) || states.get(key)?.mode !== 'sse-kms');
    expect(stale).toEqual([]);
    const summary = await runtime.store.summary();
    expect(summary.buckets[bucket]).toMatchObject({ objects: keys.length, modes: { 'sse-kms': keys.length } });
  }, 120_000);
});

