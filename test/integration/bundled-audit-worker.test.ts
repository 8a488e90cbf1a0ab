// The audit worker as it ships (scripts/bundle.mjs, with the stand-ins of scripts/function-plugins.mjs)
// against the emulator: every other worker test runs the sources, which carry what the bundle
// leaves out (the SDK's event-stream codec, idempotency's JMESPath, zod's compiler). Here the
// bundled S3 client (built with the refusing event-stream marshaller), the message schemas (zod
// without its compiler) and the idempotent fix (Powertools idempotency with the JMESPath
// stand-in) carry out one audit and one fix end to end.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, HeadObjectCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { createKey, type TestKey } from '../support/aws-fixtures.ts';
import { drainQueue, type SqsHandler } from '../support/sqs-event-source.ts';
// @ts-expect-error -- a plain .mjs script without type declarations
import { bundleFunction } from '../../scripts/bundle.mjs';

const dir = mkdtempSync(join(tmpdir(), 'sseguard-bundled-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A deployed function reads its policy as JSON (the bundle carries no YAML parser).
const policyPath = join(dir, 'policy.json');
Object.assign(process.env, { SSEGUARD_TABLE: 'bundled-findings', SSEGUARD_QUEUE: 'bundled-audit', SSEGUARD_POLICY: policyPath });

const BUCKET = 'bundled-worker';
const runtime = () => createRuntime(loadConfig());
let handler: SqsHandler;
let queueUrl: string;
let target: TestKey;

beforeAll(async () => {
  const { file } = (await bundleFunction('audit-worker', join(dir, 'functions'))) as { file: string };
  ({ handler } = (await import(pathToFileURL(file).href)) as { handler: SqsHandler });
  const { config, clients } = runtime();
  await ensureFindingsTable(clients.dynamodb, config.table);
  await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  ({ queueUrl } = await ensureQueues(clients.sqs, config));
  target = await createKey(clients);
  writeFileSync(policyPath, JSON.stringify({ version: 1, rules: [{ bucket: BUCKET, require: 'sse-kms', kmsKeys: [target.arn], remediate: true }] }));
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await clients.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: BUCKET,
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: Attributes!.QueueArn!, Events: ['s3:ObjectCreated:*'] }] },
    }),
  );
}, 180_000);

describe('the bundled audit worker', () => {
  test('audits an SSE-S3 object from its S3 notification, fixes it to the policy key once (idempotency record kept) and records it compliant', async () => {
    const { clients, config, store } = runtime();
    await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'report.csv', Body: 'a,b\n1,2\n', ServerSideEncryption: 'AES256' }));

    expect(await drainQueue(clients.sqs, queueUrl, handler, localLambdaContext('audit-worker'))).toEqual([]);

    const after = await clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'report.csv' }));
    expect(after).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: target.arn });
    const findings = [];
    for await (const page of store.findings({ bucket: BUCKET })) findings.push(...page);
    expect(findings).toEqual([expect.objectContaining({ key: 'report.csv', verdict: 'compliant', mode: 'sse-kms', kmsKeyArn: target.arn })]);
    const { Items = [] } = await clients.dynamodb.send(new ScanCommand({ TableName: config.idempotencyTable }));
    expect(Items.map((item) => item.status?.S)).toEqual(['COMPLETED']);
  });
});
