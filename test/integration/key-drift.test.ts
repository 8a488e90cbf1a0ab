// The key drift check on the emulator: a sweep that audits only rows changed since the last verified
// report still finds an unchanged object whose KMS key was disabled meanwhile, with NO key event
// delivered (the CloudTrail rule absent or its delivery lost). One DescribeKey per key, not per object.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { checkKeyDrift } from '../../shared/audit/key-drift.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { parsePolicy } from '../../shared/domain/policy.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { DAY_MS, dueForReverify } from '../../shared/inventory/reverify.ts';
import { resolveKeys } from '../../shared/policy-loader.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createBucket, createKey, disableKey, putObject } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';

const writer = createAwsClients();
const endpoint = () => process.env.AWS_ENDPOINT_URL!;
const REVERIFY_DAYS = 30;
// Reports dated after every write of the test, in whole minutes (report folders are named to the minute).
const DAY1 = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000);
const at = (days: number) => new Date(DAY1.getTime() + days * DAY_MS);

/** An object name whose rolling re-check falls in none of the test's windows: only the key check can re-judge it. */
function notDueUntil(bucket: string, days: number): string {
  for (let i = 0; ; i++) {
    const key = `obj-${i}`;
    if (!dueForReverify(bucket, key, undefined, { after: at(0), until: at(days), periodMs: REVERIFY_DAYS * DAY_MS })) return key;
  }
}

describe('sseguard scan --inventory with a diff: the key check', () => {
  test('an unchanged object whose key was disabled with no key event is recorded at-risk by the next scan (it stayed compliant before); an unchanged key re-evaluates nothing', async () => {
    const suffix = randomBytes(4).toString('hex');
    const source = `drift-src-${suffix}`;
    const dest = `drift-inv-${suffix}`;
    const env = { SSEGUARD_TABLE: `drift-${suffix}` };
    await createBucket(writer, source);
    await createBucket(writer, dest);
    const key = await createKey(writer);
    const object = notDueUntil(source, 3);
    await putObject(writer, source, object, { mode: 'sse-kms', key });
    expect((await runCli(['init'], env)).code).toBe(0);
    expect((await runCli(['inventory', 'setup', '--bucket', source, '--destination-bucket', dest])).code).toBe(0);
    const policy = join(mkdtempSync(join(tmpdir(), 'sseguard-drift-')), 'policy.yaml');
    writeFileSync(policy, 'version: 1\n');
    const scan = () => runCli(['scan', '--bucket', source, '--inventory', `s3://${dest}`, '--policy', policy, '--reverify-days', String(REVERIFY_DAYS)], env);

    await deliverInventory(endpoint(), { bucket: source, at: at(0) });
    const first = await scan();
    expect(first.stdout).toMatch(/^compliant +1$/m);
    expect(first.code).toBe(0);

    // Same key, same state: described, nothing re-evaluated.
    await deliverInventory(endpoint(), { bucket: source, at: at(1) });
    const unchanged = await scan();
    expect(unchanged.stdout).toContain('1 rows unchanged, not audited again.');
    expect(unchanged.stdout).toContain('Key check: 1 keys described, 0 changed → 0 objects re-evaluated.');
    expect(unchanged.code).toBe(0);

    // Disabled, and no key event delivered: the row is unchanged, the key is not.
    await disableKey(writer, key);
    await deliverInventory(endpoint(), { bucket: source, at: at(2) });
    const drifted = await scan();
    expect(drifted.stdout).toContain('1 rows unchanged, not audited again.');
    expect(drifted.stdout).toContain('Key check: 1 keys described, 1 changed → 1 objects re-evaluated.');
    expect(drifted.stdout).toContain('Recorded findings of the bucket after this run: 1 at-risk.');
    expect(drifted.code).toBe(1);

    // Still disabled, its object recorded at-risk: nothing to re-evaluate, and the gate still fails.
    await deliverInventory(endpoint(), { bucket: source, at: at(3) });
    const again = await scan();
    expect(again.stdout).toContain('Key check: 1 keys described, 0 changed → 0 objects re-evaluated.');
    expect(again.code).toBe(1);
  }, 120_000);
});

