// The marks a report swept from its Athena diff leaves (objects it did not list whose HeadObject
// was throttled, failing or denied) are kept one item per key under the report, not as a set on
// its progress item: DynamoDB holds at most 400 KB per item, and a throttling storm can mark
// thousands of long keys. The next report settles them a page per message, through the worker
// handler and the audit queue on the emulator; a redelivered page settles nothing twice.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { workerDependencies } from '../../functions/commons/worker-dependencies.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import type { Finding } from '../../shared/domain/finding.ts';
import { policyIdOf } from '../../shared/domain/policy-identity.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { ObjectAbsenceMarks } from '../../shared/findings/absence-marks.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { InventoryReportProgress, markReportVerified } from '../../shared/findings/inventory-progress.ts';
import { inventoryReportKey } from '../../shared/findings/table.ts';
import type { InventoryDiffMessage } from '../../shared/inventory/messages.ts';
import { s3CsvInventorySource } from '../../shared/inventory/source.ts';
import { loadPolicy } from '../../shared/policy-loader.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { seedInventoryReport } from '../support/inventory-fixtures.ts';
import { drainQueue } from '../support/sqs-event-source.ts';

const emulator = inject('emulatorEndpoint');
const SOURCE = 'inv-marks-source';
const DESTINATION = 'inv-marks-reports';
const TABLE = 'inv-marks-findings';
Object.assign(process.env, {
  AWS_ENDPOINT_URL: emulator,
  SSEGUARD_TABLE: TABLE,
  SSEGUARD_QUEUE: 'inv-marks-audit',
  SSEGUARD_IDEMPOTENCY_TABLE: 'inv-marks-idempotency',
  SSEGUARD_ATHENA_DIFF_TABLE: 'sseguard.inventory',
  SSEGUARD_ATHENA_OUTPUT: 's3://inv-marks-results/diff/',
  SSEGUARD_MAX_ATTEMPTS: '2',
});
delete process.env.SSEGUARD_POLICY;

const MARKS = 3_000;
/** 200-byte keys: 3,000 of them are 600 KB, past one item's 400 KB. */
const markedKey = (i: number) => `marked/${String(i).padStart(5, '0')}/`.padEnd(200, 'x');
const writer = createAwsClients({ maxSockets: 16 });
const context = localLambdaContext('inventory-absent-marks');
const runtime = () => createRuntime(loadConfig(process.env));
let sqs: SQSClient;
let queueUrl: string;

const previousManifestKey = `reports/${SOURCE}/sseguard/2000-01-01T00-00Z/manifest.json`;
const previousDate = '2000-01-01T00:00:00.000Z';
let manifestKey: string;

/** Pages whose settlement crashes once after it was counted, before the next page is noted as sent (a Lambda timeout). */
const crashAfterPage = new Set<number>();
const taken: number[] = [];
/** Each page's message as the worker took it. */
const bodies = new Map<number, string>();

const worker = async (event: SQSEvent, ctx: typeof context) => {
  for (const record of event.Records) {
    const parsed = parseMessageBody(record.body);
    if (parsed.kind === 'inventory-diff' && parsed.message.step === 'absences') {
      taken.push(parsed.message.page);
      bodies.set(parsed.message.page, record.body);
    }
  }
  return auditWorker(event, ctx);
};

beforeAll(async () => {
  resetHandlerRuntime();
  const current = runtime();
  sqs = current.clients.sqs;
  await ensureFindingsTable(current.clients.dynamodb, TABLE);
  await ensureIdempotencyTable(current.clients.dynamodb, 'inv-marks-idempotency');
  ({ queueUrl } = await ensureQueues(current.clients.sqs, current.config));
  for (const bucket of [SOURCE, DESTINATION]) await createBucket(writer, bucket);
  await putObject(writer, SOURCE, 'listed', { mode: 'sse-s3' });
  // The current report (the emulator's delivery): it lists `listed` only.
  const delivery = await seedInventoryReport(writer, emulator, { bucket: SOURCE, destinationBucket: DESTINATION, prefix: 'reports' });
  manifestKey = delivery.manifestKey;
  const report = await s3CsvInventorySource(current.clients.s3, { bucket: DESTINATION, prefix: 'reports' }).at(SOURCE, manifestKey);
  const policy = await loadPolicy(undefined, current.keys);
  const progress = new InventoryReportProgress(current.clients.documents, TABLE);
  // The last verified report, whose HEADs could not tell for MARKS objects (and one since seen again).
  await markReportVerified(current.clients.documents, TABLE, { bucket: SOURCE, manifestKey: previousManifestKey, files: 1 }, { reportDate: previousDate, policyHash: policyIdOf(policy).hash }, previousDate, 0);
  const keys = [...Array.from({ length: MARKS }, (_, i) => markedKey(i)), 'seen-again'];
  const finding = (key: string): Finding => ({
    bucket: SOURCE,
    key,
    size: 1,
    verdict: 'compliant',
    reasons: [],
    mode: 'sse-s3',
    remediate: false,
    auditedAt: '1999-12-31T00:00:00.000Z',
    evidence: 'inventory',
  });
  for (let i = 0; i < keys.length; i += 500) await current.store.record(keys.slice(i, i + 500).map(finding));
  const marks = new ObjectAbsenceMarks(current.clients.documents, TABLE);
  for (let i = 0; i < MARKS; i += 100) {
    const states = await current.store.statesOf(SOURCE, keys.slice(i, i + 100));
    await Promise.all([...states.values()].map((s) => marks.mark(SOURCE, s.key, previousDate, s.rev)));
  }
  // Noted as the slices note them (a page of keys at a time): 600 KB of keys, which one item could not hold.
  for (let i = 0; i < keys.length; i += 500) await progress.noteAbsent(SOURCE, previousManifestKey, keys.slice(i, i + 500));
  // This report swept from its diff, its data file re-checked; only the diff's last step is left.
  await progress.chooseSweepMode(SOURCE, manifestKey, { mode: 'athena', queryId: 'q-marks' });
  await progress.markFileDone({ bucket: SOURCE, manifestKey, files: report.manifest.files.length + 1 }, report.manifest.files[0]!.key, previousDate, {
    reportDate: report.manifest.createdAt.toISOString(),
    policyHash: policyIdOf(policy).hash,
  });
  // Crash once after page 1 was settled and counted, and its next page sent, before that was noted.
  const deps = await workerDependencies();
  const continuationSent = deps.checkpoints.continuationSent.bind(deps.checkpoints);
  deps.checkpoints.continuationSent = async (m, fileKey, from) => {
    if (fileKey.endsWith('#absent') && crashAfterPage.delete(from - 1)) throw new Error('Lambda timed out');
    return continuationSent(m, fileKey, from);
  };
}, 300_000);

