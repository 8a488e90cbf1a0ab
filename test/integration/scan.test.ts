import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, test } from 'vitest';
import { scanBucket, type ScanDependencies } from '../../shared/audit/scan.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { countCalls } from '../../shared/aws/call-counter.ts';
import { loadConfig } from '../../shared/config.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { parsePolicy } from '../../shared/domain/policy.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { BucketListingError, type ListedObject } from '../../shared/inspect/object-inspector.ts';
import { resolveKeys } from '../../shared/policy-loader.ts';
import { createRuntime, type Runtime } from '../../shared/runtime.ts';
import { createBucket, createKey, disableKey, putObject, scheduleDeletion, type TestKey } from '../support/aws-fixtures.ts';

const BUCKET = 'audit-me';
const LONG_KEY = `long/${'k'.repeat(1000)}`;
const POLICY = `
version: 1
default: { require: any }
rules:
  - bucket: audit-me
    prefix: kms-
    require: any-kms
    customerManagedKey: true
    keyRotation: required
`;

let runtime: Runtime;
let keys: Record<'enabled' | 'noRotation' | 'disabled' | 'pending', TestKey>;

async function dependencies(runtimeToUse = runtime): Promise<ScanDependencies> {
  const policy = await resolveKeys(parsePolicy(POLICY, 'test policy'), runtimeToUse.keys, 'test policy');
  return { objects: runtimeToUse.objects, lister: runtimeToUse.objects, keys: runtimeToUse.keys, policy, store: runtimeToUse.store };
}

async function scanAll(deps: ScanDependencies, options: { prefix?: string } = {}) {
  const findings: Finding[] = [];
  const result = await scanBucket(deps, { bucket: BUCKET, concurrency: 8, ...options, onFinding: (f) => void findings.push(f) });
  return { result, byKey: new Map(findings.map((f) => [f.key, f])) };
}

async function storedFindings(): Promise<Map<string, StoredFinding>> {
  const all = new Map<string, StoredFinding>();
  for await (const page of runtime.store.findings({ bucket: BUCKET })) for (const f of page) all.set(f.key, f);
  return all;
}

beforeAll(async () => {
  runtime = createRuntime(loadConfig());
  const { clients } = runtime;
  await ensureFindingsTable(clients.dynamodb, runtime.config.table);
  keys = {
    enabled: await createKey(clients, { rotation: true }),
    noRotation: await createKey(clients),
    disabled: await createKey(clients, { rotation: true }),
    pending: await createKey(clients, { rotation: true }),
  };
  await createBucket(clients, BUCKET);
  await putObject(clients, BUCKET, 'sse-s3.txt', { mode: 'sse-s3' });
  await putObject(clients, BUCKET, 'kms-enabled.txt', { mode: 'sse-kms', key: keys.enabled, bucketKey: true });
  await putObject(clients, BUCKET, 'kms-no-rotation.txt', { mode: 'sse-kms', key: keys.noRotation });
  await putObject(clients, BUCKET, 'kms-managed.txt', { mode: 'sse-kms' });
  await putObject(clients, BUCKET, 'kms-disabled.txt', { mode: 'sse-kms', key: keys.disabled });
  await putObject(clients, BUCKET, 'kms-pending.txt', { mode: 'sse-kms', key: keys.pending });
  await putObject(clients, BUCKET, 'dsse.txt', { mode: 'dsse-kms', key: keys.enabled });
  await putObject(clients, BUCKET, 'sse-c.bin', { mode: 'sse-c' });
  for (const odd of ['dir/with space.txt', 'plus+sign.txt', 'percent%41%.txt', 'unicode/ünï©ødé 日本.txt', 'comma,"quote".txt', LONG_KEY]) {
    await putObject(clients, BUCKET, odd, { mode: 'sse-s3' });
  }
  await putObject(clients, BUCKET, 'empty', { mode: 'sse-s3' }, '');
  // No SSE headers at all: S3 encrypts with SSE-S3 by default, as AWS has since 2023.
  await putObject(clients, BUCKET, 'no-headers.txt', { mode: 'bucket-default' });
  // Keys go bad after their objects exist, as in life.
  await disableKey(clients, keys.disabled);
  await scheduleDeletion(clients, keys.pending);
});

