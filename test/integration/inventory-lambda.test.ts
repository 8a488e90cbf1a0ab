// The inventory tier in Lambda, end to end on the emulator: the sweep handler covers a bucket with
// an inventory from its newest report (one message per data file) and lists the others; the audit
// worker handler audits each file, and the last one queues the report's reconciliation. Counted at
// the wire by the fault proxy (no faults): HeadObject only for KMS objects not yet recorded;
// redelivering every message writes nothing; a second report after changes HEADs the changed KMS
// object only and removes the deleted one, never an object written after the report.
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { handler as sweepHandler } from '../../functions/sweep.ts';
import { sweepDependencies, sweepInventory } from '../../functions/commons/sweep-dependencies.ts';
import { sweep, type SweepDependencies } from '../../shared/sweep/sweep.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { inventoryReconcileMessage, type InventoryFileMessage } from '../../shared/inventory/messages.ts';
import { InventoryReportProgress } from '../../shared/findings/inventory-progress.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { SweepRuns } from '../../shared/findings/sweep-runs.ts';
import { createBucket, createKey, disableKey, putObject, putObjectsInEveryMode, type TestKey } from '../support/aws-fixtures.ts';
import { logicalCalls, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { seedInventoryReport } from '../support/inventory-fixtures.ts';
import { drainQueue } from '../support/sqs-event-source.ts';

const emulator = inject('emulatorEndpoint');
const SOURCE = 'inv-lambda-source';
const PLAIN = 'inv-lambda-plain';
const DESTINATION = 'inv-lambda-reports';
const TABLE = 'inv-lambda-findings';
Object.assign(process.env, {
  SSEGUARD_TABLE: TABLE,
  SSEGUARD_QUEUE: 'inv-lambda-audit',
  SSEGUARD_IDEMPOTENCY_TABLE: 'inv-lambda-idempotency',
  SSEGUARD_SWEEP_BUCKETS: `${SOURCE},${PLAIN}`,
  SSEGUARD_SWEEP_INVENTORY: 'auto',
  SSEGUARD_SWEEP_INTERVAL_HOURS: '0',
  SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS: '24',
});
delete process.env.SSEGUARD_POLICY;

const writer = createAwsClients({ maxSockets: 16 });
const context = localLambdaContext('inventory-lambda');
let proxy: FaultProxy;
let sqs: SQSClient;
let queueUrl: string;
let enabled: TestKey;
let headVerdicts: Record<string, string>;

const atEmulator = () => createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: emulator }));

async function states(bucket: string): Promise<Map<string, StoredFinding>> {
  const found = new Map<string, StoredFinding>();
  for await (const page of atEmulator().store.findings({ bucket })) for (const f of page) found.set(f.key, f);
  return found;
}
const verdictsOf = (found: Map<string, StoredFinding>) => Object.fromEntries([...found].map(([key, f]) => [key, f.verdict]));

/** Takes every message off the audit queue without auditing it. */
async function takeMessages(): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return bodies;
    for (const m of Messages) {
      bodies.push(m.Body!);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
}

/** Puts messages on the audit queue and lets the worker handler drain it (reconcile messages it sends included). */
async function throughWorker(bodies: string[]): Promise<string[]> {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody })) }));
  }
  return drainQueue(sqs, queueUrl, auditWorker, context);
}

const fileMessages = (bodies: string[]): InventoryFileMessage[] =>
  bodies.flatMap((body) => {
    const parsed = parseMessageBody(body);
    return parsed.kind === 'inventory-file' ? [parsed.message] : [];
  });

