import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { handlerRuntime, resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { handler } from '../../functions/audit-worker.ts';
import { countCalls, type CallCounts } from '../../shared/aws/call-counter.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createKey, type TestKey } from '../support/aws-fixtures.ts';
import { drainQueue } from '../support/sqs-event-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'sseguard-fix-'));
const policyPath = join(dir, 'policy.yaml');
Object.assign(process.env, { SSEGUARD_TABLE: 'fix-findings', SSEGUARD_QUEUE: 'fix-audit', SSEGUARD_POLICY: policyPath });

const BUCKET = 'fixed-up';
const context = localLambdaContext('audit-worker');
let target: TestKey;
let queueUrl: string;
let calls: CallCounts;
const runtime = () => createRuntime(loadConfig());

async function stored(key: string) {
  for await (const page of runtime().store.findings({ bucket: BUCKET })) {
    const found = page.find((f) => f.key === key);
    if (found) return found;
  }
  return undefined;
}

beforeAll(async () => {
  const { config, clients } = runtime();
  await ensureFindingsTable(clients.dynamodb, config.table);
  await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  ({ queueUrl } = await ensureQueues(clients.sqs, config));
  target = await createKey(clients, { rotation: true });
  writeFileSync(
    policyPath,
    `version: 1\nrules:\n  - bucket: ${BUCKET}\n    prefix: secure/\n    require: sse-kms\n    kmsKeys: [${target.arn}]\n    remediate: true\n` +
      `  - bucket: ${BUCKET}\n    prefix: plain/\n    require: sse-s3\n    remediate: true\n`,
  );
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await clients.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: BUCKET,
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: Attributes!.QueueArn!, Events: ['s3:ObjectCreated:*'] }] },
    }),
  );
});

beforeEach(() => {
  resetHandlerRuntime();
  calls = countCalls(handlerRuntime().clients);
});

describe('the worker fixes what the policy says to fix', () => {
  test('SSE-S3 → SSE-KMS with the target key by UpdateObjectEncryption: data untouched, before/after in the history', async () => {
    const { s3 } = runtime().clients;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'secure/report.csv', Body: 'a,b\n1,2\n', ServerSideEncryption: 'AES256' }));
    const before = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'secure/report.csv' }));
    expect(await drainQueue(runtime().clients.sqs, queueUrl, handler, context)).toEqual([]);

    expect(calls.UpdateObjectEncryption).toBe(1);
    expect(calls.CopyObject ?? 0).toBe(0);
    const after = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'secure/report.csv' }));
    expect(after).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: target.arn, ETag: before.ETag });
    const body = await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'secure/report.csv' }))).Body!.transformToString();
    expect(body).toBe('a,b\n1,2\n');
    expect(await stored('secure/report.csv')).toMatchObject({ verdict: 'compliant', mode: 'sse-kms', kmsKeyArn: target.arn });
    const history = await runtime().store.history(BUCKET, 'secure/report.csv');
    expect(history.find((h) => h.remediation)?.remediation).toMatchObject({
      action: 'update-encryption',
      outcome: 'fixed',
      before: { mode: 'sse-s3', etag: before.ETag },
      after: { mode: 'sse-kms', kmsKeyArn: target.arn, etag: before.ETag },
    });
  });

  test("a copy fix (SSE-KMS → SSE-S3) raises its own ObjectCreated:Copy event, which audits compliant and stops: no loop", async () => {
    const { s3 } = runtime().clients;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain/readme.txt', Body: 'hello', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: target.arn, Metadata: { owner: 'team-a' } }));
    expect(await drainQueue(runtime().clients.sqs, queueUrl, handler, context)).toEqual([]);
    expect(calls.CopyObject).toBe(1);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'plain/readme.txt' }));
    expect(head).toMatchObject({ ServerSideEncryption: 'AES256', Metadata: { owner: 'team-a' } });
    const history = await runtime().store.history(BUCKET, 'plain/readme.txt');
    expect(history.filter((h) => h.remediation).map((h) => h.remediation?.outcome)).toEqual(['fixed']);
    expect(await stored('plain/readme.txt')).toMatchObject({ verdict: 'compliant', mode: 'sse-s3' });
  });

  test('the same event delivered three times at once: exactly one fix', async () => {
    const { s3, sqs } = runtime().clients;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'secure/dup.csv', Body: 'x', ServerSideEncryption: 'AES256' }));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    const body = Messages.find((m) => m.Body?.includes('secure%2Fdup.csv'))!.Body!;
    await drainQueue(sqs, queueUrl, async () => ({ batchItemFailures: [] }), context);
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [0, 1, 2].map((i) => ({ Id: String(i), MessageBody: body })) }));
    await drainQueue(sqs, queueUrl, handler, context);
    expect(calls.UpdateObjectEncryption).toBe(1);
    const history = await runtime().store.history(BUCKET, 'secure/dup.csv');
    expect(history.filter((h) => h.remediation).length).toBe(1);
    expect(await stored('secure/dup.csv')).toMatchObject({ verdict: 'compliant' });
  });

  test('SSE-C cannot be fixed: the finding says why and what a person must do, and S3 is not touched', async () => {
    const { createHash, randomBytes } = await import('node:crypto');
    const key = randomBytes(32);
    const { s3 } = runtime().clients;
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'secure/customer.bin',
        Body: 'secret',
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: key.toString('base64'),
        SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
      }),
    );
    expect(await drainQueue(runtime().clients.sqs, queueUrl, handler, context)).toEqual([]);
    expect(calls.CopyObject ?? 0).toBe(0);
    expect(calls.UpdateObjectEncryption ?? 0).toBe(0);
    const finding = await stored('secure/customer.bin');
    expect(finding).toMatchObject({ verdict: 'noncompliant', mode: 'sse-c', reasons: [{ code: 'sse-c-forbidden' }] });
    expect(finding?.reasons[0]?.message).toContain('whoever holds the key must re-upload it with server-side encryption');
  });
});
