// The sample events AWS and Powertools publish, fed unchanged (only bucket, key and KMS key rewritten
// to seeded resources) to the real handlers against the emulator. Each fixture is stored in
// test/events/published/ and its source is given here, beside its name (and in that folder's README):
//
//   aws-s3-object-created-put.json      S3 User Guide, "Event message structure", example of an
//                                       s3:ObjectCreated:Put message
//                                       https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
//   aws-s3-test-event.json              same page, the "Amazon S3 test message" (s3:TestEvent)
//   powertools-s3-sqs-event.json        aws-powertools/powertools-lambda-typescript packages/parser/tests/events/s3SqsEvent.json
//   powertools-s3-event-delete-object.json  …/packages/parser/tests/events/s3EventDeleteObject.json
//   powertools-eventbridge-object-created.json  …/packages/parser/tests/events/s3/s3EventBridgeNotificationObjectCreatedEvent.json
//   powertools-eventbridge-object-deleted.json  …/packages/parser/tests/events/s3/s3EventBridgeNotificationObjectDeletedEvent.json
//   powertools-sqs-base.json            …/packages/parser/tests/events/sqs/base.json (bodies that are no S3 event)
//   kms-disable-key-cloudtrail.json     KMS Developer Guide, "DisableKey" CloudTrail log entry
//                                       https://docs.aws.amazon.com/kms/latest/developerguide/ct-disablekey.html
//   kms-schedule-key-deletion-cloudtrail.json  KMS Developer Guide, "ScheduleKeyDeletion" (single-Region key)
//                                       https://docs.aws.amazon.com/kms/latest/developerguide/ct-schedule-key-deletion.html
// The KMS pages publish the CloudTrail record; EventBridge delivers it as the `detail` of an
// "AWS API Call via CloudTrail" event, whose envelope is built here.
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, test } from 'vitest';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { handler as keyEvents, type KeyEventResult } from '../../functions/key-events.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { createBucket, createKey, disableKey, enableVersioning, putObject, scheduleDeletion, type TestKey } from '../support/aws-fixtures.ts';

const BUCKET = 'published-events';
const dir = mkdtempSync(join(tmpdir(), 'sseguard-published-'));
const policyPath = join(dir, 'policy.yaml');
writeFileSync(policyPath, 'version: 1\ndefault:\n  require: any-kms\n');
Object.assign(process.env, {
  SSEGUARD_TABLE: 'published-events-findings',
  SSEGUARD_QUEUE: 'published-events-audit',
  SSEGUARD_DLQ: 'published-events-dlq',
  SSEGUARD_POLICY: policyPath,
});