const DYNAMODB_WRITES = ['TransactWriteItems', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'];
const dynamoWrites = () => DYNAMODB_WRITES.reduce((sum, op) => sum + (proxy.stats().requests[`dynamodb:${op}`] ?? 0), 0);

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator });
  // The handlers' every AWS call goes through the proxy, which counts them.
  process.env.AWS_ENDPOINT_URL = proxy.endpoint;
  resetHandlerRuntime();
  const runtime = atEmulator();
  sqs = runtime.clients.sqs;
  await ensureFindingsTable(runtime.clients.dynamodb, TABLE);
  await ensureFindingsTable(runtime.clients.dynamodb, 'inv-lambda-head');
  await ensureIdempotencyTable(runtime.clients.dynamodb, 'inv-lambda-idempotency');
  ({ queueUrl } = await ensureQueues(runtime.clients.sqs, runtime.config));

  enabled = await createKey(writer, { rotation: true });
  const disabled = await createKey(writer, { rotation: true });
  for (const bucket of [SOURCE, PLAIN, DESTINATION]) await createBucket(writer, bucket);
  const writes: Promise<unknown>[] = [];
  writes.push(putObjectsInEveryMode(writer, SOURCE, 60, { enabled, disabled }));
  writes.push(putObject(writer, PLAIN, 'a', { mode: 'sse-s3' }), putObject(writer, PLAIN, 'b', { mode: 'sse-s3' }));
  await Promise.all(writes);
  await disableKey(writer, disabled);
  // Three data files of 20 rows: three messages.
  await seedInventoryReport(writer, emulator, { bucket: SOURCE, destinationBucket: DESTINATION, prefix: 'reports', at: new Date(Date.now() - 60_000), rowsPerFile: 20 });

  // What a HEAD scan says, in a table of its own.
  const head = await scanBucket(await scanDependencies(createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: emulator, SSEGUARD_TABLE: 'inv-lambda-head' }))), { bucket: SOURCE, concurrency: 8 });
  expect(head.notAudited).toBe(0);
  headVerdicts = verdictsOf(await headStates());
}, 120_000);

async function headStates(): Promise<Map<string, StoredFinding>> {
  const found = new Map<string, StoredFinding>();
  const runtime = createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: emulator, SSEGUARD_TABLE: 'inv-lambda-head' }));
  for await (const page of runtime.store.findings({ bucket: SOURCE })) for (const f of page) found.set(f.key, f);
  return found;
}

afterAll(async () => {
  process.env.AWS_ENDPOINT_URL = emulator;
  resetHandlerRuntime();
  await proxy?.close();
});