describe('a bucket with objects in every mode and keys in every state', () => {
  let first: Awaited<ReturnType<typeof scanAll>>;
  let calls: Record<string, number>;

  beforeAll(async () => {
    const counted = createRuntime(loadConfig());
    calls = countCalls(counted.clients);
    first = await scanAll(await dependencies(counted));
  });

  test('every object gets exactly the expected mode, key and verdict', () => {
    const expected: Record<string, [string, string | undefined, string, string[]]> = {
      'sse-s3.txt': ['sse-s3', undefined, 'compliant', []],
      'kms-enabled.txt': ['sse-kms', keys.enabled.arn, 'compliant', []],
      'kms-no-rotation.txt': ['sse-kms', keys.noRotation.arn, 'noncompliant', ['kms-key-rotation-disabled']],
      'kms-managed.txt': ['sse-kms', 'aws-managed', 'noncompliant', ['kms-key-aws-managed']],
      'kms-disabled.txt': ['sse-kms', keys.disabled.arn, 'at-risk', ['kms-key-disabled']],
      'kms-pending.txt': ['sse-kms', keys.pending.arn, 'at-risk', ['kms-key-pending-deletion']],
      'dsse.txt': ['dsse-kms', keys.enabled.arn, 'compliant', []],
      'sse-c.bin': ['sse-c', undefined, 'noncompliant', ['sse-c-forbidden']],
    };
    for (const [key, [mode, kmsKey, verdict, reasons]] of Object.entries(expected)) {
      const finding = first.byKey.get(key);
      expect(finding, key).toBeDefined();
      expect({ key, mode: finding!.mode, verdict: finding!.verdict, reasons: finding!.reasons.map((r) => r.code) }).toEqual({
        key,
        mode,
        verdict,
        reasons,
      });
      if (kmsKey === 'aws-managed') expect(finding!.kmsKeyArn).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//);
      else expect(finding!.kmsKeyArn).toBe(kmsKey);
    }
    expect(first.byKey.get('kms-managed.txt')!.kmsKeyArn).not.toBe(keys.enabled.arn);
  });

  test('odd keys, zero-byte and very long keys are audited, not skipped', () => {
    for (const key of ['no-headers.txt', 'dir/with space.txt', 'plus+sign.txt', 'percent%41%.txt', 'unicode/ünï©ødé 日本.txt', 'comma,"quote".txt', LONG_KEY, 'empty']) {
      expect(first.byKey.get(key), key).toMatchObject({ mode: 'sse-s3', verdict: 'compliant' });
    }
    expect(first.byKey.get('empty')!.size).toBe(0);
    expect(first.result.objects).toBe(16);
    expect(first.result.verdicts).toEqual({ compliant: 11, noncompliant: 3, 'at-risk': 2 });
  });

  test('one HeadObject per object, one listing call, at most one DescribeKey per distinct key', () => {
    expect(calls.HeadObject).toBe(16);
    expect(calls.ListObjectsV2).toBe(1);
    // enabled, no-rotation, aws/s3, disabled, pending: described once each, however many objects use them.
    expect(calls.DescribeKey).toBe(5);
    expect(calls.GetKeyRotationStatus ?? 0).toBeLessThanOrEqual(4);
  });

  test('the findings table holds every finding, and its counters agree without a scan', async () => {
    const stored = await storedFindings();
    expect(stored.size).toBe(16);
    for (const [key, finding] of first.byKey) {
      expect(stored.get(key), key).toMatchObject({ verdict: finding.verdict, mode: finding.mode, rev: 1 });
    }
    const summary = await runtime.store.summary();
    expect(summary.buckets[BUCKET]).toMatchObject({ objects: 16, verdicts: { compliant: 11, noncompliant: 3, 'at-risk': 2 } });
    expect(summary.kmsKeys[keys.enabled.arn]).toMatchObject({ objects: 2 });
    expect(summary.keyFacts[keys.disabled.arn]).toMatchObject({ status: 'described', state: 'Disabled' });
    expect(summary.keyFacts[keys.pending.arn]).toMatchObject({ status: 'described', state: 'PendingDeletion' });
    const atRisk: string[] = [];
    for await (const page of runtime.store.findings({ verdict: 'at-risk' })) atRisk.push(...page.map((f) => f.key));
    expect(atRisk.sort()).toEqual(['kms-disabled.txt', 'kms-pending.txt']);
    const byKey: string[] = [];
    for await (const page of runtime.store.findings({ kmsKeyArn: keys.enabled.arn })) byKey.push(...page.map((f) => f.key));
    expect(byKey.sort()).toEqual(['dsse.txt', 'kms-enabled.txt']);
  });

  test('a re-scan changes no counts and writes no history; a changed object gets a history entry', async () => {
    await scanAll(await dependencies());
    expect((await runtime.store.summary()).buckets[BUCKET]).toMatchObject({ objects: 16, verdicts: { compliant: 11, noncompliant: 3 } });
    expect(await runtime.store.history(BUCKET, 'kms-no-rotation.txt')).toHaveLength(1);

    await putObject(runtime.clients, BUCKET, 'kms-no-rotation.txt', { mode: 'sse-kms', key: keys.enabled });
    const { byKey } = await scanAll(await dependencies());
    expect(byKey.get('kms-no-rotation.txt')).toMatchObject({ verdict: 'compliant', kmsKeyArn: keys.enabled.arn });
    const history = await runtime.store.history(BUCKET, 'kms-no-rotation.txt');
    expect(history.map((h) => [h.verdict, h.previousVerdict])).toEqual([
      ['noncompliant', undefined],
      ['compliant', 'noncompliant'],
    ]);
    const summary = await runtime.store.summary();
    expect(summary.buckets[BUCKET]).toMatchObject({ objects: 16, verdicts: { compliant: 12, noncompliant: 2, 'at-risk': 2 } });
    expect(summary.kmsKeys[keys.noRotation.arn]?.objects ?? 0).toBe(0);
    expect(summary.kmsKeys[keys.enabled.arn]).toMatchObject({ objects: 3 });
  });
});

