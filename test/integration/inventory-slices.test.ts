// An inventory data file in bounded slices: no worker message audits more than its share of rows,
// a continuation message carries on from the checkpoint, and a worker killed in the middle of a
// message resumes from the last checkpoint: every object HEADed and recorded once, none skipped.
// Counted at the wire by the fault proxy (no faults) on the emulator.
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { deliverInventory, type InventoryDelivery } from '../../cli/commands/deliver-inventory.ts';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { workerDependencies } from '../../functions/commons/worker-dependencies.ts';
import { auditInventoryFile, type InventoryFileAuditDependencies } from '../../shared/audit/inventory-file-audit.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { ObjectAbsenceMarks } from '../../shared/findings/absence-marks.ts';
import { InventoryFileCheckpoints } from '../../shared/findings/inventory-checkpoints.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { inventoryReportFilesPk } from '../../shared/findings/table.ts';
import { loadPolicy } from '../../shared/policy-loader.ts';
import { inventoryFileMessages, type InventoryFileMessage } from '../../shared/inventory/messages.ts';
import { InventoryReportProgress } from '../../shared/findings/inventory-progress.ts';
import { s3CsvInventorySource } from '../../shared/inventory/source.ts';
import { ensureQueues, SqsQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createBucket, createKey, putObject, type TestKey } from '../support/aws-fixtures.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { seedInventoryReport } from '../support/inventory-fixtures.ts';
import { drainQueue } from '../support/sqs-event-source.ts';

const emulator = inject('emulatorEndpoint');
const DESTINATION = 'inv-slices-reports';
const TABLE = 'inv-slices-findings';
const OBJECTS = 40;
Object.assign(process.env, {
  SSEGUARD_TABLE: TABLE,
  SSEGUARD_QUEUE: 'inv-slices-audit',
  SSEGUARD_IDEMPOTENCY_TABLE: 'inv-slices-idempotency',
  // Every worker message audits at most 10 rows of a data file; a reconciliation message holds at most 10 of a report's keys.
  SSEGUARD_INVENTORY_ROWS_PER_MESSAGE: '10',
  SSEGUARD_RECONCILE_KEYS_PER_MESSAGE: '10',
  SSEGUARD_MAX_ATTEMPTS: '2',
});
delete process.env.SSEGUARD_POLICY;

const writer = createAwsClients({ maxSockets: 16 });
const context = localLambdaContext('inventory-slices');
let proxy: FaultProxy;
let sqs: SQSClient;
let queueUrl: string;
let key: TestKey;

/** Crash the first key range that removed something, after its removal and before its done marker (a Lambda timeout). */
let crashRangeOnce = false;
const crashedRanges: number[] = [];

const atProxy = () => createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: proxy.endpoint }));

/** A bucket of OBJECTS SSE-KMS objects (each needs a HeadObject on its first audit) and its report in one data file. */
async function bucketWithReport(bucket: string): Promise<{ delivery: InventoryDelivery; message: InventoryFileMessage }> {
  await createBucket(writer, bucket);
  await Promise.all(Array.from({ length: OBJECTS }, (_, i) => putObject(writer, bucket, `obj-${String(i).padStart(3, '0')}`, { mode: 'sse-kms', key })));
  const delivery = await seedInventoryReport(writer, emulator, { bucket, destinationBucket: DESTINATION, prefix: 'reports', at: new Date(Date.now() - 60_000) });
  const source = s3CsvInventorySource(atProxy().clients.s3, { bucket: DESTINATION, prefix: 'reports' });
  const messages = inventoryFileMessages(await source.at(bucket, delivery.manifestKey));
  expect(messages).toHaveLength(1);
  return { delivery, message: messages[0]! };
}