const published = <T = Record<string, unknown>>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../events/published/${name}`, import.meta.url), 'utf8')) as T;
const workerContext = localLambdaContext('audit-worker');
const keyContext = localLambdaContext('key-events');
const runtime = () => createRuntime(loadConfig());
let deadLetterUrl: string;

/** A message body delivered by SQS, in the record shape of Powertools' S3-via-SQS fixture. */
function sqsEventOf(...bodies: unknown[]): SQSEvent {
  const [template] = published<SQSEvent>('powertools-s3-sqs-event.json').Records;
  return { Records: bodies.map((body, i) => ({ ...template!, messageId: `${template!.messageId}-${i}-${Date.now()}`, body: JSON.stringify(body) })) };
}

async function stateOf(objectKey: string): Promise<StoredFinding | undefined> {
  return (await runtime().store.statesOf(BUCKET, [objectKey])).get(objectKey);
}
const historyOf = (objectKey: string) => runtime().store.history(BUCKET, objectKey);
const bucketObjects = async () => (await runtime().store.summary()).buckets[BUCKET]?.objects ?? 0;
async function deadLetters(): Promise<{ body: string; reason: string }[]> {
  const { Messages = [] } = await runtime().clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }),
  );
  return Messages.map((m) => ({ body: m.Body ?? '', reason: m.MessageAttributes?.['sseguard-reason']?.StringValue ?? '' }));
}

/** The KMS documentation's CloudTrail record as EventBridge delivers it, rewritten to `key`. */
function cloudTrailViaEventBridge(name: string, key: TestKey) {
  const record = published<{ requestParameters: Record<string, unknown>; responseElements: Record<string, unknown>; resources: Record<string, unknown>[] }>(name);
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.kms',
    account: '111122223333',
    time: '2021-03-23T18:58:30Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      ...record,
      requestParameters: { ...record.requestParameters, keyId: key.id },
      responseElements: { ...record.responseElements, keyId: key.arn },
      resources: record.resources.map((r) => ({ ...r, ARN: key.arn })),
    },
  };
}

beforeAll(async () => {
  resetHandlerRuntime();
  const { config, clients } = runtime();
  await ensureFindingsTable(clients.dynamodb, config.table);
  await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  ({ deadLetterQueueUrl: deadLetterUrl } = await ensureQueues(clients.sqs, config));
  await createBucket(clients, BUCKET);
  await enableVersioning(clients, BUCKET);
});

describe('S3 event notifications as AWS and Powertools publish them', () => {
  test('AWS ObjectCreated:Put example (bucket and key rewritten): the named object is audited once and recorded', async () => {
    await putObject(runtime().clients, BUCKET, 'HappyFace.jpg', { mode: 'sse-s3' });
    const event = published<{ Records: { s3: { bucket: { name: string; arn: string } } }[] }>('aws-s3-object-created-put.json');
    event.Records[0]!.s3.bucket = { ...event.Records[0]!.s3.bucket, name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` };
    const before = await bucketObjects();
    expect(await auditWorker(sqsEventOf(event), workerContext)).toEqual({ batchItemFailures: [] });
    expect(await stateOf('HappyFace.jpg')).toMatchObject({ mode: 'sse-s3', verdict: 'noncompliant' });
    expect(await historyOf('HappyFace.jpg')).toHaveLength(1);
    expect(await bucketObjects()).toBe(before + 1);
    // The example's version id is not the object's: the worker audits what is current, never the event's word.
    expect((await stateOf('HappyFace.jpg'))?.versionId).not.toBe('096fKKXTRTtl3on89fVO.nfljtsv6qko');
  });

  test('AWS s3:TestEvent: acknowledged, no failure, no finding, nothing dead-lettered', async () => {
    const before = await bucketObjects();
    expect(await auditWorker(sqsEventOf(published('aws-s3-test-event.json')), workerContext)).toEqual({ batchItemFailures: [] });
    expect(await bucketObjects()).toBe(before);
    expect(await deadLetters()).toEqual([]);
  });

  test('Powertools S3-via-SQS event, fed as the SQS event it is (body rewritten): the named object is recorded', async () => {
    await putObject(runtime().clients, BUCKET, 'test.pdf', { mode: 'sse-kms', key: await createKey(runtime().clients) });
    const event = published<SQSEvent>('powertools-s3-sqs-event.json');
    event.Records[0]!.body = event.Records[0]!.body.replaceAll('"xxx"', `"${BUCKET}"`).replaceAll('arn:aws:s3:::xxx', `arn:aws:s3:::${BUCKET}`);
    expect(await auditWorker(event, workerContext)).toEqual({ batchItemFailures: [] });
    expect(await stateOf('test.pdf')).toMatchObject({ mode: 'sse-kms', verdict: 'compliant' });
    expect(await historyOf('test.pdf')).toHaveLength(1);
  });

  test('Powertools S3 ObjectRemoved:Delete (no version id): the object, gone, leaves the findings', async () => {
    const objectKey = 'b21b84d653bb07b05b1e6b33684dc11b';
    await putObject(runtime().clients, BUCKET, objectKey, { mode: 'sse-s3' });
    const event = published<{ Records: { s3: { bucket: { name: string; arn: string } } }[] }>('powertools-s3-event-delete-object.json');
    event.Records[0]!.s3.bucket = { ...event.Records[0]!.s3.bucket, name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` };
    await scanBucket(await scanDependencies(runtime()), { bucket: BUCKET, prefix: objectKey, concurrency: 1 });
    expect(await stateOf(objectKey)).toBeDefined();
    await runtime().clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: objectKey }));
    expect(await auditWorker(sqsEventOf(event), workerContext)).toEqual({ batchItemFailures: [] });
    expect(await stateOf(objectKey)).toBeUndefined();
  });

  test('Powertools EventBridge "Object Created" and "Object Deleted" (Delete Marker Created): recorded, then removed', async () => {
    const objectKey = 'IMG_m7fzo3.jpg';
    await putObject(runtime().clients, BUCKET, objectKey, { mode: 'sse-s3' });
    const rewrite = (event: { resources: string[]; detail: { bucket: { name: string } } }) => ({
      ...event,
      resources: [`arn:aws:s3:::${BUCKET}`],
      detail: { ...event.detail, bucket: { name: BUCKET } },
    });
    expect(await auditWorker(sqsEventOf(rewrite(published('powertools-eventbridge-object-created.json'))), workerContext)).toEqual({ batchItemFailures: [] });
    expect(await stateOf(objectKey)).toMatchObject({ mode: 'sse-s3', verdict: 'noncompliant' });
    expect(await historyOf(objectKey)).toHaveLength(1);

    await runtime().clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: objectKey }));
    expect(await auditWorker(sqsEventOf(rewrite(published('powertools-eventbridge-object-deleted.json'))), workerContext)).toEqual({ batchItemFailures: [] });
    expect(await stateOf(objectKey)).toBeUndefined();
  });

  test('Powertools SQS messages that are no S3 event ("Test message.", {"message": "foo1"}): dead-lettered with a clear reason, never a crash or a finding', async () => {
    const before = await bucketObjects();
    expect(await auditWorker(published<SQSEvent>('powertools-sqs-base.json'), workerContext)).toEqual({ batchItemFailures: [] });
    const letters = await deadLetters();
    expect(letters.map((l) => l.body).sort()).toEqual(['Test message.', '{"message": "foo1"}']);
    for (const { reason } of letters) expect(reason).toMatch(/\S/);
    expect(letters.find((l) => l.body === 'Test message.')?.reason).toMatch(/JSON|parse/i);
    expect(await bucketObjects()).toBe(before);
  });
});

describe('KMS CloudTrail examples from the KMS docs, as EventBridge delivers them', () => {
  test.each([
    ['kms-disable-key-cloudtrail.json', 'DisableKey', disableKey, 'kms-key-disabled'],
    ['kms-schedule-key-deletion-cloudtrail.json', 'ScheduleKeyDeletion', scheduleDeletion, 'kms-key-pending-deletion'],
  ] as const)('%s (key rewritten to a seeded key): every object under the key is re-evaluated at-risk', async (fixture, call, apply, reason) => {
    const clients = runtime().clients;
    const key = await createKey(clients);
    const objectKey = `under-${call}.bin`;
    await putObject(clients, BUCKET, objectKey, { mode: 'sse-kms', key });
    await scanBucket(await scanDependencies(runtime()), { bucket: BUCKET, prefix: objectKey, concurrency: 1 });
    expect(await stateOf(objectKey)).toMatchObject({ verdict: 'compliant', kmsKeyArn: key.arn });

    await apply(clients, key);
    const result = (await keyEvents(cloudTrailViaEventBridge(fixture, key), keyContext)) as KeyEventResult;
    expect(result).toMatchObject({ status: 'reevaluated', objects: 1, verdicts: { 'at-risk': 1 } });
    expect(await stateOf(objectKey)).toMatchObject({ verdict: 'at-risk', reasons: [expect.objectContaining({ code: reason })] });
  });

  test('a foreign event given to the key-events handler (an S3 event) is rejected with a clear reason, not a crash', async () => {
    const result = (await keyEvents(published('powertools-eventbridge-object-created.json'), keyContext)) as KeyEventResult;
    expect(result).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/source|detail-type/) });
  });
});
