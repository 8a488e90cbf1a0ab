// The Lambda tier swept from the report diff in Athena (SSEGUARD_ATHENA_DIFF_TABLE), end to end on
// the emulator through the sweep and worker handlers: the emulator's Athena takes the table, the
// partitions and the diff query (and says SUCCEEDED, or CANCELLED once stopped) but runs no SQL,
// so the result file it would write is a recorded-shape fake: the real diff SQL run by DuckDB over
// the delivered reports (test/support/athena-diff-result.ts), put at `<output>/<QueryExecutionId>.csv`.
// Every AWS call of the handlers goes through the fault proxy (counted; throttled where a test says).
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { workerDependencies } from '../../functions/commons/worker-dependencies.ts';
import { handler as sweepHandler } from '../../functions/sweep.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { InventoryReportProgress } from '../../shared/findings/inventory-progress.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { SweepRuns } from '../../shared/findings/sweep-runs.ts';
import type { InventoryDiffMessage } from '../../shared/inventory/messages.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { s3InventorySource } from '../../shared/inventory/source.ts';
import { createAthenaClient } from '../../shared/metadata/athena-client.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createBucket, createKey, putObject, type TestKey } from '../support/aws-fixtures.ts';
import { athenaDiffResultCsv, athenaRangeKeysResultCsv, putAthenaResult } from '../support/athena-diff-result.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { runCli } from '../support/cli.ts';
import { drainQueue } from '../support/sqs-event-source.ts';

const emulator = inject('emulatorEndpoint');
const SOURCE = 'inv-athena-source';
const DESTINATION = 'inv-athena-reports';
const RESULTS = 'inv-athena-results';
const TABLE = 'inv-athena-findings';
Object.assign(process.env, {
  SSEGUARD_TABLE: TABLE,
  SSEGUARD_QUEUE: 'inv-athena-audit',
  SSEGUARD_IDEMPOTENCY_TABLE: 'inv-athena-idempotency',
  SSEGUARD_SWEEP_BUCKETS: SOURCE,
  SSEGUARD_SWEEP_INVENTORY: 'auto',
  SSEGUARD_SWEEP_INTERVAL_HOURS: '0',
  SSEGUARD_SWEEP_INVENTORY_MAX_AGE_HOURS: '24',
  SSEGUARD_ATHENA_DIFF_TABLE: 'sseguard.inventory',
  SSEGUARD_ATHENA_OUTPUT: `s3://${RESULTS}/diff/`,
  // No delay between polls here (SQS DelaySeconds 0); slices of 2 rows, so a diff spans several messages.
  SSEGUARD_ATHENA_POLL_SECONDS: '0',
  SSEGUARD_INVENTORY_ROWS_PER_MESSAGE: '2',
  SSEGUARD_MAX_ATTEMPTS: '2',
});
delete process.env.SSEGUARD_POLICY;

const writer = createAwsClients();
const athena = createAthenaClient({ endpoint: emulator });
const context = localLambdaContext('inventory-athena-worker');
let proxy: FaultProxy;
let sqs: SQSClient;
let queueUrl: string;
let key: TestKey;

const atEmulator = () => createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: emulator }));
const progressOf = (manifestKey: string) => new InventoryReportProgress(atEmulator().clients.documents, TABLE).progress(SOURCE, manifestKey);

async function states(): Promise<Map<string, StoredFinding>> {
  const found = new Map<string, StoredFinding>();
  for await (const page of atEmulator().store.findings({ bucket: SOURCE })) for (const f of page) found.set(f.key, f);
  return found;
}

/** Every message the worker took, by kind and step, in the order it took them. */
const seen: string[] = [];
/** What the test does to a diff query before its poll: answer it (the result file), or stop it. */
let onPoll: 'answer' | 'stop' = 'answer';
/** Slice messages whose first delivery crashes (a Lambda timeout) before its audit checkpoint moves. */
const crashSlices = new Set<number>();
/** Crash the first diff slice that removed something, after the removal and before its done marker (a Lambda timeout). */
let crashRemovingSliceOnce = false;
const crashedRemoving: number[] = [];