/** Each recorded object's revision: 1 when it was recorded once. */
async function revisions(bucket: string): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for await (const page of atProxy().store.findings({ bucket })) for (const f of page) found[f.key] = f.rev;
  return found;
}
const everyObjectOnce = () => Object.fromEntries(Array.from({ length: OBJECTS }, (_, i) => [`obj-${String(i).padStart(3, '0')}`, 1]));

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator });
  process.env.AWS_ENDPOINT_URL = proxy.endpoint;
  resetHandlerRuntime();
  const runtime = atProxy();
  sqs = runtime.clients.sqs;
  await ensureFindingsTable(runtime.clients.dynamodb, TABLE);
  await ensureIdempotencyTable(runtime.clients.dynamodb, 'inv-slices-idempotency');
  ({ queueUrl } = await ensureQueues(runtime.clients.sqs, runtime.config));
  key = await createKey(writer, { rotation: true });
  await createBucket(writer, DESTINATION);
  const deps = await workerDependencies();
  const markPartitionDone = deps.progress.markPartitionDone.bind(deps.progress);
  deps.progress.markPartitionDone = async (...args) => {
    const [, , partition, removed] = args;
    if (crashRangeOnce && removed > 0) {
      crashRangeOnce = false;
      crashedRanges.push(partition);
      throw new Error('Lambda timed out');
    }
    return markPartitionDone(...args);
  };
}, 120_000);

afterAll(async () => {
  process.env.AWS_ENDPOINT_URL = emulator;
  resetHandlerRuntime();
  await proxy?.close();
});

describe('a data file in slices through the audit queue', () => {
  test('a 40-row file with 10 rows per message: four messages (three continuations), every object HEADed and recorded once, the file counted and the report reconciled', async () => {
    const bucket = 'inv-slices-queue';
    const { delivery, message } = await bucketWithReport(bucket);
    proxy.resetStats();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
    expect(await drainQueue(sqs, queueUrl, auditWorker, context)).toEqual([]);
    // Sent by the workers (one request each; the test sent the first message): three continuations,
    // the reconcile message, and its eight key-range messages in one batch.
    expect((proxy.stats().requests['sqs:SendMessageBatch'] ?? 0) + (proxy.stats().requests['sqs:SendMessage'] ?? 0) - 1).toBe(3 + 1 + 1);
    expect(proxy.stats().requests['s3:HeadObject']).toBe(OBJECTS);
    expect(await revisions(bucket)).toEqual(everyObjectOnce());
    const runtime = atProxy();
    expect(await new InventoryFileCheckpoints(runtime.clients.documents, TABLE).read(delivery.manifestKey, message.file.key)).toMatchObject({ rowsDone: OBJECTS });
    expect(await new InventoryReportProgress(runtime.clients.documents, TABLE).progress(bucket, delivery.manifestKey)).toMatchObject({
      files: 1,
      filesDone: 1,
      partitions: 8,
      partitionsDone: 8,
      removed: 0,
      reconciledAt: expect.any(String),
    });
    // A bucket larger than one message's budget (10 keys): eight key ranges (planned half full), none held more than 10 of the report's 40 keys, together all of them.
    const held = await keysHeldPerRange(delivery.manifestKey);
    expect(held).toHaveLength(8);
    expect(Math.max(...held)).toBeLessThanOrEqual(10);
    expect(held.reduce((a, b) => a + b, 0)).toBe(OBJECTS);
  });

  test('a second report: the object deleted is removed (HeadObject 404), counted once although its key range crashed after the removal and was redelivered; one whose HeadObject is throttled is kept and marked, never taken for a 404, and the report says partial with the gap; one the report missed but S3 still holds is kept', async () => {
    const bucket = 'inv-slices-queue';
    await writer.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'obj-005' }));
    await writer.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'obj-015' }));
    await writer.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'obj-025' }));
    const [delivery] = await deliverInventory(emulator, { bucket });
    // Written again after the report was made: the report does not list it, S3 holds it (the report's eventual consistency).
    await putObject(writer, bucket, 'obj-025', { mode: 'sse-kms', key });
    proxy.resetStats();
    proxy.setRules([{ service: 's3', operation: 'HeadObject', path: /\/obj-015$/, rate: 1, kind: 'throttle' }]);
    crashRangeOnce = true;
    await sendFileMessage(bucket, delivery!.manifestKey);
    // The range that removed obj-005 crashed once before its done marker, and was delivered again.
    expect(await drainQueue(sqs, queueUrl, auditWorker, context)).toHaveLength(1);
    expect(crashedRanges).toHaveLength(1);
    proxy.setRules([]);
    expect(proxy.stats().faults['s3:HeadObject:throttle']).toBeGreaterThan(0);
    const found = await states(bucket);
    expect(found.has('obj-005')).toBe(false);
    expect(found.get('obj-015')).toMatchObject({ rev: 1, absentFrom: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(found.get('obj-025')).toMatchObject({ rev: 1 });
    expect(found.get('obj-025')?.absentFrom).toBeUndefined();
    expect(found.size).toBe(OBJECTS - 1);
    expect((await atProxy().store.history(bucket, 'obj-005')).filter((h) => h.removed)).toHaveLength(1);
    // The removal counted although the delivery that made it crashed; the object no HEAD could answer for is the report's gap.
    expect(await new InventoryReportProgress(atProxy().clients.documents, TABLE).progress(bucket, delivery!.manifestKey)).toMatchObject({
      removed: 1,
      absencesMarked: 1,
      keptUnanswered: 1,
      coverage: 'partial',
      reconciledAt: expect.any(String),
    });
  });

  test('a third report: the object missing from two consecutive reports is removed without a HeadObject; the one the last report missed is listed again and kept', async () => {
    const bucket = 'inv-slices-queue';
    // Report folders are named to the minute: dated a minute on.
    const [delivery] = await deliverInventory(emulator, { bucket, at: new Date(Date.now() + 60_000) });
    proxy.resetStats();
    // Would the rule ask S3 about obj-015, it would be throttled: it must not need to.
    proxy.setRules([{ service: 's3', operation: 'HeadObject', path: /\/obj-015$/, rate: 1, kind: 'throttle' }]);
    await sendFileMessage(bucket, delivery!.manifestKey);
    expect(await drainQueue(sqs, queueUrl, auditWorker, context)).toEqual([]);
    proxy.setRules([]);
    expect(proxy.stats().faults['s3:HeadObject:throttle'] ?? 0).toBe(0);
    const found = await states(bucket);
    expect(found.has('obj-015')).toBe(false);
    // Rewritten (a new ETag in the report): HEADed and recorded afresh.
    expect(found.get('obj-025')).toMatchObject({ rev: 2 });
    expect(found.size).toBe(OBJECTS - 2);
    expect(await new InventoryReportProgress(atProxy().clients.documents, TABLE).progress(bucket, delivery!.manifestKey)).toMatchObject({
      removed: 1,
      keptUnanswered: 0,
      coverage: 'complete',
      reconciledAt: expect.any(String),
    });
  });
});

