// The full reconciliation of a report with the Athena setting on: each key-range message asks
// Athena for its range's listed keys instead of streaming the whole report, end to end through
// the worker handler and the audit queue on the emulator. The emulator's Athena takes the DDL and
// the queries (and says SUCCEEDED, or CANCELLED once stopped) but runs no SQL, so each range's
// result file is a recorded-shape fake: the real range query run by DuckDB over the delivered
// report (test/support/athena-diff-result.ts), put at `<output>/<QueryExecutionId>.csv`.
// Every AWS call of the handler goes through the fault proxy (counted; throttled where a test says).
import { StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { workerDependencies } from '../../functions/commons/worker-dependencies.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { InventoryReportProgress } from '../../shared/findings/inventory-progress.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { inventoryFileMessages } from '../../shared/inventory/messages.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { s3InventorySource } from '../../shared/inventory/source.ts';
import { createAthenaClient } from '../../shared/metadata/athena-client.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { athenaRangeKeysResultCsv, putAthenaResult } from '../support/athena-diff-result.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { drainQueue } from '../support/sqs-event-source.ts';
import { RANGE_QUERY_ATTEMPTS } from '../../shared/audit/inventory-file-audit.ts';

const emulator = inject('emulatorEndpoint');
const DESTINATION = 'inv-ranges-reports';
const RESULTS = 'inv-ranges-results';
const TABLE = 'inv-ranges-findings';
Object.assign(process.env, {
  SSEGUARD_TABLE: TABLE,
  SSEGUARD_QUEUE: 'inv-ranges-audit',
  SSEGUARD_IDEMPOTENCY_TABLE: 'inv-ranges-idempotency',
  SSEGUARD_ATHENA_DIFF_TABLE: 'sseguard.inventory',
  SSEGUARD_ATHENA_OUTPUT: `s3://${RESULTS}/ranges/`,
  SSEGUARD_ATHENA_POLL_SECONDS: '0',
  // Key ranges of about 3 keys (planned half full), read 2 keys per message: several ranges, several slices each.
  SSEGUARD_RECONCILE_KEYS_PER_MESSAGE: '6',
  SSEGUARD_INVENTORY_ROWS_PER_MESSAGE: '2',
  SSEGUARD_MAX_ATTEMPTS: '2',
});
delete process.env.SSEGUARD_POLICY;

const writer = createAwsClients();
const athena = createAthenaClient({ endpoint: emulator });
const context = localLambdaContext('inventory-athena-ranges');
const atEmulator = () => createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: emulator }));
let proxy: FaultProxy;
let sqs: SQSClient;
let queueUrl: string;

const LISTED = ['a-1', 'b 2+€', 'c-3', 'd-4', 'e-5', 'f-6', 'g-7', 'h-8', 'ü-9', '😀-10'];
/** Recorded, then gone from S3 before the report: one HeadObject answers 404, the other is throttled. */
const GONE = ['c-gone-404', 'f-gone-throttled'];

/** Each reconcile message's step, as the worker took it. */
const seen: string[] = [];
/** Range queries the test stops before their first poll (Athena then says CANCELLED): every one, or only each range's first. */
let stopRangeQueries: false | 'every' | 'first' = false;
/** Which attempts of each range's query were polled (a plan sent twice runs two chains: moto ignores ClientRequestToken). */
const queriesOf = new Map<number, Set<number>>();
/** Range queries answered with no key at all (as a partition over the wrong files would be). */
let emptyAnswers = false;
/** Crash the first slice that removed something, after its removals and before its done marker (a Lambda timeout). */
let crashOnce = false;
const crashed: string[] = [];
/** Times any message streamed a whole report (the old key-range path). */
let streamed = 0;
/** Hold each data file's message after it is counted until this many have been (or 5 s): the last files finish together. */
let holdFilesUntil = 0;
let filesCounted = 0;
/** Files that, once counted, saw every other held file counted too (so each read the report complete). */
let filesTogether = 0;

