// Work proportional to change, on the emulator: a sweep compares its report with the bucket's last
// verified report (a hash join of the two, shared/inventory/report-diff.ts) and reads, HEADs and
// writes only for rows that changed, plus the KMS objects whose rolling re-check falls in its window
// (shared/inventory/reverify.ts). DynamoDB reads are counted at the SDK boundary (the keys each
// BatchGetItem names, the items each Query returns), HeadObject calls at the inspector.
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, PutBucketInventoryConfigurationCommand, UpdateObjectEncryptionCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { scanFromInventory, type InventoryScanRunResult } from '../../shared/audit/inventory-scan-run.ts';
import type { InventoryBaselineOptions } from '../../shared/audit/inventory-baseline.ts';
import { rowIdentity } from '../../shared/inventory/report-diff.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { parsePolicy } from '../../shared/domain/policy.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { ObjectAbsenceMarks } from '../../shared/findings/absence-marks.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import type { ObjectInspector } from '../../shared/inspect/object-inspector.ts';
import { InventoryReportProgress, markReportVerified } from '../../shared/findings/inventory-progress.ts';
import { DAY_MS, dueForReverify, reverifyPhaseMs } from '../../shared/inventory/reverify.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { s3InventorySource } from '../../shared/inventory/source.ts';
import { resolveKeys } from '../../shared/policy-loader.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createBucket, createKey, putObject, type TestKey } from '../support/aws-fixtures.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { runCli } from '../support/cli.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const writer = createAwsClients();
const endpoint = () => process.env.AWS_ENDPOINT_URL!;
const REVERIFY_DAYS = 30;

/** DynamoDB reads as the bill counts them: keys named by GetItem/BatchGetItem, items returned by Query. */
interface ReadCount {
  keysRead: string[];
  queried: number;
}

async function sweepSetup(policyText = '{"version":1}', endpointUrl?: string) {
  const suffix = randomBytes(4).toString('hex');
  const source = `diff-src-${suffix}`;
  const dest = `diff-inv-${suffix}`;
  const table = `diff-findings-${suffix}`;
  await createBucket(writer, source);
  await createBucket(writer, dest);
  await writer.s3.send(
    new PutBucketInventoryConfigurationCommand({ Bucket: source, Id: 'sseguard', InventoryConfiguration: inventoryConfiguration({ bucket: source, destinationBucket: dest }) }),
  );
  const runtime = createRuntime(loadConfig({ ...process.env, SSEGUARD_TABLE: table, ...(endpointUrl ? { AWS_ENDPOINT_URL: endpointUrl } : {}) }));
  await ensureFindingsTable(runtime.clients.dynamodb, table);
  const reads: ReadCount = { keysRead: [], queried: 0 };
  runtime.clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      // The document client's commands reach this step with plain values, the base client's marshalled.
      type Pk = { pk?: string | { S?: string } };
      const pkOf = (k: Pk | undefined) => (typeof k?.pk === 'string' ? k.pk : (k?.pk?.S ?? ''));
      const input = args.input as { RequestItems?: Record<string, { Keys?: Pk[] }>; Key?: Pk };
      const output = result.output as { Count?: number };
      if (context.commandName === 'BatchGetItemCommand') for (const t of Object.values(input.RequestItems ?? {})) for (const k of t.Keys ?? []) reads.keysRead.push(pkOf(k));
      if (context.commandName === 'GetItemCommand') reads.keysRead.push(pkOf(input.Key));
      if (context.commandName === 'QueryCommand') reads.queried += output.Count ?? 0;
      return result;
    },
    { step: 'initialize', name: 'countReads' },
  );
  const heads: string[] = [];
  const objects: ObjectInspector = {
    inspect: (bucket, listed, versionId) => {
      heads.push(listed.key);
      return runtime.objects.inspect(bucket, listed, versionId);
    },
  };
  const policy = await resolveKeys(parsePolicy(policyText, 'test policy'), runtime.keys, 'test policy');
  const progress = new InventoryReportProgress(runtime.clients.documents, table);
  const deps = (reverifyDays = REVERIFY_DAYS, chosenPolicy = policy, extra: Partial<InventoryBaselineOptions> & { inProcessLimitBytes?: number } = {}) => ({
    objects,
    lister: runtime.objects,
    keys: runtime.keys,
    policy: chosenPolicy,
    store: runtime.store,
    inventory: s3InventorySource(runtime.clients.s3, { bucket: dest, prefix: '' }),
    absence: new ObjectAbsenceMarks(runtime.clients.documents, table),
    baseline: {
      progress,
      markVerified: (...args: [Parameters<typeof markReportVerified>[2], Parameters<typeof markReportVerified>[3], string, number, number]) =>
        markReportVerified(runtime.clients.documents, table, ...args),
      settings: { reverifyDays, ...(extra.inProcessLimitBytes === undefined ? {} : { inProcessLimitBytes: extra.inProcessLimitBytes }) },
      ...(extra.athenaDiff ? { athenaDiff: extra.athenaDiff } : {}),
    },
  });
  const sweep = async (
    options: { reverifyDays?: number; policy?: typeof policy; baseline?: Partial<InventoryBaselineOptions> & { inProcessLimitBytes?: number } } = {},
  ): Promise<InventoryScanRunResult> => {
    heads.length = 0;
    reads.keysRead.length = 0;
    reads.queried = 0;
    return scanFromInventory(deps(options.reverifyDays, options.policy, options.baseline), { bucket: source, concurrency: 4 });
  };
  const states = async (): Promise<Map<string, StoredFinding>> => {
    const found = new Map<string, StoredFinding>();
    for await (const page of runtime.store.findings({ bucket: source })) for (const f of page) found.set(f.key, f);
    return found;
  };
  return { source, dest, runtime, sweep, heads, reads, states, policy };
}