async function beforeMessage(body: string): Promise<void> {
  const parsed = parseMessageBody(body);
  if (parsed.kind === 'inventory-reconcile' && parsed.message.partition && parsed.message.athena?.step === 'poll') {
    // A key range's query (the full reconciliation asks Athena for its keys): its result, by DuckDB.
    const { partition, athena: poll } = parsed.message;
    const report = await s3InventorySource(writer.s3, parsed.message.destination).at(SOURCE, parsed.message.manifestKey);
    const { csv } = await athenaRangeKeysResultCsv(writer.s3, report, { ...(partition.from ? { from: partition.from } : {}), ...(partition.to ? { to: partition.to } : {}) });
    await putAthenaResult(writer.s3, `s3://${RESULTS}/diff/${poll.queryId}.csv`, csv);
  }
  if (parsed.kind !== 'inventory-diff') {
    seen.push(parsed.kind);
    return;
  }
  const message: InventoryDiffMessage = parsed.message;
  seen.push(`diff-${message.step}${message.step === 'slice' ? ` ${message.slice}@${message.fromByte}` : ''}`);
  if (message.step !== 'poll') return;
  const output = `s3://${RESULTS}/diff/${message.queryId}.csv`;
  if (onPoll === 'stop') {
    await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: message.queryId }));
    return;
  }
  const exists = await writer.s3.send(new HeadObjectCommand({ Bucket: RESULTS, Key: `diff/${message.queryId}.csv` })).then(() => true, () => false);
  if (exists) return;
  const reports = s3InventorySource(writer.s3, message.destination);
  const { csv } = await athenaDiffResultCsv(writer.s3, await reports.at(SOURCE, message.previousManifestKey), await reports.at(SOURCE, message.manifestKey));
  await putAthenaResult(writer.s3, output, csv);
}

const worker = async (event: SQSEvent, ctx: typeof context) => {
  for (const record of event.Records) await beforeMessage(record.body);
  return auditWorker(event, ctx);
};

/** Runs the sweep, then lets the worker drain the queue (every message the worker sends included); the failures seen. */
async function sweepThenWork(): Promise<{ failures: string[]; manifestKey: string; runId: string }> {
  seen.length = 0;
  const outcome = await sweepHandler({}, context);
  expect(outcome).toMatchObject({ status: 'finished', filesEnqueued: 1 });
  const runtime = atEmulator();
  const runs = new SweepRuns(runtime.clients.documents, TABLE);
  const [run] = await runs.runs(1);
  const coverage = await runs.coverage(run!.runId);
  const failures = await drainQueue(sqs, queueUrl, worker, context, 400);
  return { failures, manifestKey: (coverage[0] as { manifestKey: string }).manifestKey, runId: run!.runId };
}

/** What the sweep run's coverage item says of the bucket once the workers are done. */
const runCoverage = async (runId: string) => (await new SweepRuns(atEmulator().clients.documents, TABLE).coverage(runId))[0];

