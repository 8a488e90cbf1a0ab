// The fault proxy forwards SDK traffic to the emulator unchanged, names each request's service and
// operation, and injects faults that the SDK classifies exactly as it classifies AWS's own.
import { request } from 'node:http';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetBucketEncryptionCommand,
  GetObjectAclCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
  S3Client, UpdateObjectEncryptionCommand, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest';
import { logicalCalls, startBlackHole, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

const emulator = inject('emulatorEndpoint');
const BUCKET = 'fault-proxy';
const TABLE = 'fault-proxy';

interface Clients { s3: S3Client; dynamodb: DynamoDBClient; kms: KMSClient; sqs: SQSClient }
type HandlerOptions = { requestTimeout?: number; throwOnRequestTimeout?: boolean };

// maxAttempts 1 unless a test asks otherwise: the SDK must not hide the faults behind retries.
function clients(endpoint: string, maxAttempts = 1, handler: HandlerOptions = {}): Clients {
  const common = { endpoint, region: 'us-east-1', maxAttempts, requestHandler: { httpAgent: { keepAlive: true, maxSockets: 32 }, ...handler } };
  return { s3: new S3Client({ ...common, forcePathStyle: true }), dynamodb: new DynamoDBClient(common), kms: new KMSClient(common), sqs: new SQSClient(common) };
}

/** The rejection of `call`, as the SDK delivered it. */
async function failure(call: Promise<unknown>): Promise<SdkError & { code?: string }> {
  try {
    await call;
  } catch (error) {
    return error as SdkError & { code?: string };
  }
  throw new Error('expected the call to fail');
}

const classify = (error: SdkError) => ({
  name: error.name,
  status: error.$metadata?.httpStatusCode,
  throttling: isThrottlingError(error),
  transient: isTransientError(error),
});

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

let proxy: FaultProxy;
let via: Clients;
const direct = clients(emulator);

beforeAll(async () => {
  proxy = await startFaultProxy({ target: emulator, seed: 42 });
  via = clients(proxy.endpoint);
  await direct.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await direct.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'seed', Body: 'seed' }));
  await direct.dynamodb.send(new CreateTableCommand({
    TableName: TABLE, BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  }));
});

afterEach(() => {
  proxy.setRules([]);
  proxy.resetStats();
});

afterAll(async () => {
  for (const client of [...Object.values(via), ...Object.values(direct)]) client.destroy();
  await proxy.close();
});

describe('forwarding', () => {
  test('a PutObject and HeadObject pass through unchanged, body and headers included', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 7); // streamed in chunks, and past 2 MiB the SDK sends Expect: 100-continue
    await via.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'through', Body: body, ServerSideEncryption: 'AES256', Metadata: { owner: 'alice' } }));
    const head = await via.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'through' }));
    const straight = await direct.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'through' }));
    expect(head).toMatchObject({ ETag: straight.ETag, ContentLength: body.length, ServerSideEncryption: 'AES256', Metadata: { owner: 'alice' } });
    const got = await via.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'through' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    expect(proxy.stats()).toEqual({
      requests: { 's3:PutObject': 1, 's3:HeadObject': 1, 's3:GetObject': 1 },
      forwarded: { 's3:PutObject': 1, 's3:HeadObject': 1, 's3:GetObject': 1 },
      faults: {},
    });
  });

  test('a DynamoDB PutItem passes through unchanged', async () => {
    await via.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'a' }, n: { N: '7' } } }));
    const { Item } = await direct.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' } } }));
    expect(Item).toEqual({ pk: { S: 'a' }, n: { N: '7' } });
    expect(proxy.stats().forwarded).toEqual({ 'dynamodb:PutItem': 1 });
  });

  test('names the service and operation of each request as the SDK sends it', async () => {
    const s3 = via.s3;
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy', CopySource: `${BUCKET}/seed` }));
    await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    await s3.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'seed' }));
    await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'seed' }));
    await s3.send(new GetBucketEncryptionCommand({ Bucket: BUCKET })).catch(() => undefined);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'multi' }));
    const part = await s3.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: 'multi', UploadId, PartNumber: 1, CopySource: `${BUCKET}/seed` }));
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: BUCKET, Key: 'multi', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag! }] },
    }));
    // Counted whatever the emulator answers: only the request's shape matters here.
    await s3.send(new UpdateObjectEncryptionCommand({ Bucket: BUCKET, Key: 'seed', ObjectEncryption: { SSEKMS: { KMSKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/x' } } })).catch(() => undefined);
    const { KeyMetadata } = await via.kms.send(new CreateKeyCommand({}));
    await via.kms.send(new DescribeKeyCommand({ KeyId: KeyMetadata!.KeyId! }));
    await via.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: { pk: { S: 't' } } } }] }));
    const { QueueUrl } = await via.sqs.send(new CreateQueueCommand({ QueueName: 'fault-proxy' }));
    await via.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));

    expect(Object.keys(proxy.stats().requests).sort()).toEqual([
      'dynamodb:TransactWriteItems', 'kms:CreateKey', 'kms:DescribeKey',
      's3:CompleteMultipartUpload', 's3:CopyObject', 's3:CreateMultipartUpload', 's3:GetBucketEncryption', 's3:GetObjectAcl',
      's3:GetObjectTagging', 's3:ListObjectsV2', 's3:UpdateObjectEncryption', 's3:UploadPartCopy',
      'sqs:CreateQueue', 'sqs:SendMessage',
    ]);
  });
});