// Reports dated after every write and audit of the test (whole minutes: report folders are named to
// the minute), so that reconciliation may remove what they no longer list.
const DAY1 = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000);
const at = (days: number) => new Date(DAY1.getTime() + days * DAY_MS);
const objectPk = (bucket: string, key: string) => `OBJ#${bucket}/${key}`;
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

describe('a sweep reads, HEADs and writes only what changed since the last verified report', () => {
  let key: TestKey;
  beforeAll(async () => {
    key = await createKey(writer);
  });

  test('three consecutive reports with adds, rewrites and deletions: only changed rows are read, the vanished removed; an unchanged re-sweep reads no object state', async () => {
    const { source, sweep, heads, reads, states } = await sweepSetup();
    for (let i = 0; i < 8; i++) await putObject(writer, source, `s3-${i}`, { mode: 'sse-s3' });
    for (let i = 0; i < 8; i++) await putObject(writer, source, `kms-${i}`, { mode: 'sse-kms', key });
    const kmsDue = (keys: string[], after: Date, until: Date) =>
      keys.filter((k) => dueForReverify(source, k, undefined, { after, until, periodMs: REVERIFY_DAYS * DAY_MS }));

    await deliverInventory(endpoint(), { bucket: source, at: at(0) });
    const first = await sweep();
    expect(first.inventory.diff.fallback).toBe('no earlier verified report');
    expect(first.inventory.rows).toBe(16);
    expect(new Set(reads.keysRead)).toEqual(new Set([...Array(8).keys()].flatMap((i) => [objectPk(source, `s3-${i}`), objectPk(source, `kms-${i}`)])));
    expect(heads.sort()).toEqual([...Array(8).keys()].map((i) => `kms-${i}`).sort());

    // Second report: one added KMS object, one rewritten SSE-S3 and one rewritten KMS object, one deleted.
    // A second later: S3's Last-Modified has whole seconds, and a rewrite in the same second as the
    // recorded write cannot be ordered without a fresh HEAD (the store then leaves it unrecorded).
    await nextSecond();
    await putObject(writer, source, 'kms-new', { mode: 'sse-kms', key });
    await putObject(writer, source, 's3-1', { mode: 'sse-s3' }, 'rewritten');
    await putObject(writer, source, 'kms-1', { mode: 'sse-kms', key }, 'rewritten');
    await writer.s3.send(new DeleteObjectCommand({ Bucket: source, Key: 's3-2' }));
    await deliverInventory(endpoint(), { bucket: source, at: at(1) });
    const second = await sweep();
    // The reports' dates follow the clock: which KMS objects are due for their re-check varies by run.
    const unchangedKms = [...Array(8).keys()].map((i) => `kms-${i}`).filter((k) => k !== 'kms-1');
    const dueSecond = kmsDue(unchangedKms, at(0), at(1));
    expect(second.inventory.diff).toMatchObject({ previousReportDate: at(0).toISOString(), unchangedSinceReport: 13 - dueSecond.length });
    expect(second.inventory.diff.fallback).toBeUndefined();
    expect(second.notAudited).toBe(0);
    expect(second.inventory.removed).toBe(1);
    // Read: the three changed rows' states, the deleted object's (to remove it), those due; nothing else by key.
    expect(new Set(reads.keysRead)).toEqual(new Set(['kms-new', 's3-1', 'kms-1', 's3-2', ...dueSecond].map((k) => objectPk(source, k))));
    // HEADed: the changed KMS rows, those due, and the deleted object (the report's word alone removes nothing: HeadObject answered 404).
    expect(heads.sort()).toEqual(['kms-1', 'kms-new', 's3-2', ...dueSecond].sort());
    expect(second.inventory.absence).toMatchObject({ notListed: 1, removed: 1, removedBy404: 1, keptUnanswered: 0 });
    expect(second.objects).toBe(3 + dueSecond.length);

    // Third report, compared with the second (not the first): a KMS object deleted, one added, the added one rewritten to SSE-S3.
    await nextSecond();
    await writer.s3.send(new DeleteObjectCommand({ Bucket: source, Key: 'kms-3' }));
    await putObject(writer, source, 's3-new', { mode: 'sse-s3' });
    await putObject(writer, source, 'kms-new', { mode: 'sse-s3' }, 'now sse-s3');
    await deliverInventory(endpoint(), { bucket: source, at: at(2) });
    const third = await sweep();
    const dueThird = kmsDue(['kms-0', 'kms-1', 'kms-2', 'kms-4', 'kms-5', 'kms-6', 'kms-7'], at(1), at(2));
    expect(third.inventory.diff).toMatchObject({ previousReportDate: at(1).toISOString(), unchangedSinceReport: 14 - dueThird.length });
    expect(third.notAudited).toBe(0);
    expect(third.inventory.removed).toBe(1);
    expect(new Set(reads.keysRead)).toEqual(new Set(['kms-3', 's3-new', 'kms-new', ...dueThird].map((k) => objectPk(source, k))));

    const recorded = await states();
    expect([...recorded.keys()].sort()).toEqual(
      ['kms-0', 'kms-1', 'kms-2', 'kms-4', 'kms-5', 'kms-6', 'kms-7', 'kms-new', 's3-0', 's3-1', 's3-3', 's3-4', 's3-5', 's3-6', 's3-7', 's3-new'].sort(),
    );
    expect(recorded.get('kms-new')).toMatchObject({ mode: 'sse-s3', verdict: 'compliant' });

    // An unchanged bucket, a new report: no object's state is read, nothing HEADed but what the re-check's window holds.
    await deliverInventory(endpoint(), { bucket: source, at: at(3) });
    const unchanged = await sweep();
    const due = kmsDue(['kms-0', 'kms-1', 'kms-2', 'kms-4', 'kms-5', 'kms-6', 'kms-7'], at(2), at(3));
    // Every row but those due for their re-check (the reports' dates follow the clock: which are due varies by run).
    expect(unchanged.inventory.diff.unchangedSinceReport).toBe(16 - due.length);
    expect(heads.sort()).toEqual(due.sort());
    expect(reads.keysRead.filter((k) => k.startsWith('OBJ#')).sort()).toEqual(due.map((k) => objectPk(source, k)).sort());
    // The rest: the inventory partition (one item per report) and the counters the exit code reads.
    expect(reads.queried).toBeLessThan(50);
    expect(unchanged.inventory.diff.recordedVerdicts).toEqual({ compliant: 16 });
    expect(unchanged.empty).toBeUndefined();
  }, 120_000);

  test('every row is read, and the run says why, when the last verified report is unreadable or another policy judged it', async () => {
    const { source, dest, sweep, reads, policy } = await sweepSetup();
    for (let i = 0; i < 4; i++) await putObject(writer, source, `s3-${i}`, { mode: 'sse-s3' });
    const [delivered] = await deliverInventory(endpoint(), { bucket: source, at: at(0) });
    await sweep();

    await deliverInventory(endpoint(), { bucket: source, at: at(1) });
    const otherPolicy = { ...policy, default: { ...policy.default, bucketKey: policy.default.bucketKey === 'required' ? 'optional' : 'required' } } as typeof policy;
    const underOther = await sweep({ policy: otherPolicy });
    expect(underOther.inventory.diff.fallback).toMatch(/^policy sha256:\w+ did not judge it \(sha256:\w+ did\)$/);
    // Every row's state read (and read again by the recorder: each finding now names another policy).
    expect(new Set(reads.keysRead.filter((k) => k.startsWith('OBJ#'))).size).toBe(4);

    // The report the second sweep verified (under the other policy) loses its manifest; the first one's policy is back.
    await deliverInventory(endpoint(), { bucket: source, at: at(2) });
    const reverted = await sweep();
    expect(reverted.inventory.diff).toMatchObject({ previousReportDate: at(1).toISOString() });
    expect(reverted.inventory.diff.fallback).toMatch(/did not judge it/);

    await deliverInventory(endpoint(), { bucket: source, at: at(3) });
    const manifestOfDay2 = delivered!.manifestKey.replace(/\d{4}-\d\d-\d\dT\d\d-\d\dZ/, at(2).toISOString().slice(0, 16).replace(':', '-') + 'Z');
    await writer.s3.send(new DeleteObjectCommand({ Bucket: dest, Key: manifestOfDay2 }));
    const lost = await sweep();
    expect(lost.inventory.diff.previousManifestKey).toBe(manifestOfDay2);
    expect(lost.inventory.diff.fallback).toMatch(/^its manifest is unreadable/);
    expect(new Set(reads.keysRead.filter((k) => k.startsWith('OBJ#'))).size).toBe(4);
    expect(lost.inventory.removed).toBe(0);
  }, 120_000);
});