async function sendFileMessage(bucket: string, manifestKey: string): Promise<void> {
  const source = s3CsvInventorySource(atProxy().clients.s3, { bucket: DESTINATION, prefix: 'reports' });
  const messages = inventoryFileMessages(await source.at(bucket, manifestKey));
  for (const message of messages) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
}

async function states(bucket: string): Promise<Map<string, StoredFinding>> {
  const found = new Map<string, StoredFinding>();
  for await (const page of atProxy().store.findings({ bucket })) for (const f of page) found.set(f.key, f);
  return found;
}

/** The report's keys each key-range message held, from its done marker. */
async function keysHeldPerRange(manifestKey: string): Promise<number[]> {
  const { Items = [] } = await atProxy().clients.documents.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :reconciled)',
      ExpressionAttributeValues: { ':pk': inventoryReportFilesPk(manifestKey), ':reconciled': 'RECONCILED#' },
    }),
  );
  return Items.map((item) => Number(item.keysListed));
}

describe('a worker killed in the middle of a message', () => {
  const KILLED = new Error('worker killed');

  async function fileAuditDependencies(inspectLimit?: { killAt: number }): Promise<InventoryFileAuditDependencies> {
    const runtime = atProxy();
    let inspected = 0;
    return {
      objects: {
        inspect: (bucket, listed, versionId) => {
          inspected += 1;
          // Killed before the HEAD goes out: the wire sees only what the worker really sent.
          if (inspectLimit && inspected === inspectLimit.killAt) throw KILLED;
          return runtime.objects.inspect(bucket, listed, versionId);
        },
      },
      keys: runtime.keys,
      policy: await loadPolicy(undefined, runtime.keys),
      store: runtime.store,
      inventory: (d) => s3CsvInventorySource(runtime.clients.s3, d),
      progress: new InventoryReportProgress(runtime.clients.documents, TABLE),
      checkpoints: new InventoryFileCheckpoints(runtime.clients.documents, TABLE),
      absence: new ObjectAbsenceMarks(runtime.clients.documents, TABLE),
      queue: new SqsQueues(runtime.clients.sqs, runtime.config),
      concurrency: 1,
      slices: { rowsPerMessage: 1_000, rowsPerCheckpoint: 5 },
    };
  }

  test('killed at the 13th row (third checkpoint of 5 rows, two rows into it): the rerun resumes at row 10; only the two rows of the unfinished slice are HEADed again, every object recorded once, none skipped', async () => {
    const bucket = 'inv-slices-killed';
    const { delivery, message } = await bucketWithReport(bucket);
    proxy.resetStats();
    await expect(auditInventoryFile(await fileAuditDependencies({ killAt: 13 }), message)).rejects.toBe(KILLED);
    const runtime = atProxy();
    const checkpoints = new InventoryFileCheckpoints(runtime.clients.documents, TABLE);
    expect(await checkpoints.read(delivery.manifestKey, message.file.key)).toEqual({ rowsDone: 10 });
    expect(proxy.stats().requests['s3:HeadObject']).toBe(12);
    // Only the two completed slices are on record.
    expect(Object.keys(await revisions(bucket))).toHaveLength(10);

    const rerun = await auditInventoryFile(await fileAuditDependencies(), message);
    expect(rerun).toMatchObject({ rows: { from: 10, to: OBJECTS }, transient: [] });
    // 12 before the kill, 30 after: rows 10 and 11 were HEADed twice (their slice was not recorded), no other row.
    expect(proxy.stats().requests['s3:HeadObject']).toBe(12 + (OBJECTS - 10));
    expect(await revisions(bucket)).toEqual(everyObjectOnce());
    expect(await checkpoints.read(delivery.manifestKey, message.file.key)).toEqual({ rowsDone: OBJECTS });
  });

  test('killed right after a checkpoint (the 11th row): the rerun HEADs every remaining row once, nothing twice; a stale copy of the first message behind a sent continuation does nothing', async () => {
    const bucket = 'inv-slices-killed-at-checkpoint';
    const { delivery, message } = await bucketWithReport(bucket);
    proxy.resetStats();
    await expect(auditInventoryFile(await fileAuditDependencies({ killAt: 11 }), message)).rejects.toBe(KILLED);
    const deps = { ...(await fileAuditDependencies()), slices: { rowsPerMessage: 10, rowsPerCheckpoint: 5 } };
    const resumed = await auditInventoryFile(deps, message);
    expect(resumed).toMatchObject({ rows: { from: 10, to: 20 }, continued: true });
    // The first message delivered again (its continuation already on the queue): nothing read, nothing recorded.
    const gets = proxy.stats().requests['s3:GetObject'] ?? 0;
    expect(await auditInventoryFile(deps, message)).toMatchObject({ superseded: true, recorded: [] });
    expect(proxy.stats().requests['s3:GetObject'] ?? 0).toBe(gets);
    // The continuation message (fromRow 20) and the one it sends finish the file.
    const continued = await auditInventoryFile(deps, { ...message, fromRow: 20 });
    expect(continued).toMatchObject({ rows: { from: 20, to: 30 }, continued: true });
    expect(await auditInventoryFile(deps, { ...message, fromRow: 30 })).toMatchObject({ rows: { from: 30, to: OBJECTS }, continued: false });
    // Killed before the 11th HEAD went out: every object HEADed exactly once.
    expect(proxy.stats().requests['s3:HeadObject']).toBe(OBJECTS);
    expect(await revisions(bucket)).toEqual(everyObjectOnce());
    expect(await new InventoryReportProgress(atProxy().clients.documents, TABLE).progress(bucket, delivery.manifestKey)).toMatchObject({ filesDone: 1 });
    await drainQueue(sqs, queueUrl, auditWorker, context);
  });
});
