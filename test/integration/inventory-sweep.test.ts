// `sseguard scan --inventory`: the inventory tier as a user runs it. The verdicts equal a HEAD
// scan's; a second sweep after a few objects change sends HeadObject only for the changed KMS
// objects and DynamoDB writes only for changed findings (counted at the wire by the fault proxy,
// with no faults); an object the report no longer lists leaves the findings.
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { createBucket, createKey, disableKey, putObjectsInEveryMode, type TestKey } from '../support/aws-fixtures.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { runCli, verdictsOf } from '../support/cli.ts';

const emulator = inject('emulatorEndpoint');
const SOURCE = 'inv-sweep-source';
const DESTINATION = 'inv-sweep-reports';
const writer = createAwsClients({ maxSockets: 16 });
let proxy: FaultProxy;
let enabled: TestKey;

const sseguard = (args: string[], env: Record<string, string | undefined> = {}) => runCli(args, env);
const summary_ = (stdout: string) => JSON.parse(stdout).summary as { inventory: Record<string, unknown> };

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator });
  enabled = await createKey(writer, { rotation: true });
  const disabled = await createKey(writer, { rotation: true });
  await createBucket(writer, SOURCE);
  await createBucket(writer, DESTINATION);
  const writes: Promise<unknown>[] = [];
  writes.push(putObjectsInEveryMode(writer, SOURCE, 60, { enabled, disabled }));
  await Promise.all(writes);
  await disableKey(writer, disabled);
  const setup = await sseguard(['inventory', 'setup', '--bucket', SOURCE, '--destination-bucket', DESTINATION, '--destination-prefix', 'reports']);
  expect(setup.stderr).toBe('');
  expect(setup.code).toBe(0);
  await deliverInventory(emulator, { bucket: SOURCE, at: new Date(Date.now() - 60_000) });
  for (const table of ['inv-head-findings', 'inv-sweep-findings']) expect((await sseguard(['init'], { SSEGUARD_TABLE: table })).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
});

test('an inventory sweep gives exactly the verdicts of a HEAD scan; a second one HEADs only changed KMS objects (and a vanished one, to prove it gone) and writes only changed findings; gone objects are removed', async () => {
  const head = await sseguard(['scan', '--bucket', SOURCE, '--json'], { SSEGUARD_TABLE: 'inv-head-findings' });
  expect(head.stderr).toBe('');
  const byHead = verdictsOf(head.stdout);
  expect(new Set(Object.values(byHead))).toEqual(new Set(['compliant', 'at-risk', 'noncompliant']));

  const sweep = (extra: string[] = []) =>
    sseguard(['scan', '--bucket', SOURCE, '--inventory', `s3://${DESTINATION}/reports`, '--json', ...extra], {
      SSEGUARD_TABLE: 'inv-sweep-findings',
      AWS_ENDPOINT_URL: proxy.endpoint,
    });
  proxy.resetStats();
  const first = await sweep();
  expect(first.stderr).toBe('');
  expect(verdictsOf(first.stdout)).toEqual(byHead);
  const firstSummary = JSON.parse(first.stdout).summary;
  // SSE-S3 and SSE-C rows are decided by the inventory; the 30 KMS rows have no recorded key yet.
  expect(firstSummary.inventory).toMatchObject({ rows: 60, byInventory: 30, byHead: 30 });
  expect(proxy.stats().requests['s3:HeadObject']).toBe(30);

  // Change one SSE-KMS object and two SSE-S3 objects far apart (more than one recorder batch of
  // 45 rows between them), delete one; a new report arrives.
  await writer.s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'obj-002', Body: 'rewritten', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: enabled.arn }));
  await writer.s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'obj-000', Body: 'rewritten', ServerSideEncryption: 'AES256' }));
  await writer.s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'obj-054', Body: 'rewritten', ServerSideEncryption: 'AES256' }));
  await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: 'obj-001' }));
  await deliverInventory(emulator, { bucket: SOURCE });
  proxy.resetStats();
  const second = await sweep();
  expect(second.stderr).toBe('');
  const stats = proxy.stats();
  // HEADed: the changed KMS object, and the deleted one (one report's word alone removes nothing: HeadObject answered 404).
  expect(proxy.wireRequests().filter((r) => r.key === 's3:HeadObject').map((r) => r.path).sort()).toEqual([`/${SOURCE}/obj-001`, `/${SOURCE}/obj-002`]);
  // Three changed findings in one transaction, the removal in another; never one per object, nor
  // one per batch of rows that holds a change.
  expect(stats.requests['dynamodb:TransactWriteItems']).toBe(2);
  // Compared with the first report (a hash join), only the three changed rows reach the audit: their
  // states read once, and once more by the recorder that writes them; the deleted object's state
  // read by key to remove it, and once more by its removal. No Query of the bucket's findings.
  expect(stats.requests['dynamodb:BatchGetItem']).toBe(4);
  const summary = JSON.parse(second.stdout).summary;
  expect(summary.inventory).toMatchObject({ rows: 59, byHead: 1, removed: 1, absence: { removedBy404: 1, keptUnanswered: 0 }, diff: { unchangedSinceReport: 56, previousReportDate: firstSummary.inventory.reportDate } });
  const expected: Record<string, string> = { ...byHead };
  delete expected['obj-001'];
  // The run lists the findings it made: the changed objects'.
  expect(verdictsOf(second.stdout)).toEqual({ 'obj-000': expected['obj-000'], 'obj-002': expected['obj-002'], 'obj-054': expected['obj-054'] });

  const report = await sseguard(['report', '--format', 'json', '--bucket', SOURCE], { SSEGUARD_TABLE: 'inv-sweep-findings' });
  const reported = JSON.parse(report.stdout).findings as { key: string; verdict: string; evidence: string | null; evidenceAt: string | null }[];
  expect(reported.map((f) => f.key)).not.toContain('obj-001');
  expect(reported).toHaveLength(59);
  expect(Object.fromEntries(reported.map((f) => [f.key, f.verdict]))).toEqual(expected);
  // Each finding says what it rests on: the changed KMS object a HEAD, SSE-S3 objects the report
  // (an unchanged one keeps the first report's date: nothing was rewritten; the run record proves
  // the second report was read).
  expect(reported.find((f) => f.key === 'obj-002')).toMatchObject({ evidence: 'head' });
  expect(reported.find((f) => f.key === 'obj-006')).toMatchObject({ evidence: 'inventory', evidenceAt: firstSummary.inventory.reportDate });
  expect(reported.find((f) => f.key === 'obj-000')).toMatchObject({ evidence: 'inventory', evidenceAt: summary.inventory.reportDate });
}, 180_000);
