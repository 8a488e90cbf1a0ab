import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { handler } from '../../functions/audit-worker.ts';
import { loadConfig } from '../../shared/config.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createKey, disableKey, putObject, type TestKey } from '../support/aws-fixtures.ts';
import { deadLetters as deadLettersOn, recordedState, watchedBucketOnAuditQueue } from '../support/audit-queue.ts';
import { drainQueue, pollOnce, type SqsHandler } from '../support/sqs-event-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'sseguard-worker-'));
const policyPath = join(dir, 'policy.yaml');
writeFileSync(policyPath, 'version: 1\nrules:\n  - { bucket: watched, prefix: kms/, require: sse-kms }\n');
Object.assign(process.env, {
  SSEGUARD_TABLE: 'worker-findings',
  SSEGUARD_QUEUE: 'worker-audit',
  SSEGUARD_MAX_RECEIVE_COUNT: '2',
  SSEGUARD_POLICY: policyPath,
});

const context = localLambdaContext('audit-worker');
let sqs: SQSClient;
let queueUrl: string;
let deadLetterUrl: string;
let enabled: TestKey;
let disabled: TestKey;

const runtime = () => createRuntime(loadConfig());
const stateOf = (bucket: string, key: string) => recordedState(runtime(), bucket, key);
const deadLetters = () => deadLettersOn(sqs, deadLetterUrl);

beforeAll(async () => {
  resetHandlerRuntime();
  sqs = runtime().clients.sqs;
  ({ queueUrl, deadLetterUrl } = await watchedBucketOnAuditQueue(runtime(), 'watched', { versioned: true }));
  enabled = await createKey(runtime().clients);
  disabled = await createKey(runtime().clients);
});

afterEach(async () => {
  // Whatever a test left behind must not leak into the next one.
  await drainQueue(sqs, queueUrl, async () => ({ batchItemFailures: [] }), context);
});

describe('bucket notification → SQS → worker → findings', () => {
  test('every mode and key state, keys with spaces, +, % and unicode; the s3:TestEvent is ignored, not dead-lettered', async () => {
    const { clients } = runtime();
    await putObject(clients, 'watched', 'plain/a b+c%d ü.txt', { mode: 'bucket-default' });
    await putObject(clients, 'watched', 'kms/good.bin', { mode: 'sse-kms', key: enabled });
    await putObject(clients, 'watched', 'kms/s3.bin', { mode: 'sse-s3' });
    await putObject(clients, 'watched', 'kms/soon-dead.bin', { mode: 'sse-kms', key: disabled });
    await putObject(clients, 'watched', 'plain/dsse.bin', { mode: 'dsse-kms', key: enabled });
    await putObject(clients, 'watched', 'plain/customer.bin', { mode: 'sse-c' });
    await disableKey(clients, disabled);

    const failures = await drainQueue(sqs, queueUrl, handler, context);
    expect(failures).toEqual([]);
    const expected: Record<string, [string, string]> = {
      'plain/a b+c%d ü.txt': ['sse-s3', 'compliant'],
      'kms/good.bin': ['sse-kms', 'compliant'],
      'kms/s3.bin': ['sse-s3', 'noncompliant'],
      'kms/soon-dead.bin': ['sse-kms', 'at-risk'],
      'plain/dsse.bin': ['dsse-kms', 'compliant'],
      'plain/customer.bin': ['sse-c', 'noncompliant'],
    };
    for (const [key, [mode, verdict]] of Object.entries(expected)) {
      const state = await stateOf('watched', key);
      expect({ key, mode: state?.mode, verdict: state?.verdict }).toEqual({ key, mode, verdict });
      expect(state?.sequencer).toMatch(/^[0-9A-F]+$/);
      expect(state?.versionId).toBeTruthy();
    }
    expect(await deadLetters()).toEqual([]);
  });

  test('a duplicate delivery does nothing twice: one state, one history entry, counters unchanged', async () => {
    const { clients } = runtime();
    await clients.s3.send(new PutObjectCommand({ Bucket: 'watched', Key: 'dup/once.txt', Body: 'x' }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }));
    const body = Messages![0]!.Body!;
    await drainQueue(sqs, queueUrl, async () => ({ batchItemFailures: [] }), context);
    for (let i = 0; i < 3; i++) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const before = (await runtime().store.summary()).buckets.watched?.objects ?? 0;
    expect(await drainQueue(sqs, queueUrl, handler, context)).toEqual([]);
    expect(await runtime().store.history('watched', 'dup/once.txt')).toHaveLength(1);
    expect((await runtime().store.summary()).buckets.watched?.objects).toBe(before + 1);
  });

  test('events delivered out of order: the newest version stays recorded', async () => {
    const { clients } = runtime();
    const v1 = await clients.s3.send(new PutObjectCommand({ Bucket: 'watched', Key: 'order/doc.txt', Body: 'v1', ServerSideEncryption: 'AES256' }));
    const v2 = await clients.s3.send(
      new PutObjectCommand({ Bucket: 'watched', Key: 'order/doc.txt', Body: 'v2', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: enabled.arn }),
    );
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const bodies = Messages.map((m) => m.Body!);
    expect(bodies).toHaveLength(2);
    await drainQueue(sqs, queueUrl, async () => ({ batchItemFailures: [] }), context);
    for (const body of [...bodies].reverse()) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    // One at a time, newest first, as a reordering network would deliver them.
    expect((await pollOnce(sqs, queueUrl, handler, context, 1)).received).toBe(1);
    expect((await pollOnce(sqs, queueUrl, handler, context, 1)).received).toBe(1);
    const state = await stateOf('watched', 'order/doc.txt');
    expect(state).toMatchObject({ versionId: v2.VersionId, mode: 'sse-kms', kmsKeyArn: enabled.arn });
    expect(state?.versionId).not.toBe(v1.VersionId);
    expect(await runtime().store.history('watched', 'order/doc.txt')).toHaveLength(1);
  });
});