describe('sseguard scan --inventory: the key check and other accounts\' objects', () => {
  test('a drifted key\'s dependents in another account (an Organization table) are not HEADed with the caller\'s credentials: named unchecked (exit 2), their finding untouched; the caller\'s own object is re-evaluated', async () => {
    const suffix = randomBytes(4).toString('hex');
    const source = `drift-own-${suffix}`;
    const dest = `drift-own-inv-${suffix}`;
    const table = `drift-own-${suffix}`;
    const env = { SSEGUARD_TABLE: table };
    await createBucket(writer, source);
    await createBucket(writer, dest);
    const key = await createKey(writer);
    const object = notDueUntil(source, 2);
    await putObject(writer, source, object, { mode: 'sse-kms', key });
    expect((await runCli(['init'], env)).code).toBe(0);
    expect((await runCli(['inventory', 'setup', '--bucket', source, '--destination-bucket', dest])).code).toBe(0);
    const scan = () => runCli(['scan', '--bucket', source, '--inventory', `s3://${dest}`, '--reverify-days', String(REVERIFY_DAYS)], env);
    await deliverInventory(endpoint(), { bucket: source, at: at(0) });
    expect((await scan()).code).toBe(0);

    // A member account's object under the same key, as the Organization sweep records it.
    const runtime = createRuntime(loadConfig({ ...process.env, SSEGUARD_TABLE: table }));
    const own = (await runtime.store.statesOf(source, [object])).get(object)!;
    expect(own.verdict).toBe('compliant');
    const memberBucket = `member-${suffix}`;
    await runtime.store.record([{ ...own, bucket: memberBucket, account: '210987654321', region: 'us-east-1' }]);

    await disableKey(writer, key);
    await deliverInventory(endpoint(), { bucket: source, at: at(1) });
    const drifted = await scan();
    expect(drifted.stdout).toContain('Key check: 1 keys described, 1 changed → 1 objects re-evaluated.');
    expect(drifted.stdout).toContain('1 objects of other accounts not re-evaluated here');
    expect(drifted.code).toBe(2);
    expect((await runtime.store.statesOf(source, [object])).get(object)!.verdict).toBe('at-risk');
    // Not "access denied" over the member's finding: left for the stage's key check, with that account's role.
    const member = (await runtime.store.statesOf(memberBucket, [object])).get(object)!;
    expect(member).toMatchObject({ verdict: 'compliant', account: '210987654321' });
  }, 120_000);
});