describe('a previous report too large to diff in memory', () => {
  test('is diffed by the configured Athena diff: only the rows it names are audited, the keys it says vanished removed; without one every row is read, and the run says why', async () => {
    const { source, sweep, reads, states } = await sweepSetup();
    for (let i = 0; i < 4; i++) await putObject(writer, source, `s3-${i}`, { mode: 'sse-s3' });
    await deliverInventory(endpoint(), { bucket: source, at: at(0) });
    await sweep();

    await nextSecond();
    await putObject(writer, source, 's3-1', { mode: 'sse-s3' }, 'rewritten');
    await writer.s3.send(new DeleteObjectCommand({ Bucket: source, Key: 's3-2' }));
    await deliverInventory(endpoint(), { bucket: source, at: at(1) });
    const asked: string[] = [];
    // Stands in for athenaReportChanges (tested against the emulator's Athena in inventory-diff-sql.test.ts).
    const athenaDiff: InventoryBaselineOptions['athenaDiff'] = async (previous, current) => {
      asked.push(`${previous.location.folder} -> ${current.location.folder}`);
      return { changed: new Set([rowIdentity('s3-1')]), vanished: ['s3-2'] };
    };
    const byAthena = await sweep({ baseline: { inProcessLimitBytes: 0, athenaDiff } });
    expect(asked).toEqual([`${at(0).toISOString().slice(0, 16).replace(':', '-')}Z -> ${at(1).toISOString().slice(0, 16).replace(':', '-')}Z`]);
    expect(byAthena.inventory.diff).toMatchObject({ previousReportDate: at(0).toISOString(), unchangedSinceReport: 2 });
    expect(byAthena.inventory.removed).toBe(1);
    expect(new Set(reads.keysRead.filter((k) => k.startsWith('OBJ#')))).toEqual(new Set([objectPk(source, 's3-1'), objectPk(source, 's3-2')]));
    expect([...(await states()).keys()].sort()).toEqual(['s3-0', 's3-1', 's3-3']);

    await deliverInventory(endpoint(), { bucket: source, at: at(2) });
    const tooLarge = await sweep({ baseline: { inProcessLimitBytes: 0 } });
    expect(tooLarge.inventory.diff.fallback).toMatch(/^its \d+ bytes of data files exceed the 0 diffed in memory \(diff in Athena\)$/);
    expect(new Set(reads.keysRead.filter((k) => k.startsWith('OBJ#'))).size).toBe(3);
  }, 120_000);
});