describe('the Lambda sweep with an S3 Inventory', () => {
  let firstBodies: string[];

  test('the sweep sends one message per data file for the bucket with a report and lists the other; the worker gives a HEAD scan\'s findings, HEADing only KMS objects not yet recorded', async () => {
    expect(new Set(Object.values(headVerdicts))).toEqual(new Set(['compliant', 'at-risk', 'noncompliant']));
    proxy.resetStats();
    const outcome = await sweepHandler({}, context);
    expect(outcome).toMatchObject({ status: 'finished', filesEnqueued: 3, objectsEnqueued: 2 });
    firstBodies = await takeMessages();
    const files = fileMessages(firstBodies);
    expect(files).toHaveLength(3);
    expect(new Set(files.map((f) => f.bucket))).toEqual(new Set([SOURCE]));

    const runs = new SweepRuns(atEmulator().clients.documents, TABLE);
    const [run] = await runs.runs(1);
    expect(run).toMatchObject({ filesEnqueued: 3, objectsEnqueued: 2 });
    expect(await runs.coverage(run!.runId)).toEqual([
      { bucket: PLAIN, evidence: 'listing', reason: 'no inventory configuration' },
      { bucket: SOURCE, evidence: 'inventory', manifestKey: files[0]!.manifestKey, reportDate: expect.any(String), files: 3 },
    ]);

    proxy.resetStats();
    expect(await throughWorker(firstBodies)).toEqual([]);
    // 30 KMS objects (SSE-KMS under either key, DSSE-KMS) had no recorded key; the rest the report decides.
    expect(proxy.stats().requests['s3:HeadObject']).toBe(30 + 2);
    const found = await states(SOURCE);
    expect(verdictsOf(found)).toEqual(headVerdicts);
    expect(found.get('obj-000')).toMatchObject({ evidence: 'inventory' });
    expect(found.get('obj-002')).toMatchObject({ evidence: 'head' });
    const progress = await new InventoryReportProgress(atEmulator().clients.documents, TABLE).progress(SOURCE, files[0]!.manifestKey);
    expect(progress).toMatchObject({ files: 3, filesDone: 3, removed: 0, reconciledAt: expect.any(String) });
  });

  test('redelivering every message (file and reconcile messages) reads no data file and writes nothing', async () => {
    const reconcile = JSON.stringify(inventoryReconcileMessage(fileMessages(firstBodies)[0]!));
    const before = await states(SOURCE);
    proxy.resetStats();
    expect(await throughWorker([...firstBodies.filter((b) => parseMessageBody(b).kind === 'inventory-file'), reconcile])).toEqual([]);
    expect(dynamoWrites()).toBe(0);
    expect(proxy.stats().requests['s3:GetObject'] ?? 0).toBe(0);
    expect(proxy.stats().requests['s3:HeadObject'] ?? 0).toBe(0);
    const after = await states(SOURCE);
    expect([...after].map(([k, f]) => [k, f.rev])).toEqual([...before].map(([k, f]) => [k, f.rev]));
  });

  test('a new report after changes: HEAD for the changed KMS object only, the deleted object removed, an object written after the report kept; the same report is not swept twice', async () => {
    await writer.s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'obj-002', Body: 'rewritten', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: enabled.arn }));
    await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: 'obj-001' }));
    await deliverInventory(emulator, { bucket: SOURCE, rowsPerFile: 20 });
    // Written after the report began: the worker records it from its event; the report cannot list it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await putObject(writer, SOURCE, 'late-object', { mode: 'sse-s3' });
    const event = { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: SOURCE }, object: { key: 'late-object' } } }] };
    expect(await throughWorker([JSON.stringify(event)])).toEqual([]);

    proxy.resetStats();
    expect(await sweepHandler({}, context)).toMatchObject({ status: 'finished', filesEnqueued: 3 });
    const bodies = await takeMessages();
    proxy.resetStats();
    expect(await throughWorker(bodies)).toEqual([]);
    // The changed SSE-KMS object, the listed bucket's two objects, and the deleted object, which the
    // report alone does not remove (reports are eventually consistent): its HeadObject answers 404.
    // Counted per logical call (SDK invocation): a retry the SDK makes of one attempt (a loaded
    // emulator, a dropped connection) is not a second HEAD; one full run once counted 5 at the wire.
    const wire = proxy.wireRequests().filter((r) => r.key === 's3:HeadObject');
    const heads = logicalCalls(wire);
    expect(heads.map((h) => h.path).sort(), JSON.stringify(wire)).toEqual([`/${PLAIN}/a`, `/${PLAIN}/b`, `/${SOURCE}/obj-001`, `/${SOURCE}/obj-002`]);
    for (const { attempts } of heads) expect(attempts, JSON.stringify(wire)).toEqual(Array.from({ length: attempts.length }, (_, i) => i + 1));
    const found = await states(SOURCE);
    const expected: Record<string, string> = { ...headVerdicts, 'late-object': 'compliant' };
    delete expected['obj-001'];
    expect(verdictsOf(found)).toEqual(expected);
    expect(found.get('obj-002')).toMatchObject({ evidence: 'head' });

    // No newer report: the next run lists the bucket, and says why.
    expect(await sweepHandler({}, context)).toMatchObject({ status: 'finished', objectsEnqueued: 59 + 1 + 2 });
    await takeMessages();
    const runs = new SweepRuns(atEmulator().clients.documents, TABLE);
    const [run] = await runs.runs(1);
    expect((await runs.coverage(run!.runId))[1]).toMatchObject({ bucket: SOURCE, evidence: 'listing', reason: expect.stringContaining('no inventory report newer than the one last swept') });
  });

  test('an unchanged report: the worker reads only the state of the row its last verified report did not list, HEADs nothing and writes no finding', async () => {
    const before = await states(SOURCE);
    // Dated a minute on: report folders are named to the minute.
    await deliverInventory(emulator, { bucket: SOURCE, rowsPerFile: 20, at: new Date(Date.now() + 60_000) });
    expect(await sweepHandler({}, context)).toMatchObject({ status: 'finished', filesEnqueued: 3 });
    const bodies = (await takeMessages()).filter((b) => parseMessageBody(b).kind === 'inventory-file');
    proxy.resetStats();
    expect(await throughWorker(bodies)).toEqual([]);
    // Before the worker shared scan --inventory's loop, the recorder read every row's state again: 6;
    // before the report diff, every row's state once: 3. Now the one row the last verified report did
    // not list (late-object, written after it): 1.
    expect(proxy.stats().requests['dynamodb:BatchGetItem']).toBe(1);
    expect(proxy.stats().requests['s3:HeadObject'] ?? 0).toBe(0);
    // One transaction per file (its done marker) and one for the report's one key range reconciled
    // (tried once more by each file that finishes together with the last and also sends the
    // reconcile message: the range's marker refuses it); no finding is written (revisions unchanged).
    expect(proxy.stats().requests['dynamodb:TransactWriteItems'] ?? 0).toBeGreaterThanOrEqual(3 + 1);
    expect(proxy.stats().requests['dynamodb:TransactWriteItems'] ?? 0).toBeLessThanOrEqual(3 + 3);
    const after = await states(SOURCE);
    expect([...after].map(([k, f]) => [k, f.rev])).toEqual([...before].map(([k, f]) => [k, f.rev]));
  });
});