describe('the key check under faults', () => {
  test('scan --inventory with DescribeKey throttled every time: the key is named as unchecked, its object keeps its recorded verdict, and the run exits 2 (incomplete)', async () => {
    const proxy = await startFaultProxy({ target: endpoint() });
    try {
      const suffix = randomBytes(4).toString('hex');
      const source = `drift-thr-${suffix}`;
      const dest = `drift-thr-inv-${suffix}`;
      const env = { SSEGUARD_TABLE: `drift-thr-${suffix}`, AWS_ENDPOINT_URL: proxy.endpoint };
      await createBucket(writer, source);
      await createBucket(writer, dest);
      const key = await createKey(writer);
      const object = notDueUntil(source, 1);
      await putObject(writer, source, object, { mode: 'sse-kms', key });
      expect((await runCli(['init'], env)).code).toBe(0);
      expect((await runCli(['inventory', 'setup', '--bucket', source, '--destination-bucket', dest], env)).code).toBe(0);
      const scan = () => runCli(['scan', '--bucket', source, '--inventory', `s3://${dest}`, '--reverify-days', String(REVERIFY_DAYS)], env);
      await deliverInventory(endpoint(), { bucket: source, at: at(0) });
      expect((await scan()).code).toBe(0);

      await disableKey(writer, key);
      await deliverInventory(endpoint(), { bucket: source, at: at(1) });
      proxy.setRules([{ service: 'kms', operation: 'DescribeKey', rate: 1, kind: 'throttle' }]);
      const throttled = await scan();
      expect(proxy.stats().faults['kms:DescribeKey:throttle']).toBeGreaterThan(0);
      expect(throttled.stdout).toContain(`Key check: 0 keys described, 0 changed → 0 objects re-evaluated. 1 keys not described (left as recorded, asked again next sweep): ${key.arn} (`);
      // As recorded: neither a fresh compliant nor an at-risk on no evidence.
      expect(throttled.stdout).toContain('Recorded findings of the bucket after this run: 1 compliant.');
      expect(throttled.code).toBe(2);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  test('DescribeKey throttled every time: the verdict stays as recorded, nothing recorded at-risk or compliant anew, the key named as unchecked; the next check re-evaluates it', async () => {
    const proxy = await startFaultProxy({ target: endpoint() });
    try {
      const suffix = randomBytes(4).toString('hex');
      const bucket = `drift-fault-${suffix}`;
      const table = `drift-fault-${suffix}`;
      await createBucket(writer, bucket);
      const key = await createKey(writer);
      await putObject(writer, bucket, 'a', { mode: 'sse-kms', key });
      await putObject(writer, bucket, 'b', { mode: 'sse-kms', key });
      const runtime = createRuntime(loadConfig({ ...process.env, SSEGUARD_TABLE: table, AWS_ENDPOINT_URL: proxy.endpoint }));
      await ensureFindingsTable(runtime.clients.dynamodb, table);
      const policy = await resolveKeys(parsePolicy('{"version":1}', 'test policy'), runtime.keys, 'test policy');
      await scanBucket({ objects: runtime.objects, lister: runtime.objects, keys: runtime.keys, policy, store: runtime.store }, { bucket, concurrency: 2 });
      const verdicts = async () => {
        const found: Record<string, { verdict: string; at: string }> = {};
        for await (const page of runtime.store.findings({ bucket })) for (const f of page) found[f.key] = { verdict: f.verdict, at: f.auditedAt };
        return found;
      };
      const recorded = await verdicts();
      expect(Object.values(recorded).map((f) => f.verdict)).toEqual(['compliant', 'compliant']);

      await disableKey(writer, key);
      const deps = {
        objects: runtime.objects,
        keys: runtime.keys,
        store: runtime.store,
        policy,
        queue: { sendToAuditQueue: () => Promise.reject(new Error('a blast radius of two objects is re-evaluated in place')) },
        deletions: { cancelDeletion: () => Promise.reject(new Error('no deletion to cancel')) },
      };
      proxy.setRules([{ service: 'kms', operation: 'DescribeKey', rate: 1, kind: 'throttle' }]);
      const throttled = await checkKeyDrift(deps);
      expect(proxy.stats().faults['kms:DescribeKey:throttle']).toBeGreaterThan(0);
      expect(throttled).toMatchObject({ described: 0, changed: [], reevaluated: 0 });
      expect(throttled.unchecked.map((u) => u.arn)).toEqual([key.arn]);
      expect(throttled.unchecked[0]!.detail).toMatch(/Throttl/);
      // As recorded: not re-judged on no evidence (neither at-risk nor a fresh compliant).
      expect(await verdicts()).toEqual(recorded);

      proxy.setRules([]);
      const next = await checkKeyDrift(deps);
      expect(next).toMatchObject({ described: 1, unchecked: [], reevaluated: 2 });
      expect(next.changed.map((c) => c.arn)).toEqual([key.arn]);
      expect(Object.values(await verdicts()).map((f) => f.verdict)).toEqual(['at-risk', 'at-risk']);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
