// The event paths against LocalStack, as a user runs them locally: S3 notifications land on the
// audit queue `sseguard init` created, are received from SQS and handed to
// `sseguard invoke audit-worker`; a KMS key event goes to `sseguard invoke key-events`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DisableKeyCommand } from '@aws-sdk/client-kms';
import { PutBucketNotificationConfigurationCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { createBucket, createKey, putObject, type TestKey } from '../support/aws-fixtures.ts';
import { file, sseguard } from './cli.ts';

const TABLE = 'localstack-events-findings';
const QUEUE = 'localstack-audit';
// SSEGUARD_ACCOUNT_ID as the deployed stage sets it: findings stamped with it are the account's own.
const env = { SSEGUARD_TABLE: TABLE, SSEGUARD_QUEUE: QUEUE, SSEGUARD_ACCOUNT_ID: '000000000000' };
const run = (args: string[]) => sseguard(args, env);
const clients = createAwsClients();
let queueUrl: string;
let queueArn: string;
let key: TestKey;
let eventFiles = 0;

interface S3Record {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; versionId?: string; sequencer?: string } };
}

/** Takes every message off the audit queue, as Lambda's event source mapping would. */
async function receiveAll(expected: number): Promise<Message[]> {
  const messages: Message[] = [];
  for (let polls = 0; polls < 20 && messages.length < expected; polls++) {
    const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
    for (const message of Messages ?? []) {
      messages.push(message);
      await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  }
  return messages;
}

const recordsOf = (messages: Message[]): S3Record[] => messages.flatMap((m) => (JSON.parse(m.Body!) as { Records?: S3Record[] }).Records ?? []);

/** The SQS event Lambda would pass for these messages, written to a file for `sseguard invoke`. */
function sqsEventFile(messages: Message[]): string {
  const Records = messages.map((m) => ({
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: m.Body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'localstack', ApproximateFirstReceiveTimestamp: String(Date.now()), ...m.Attributes },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  }));
  return file(`sqs-event-${++eventFiles}.json`, JSON.stringify({ Records }));
}

async function findings(bucket: string): Promise<Record<string, { verdict: string; mode: string; versionId?: string | null }>> {
  const report = await run(['report', '--format', 'json']);
  expect(report.code).toBe(0);
  const all = (JSON.parse(report.stdout) as { findings: { bucket: string; key: string; verdict: string; mode: string; versionId?: string | null }[] }).findings;
  return Object.fromEntries(all.filter((f) => f.bucket === bucket).map((f) => [f.key, { verdict: f.verdict, mode: f.mode, versionId: f.versionId }]));
}

async function notifyAuditQueue(bucket: string) {
  await clients.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: queueArn, Events: ['s3:ObjectCreated:*'] }] },
    }),
  );
}

beforeAll(async () => {
  expect((await run(['init'])).code).toBe(0);
  queueUrl = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE }))).QueueUrl!;
  queueArn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  key = await createKey(clients, { rotation: true });
});