describe('edges of a scan', () => {
  test('a prefix scan audits only that prefix', async () => {
    const { byKey, result } = await scanAll(await dependencies(), { prefix: 'kms-' });
    expect([...byKey.keys()].every((k) => k.startsWith('kms-'))).toBe(true);
    expect(result.objects).toBe(5);
  });

  test('an object deleted between listing and audit is reported unauditable (object-vanished), not lost or fatal', async () => {
    await putObject(runtime.clients, BUCKET, 'vanishing/doomed.txt', { mode: 'sse-s3' });
    await putObject(runtime.clients, BUCKET, 'vanishing/stays.txt', { mode: 'sse-s3' });
    const deps = await dependencies();
    const deletingLister = {
      async *pages(bucket: string, prefix?: string): AsyncIterable<ListedObject[]> {
        for await (const page of runtime.objects.pages(bucket, prefix)) {
          await runtime.clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'vanishing/doomed.txt' }));
          yield page;
        }
      },
    };
    const findings: Finding[] = [];
    await scanBucket({ ...deps, lister: deletingLister }, { bucket: BUCKET, prefix: 'vanishing/', concurrency: 2, onFinding: (f) => void findings.push(f) });
    const byKey = new Map(findings.map((f) => [f.key, f]));
    expect(byKey.get('vanishing/doomed.txt')).toMatchObject({ verdict: 'unauditable', reasons: [{ code: 'object-vanished' }] });
    expect(byKey.get('vanishing/stays.txt')).toMatchObject({ verdict: 'compliant' });
  });

  test('a bucket that does not exist is a clear error', async () => {
    const deps = await dependencies();
    const scan = scanBucket(deps, { bucket: 'no-such-bucket', concurrency: 4 });
    await expect(scan).rejects.toThrow(BucketListingError);
    await expect(scanBucket(deps, { bucket: 'no-such-bucket', concurrency: 4 })).rejects.toThrow('bucket no-such-bucket does not exist');
  });

  test('a policy alias that KMS does not know is a policy error naming the alias', async () => {
    const policy = parsePolicy('version: 1\ndefault: { require: sse-kms, kmsKeys: [alias/missing] }', 'p.yaml');
    await expect(resolveKeys(policy, runtime.keys, 'p.yaml')).rejects.toThrow(/p\.yaml[\s\S]*alias\/missing cannot be resolved/);
  });

  test('policy aliases resolve to the key ARN S3 reports', async () => {
    const clients = createAwsClients();
    const aliased = await createKey(clients, { alias: 'alias/scan-test' });
    const policy = await resolveKeys(parsePolicy('version: 1\ndefault: { require: sse-kms, kmsKeys: [alias/scan-test] }'), runtime.keys, 'p');
    expect(policy.default.kmsKeys).toEqual([aliased.arn]);
  });
});