async function beforeMessage(body: string): Promise<void> {
  const parsed = parseMessageBody(body);
  if (parsed.kind !== 'inventory-reconcile') return;
  const { partition, athena: step } = parsed.message;
  seen.push(!partition ? 'plan' : !step ? `range ${partition.index} start` : step.step === 'poll' ? `range ${partition.index} poll` : `range ${partition.index} slice ${step.slice}`);
  if (!partition || step?.step !== 'poll') return;
  queriesOf.set(partition.index, (queriesOf.get(partition.index) ?? new Set()).add(step.attempt ?? 1));
  if (stopRangeQueries === 'every' || (stopRangeQueries === 'first' && step.attempt === undefined)) {
    await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: step.queryId }));
    return;
  }
  const report = await s3InventorySource(writer.s3, parsed.message.destination).at(parsed.message.bucket, parsed.message.manifestKey);
  if (emptyAnswers) {
    await putAthenaResult(writer.s3, `s3://${RESULTS}/ranges/${step.queryId}.csv`, '"key"\n');
    return;
  }
  const { csv } = await athenaRangeKeysResultCsv(writer.s3, report, { ...(partition.from ? { from: partition.from } : {}), ...(partition.to ? { to: partition.to } : {}) });
  await putAthenaResult(writer.s3, `s3://${RESULTS}/ranges/${step.queryId}.csv`, csv);
}

const worker = async (event: SQSEvent, ctx: typeof context) => {
  for (const record of event.Records) await beforeMessage(record.body);
  return auditWorker(event, ctx);
};

async function states(bucket: string): Promise<Map<string, StoredFinding>> {
  const found = new Map<string, StoredFinding>();
  for await (const page of atEmulator().store.findings({ bucket })) for (const f of page) found.set(f.key, f);
  return found;
}

/** A bucket of LISTED objects and its first report, with GONE recorded before it and absent from it; every data file sent to the worker. */
async function firstReport(bucket: string): Promise<string> {
  await createBucket(writer, bucket);
  await writer.s3.send(
    new PutBucketInventoryConfigurationCommand({ Bucket: bucket, Id: 'sseguard', InventoryConfiguration: inventoryConfiguration({ bucket, destinationBucket: DESTINATION, prefix: 'reports' }) }),
  );
  for (const name of LISTED) await putObject(writer, bucket, name, { mode: 'sse-s3' });
  const recorded = (key: string): Finding => ({ bucket, key, size: 1, verdict: 'compliant', reasons: [], mode: 'sse-s3', remediate: false, auditedAt: '2000-01-01T00:00:00.000Z', evidence: 'inventory' });
  await atEmulator().store.record(GONE.map(recorded));
  const [delivery] = await deliverInventory(emulator, { bucket, rowsPerFile: 4 });
  const report = await s3InventorySource(writer.s3, { bucket: DESTINATION, prefix: 'reports' }).at(bucket, delivery!.manifestKey);
  const messages = inventoryFileMessages(report);
  await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m) })) }));
  return delivery!.manifestKey;
}

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator });
  process.env.AWS_ENDPOINT_URL = proxy.endpoint;
  resetHandlerRuntime();
  const runtime = atEmulator();
  sqs = runtime.clients.sqs;
  await ensureFindingsTable(runtime.clients.dynamodb, TABLE);
  await ensureIdempotencyTable(runtime.clients.dynamodb, 'inv-ranges-idempotency');
  ({ queueUrl } = await ensureQueues(runtime.clients.sqs, runtime.config));
  for (const bucket of [DESTINATION, RESULTS]) await createBucket(writer, bucket);
  const deps = await workerDependencies();
  const inventory = deps.inventory;
  deps.inventory = (destination) => {
    const source = inventory(destination);
    return { ...source, allRows: (report) => (streamed++, source.allRows(report)) };
  };
  const markRangeSliceDone = deps.progress.markRangeSliceDone.bind(deps.progress);
  deps.progress.markRangeSliceDone = async (...args) => {
    const [, , partition, slice, removed] = args;
    if (crashOnce && removed > 0) {
      crashOnce = false;
      crashed.push(`range ${partition} slice ${slice}`);
      throw new Error('Lambda timed out');
    }
    return markRangeSliceDone(...args);
  };
  const markFileDone = deps.progress.markFileDone.bind(deps.progress);
  deps.progress.markFileDone = async (...args) => {
    const counted = await markFileDone(...args);
    if (holdFilesUntil > 0) {
      filesCounted += 1;
      for (const started = Date.now(); filesCounted < holdFilesUntil && Date.now() - started < 5_000; ) await new Promise((resolve) => setTimeout(resolve, 20));
      if (filesCounted >= holdFilesUntil) filesTogether += 1;
    }
    return counted;
  };
}, 120_000);

afterAll(async () => {
  process.env.AWS_ENDPOINT_URL = emulator;
  resetHandlerRuntime();
  await proxy?.close();
});