describe('sseguard scan --inventory with a diff', () => {
  test('says what it compared with; a policy rule that judges only unchanged objects is not called a typo; a failing recorded finding still fails the gate', async () => {
    const suffix = randomBytes(4).toString('hex');
    const source = `diff-cli-${suffix}`;
    const dest = `diff-cli-inv-${suffix}`;
    const env = { SSEGUARD_TABLE: `diff-cli-${suffix}` };
    await createBucket(writer, source);
    await createBucket(writer, dest);
    await putObject(writer, source, 'fin/a', { mode: 'sse-s3' });
    await putObject(writer, source, 'pub/b', { mode: 'sse-c' });
    expect((await runCli(['init'], env)).code).toBe(0);
    expect((await runCli(['inventory', 'setup', '--bucket', source, '--destination-bucket', dest])).code).toBe(0);
    const policy = join(mkdtempSync(join(tmpdir(), 'sseguard-diff-')), 'policy.yaml');
    writeFileSync(policy, `version: 1\nrules:\n  - bucket: ${source}\n    prefix: fin/\n    require: sse-s3\n`);
    const scan = () => runCli(['scan', '--bucket', source, '--inventory', `s3://${dest}`, '--policy', policy], env);

    await deliverInventory(endpoint(), { bucket: source, at: at(0) });
    const first = await scan();
    expect(first.stdout).toContain('Every row was read, none compared with an earlier report: no earlier verified report.');
    // The SSE-C object is noncompliant: the gate fails.
    expect(first.code).toBe(1);

    await nextSecond();
    await putObject(writer, source, 'pub/c', { mode: 'sse-s3' });
    await deliverInventory(endpoint(), { bucket: source, at: at(1) });
    const second = await scan();
    expect(second.stdout).toContain(`Compared with the last verified report of ${at(0).toISOString()}`);
    expect(second.stdout).toContain('2 rows unchanged, not audited again.');
    expect(second.stderr).not.toContain('judged none');
    // Only pub/c was audited (compliant), but the recorded SSE-C finding still fails the gate.
    expect(second.stdout).toContain('1 noncompliant');
    expect(second.code).toBe(1);
  }, 120_000);
});