describe('S3 → SQS → sseguard invoke audit-worker', () => {
  const BUCKET = 'localstack-watched';

  test('objects written to a watched bucket are audited from their notifications and recorded; the s3:TestEvent is ignored', async () => {
    await createBucket(clients, BUCKET);
    await notifyAuditQueue(BUCKET);
    await putObject(clients, BUCKET, 'plain/a b+c.txt', { mode: 'sse-s3' });
    await putObject(clients, BUCKET, 'kms/secret.bin', { mode: 'sse-kms', key });
    await putObject(clients, BUCKET, 'customer/key.bin', { mode: 'sse-c' });
    const messages = await receiveAll(4);
    expect(messages.map((m) => JSON.parse(m.Body!).Event).filter(Boolean)).toEqual(['s3:TestEvent']);
    // AWS encodes a space as "+" (plain/a+b%2Bc.txt); LocalStack as %20 (see the test below).
    expect(recordsOf(messages).map((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '))).sort()).toEqual(['customer/key.bin', 'kms/secret.bin', 'plain/a b+c.txt']);

    const invoked = await run(['invoke', 'audit-worker', '--event', sqsEventFile(messages), '--json']);
    expect(invoked.code).toBe(0);
    expect(JSON.parse(invoked.stdout)).toEqual({ batchItemFailures: [] });
    expect(await findings(BUCKET)).toEqual({
      'plain/a b+c.txt': expect.objectContaining({ mode: 'sse-s3', verdict: 'compliant' }),
      'kms/secret.bin': expect.objectContaining({ mode: 'sse-kms', verdict: 'compliant' }),
      'customer/key.bin': expect.objectContaining({ mode: 'sse-c', verdict: 'noncompliant' }),
    });
  });

  test('LocalStack differs from AWS: a space in a notification\'s key is encoded %20, not + as AWS does; sseguard records the key either way', async () => {
    await putObject(clients, BUCKET, 'plain/x y.txt', { mode: 'sse-s3' });
    const messages = await receiveAll(1);
    expect(recordsOf(messages).map((r) => r.s3.object.key)).toEqual(['plain/x%20y.txt']); // AWS: plain/x+y.txt
    expect((await run(['invoke', 'audit-worker', '--event', sqsEventFile(messages)])).code).toBe(0);
    expect(await findings(BUCKET)).toMatchObject({ 'plain/x y.txt': { mode: 'sse-s3', verdict: 'compliant' } });
  });

  test('a KMS DisableKey event re-evaluates the objects under that key: at-risk (sseguard invoke key-events)', async () => {
    await clients.kms.send(new DisableKeyCommand({ KeyId: key.id }));
    const sample = JSON.parse(readFileSync(fileURLToPath(new URL('../events/kms-disable-key.json', import.meta.url)), 'utf8'));
    sample.detail.requestParameters.keyId = key.id;
    sample.detail.resources[0].ARN = key.arn;
    const invoked = await run(['invoke', 'key-events', '--event', file('disable-key.json', JSON.stringify(sample)), '--json']);
    expect(invoked.code).toBe(0);
    expect(JSON.parse(invoked.stdout)).toMatchObject({ status: 'reevaluated', objects: 1 });
    expect(await findings(BUCKET)).toMatchObject({
      'kms/secret.bin': { mode: 'sse-kms', verdict: 'at-risk' },
      'plain/a b+c.txt': { verdict: 'compliant' },
    });
  });
});

describe('ordering when every event carries the same sequencer', () => {
  const BUCKET = 'localstack-versions';

  test('LocalStack differs from AWS: it sends the same sequencer on every event; events delivered newest first still leave the newest version recorded', async () => {
    await createBucket(clients, BUCKET);
    await clients.s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    await notifyAuditQueue(BUCKET);
    await putObject(clients, BUCKET, 'doc.txt', { mode: 'sse-c' }, 'first, noncompliant');
    const newest = await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'doc.txt', Body: 'second, compliant', ServerSideEncryption: 'AES256' }));
    const messages = (await receiveAll(3)).filter((m) => !JSON.parse(m.Body!).Event);
    const records = recordsOf(messages);
    expect(records).toHaveLength(2);
    // AWS: the later write's sequencer is greater. LocalStack: equal.
    expect(records[0]!.s3.object.sequencer).toBe(records[1]!.s3.object.sequencer);

    const newestFirst = [...messages].sort((a, b) => (recordsOf([a])[0]!.s3.object.versionId === newest.VersionId ? -1 : recordsOf([b])[0]!.s3.object.versionId === newest.VersionId ? 1 : 0));
    for (const message of newestFirst) expect((await run(['invoke', 'audit-worker', '--event', sqsEventFile([message])])).code).toBe(0);
    expect(await findings(BUCKET)).toEqual({ 'doc.txt': expect.objectContaining({ versionId: newest.VersionId, mode: 'sse-s3', verdict: 'compliant' }) });
  });
});