afterAll(() => resetHandlerRuntime());

describe('marks of absence carried from one report to the next', () => {
  test(`${MARKS} marks of 200-byte keys (past one item's 400 KB) are kept one item per key, read back a page at a time`, async () => {
    const progress = new InventoryReportProgress(runtime().clients.documents, TABLE);
    const first = await progress.absentKeysPage(previousManifestKey, 1_000);
    expect(first.keys).toHaveLength(1_000);
    const second = await progress.absentKeysPage(previousManifestKey, 1_000, first.next);
    expect(second.keys).toHaveLength(1_000);
    expect(new Set([...first.keys, ...second.keys]).size).toBe(2_000);
    // Noting the same keys again (a redelivered slice) adds nothing.
    await progress.noteAbsent(SOURCE, previousManifestKey, first.keys.slice(0, 10));
    let all = 0;
    for (let page = await progress.absentKeysPage(previousManifestKey, 1_000); ; page = await progress.absentKeysPage(previousManifestKey, 1_000, page.next)) {
      all += page.keys.length;
      if (!page.next) break;
    }
    expect(all).toBe(MARKS + 1);
    // The report's own item stays small: the emulator does not refuse an item past 400 KB as DynamoDB
    // does (an UpdateItem ADD of these keys to one set succeeds on it), so its size is checked here.
    const { Item } = await runtime().clients.documents.send(new GetCommand({ TableName: TABLE, Key: inventoryReportKey(SOURCE, previousManifestKey), ConsistentRead: true }));
    expect(Item).toBeDefined();
    expect(Buffer.byteLength(JSON.stringify(Item, (_k, v: unknown) => (v instanceof Set ? [...v] : v)))).toBeLessThan(4_000);
  }, 60_000);

  test('the next report settles them a page (1,000) per message: every one still marked removed without a HeadObject, the one seen since kept, the report verified; a crash and redeliveries settle nothing twice', async () => {
    const current = runtime();
    // A report listed `seen-again` since: its mark was cleared.
    const [seen] = (await current.store.statesOf(SOURCE, ['seen-again'])).values();
    await new ObjectAbsenceMarks(current.clients.documents, TABLE).clear(SOURCE, 'seen-again', seen!.rev);
    const first: InventoryDiffMessage = {
      kind: 'inventory-diff',
      step: 'absences',
      bucket: SOURCE,
      destination: { bucket: DESTINATION, prefix: 'reports' },
      manifestKey,
      queryId: 'q-marks',
      previousManifestKey,
      page: 0,
    };
    crashAfterPage.add(1);
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(first) }));
    const failures = await drainQueue(sqs, queueUrl, worker, context, 50);
    expect(failures).toHaveLength(1);
    expect(crashAfterPage.size).toBe(0);
    // Pages 0..3 (the fourth holds the last mark and `seen-again`), page 1 delivered again after its crash.
    expect(taken.filter((p) => p === 1).length).toBe(2);
    expect([...new Set(taken)].sort()).toEqual([0, 1, 2, 3]);

    const progress = await new InventoryReportProgress(current.clients.documents, TABLE).progress(SOURCE, manifestKey);
    expect(progress).toMatchObject({ reconciledAt: expect.any(String), removed: MARKS, keptUnanswered: 0, coverage: 'complete' });
    const left = new Map<string, unknown>();
    for await (const page of current.store.findings({ bucket: SOURCE })) for (const f of page) left.set(f.key, f);
    expect([...left.keys()]).toEqual(['seen-again']);
    // Removed once: one removal in the history of a marked object.
    const history = await current.store.history(SOURCE, markedKey(1_500));
    expect(history.filter((h) => h.removed).length).toBe(1);

    // Every page delivered once more: nothing settled twice, nothing counted twice.
    taken.length = 0;
    for (const body of bodies.values()) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    expect(await drainQueue(sqs, queueUrl, worker, context, 50)).toEqual([]);
    expect(await new InventoryReportProgress(current.clients.documents, TABLE).progress(SOURCE, manifestKey)).toMatchObject({ removed: MARKS });
    expect((await current.store.history(SOURCE, markedKey(1_500))).filter((h) => h.removed).length).toBe(1);
  }, 300_000);
});