describe('removed objects', () => {
  test('an ObjectRemoved event removes the state and its counts, keeps the history; a late create event does not bring it back', async () => {
    const { clients } = runtime();
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'removals' }));
    await clients.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'removals',
        NotificationConfiguration: { QueueConfigurations: [{ QueueArn: Attributes!.QueueArn!, Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] }] },
      }),
    );
    await putObject(clients, 'removals', 'gone soon.txt', { mode: 'sse-s3' });
    await putObject(clients, 'removals', 'stays.txt', { mode: 'sse-s3' });
    // The worker takes the events as SQS delivers them; the creation's body is kept for later.
    let createBody = '';
    const keepingCreate: SqsHandler = async (event, lambdaContext) => {
      createBody ||= event.Records.find((r) => r.body.includes('gone+soon.txt'))?.body ?? '';
      return handler(event, lambdaContext);
    };
    expect(await drainQueue(sqs, queueUrl, keepingCreate, context)).toEqual([]);
    expect(createBody).toContain('ObjectCreated:Put');
    expect((await runtime().store.summary()).buckets.removals?.objects).toBe(2);

    await clients.s3.send(new DeleteObjectCommand({ Bucket: 'removals', Key: 'gone soon.txt' }));
    expect(await drainQueue(sqs, queueUrl, handler, context)).toEqual([]);
    expect(await stateOf('removals', 'gone soon.txt')).toBeUndefined();
    expect(await stateOf('removals', 'stays.txt')).toMatchObject({ verdict: 'compliant' });
    expect((await runtime().store.summary()).buckets.removals).toMatchObject({ objects: 1, verdicts: { compliant: 1 } });
    const history = await runtime().store.history('removals', 'gone soon.txt');
    expect(history.map((h) => [h.verdict, h.removed ?? false])).toEqual([
      ['compliant', false],
      ['compliant', true],
    ]);

    // The creation event delivered again, late: the object is gone, so nothing is recorded for it.
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: createBody }));
    expect(await drainQueue(sqs, queueUrl, handler, context)).toEqual([]);
    expect(await stateOf('removals', 'gone soon.txt')).toBeUndefined();
    expect((await runtime().store.summary()).buckets.removals?.objects).toBe(1);
  });
});