describe('each fault reaches the SDK as AWS would send it', () => {
  test('S3 throttle: SlowDown 503, throttling', async () => {
    proxy.setRules([{ service: 's3', rate: 1, kind: 'throttle' }]);
    const error = await failure(via.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'seed' })));
    expect(classify(error)).toEqual({ name: 'SlowDown', status: 503, throttling: true, transient: true });
    expect(error.message).toBe('Please reduce your request rate.');
  });

  // Real S3 sends no body with a HEAD error; the SDK has no code to read and calls it 'Unknown'.
  test('S3 throttle on HEAD: status only, so the SDK sees Unknown 503 (transient, not throttling)', async () => {
    proxy.setRules([{ service: 's3', operation: 'HeadObject', rate: 1, kind: 'throttle' }]);
    const error = await failure(via.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'seed' })));
    expect(classify(error)).toEqual({ name: 'Unknown', status: 503, throttling: false, transient: true });
  });

  test('S3 server-error: InternalError 500, transient, answered before the body of an Expect: 100-continue upload', async () => {
    proxy.setRules([{ service: 's3', rate: 1, kind: 'server-error' }]);
    const started = Date.now();
    const error = await failure(via.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x', Body: Buffer.alloc(3 * 1024 * 1024) })));
    expect(classify(error)).toEqual({ name: 'InternalError', status: 500, throttling: false, transient: true });
    expect(Date.now() - started).toBeLessThan(3000); // no wait for a 100 Continue that never comes
  });

  test('DynamoDB throttle: ProvisionedThroughputExceededException, then ThrottlingException, both throttling', async () => {
    proxy.setRules([{ service: 'dynamodb', operation: 'TransactWriteItems', rate: 1, kind: 'throttle' }]);
    const write = () => via.dynamodb.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: { pk: { S: 'x' } } } }] }));
    expect(classify(await failure(write()))).toEqual({ name: 'ProvisionedThroughputExceededException', status: 400, throttling: true, transient: false });
    expect(classify(await failure(write()))).toEqual({ name: 'ThrottlingException', status: 400, throttling: true, transient: false });
  });

  test('DynamoDB server-error: InternalServerError 500, transient', async () => {
    proxy.setRules([{ service: 'dynamodb', rate: 1, kind: 'server-error' }]);
    const error = await failure(via.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' } } })));
    expect(classify(error)).toEqual({ name: 'InternalServerError', status: 500, throttling: false, transient: true });
  });

  test('KMS throttle: ThrottlingException 400, throttling; server-error: KMSInternalException 500', async () => {
    proxy.setRules([{ service: 'kms', operation: 'DescribeKey', rate: 1, kind: 'throttle' }]);
    const throttled = await failure(via.kms.send(new DescribeKeyCommand({ KeyId: 'alias/any' })));
    expect(classify(throttled)).toEqual({ name: 'ThrottlingException', status: 400, throttling: true, transient: false });
    proxy.setRules([{ service: 'kms', rate: 1, kind: 'server-error' }]);
    const failed = await failure(via.kms.send(new DescribeKeyCommand({ KeyId: 'alias/any' })));
    expect(classify(failed)).toEqual({ name: 'KMSInternalException', status: 500, throttling: false, transient: true });
  });

  test('SQS throttle: RequestThrottled, throttling', async () => {
    proxy.setRules([{ service: 'sqs', rate: 1, kind: 'throttle' }]);
    const error = await failure(via.sqs.send(new SendMessageCommand({ QueueUrl: `${emulator}/123456789012/nowhere`, MessageBody: 'x' })));
    expect(classify(error)).toEqual({ name: 'RequestThrottled', status: 403, throttling: true, transient: false });
  });

  test('the SDK retries an injected throttle as it would a real one', async () => {
    proxy.setRules([{ service: 's3', rate: 1, kind: 'throttle' }]);
    const retrying = clients(proxy.endpoint, 2);
    const error = await failure(retrying.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'seed' })));
    expect(error.$metadata?.attempts).toBe(2);
    expect(proxy.stats().faults).toEqual({ 's3:GetObject:throttle': 2 });
  });

  // @smithy/node-http-handler renames socket errors with a timeout-like code (ECONNRESET…) to TimeoutError.
  test('reset: the connection is dropped, the SDK sees ECONNRESET (transient)', async () => {
    proxy.setRules([{ service: 's3', rate: 1, kind: 'reset' }]);
    const error = await failure(via.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'seed' })));
    expect({ name: error.name, code: error.code }).toEqual({ name: 'TimeoutError', code: 'ECONNRESET' });
    expect(isTransientError(error)).toBe(true);
  });

  test('truncate, by path: that one object\'s body stops halfway and the read fails; other objects pass untouched', async () => {
    const direct = clients(emulator);
    await direct.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reports/data/one.csv.gz', Body: Buffer.alloc(64 * 1024, 7) }));
    proxy.setRules([{ service: 's3', operation: 'GetObject', path: /\/reports\/data\//, rate: 1, kind: 'truncate' }]);
    const cut = await via.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'reports/data/one.csv.gz' }));
    expect(cut.ContentLength).toBe(64 * 1024);
    await expect(cut.Body!.transformToByteArray()).rejects.toThrow();
    const whole = await via.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'seed' }));
    expect((await whole.Body!.transformToByteArray()).length).toBeGreaterThan(0);
    expect(proxy.stats().faults).toEqual({ 's3:GetObject:truncate': 1 });
  });

  test('black-hole: the request is never answered, the SDK gives up with TimeoutError', async () => {
    proxy.setRules([{ service: 's3', operation: 'HeadObject', rate: 1, kind: 'black-hole' }]);
    const impatient = clients(proxy.endpoint, 1, { requestTimeout: 500, throwOnRequestTimeout: true });
    const started = Date.now();
    const error = await failure(impatient.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'seed' })));
    expect(error.name).toBe('TimeoutError');
    expect(isTransientError(error)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(proxy.stats().faults).toEqual({ 's3:HeadObject:black-hole': 1 });
  });
});