// Report folders are named to the minute: each report a minute after the last, all after the
// audits before them (an object audited at or after a report's date is never removed by it).
const firstMinute = Math.floor(Date.now() / 60_000) * 60_000;
let reports = 0;
const deliver = () => deliverInventory(emulator, { bucket: SOURCE, rowsPerFile: 4, at: new Date(firstMinute + ++reports * 60_000) });

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator });
  process.env.AWS_ENDPOINT_URL = proxy.endpoint;
  resetHandlerRuntime();
  const runtime = atEmulator();
  sqs = runtime.clients.sqs;
  await ensureFindingsTable(runtime.clients.dynamodb, TABLE);
  await ensureIdempotencyTable(runtime.clients.dynamodb, 'inv-athena-idempotency');
  ({ queueUrl } = await ensureQueues(runtime.clients.sqs, runtime.config));
  key = await createKey(writer, { rotation: true });
  for (const bucket of [SOURCE, DESTINATION, RESULTS]) await createBucket(writer, bucket);
  await writer.s3.send(
    new PutBucketInventoryConfigurationCommand({ Bucket: SOURCE, Id: 'sseguard', InventoryConfiguration: inventoryConfiguration({ bucket: SOURCE, destinationBucket: DESTINATION, prefix: 'reports' }) }),
  );
  for (const name of ['keep-1', 'keep 2+€', 'change-me', 'gone', 'flaky', 'gone-twice']) await putObject(writer, SOURCE, name, { mode: 'sse-s3' });
  await putObject(writer, SOURCE, 'kms-1', { mode: 'sse-kms', key });
  await deliver();
  // The worker's deps, to make one delivery of a slice crash mid-audit (a Lambda timeout).
  const deps = await workerDependencies();
  const advance = deps.checkpoints.advance.bind(deps.checkpoints);
  deps.checkpoints.advance = async (manifestKey, fileKey, from, to, at, sample) => {
    const slice = /^athena-diff:.+#(\d+)$/.exec(fileKey);
    if (slice && crashSlices.delete(Number(slice[1]))) throw new Error('Lambda timed out');
    return advance(manifestKey, fileKey, from, to, at, sample);
  };
  const markPartitionDone = deps.progress.markPartitionDone.bind(deps.progress);
  deps.progress.markPartitionDone = async (...args) => {
    const [, , slice, removed] = args;
    if (crashRemovingSliceOnce && removed > 0) {
      crashRemovingSliceOnce = false;
      crashedRemoving.push(slice);
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

describe('the Lambda sweep from the report diff in Athena', () => {
  test('the first report has no earlier verified one: the worker fans it out in full, and the report\'s progress says why', async () => {
    const { failures, manifestKey } = await sweepThenWork();
    expect(failures).toEqual([]);
    expect(seen[0]).toBe('diff-start');
    expect(seen.filter((s) => s.startsWith('diff-')).length).toBe(1);
    // No diff query: the table and the report's partition (DDL, for the key ranges), and one query of the one key range's keys.
    expect(proxy.stats().requests['athena:StartQueryExecution'] ?? 0).toBe(3);
    expect(seen.filter((s) => s === 'inventory-reconcile').length).toBeGreaterThanOrEqual(1 + 3);
    expect(await progressOf(manifestKey)).toMatchObject({ sweepMode: 'full', diffFallback: 'no earlier verified report', filesDone: 2, files: 2, reconciledAt: expect.any(String) });
    expect([...(await states()).keys()].sort()).toEqual(['change-me', 'flaky', 'gone', 'gone-twice', 'keep 2+€', 'keep-1', 'kms-1']);
  });

  test('the second report is swept from its diff: several slices, one crashed mid-audit and redelivered (no second chain), a throttled poll and ranged GET retried (never a verdict); the deleted object removed by a 404, the one missing from this report only kept and marked', async () => {
    await putObject(writer, SOURCE, 'change-me', { mode: 'sse-kms', key }, 'rewritten');
    await putObject(writer, SOURCE, 'new-1', { mode: 'sse-s3' });
    await putObject(writer, SOURCE, 'new ü 2', { mode: 'sse-kms', key });
    for (const name of ['gone', 'flaky', 'gone-twice']) await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: name }));
    await deliver();
    // Back after the report was made: the report misses it, S3 has it.
    await putObject(writer, SOURCE, 'flaky', { mode: 'sse-s3' });
    const before = await states();

    crashSlices.add(1);
    crashRemovingSliceOnce = true;
    proxy.resetStats();
    proxy.setRules([
      // Beyond the SDK's attempts: the message fails and SQS delivers it again.
      { service: 'athena', operation: 'GetQueryExecution', rate: 1, kind: 'throttle', times: 2 },
      { service: 's3', operation: 'GetObject', path: new RegExp(`^/${RESULTS}/diff/`), rate: 1, kind: 'throttle', times: 8 },
      // No HeadObject can tell whether `flaky` is gone: it stays, marked absent from this report.
      { service: 's3', operation: 'HeadObject', path: new RegExp(`^/${SOURCE}/(flaky|gone-twice)`), rate: 1, kind: 'throttle' },
    ]);
    const { failures, manifestKey, runId } = await sweepThenWork();
    proxy.setRules([]);
    // The throttled poll, the slice whose result read was throttled, the crashed slice: failed, then done on redelivery.
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(proxy.stats().faults['athena:GetQueryExecution:throttle']).toBe(2);
    expect(proxy.stats().faults['s3:GetObject:throttle']).toBe(8);
    expect(crashSlices.size).toBe(0);
    // The slice that removed `gone` crashed before its done marker and was delivered again: the removal still counts, once.
    expect(crashedRemoving).toHaveLength(1);
    expect((await atEmulator().store.history(SOURCE, 'gone')).filter((h) => h.removed)).toHaveLength(1);

    const progress = await progressOf(manifestKey);
    // The two objects no HEAD could answer for are the report's gap: partial, as the CLI's run says; their marks carried for the next diff.
    expect(progress).toMatchObject({
      sweepMode: 'athena',
      diffQueryId: expect.any(String),
      reconciledAt: expect.any(String),
      removed: 1,
      keptUnanswered: 2,
      absencesCarried: 2,
      coverage: 'partial',
    });
    // The sweep run's record of the bucket says so too.
    expect(await runCoverage(runId)).toMatchObject({ evidence: 'inventory', manifestKey, coverage: 'partial', keptUnanswered: 2, removed: 1, reconciledAt: expect.any(String) });
    expect(progress?.diffFallback).toBeUndefined();
    // 6 diff rows (new-1, new ü 2 added; change-me changed; gone, flaky, gone-twice vanished) in slices of 2: one
    // message per chain position (continuations sent once), the crashed one delivered again; the
    // third slice ends exactly at the file's end without knowing it, so a fourth reads nothing and ends the chain.
    const slices = seen.filter((s) => s.startsWith('diff-slice'));
    const distinct = [...new Set(slices)];
    expect(distinct).toHaveLength(4);
    expect(slices.filter((s) => s.startsWith('diff-slice 1@')).length).toBeGreaterThanOrEqual(2);
    expect(distinct.length).toBeGreaterThanOrEqual(3);
    expect(distinct.map((s) => Number(/slice (\d+)@/.exec(s)![1]))).toEqual(distinct.map((_, i) => i));
    expect(progress).toMatchObject({ partitions: distinct.length, partitionsDone: distinct.length });
    // Every data file re-checked once (rolling re-check only), none of them read in full.
    expect(seen.filter((s) => s === 'inventory-file').length).toBeGreaterThanOrEqual(2);

    const after = await states();
    expect([...after.keys()].sort()).toEqual(['change-me', 'flaky', 'gone-twice', 'keep 2+€', 'keep-1', 'kms-1', 'new ü 2', 'new-1']);
    expect(after.get('change-me')).toMatchObject({ mode: 'sse-kms' });
    expect(after.get('flaky')).toMatchObject({ absentFrom: expect.any(String) });
    expect(after.get('gone-twice')).toMatchObject({ absentFrom: expect.any(String) });
    // Noted one item per key under the report (not a set on its progress item: 400 KB at most).
    const noted = await new InventoryReportProgress(atEmulator().clients.documents, TABLE).absentKeysPage(manifestKey, 100);
    expect(new Set(noted.keys)).toEqual(new Set(['flaky', 'gone-twice']));
    // Unchanged rows were neither read again nor written: their revisions stand; the changed one moved once.
    for (const name of ['keep-1', 'keep 2+€', 'kms-1']) expect(after.get(name)!.rev, name).toBe(before.get(name)!.rev);
    expect(after.get('change-me')!.rev).toBe(before.get('change-me')!.rev + 1);
    // The result file was read by ranged GETs; no data file of the earlier report was read.
    const got = await writer.s3.send(new GetObjectCommand({ Bucket: RESULTS, Key: `diff/${progress!.diffQueryId}.csv` }));
    expect((await got.Body!.transformToString()).split('\n')[0]).toContain('"sseguard_change"');
  }, 180_000);

  test('the third report lists the object the second missed (its mark cleared) and misses the other again (removed, no HeadObject: two consecutive reports)', async () => {
    await putObject(writer, SOURCE, 'new-3', { mode: 'sse-s3' });
    await deliver();
    proxy.resetStats();
    const { failures, manifestKey, runId } = await sweepThenWork();
    expect(failures).toEqual([]);
    expect(await progressOf(manifestKey)).toMatchObject({ sweepMode: 'athena', reconciledAt: expect.any(String), removed: 1, keptUnanswered: 0, coverage: 'complete' });
    expect(await runCoverage(runId)).toMatchObject({ manifestKey, coverage: 'complete', keptUnanswered: 0 });
    expect(proxy.stats().requests['s3:HeadObject'] ?? 0).toBe(0);
    const after = await states();
    expect(after.get('flaky')?.absentFrom).toBeUndefined();
    expect(after.has('gone-twice')).toBe(false);
    expect([...after.keys()].sort()).toEqual(['change-me', 'flaky', 'keep 2+€', 'keep-1', 'kms-1', 'new ü 2', 'new-1', 'new-3']);
  }, 180_000);

  test('a diff query that ends without a result (cancelled) falls back to every data file in full, and says why: never an empty diff', async () => {
    await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: 'new-1' }));
    await putObject(writer, SOURCE, 'new-4', { mode: 'sse-s3' });
    await deliver();
    onPoll = 'stop';
    try {
      const { failures, manifestKey } = await sweepThenWork();
      expect(failures).toEqual([]);
      const progress = await progressOf(manifestKey);
      expect(progress).toMatchObject({ sweepMode: 'full', diffFallback: expect.stringMatching(/cancelled/), reconciledAt: expect.any(String), removed: 1 });
      expect(seen).not.toContain(expect.stringMatching(/^diff-slice/));
      expect(seen.filter((s) => s === 'inventory-reconcile').length).toBeGreaterThanOrEqual(1);
      const after = await states();
      expect(after.has('new-1')).toBe(false);
      expect(after.has('new-4')).toBe(true);
    } finally {
      onPoll = 'answer';
    }
  }, 180_000);

  test('a report whose diff slices carried a mark (no HeadObject could answer) is then scanned by `sseguard scan --inventory`, which reads no carried mark: it does not diff against it but reconciles every recorded finding, so the object missing from both reports is removed', async () => {
    await writer.s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: 'keep-1' }));
    await deliver();
    proxy.setRules([{ service: 's3', operation: 'HeadObject', path: new RegExp(`^/${SOURCE}/keep-1`), rate: 1, kind: 'throttle' }]);
    const { failures, manifestKey } = await sweepThenWork();
    proxy.setRules([]);
    expect(failures).toEqual([]);
    expect(await progressOf(manifestKey)).toMatchObject({ sweepMode: 'athena', reconciledAt: expect.any(String), absencesCarried: 1, keptUnanswered: 1, coverage: 'partial' });
    expect((await states()).get('keep-1')).toMatchObject({ absentFrom: expect.any(String) });

    // The next report misses it too; the CLI scans it (its own in-process diff, no ABSENT# item read).
    await deliver();
    const run = await runCli(['scan', '--bucket', SOURCE, '--inventory', `s3://${DESTINATION}/reports`, '--json'], { AWS_ENDPOINT_URL: emulator, SSEGUARD_POLICY: undefined });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout).summary as { inventory: { diff: { fallback?: string }; absence: { removedBySecondReport: number } } };
    expect(summary.inventory.diff.fallback).toMatch(/1 recorded objects marked absent/);
    expect(summary.inventory.absence.removedBySecondReport).toBe(1);
    expect((await states()).has('keep-1')).toBe(false);
  }, 180_000);
});