describe('the inventory sweep keeps its place', () => {
  async function inventorySweepDeps(): Promise<SweepDependencies> {
    const deps = await sweepDependencies();
    return { lister: deps.runtime.objects, queue: deps.queues, runs: deps.sweepRuns, buckets: async () => [SOURCE], inventory: sweepInventory(deps) };
  }

  test('stopped after each file and crashed between a send and its checkpoint: every file enqueued, one re-sent, each audited once', async () => {
    await writer.s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'obj-008', Body: 'rewritten', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: enabled.arn }));
    // Report folders are named to the minute: dated two minutes on, so it is not the previous test's report.
    const [delivery] = await deliverInventory(emulator, { bucket: SOURCE, rowsPerFile: 20, at: new Date(Date.now() + 120_000) });
    const deps = await inventorySweepDeps();
    let steps = 1;
    const first = await sweep(deps, { shouldStop: () => steps-- <= 0, filesPerStep: 1 });
    expect(first).toMatchObject({ status: 'paused', filesEnqueued: 1 });
    let crashes = 1;
    const crashing: SweepDependencies['runs'] = {
      checkpoint: () => deps.runs.checkpoint(),
      start: (run) => deps.runs.start(run),
      finish: (checkpoint, at) => deps.runs.finish(checkpoint, at),
      advance: (previous, next, enqueued, coverage) => {
        if (crashes-- > 0) throw new Error('Lambda timed out');
        return deps.runs.advance(previous, next, enqueued, coverage);
      },
    };
    await expect(sweep({ ...deps, runs: crashing }, { shouldStop: () => false, filesPerStep: 1 })).rejects.toThrow('Lambda timed out');
    expect(await sweep(deps, { shouldStop: () => false, filesPerStep: 1 })).toMatchObject({ status: 'finished', filesEnqueued: 2 });

    const bodies = await takeMessages();
    const files = fileMessages(bodies);
    // File 1, then file 2 twice (sent before the crash, and again on resuming), then file 3.
    expect(files.map((f) => f.file.key)).toEqual([delivery!.dataKeys[0], delivery!.dataKeys[1], delivery!.dataKeys[1], delivery!.dataKeys[2]]);
    expect(new Set(files.map((f) => f.manifestKey))).toEqual(new Set([delivery!.manifestKey]));

    proxy.resetStats();
    expect(await throughWorker(bodies)).toEqual([]);
    // The file sent twice counts once (3 of 4 messages); one HeadObject, for the one changed KMS object.
    expect(proxy.stats().requests['s3:HeadObject']).toBe(1);
    const progress = await new InventoryReportProgress(atEmulator().clients.documents, TABLE).progress(SOURCE, delivery!.manifestKey);
    expect(progress).toMatchObject({ files: 3, filesDone: 3, reconciledAt: expect.any(String) });
    expect((await states(SOURCE)).get('obj-008')).toMatchObject({ evidence: 'head', verdict: 'compliant' });
  });
});