describe('rates and counts', () => {
  test('the wire log tells one logical call from its retries: an attempt that outlasts the timeout and the SDK\'s retry of it share one invocation id, numbered 1 and 2', async () => {
    proxy.setRules([{ service: 's3', operation: 'HeadObject', rate: 1, kind: 'black-hole', times: 1 }]);
    const patient = clients(proxy.endpoint, 2, { requestTimeout: 500, throwOnRequestTimeout: true });
    const head = await patient.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'seed' }));
    expect(head.$metadata.attempts).toBe(2);
    await patient.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'seed' }));
    patient.s3.destroy();
    const wire = proxy.wireRequests();
    expect(wire.map(({ invocation: _, ...rest }) => rest)).toEqual([
      { key: 's3:HeadObject', path: `/${BUCKET}/seed`, attempt: 1, fault: 'black-hole' },
      { key: 's3:HeadObject', path: `/${BUCKET}/seed`, attempt: 2, status: 200 },
      { key: 's3:HeadObject', path: `/${BUCKET}/seed`, attempt: 1, status: 200 },
    ]);
    // Two logical calls: the first took two attempts.
    expect(wire[0]!.invocation).toMatch(/^[0-9a-f-]{36}$/);
    expect(wire[1]!.invocation).toBe(wire[0]!.invocation);
    expect(wire[2]!.invocation).not.toBe(wire[0]!.invocation);
    expect(logicalCalls(wire)).toEqual([
      { key: 's3:HeadObject', path: `/${BUCKET}/seed`, attempts: [1, 2] },
      { key: 's3:HeadObject', path: `/${BUCKET}/seed`, attempts: [1] },
    ]);
    proxy.resetStats();
    expect(proxy.wireRequests()).toEqual([]);
  });

  test('rate 0.3 over 1,000 requests injects about 300, the same number on every run', async () => {
    const run = async () => {
      proxy.setRules([{ service: 's3', operation: 'HeadObject', rate: 0.3, kind: 'server-error' }]);
      proxy.resetStats();
      let next = 0;
      const worker = async () => {
        while (next++ < 1000) await via.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'seed' })).catch(() => undefined);
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      return proxy.stats();
    };
    const first = await run();
    const injected = first.faults['s3:HeadObject:server-error'] ?? 0;
    expect(first.requests).toEqual({ 's3:HeadObject': 1000 });
    expect(injected).toBeGreaterThan(250);
    expect(injected).toBeLessThan(350);
    expect(first.forwarded['s3:HeadObject']).toBe(1000 - injected);
    // One draw per matching request from a re-seeded PRNG: the count does not depend on arrival order.
    expect((await run()).faults['s3:HeadObject:server-error']).toBe(injected);
  }, 60_000);

  test('rules match by service and operation; the first matching rule decides', async () => {
    proxy.setRules([
      { service: 's3', operation: 'HeadObject', rate: 0, kind: 'throttle' },
      { service: '*', rate: 1, kind: 'server-error' },
    ]);
    await via.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'seed' }));
    await failure(via.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'seed' })));
    await failure(via.kms.send(new DescribeKeyCommand({ KeyId: 'alias/any' })));
    expect(proxy.stats()).toEqual({
      requests: { 's3:HeadObject': 1, 's3:GetObject': 1, 'kms:DescribeKey': 1 },
      forwarded: { 's3:HeadObject': 1 },
      faults: { 's3:GetObject:server-error': 1, 'kms:DescribeKey:server-error': 1 },
    });
    expect(sum(proxy.stats().requests)).toBe(3);
  });

  test("the emulator's control plane passes through uncounted, even under a catch-all rule", async () => {
    proxy.setRules([{ rate: 1, kind: 'reset' }]);
    const response = await fetch(`${proxy.endpoint}/moto-api/`);
    expect(response.ok).toBe(true);
    expect(proxy.stats()).toEqual({ requests: {}, forwarded: {}, faults: {} });
  });

  test('refuses rates outside 0..1 and targets off loopback', async () => {
    expect(() => proxy.setRules([{ rate: 1.5, kind: 'throttle' }])).toThrow(/0\.\.1/);
    await expect(startFaultProxy({ target: 'http://example.com:80' })).rejects.toThrow(/loopback/);
  });
});

describe('dead endpoints and shutdown', () => {
  test('close() ends held black-hole sockets, so nothing keeps the process alive', async () => {
    const own = await startFaultProxy({ target: emulator, rules: [{ rate: 1, kind: 'black-hole' }] });
    const url = new URL(own.endpoint);
    const ended = new Promise<string>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, path: `/${BUCKET}/seed`, method: 'GET' }, () => resolve('answered'));
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      req.end();
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(own.stats().faults).toEqual({ 's3:GetObject:black-hole': 1 });
    await own.close();
    expect(await ended).toBe('ECONNRESET');
  });

  test('startBlackHole: connections are accepted and never answered', async () => {
    const hole = await startBlackHole();
    const impatient = clients(hole.endpoint, 1, { requestTimeout: 300, throwOnRequestTimeout: true });
    const error = await failure(impatient.kms.send(new DescribeKeyCommand({ KeyId: 'alias/any' })));
    expect(error.name).toBe('TimeoutError');
    await hole.close();
  });
});
