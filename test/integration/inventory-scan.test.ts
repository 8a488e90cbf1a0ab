// The inventory tier's audit on the emulator: each row costs a HeadObject only when the inventory
// and the recorded finding cannot decide it, and findings are the ones a HEAD would give.
import { randomBytes } from 'node:crypto';
import { PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { parsePolicy } from '../../shared/domain/policy.ts';
import type { ObjectInspector } from '../../shared/inspect/object-inspector.ts';
import { KmsKeyInspector } from '../../shared/inspect/key-inspector.ts';
import { S3ObjectInspector } from '../../shared/inspect/object-inspector.ts';
import type { RecordedState } from '../../shared/inventory/decide.ts';
import { inventoryScan, recordKey, type InventoryAudit } from '../../shared/audit/inventory-scan.ts';
import { InventoryFileMessageSchema, inventoryFileMessages } from '../../shared/inventory/messages.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { s3InventorySource } from '../../shared/inventory/source.ts';
import { resolveKeys } from '../../shared/policy-loader.ts';
import { createBucket, createKey, putObject } from '../support/aws-fixtures.ts';

const clients = createAwsClients();
const endpoint = () => process.env.AWS_ENDPOINT_URL!;

/** Counts HeadObject calls made through the real inspector. */
function countingInspector(): ObjectInspector & { heads: string[] } {
  const real = new S3ObjectInspector(clients.s3);
  const heads: string[] = [];
  return {
    heads,
    inspect: (bucket, listed, versionId) => {
      heads.push(listed.key);
      return real.inspect(bucket, listed, versionId);
    },
  };
}

/** The findings store's part the lead wires in: recorded states by object. */
function recordedStore() {
  const states = new Map<string, RecordedState>();
  return {
    states,
    record(audits: InventoryAudit[]) {
      for (const { finding: f } of audits) {
        if (!f.mode) continue;
        states.set(recordKey(f.key, f.versionId), {
          ...(f.versionId ? { versionId: f.versionId } : {}),
          ...(f.etag ? { etag: f.etag } : {}),
          mode: f.mode,
          ...(f.kmsKeyArn ? { kmsKeyArn: f.kmsKeyArn } : {}),
          bucketKeyEnabled: f.bucketKeyEnabled ?? false,
          verdict: f.verdict,
        });
      }
    },
    recordedStates: async (_bucket: string, objects: { key: string; versionId?: string }[]) =>
      new Map(objects.flatMap((o) => (states.has(recordKey(o.key, o.versionId)) ? [[recordKey(o.key, o.versionId), states.get(recordKey(o.key, o.versionId))!] as const] : []))),
  };
}

async function collect(audits: AsyncIterable<InventoryAudit>): Promise<InventoryAudit[]> {
  const out: InventoryAudit[] = [];
  for await (const a of audits) out.push(a);
  return out;
}

async function setup(policyText = '{"version":1}') {
  const source = `src-${randomBytes(4).toString('hex')}`;
  const dest = `inv-${randomBytes(4).toString('hex')}`;
  await createBucket(clients, source);
  await createBucket(clients, dest);
  await clients.s3.send(
    new PutBucketInventoryConfigurationCommand({ Bucket: source, Id: 'sseguard', InventoryConfiguration: inventoryConfiguration({ bucket: source, destinationBucket: dest }) }),
  );
  const keys = new KmsKeyInspector(clients.kms);
  const policy = await resolveKeys(parsePolicy(policyText, 'test policy'), keys, 'test policy');
  const objects = countingInspector();
  const store = recordedStore();
  const deps = { objects, keys, policy, inventory: s3InventorySource(clients.s3, { bucket: dest, prefix: '' }), recordedStates: store.recordedStates };
  return { source, dest, deps, objects, store };
}

describe('inventory scan: the cheapest sufficient evidence per object', () => {
  test('first sweep HEADs only KMS objects; the next sweep HEADs nothing; a rewritten KMS object is HEADed again', async () => {
    const { source, deps, objects, store } = await setup();
    const key = await createKey(clients);
    await putObject(clients, source, 's3.txt', { mode: 'sse-s3' });
    await putObject(clients, source, 'kms.txt', { mode: 'sse-kms', key, bucketKey: true });
    await putObject(clients, source, 'other-kms.txt', { mode: 'sse-kms', key });
    await putObject(clients, source, 'cust.bin', { mode: 'sse-c' });
    await deliverInventory(endpoint(), { bucket: source, at: new Date('2026-11-29T01:00:00Z') });

    const first = await inventoryScan(deps, { bucket: source });
    const audits = await collect(first.audits);
    expect(objects.heads.sort()).toEqual(['kms.txt', 'other-kms.txt']);
    expect(first.stats).toMatchObject({ rows: 4, byInventory: 2, byHead: 2, headReasons: { new: 2 } });
    const byKey = Object.fromEntries(audits.map((a) => [a.finding.key, a]));
    expect(byKey['s3.txt']).toMatchObject({ evidence: 'inventory', evidenceAt: '2026-11-29T01:00:00.000Z', finding: { mode: 'sse-s3', verdict: 'compliant' } });
    expect(byKey['cust.bin']).toMatchObject({ evidence: 'inventory', finding: { mode: 'sse-c', verdict: 'noncompliant' } });
    expect(byKey['kms.txt']).toMatchObject({ evidence: 'head', headReason: 'new', finding: { mode: 'sse-kms', kmsKeyArn: key.arn, bucketKeyEnabled: true } });
    store.record(audits);

    objects.heads.length = 0;
    await deliverInventory(endpoint(), { bucket: source, at: new Date('2026-11-30T01:00:00Z') });
    const second = await collect((await inventoryScan(deps, { bucket: source })).audits);
    expect(objects.heads).toEqual([]);
    const again = Object.fromEntries(second.map((a) => [a.finding.key, a]));
    expect(again['kms.txt']).toMatchObject({ evidence: 'inventory', evidenceAt: '2026-11-30T01:00:00.000Z', finding: { mode: 'sse-kms', kmsKeyArn: key.arn, verdict: 'compliant' } });
    // The inventory's finding is the HEAD's finding, field for field, but for when and how it was made.
    const strip = ({ auditedAt: _a, ...rest }: InventoryAudit['finding']) => rest;
    expect(strip(again['kms.txt']!.finding)).toEqual(strip(byKey['kms.txt']!.finding));

    await putObject(clients, source, 'kms.txt', { mode: 'sse-kms', key }, 'new content');
    await deliverInventory(endpoint(), { bucket: source, at: new Date('2026-12-01T01:00:00Z') });
    const third = await inventoryScan(deps, { bucket: source });
    const changed = (await collect(third.audits)).find((a) => a.finding.key === 'kms.txt')!;
    expect(objects.heads).toEqual(['kms.txt']);
    expect(changed).toMatchObject({ evidence: 'head', headReason: 'changed', finding: { bucketKeyEnabled: false } });
  });

  test('a policy that judges client-side envelopes HEADs new objects of every server-side mode except SSE-C', async () => {
    const { source, deps, objects } = await setup('{"version":1,"default":{"clientSide":{"accept":"forbidden"}}}');
    await putObject(clients, source, 'a', { mode: 'sse-s3' });
    await putObject(clients, source, 'c', { mode: 'sse-c' });
    await deliverInventory(endpoint(), { bucket: source });
    const scan = await inventoryScan(deps, { bucket: source });
    await collect(scan.audits);
    expect(objects.heads).toEqual(['a']);
    expect(scan.stats.headReasons).toEqual({ 'client-side-unknown': 1 });
  });

  test('fan-out: one queue message per data file; each message audits its file of that report, together every row once', async () => {
    const { source, dest, deps } = await setup();
    for (const k of ['a', 'b', 'c', 'd', 'e']) await putObject(clients, source, k, { mode: 'sse-s3' });
    await deliverInventory(endpoint(), { bucket: source, rowsPerFile: 2, at: new Date('2026-11-30T01:00:00Z') });
    // A newer report arrives before the messages are processed: they still audit the report they name.
    await putObject(clients, source, 'f', { mode: 'sse-s3' });
    const report = await deps.inventory.newest(source);
    await deliverInventory(endpoint(), { bucket: source, at: new Date('2026-12-01T01:00:00Z') });

    const messages = inventoryFileMessages(report).map((m) => InventoryFileMessageSchema.parse(JSON.parse(JSON.stringify(m))));
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatchObject({ kind: 'inventory-file', bucket: source, destination: { bucket: dest, prefix: '' }, manifestKey: `${source}/sseguard/2026-11-30T01-00Z/manifest.json` });
    const keys: string[] = [];
    for (const m of messages) {
      const scan = await inventoryScan(deps, { bucket: m.bucket, manifestKey: m.manifestKey, files: [m.file] });
      for await (const a of scan.audits) keys.push(a.finding.key);
    }
    expect(keys.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    await expect(deps.inventory.at(source, `${source}/sseguard/data/x.csv.gz`)).rejects.toThrow(/is not a manifest of/);
  });
});