describe('key-range reconciliation from Athena (a report swept in full)', () => {
  test('no range message streams the report: each reads its keys from its query\'s result in slices; the object gone is removed on a 404, the throttled one kept and marked; a crash mid-range is redelivered and removes nothing twice', async () => {
    const bucket = 'inv-ranges-source';
    crashOnce = true;
    seen.length = 0;
    proxy.resetStats();
    proxy.setRules([{ service: 's3', operation: 'HeadObject', path: new RegExp(`^/${bucket}/f-gone-throttled`), rate: 1, kind: 'throttle' }]);
    const manifestKey = await firstReport(bucket);
    const failures = await drainQueue(sqs, queueUrl, worker, context, 200);
    proxy.setRules([]);
    expect(crashed).toHaveLength(1);
    expect(failures).toHaveLength(1);

    const progress = await new InventoryReportProgress(atEmulator().clients.documents, TABLE).progress(bucket, manifestKey);
    // One removed (404), one kept and marked: counted, so the next report reconciles every recorded finding.
    expect(progress).toMatchObject({ reconciledAt: expect.any(String), removed: 1, absencesMarked: 1 });
    // The one no HeadObject could answer for is the report's gap, counted once whatever the redeliveries: partial, as the CLI's run says.
    expect(progress).toMatchObject({ keptUnanswered: 1, coverage: 'partial' });
    const ranges = progress!.partitions!;
    expect(ranges).toBeGreaterThanOrEqual(3);
    expect(progress!.partitionsDone).toBe(ranges);
    // Each range: started, polled, then read in slices of at most 2 keys (several for some); the table and partition made once by the plan.
    for (let i = 0; i < ranges; i++) expect(seen, `range ${i}`).toEqual(expect.arrayContaining([`range ${i} start`, `range ${i} poll`, `range ${i} slice 0`]));
    expect(seen.some((s) => /slice [1-9]/.test(s))).toBe(true);
    // The table and partition (DDL) and one query per range (a range's query retried after a failure adds one).
    expect(proxy.stats().requests['athena:StartQueryExecution']).toBeGreaterThanOrEqual(2 + ranges);
    // No range message streamed the report: its keys came from the result files.
    expect(streamed).toBe(0);

    const after = await states(bucket);
    expect([...after.keys()].sort()).toEqual([...LISTED, 'f-gone-throttled'].sort());
    expect(after.get('f-gone-throttled')).toMatchObject({ absentFrom: expect.any(String) });
    expect(after.get('a-1')?.absentFrom).toBeUndefined();
    expect((await new InventoryReportProgress(atEmulator().clients.documents, TABLE).absentKeysPage(manifestKey, 10)).keys).toEqual(['f-gone-throttled']);
    // Removed once, although the slice that removed it ran twice.
    const history = await atEmulator().store.history(bucket, 'c-gone-404');
    expect(history.filter((h) => h.removed)).toHaveLength(1);
  }, 180_000);

  test('the data files that complete a report together send its reconciliation once (a claim): the plan and every Athena query start once, the report reconciled', async () => {
    const bucket = 'inv-ranges-together';
    seen.length = 0;
    proxy.resetStats();
    // Each data file (10 keys, 4 rows a file) held once counted until every one is: those in one batch read the report's progress together.
    holdFilesUntil = Math.ceil(LISTED.length / 4);
    filesCounted = 0;
    filesTogether = 0;
    try {
      const manifestKey = await firstReport(bucket);
      const failures = await drainQueue(sqs, queueUrl, worker, context, 200);
      expect(failures).toEqual([]);
      // The race happened: at least two files (those the queue handed over in one batch) each saw every file counted, so each found the report complete.
      expect(filesTogether).toBeGreaterThanOrEqual(2);
      expect(seen.filter((s) => s === 'plan')).toHaveLength(1);
      const progress = await new InventoryReportProgress(atEmulator().clients.documents, TABLE).progress(bucket, manifestKey);
      expect(progress).toMatchObject({ reconciledAt: expect.any(String), reconcileQueuedAt: expect.any(String), reconcileClaimedAt: expect.any(String) });
      const ranges = progress!.partitions!;
      for (let i = 0; i < ranges; i++) expect(seen.filter((s) => s === `range ${i} start`), `range ${i}`).toHaveLength(1);
      // The table and the report's partition (DDL), then one query per range: nothing started twice.
      expect(proxy.stats().requests['athena:StartQueryExecution']).toBe(2 + ranges);
    } finally {
      holdFilesUntil = 0;
    }
  }, 180_000);

  test('the claim to send a reconciliation is taken once; a claim that sent nothing for a minute (its worker crashed) is taken again by the redelivered message; once sent, never again', async () => {
    const progress = new InventoryReportProgress(atEmulator().clients.documents, TABLE);
    const manifestKey = 'reports/inv-ranges-claim/sseguard/2026-01-01T00-00Z/manifest.json';
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    // No progress item (no file counted): nothing to claim.
    expect(await progress.claimReconcile('inv-ranges-claim', manifestKey, at(0), at(0))).toBe(false);
    await progress.markFileDone({ bucket: 'inv-ranges-claim', manifestKey, files: 1 }, 'data/1.csv.gz', at(0));
    expect(await progress.claimReconcile('inv-ranges-claim', manifestKey, at(1), at(0))).toBe(true);
    // The other file that completed the report at the same moment: refused.
    expect(await progress.claimReconcile('inv-ranges-claim', manifestKey, at(1), at(0))).toBe(false);
    // Its holder crashed before sending: a minute on, the redelivered message takes it.
    expect(await progress.claimReconcile('inv-ranges-claim', manifestKey, at(61), at(1))).toBe(false);
    expect(await progress.claimReconcile('inv-ranges-claim', manifestKey, at(62), at(2))).toBe(true);
    await progress.markReconcileQueued('inv-ranges-claim', manifestKey, at(62));
    expect(await progress.claimReconcile('inv-ranges-claim', manifestKey, at(59), at(59))).toBe(false);
  });

  test('a range query that fails (cancelled) is started again, a new query each time; after the third the message fails on every delivery: nothing removed, the report not verified (never a verdict, never a silent skip)', async () => {
    const bucket = 'inv-ranges-failing';
    stopRangeQueries = 'every';
    seen.length = 0;
    queriesOf.clear();
    try {
      const manifestKey = await firstReport(bucket);
      const failures = await drainQueue(sqs, queueUrl, worker, context, 200);
      // Every range's poll failed, and was retried by SQS (delivered again, failed again).
      expect(failures.length).toBeGreaterThan(0);
      const polls = seen.filter((s) => /poll/.test(s));
      expect(polls.length).toBeGreaterThan(new Set(polls).size);
      expect(seen.some((s) => /slice/.test(s))).toBe(false);
      expect(queriesOf.size).toBeGreaterThan(0);
      for (const attempts of queriesOf.values()) expect([...attempts].sort()).toEqual(Array.from({ length: RANGE_QUERY_ATTEMPTS }, (_, i) => i + 1));
      const progress = await new InventoryReportProgress(atEmulator().clients.documents, TABLE).progress(bucket, manifestKey);
      expect(progress?.reconciledAt).toBeUndefined();
      expect(progress?.partitionsDone ?? 0).toBe(0);
      const after = await states(bucket);
      expect([...after.keys()].sort()).toEqual([...LISTED, ...GONE].sort());
      for (const key of GONE) expect(after.get(key)?.absentFrom).toBeUndefined();
    } finally {
      stopRangeQueries = false;
    }
  }, 180_000);

  test('a range query cancelled once is started again and its answer reconciles the range: the object gone is removed on a 404', async () => {
    const bucket = 'inv-ranges-retried';
    stopRangeQueries = 'first';
    queriesOf.clear();
    try {
      const manifestKey = await firstReport(bucket);
      const failures = await drainQueue(sqs, queueUrl, worker, context, 200);
      expect(failures).toEqual([]);
      expect(queriesOf.size).toBeGreaterThan(0);
      for (const attempts of queriesOf.values()) expect([...attempts].sort()).toEqual([1, 2]);
      const progress = await new InventoryReportProgress(atEmulator().clients.documents, TABLE).progress(bucket, manifestKey);
      expect(progress?.reconciledAt).toBeDefined();
      const after = await states(bucket);
      expect(after.has('c-gone-404')).toBe(false);
    } finally {
      stopRangeQueries = false;
    }
  }, 180_000);

  test('an answer that does not list the range\'s start, a key the report lists (an empty partition), fails the message: nothing removed or marked past the first range', async () => {
    const bucket = 'inv-ranges-empty';
    emptyAnswers = true;
    try {
      const manifestKey = await firstReport(bucket);
      const failures = await drainQueue(sqs, queueUrl, worker, context, 200);
      expect(failures.length).toBeGreaterThan(0);
      const progress = await new InventoryReportProgress(atEmulator().clients.documents, TABLE).progress(bucket, manifestKey);
      expect(progress?.reconciledAt).toBeUndefined();
      // Only the first range (no start key to check) was reconciled from the empty answer; every other one refused it.
      expect(progress?.partitionsDone ?? 0).toBeLessThanOrEqual(1);
      const after = await states(bucket);
      for (const key of LISTED.filter((k) => k > 'b')) expect(after.has(key), key).toBe(true);
      for (const key of LISTED.filter((k) => k > 'b')) expect(after.get(key)?.absentFrom, key).toBeUndefined();
    } finally {
      emptyAnswers = false;
    }
  }, 180_000);
});