describe('the baseline under faults', () => {
  test('a throttled progress Query is retried and the diff still used; a previous report whose data file keeps failing is read around: every row is read, nothing lost', async () => {
    const proxy = await startFaultProxy({ target: endpoint() });
    try {
      const { source, sweep, reads, states } = await sweepSetup('{"version":1}', proxy.endpoint);
      for (let i = 0; i < 4; i++) await putObject(writer, source, `s3-${i}`, { mode: 'sse-s3' });
      await deliverInventory(endpoint(), { bucket: source, at: at(0) });
      await sweep();

      const [second] = await deliverInventory(endpoint(), { bucket: source, at: at(1) });
      proxy.setRules([{ service: 'dynamodb', operation: 'Query', rate: 1, kind: 'throttle', times: 2 }]);
      const throttled = await sweep();
      expect(proxy.stats().faults['dynamodb:Query:throttle']).toBe(2);
      expect(throttled.inventory.diff).toMatchObject({ previousReportDate: at(0).toISOString(), unchangedSinceReport: 4 });
      expect(throttled.notAudited).toBe(0);

      // The second report is now the baseline; its data file answers 500 every time.
      await putObject(writer, source, 's3-new', { mode: 'sse-s3' });
      await deliverInventory(endpoint(), { bucket: source, at: at(2) });
      const escaped = second!.dataKeys[0]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      proxy.setRules([{ service: 's3', operation: 'GetObject', path: new RegExp(escaped), rate: 1, kind: 'server-error' }]);
      const fellBack = await sweep();
      expect(proxy.stats().faults['s3:GetObject:server-error']).toBeGreaterThan(0);
      expect(fellBack.inventory.diff.fallback).toMatch(/^a data file could not be read/);
      expect(fellBack.notAudited).toBe(0);
      expect(fellBack.inventory.rows).toBe(5);
      expect(new Set(reads.keysRead.filter((k) => k.startsWith('OBJ#'))).size).toBe(5);
      expect([...(await states()).keys()].sort()).toEqual(['s3-0', 's3-1', 's3-2', 's3-3', 's3-new']);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});

describe('rolling re-verification', () => {
  test('an invisible key change (UpdateObjectEncryption A→B: same version, ETag, LastModified, no event) is found by the sweep whose window covers its phase, not earlier', async () => {
    const { source, sweep, heads, states } = await sweepSetup();
    const keyA = await createKey(writer);
    const keyB = await createKey(writer);
    await putObject(writer, source, 'moved', { mode: 'sse-kms', key: keyA });
    const period = 10 * DAY_MS;
    // Reports whose dates put the object's phase after the second report and before the third.
    const phase = reverifyPhaseMs(source, 'moved', undefined, period);
    const cycle = Math.floor(Date.parse('2026-11-01T00:00:00Z') / period) * period;
    const due = new Date(cycle + phase + period);
    const report1 = new Date(due.getTime() - 3 * DAY_MS);
    const report2 = new Date(due.getTime() - 1 * DAY_MS);
    const report3 = new Date(due.getTime() + 1 * DAY_MS);

    await deliverInventory(endpoint(), { bucket: source, at: report1 });
    await sweep({ reverifyDays: 10 });
    expect((await states()).get('moved')).toMatchObject({ kmsKeyArn: keyA.arn });

    await writer.s3.send(new UpdateObjectEncryptionCommand({ Bucket: source, Key: 'moved', ObjectEncryption: { SSEKMS: { KMSKeyArn: keyB.arn } } }));
    await deliverInventory(endpoint(), { bucket: source, at: report2 });
    const before = await sweep({ reverifyDays: 10 });
    expect(before.inventory.diff.unchangedSinceReport).toBe(1);
    expect(heads).toEqual([]);
    expect((await states()).get('moved')).toMatchObject({ kmsKeyArn: keyA.arn });

    await deliverInventory(endpoint(), { bucket: source, at: report3 });
    const found = await sweep({ reverifyDays: 10 });
    expect(heads).toEqual(['moved']);
    expect(found.inventory.headReasons).toEqual({ reverify: 1 });
    expect(found.inventory.diff.reverified).toBe(1);
    expect((await states()).get('moved')).toMatchObject({ kmsKeyArn: keyB.arn, evidence: 'head' });
  }, 120_000);
});
