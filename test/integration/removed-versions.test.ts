// A permanent delete of an object's current version makes the previous version current again. S3
// says which version went (ObjectRemoved:Delete, or EventBridge "Object Deleted" of deletion-type
// "Permanently Deleted", with its version id); the version that becomes current is older by
// definition, so "an older version never replaces a newer one" alone would keep the deleted,
// compliant version on record and never record the one now current. The removal of the recorded
// version lets the version a HeadObject finds current replace it; nothing else older does.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { handler } from '../../functions/audit-worker.ts';
import { auditAfterRecordedVersionGone, isTransient } from '../../shared/audit/audit-batch.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { createBucket, createKey, enableVersioning, type TestKey } from '../support/aws-fixtures.ts';
import { runCli } from '../support/cli.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

const BUCKET = 'removed-versions';
const dir = mkdtempSync(join(tmpdir(), 'sseguard-removed-'));
const policyPath = join(dir, 'policy.yaml');
writeFileSync(policyPath, 'version: 1\ndefault:\n  require: sse-kms\n');
Object.assign(process.env, { SSEGUARD_TABLE: 'removed-versions-findings', SSEGUARD_POLICY: policyPath });

const context = localLambdaContext('audit-worker');
const runtime = () => createRuntime(loadConfig());
let key: TestKey;

/** One SQS delivery of `bodies`, as Lambda's event source mapping hands it to the worker. */
const sqsEvent = (...bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({
    messageId: `m-${i}-${Date.now()}`,
    receiptHandle: 'r',
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 's', ApproximateFirstReceiveTimestamp: String(Date.now()) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:audit',
    awsRegion: 'us-east-1',
  })),
});

/** An S3 event notification record, in the shape of AWS's published example (test/events/published/). */
const s3Notification = (eventName: string, objectKey: string, object: { versionId?: string; sequencer: string; eTag?: string; size?: number }) => ({
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: new Date().toISOString(),
      eventName,
      userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
      requestParameters: { sourceIPAddress: '203.0.113.10' },
      responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'sseguard-audit',
        bucket: { name: BUCKET, ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: `arn:aws:s3:::${BUCKET}` },
        object: { key: encodeURIComponent(objectKey), ...object },
      },
    },
  ],
});

/** EventBridge "Object Deleted", in the shape of Powertools' published fixture (test/events/published/). */
const objectDeleted = (objectKey: string, versionId: string, deletionType: 'Permanently Deleted' | 'Delete Marker Created', sequencer: string) => ({
  version: '0',
  id: '2ee9cc15-d022-99ea-1fb8-1b1bac4850f9',
  'detail-type': 'Object Deleted',
  source: 'aws.s3',
  account: '111122223333',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [`arn:aws:s3:::${BUCKET}`],
  detail: {
    version: '0',
    bucket: { name: BUCKET },
    object: { key: objectKey, 'version-id': versionId, sequencer },
    'request-id': '0BH729840619AG5K',
    requester: '123456789012',
    'source-ip-address': '34.252.34.74',
    reason: 'DeleteObject',
    'deletion-type': deletionType,
  },
});

async function stateOf(objectKey: string): Promise<StoredFinding | undefined> {
  return (await runtime().store.statesOf(BUCKET, [objectKey])).get(objectKey);
}

/** An SSE-S3 version, then a compliant SSE-KMS version on top; the scan records the current one. */
async function twoVersions(objectKey: string): Promise<{ older: string; newer: string }> {
  const { s3 } = runtime().clients;
  const older = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: 'older', ServerSideEncryption: 'AES256' }));
  // LastModified has one-second resolution: the versions must be told apart by it, as on AWS.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const newer = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: 'newer', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: key.arn }));
  return { older: older.VersionId!, newer: newer.VersionId! };
}

const scan = () => runCli(['scan', '--bucket', BUCKET, '--json']);

beforeAll(async () => {
  resetHandlerRuntime();
  const { config, clients } = runtime();
  await ensureFindingsTable(clients.dynamodb, config.table);
  await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  await createBucket(clients, BUCKET);
  await enableVersioning(clients, BUCKET);
  key = await createKey(clients);
});

describe('the current version deleted permanently: the version now current replaces it on record', () => {
  test('S3 notification ObjectRemoved:Delete: the deleted compliant version leaves, the SSE-S3 version now current is recorded; a late create event of the deleted version does not bring it back', async () => {
    const { older, newer } = await twoVersions('notified.txt');
    expect((await scan()).code).toBe(0);
    expect(await stateOf('notified.txt')).toMatchObject({ versionId: newer, mode: 'sse-kms', verdict: 'compliant' });

    await runtime().clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'notified.txt', VersionId: newer }));
    const removal = s3Notification('ObjectRemoved:Delete', 'notified.txt', { versionId: newer, sequencer: '0055AED6DCD90281F0' });
    expect(await handler(sqsEvent(removal), context)).toEqual({ batchItemFailures: [] });
    expect(await stateOf('notified.txt')).toMatchObject({ versionId: older, mode: 'sse-s3', verdict: 'noncompliant' });
    expect((await runtime().store.summary()).buckets[BUCKET]).toMatchObject({ objects: 1, verdicts: { noncompliant: 1 } });

    // Out of order: the creation of the deleted version, delivered late, and the removal again.
    const lateCreate = s3Notification('ObjectCreated:Put', 'notified.txt', { versionId: newer, sequencer: '0055AED6DCD90281E5', eTag: 'x', size: 5 });
    expect(await handler(sqsEvent(lateCreate, removal), context)).toEqual({ batchItemFailures: [] });
    expect(await stateOf('notified.txt')).toMatchObject({ versionId: older, mode: 'sse-s3', verdict: 'noncompliant' });
    expect((await runtime().store.summary()).buckets[BUCKET]).toMatchObject({ objects: 1, verdicts: { noncompliant: 1 } });
  }, 60_000);

  test('EventBridge "Object Deleted" (Permanently Deleted): the same, from the EventBridge shape', async () => {
    const { older, newer } = await twoVersions('bridged.txt');
    expect((await scan()).code).toBe(1);
    expect(await stateOf('bridged.txt')).toMatchObject({ versionId: newer, verdict: 'compliant' });
    await runtime().clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'bridged.txt', VersionId: newer }));
    expect(await handler(sqsEvent(objectDeleted('bridged.txt', newer, 'Permanently Deleted', '0055AED6DCD90281F0')), context)).toEqual({ batchItemFailures: [] });
    expect(await stateOf('bridged.txt')).toMatchObject({ versionId: older, mode: 'sse-s3', verdict: 'noncompliant' });
  }, 60_000);

  test('a delete marker (ObjectRemoved:DeleteMarkerCreated, and "Delete Marker Created"): the object leaves the findings, as before', async () => {
    const { s3 } = runtime().clients;
    for (const [objectKey, shape] of [['marked-s3.txt', 's3'], ['marked-bridge.txt', 'eventbridge']] as const) {
      await twoVersions(objectKey);
      expect(await scan()).toMatchObject({ stderr: '' });
      expect(await stateOf(objectKey)).toMatchObject({ verdict: 'compliant' });
      const { VersionId: marker } = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: objectKey }));
      const event =
        shape === 's3'
          ? s3Notification('ObjectRemoved:DeleteMarkerCreated', objectKey, { versionId: marker!, sequencer: '0055AED6DCD90281F0' })
          : objectDeleted(objectKey, marker!, 'Delete Marker Created', '0055AED6DCD90281F0');
      expect(await handler(sqsEvent(event), context)).toEqual({ batchItemFailures: [] });
      expect(await stateOf(objectKey)).toBeUndefined();
    }
  }, 60_000);

  test('the CLI scan after a permanent delete it heard no event of: the version now current replaces the deleted one', async () => {
    const { older, newer } = await twoVersions('scanned.txt');
    await scan();
    expect(await stateOf('scanned.txt')).toMatchObject({ versionId: newer, verdict: 'compliant' });
    await runtime().clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'scanned.txt', VersionId: newer }));
    const run = await scan();
    expect(run.stderr).toBe('');
    expect(await stateOf('scanned.txt')).toMatchObject({ versionId: older, mode: 'sse-s3', verdict: 'noncompliant' });
  }, 60_000);
});

describe('the check of a recorded version under faults: weather is never taken for a deletion', () => {
  let proxy: FaultProxy;
  afterAll(async () => {
    await proxy?.close();
  });

  test.each([['throttle'], ['server-error']] as const)('HeadObject of the recorded version answering %s after the SDK\'s retries: nothing is recorded, the recorded version stays; once S3 answers, the version now current replaces it', async (kind) => {
    const objectKey = `weather-${kind}.txt`;
    const { older, newer } = await twoVersions(objectKey);
    await scan();
    expect(await stateOf(objectKey)).toMatchObject({ versionId: newer });
    await runtime().clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: objectKey, VersionId: newer }));

    proxy ??= await startFaultProxy({ target: inject('emulatorEndpoint'), seed: 3 });
    const through = createRuntime(loadConfig({ ...process.env, AWS_ENDPOINT_URL: proxy.endpoint }));
    const deps = { ...(await scanDependencies(through)), store: through.store };

    proxy.setRules([{ service: 's3', operation: 'HeadObject', rate: 1, kind }]);
    const recheck = { finding: { ...(await stateOf(objectKey))!, versionId: older }, recordedVersionId: newer };
    // Weather, not a verdict: handed back as transient (never recorded by the callers), so a retry settles it.
    const during = await auditAfterRecordedVersionGone(deps, BUCKET, recheck);
    expect(during && isTransient(during)).toBe(true);
    expect(proxy.stats().faults[`s3:HeadObject:${kind}`]).toBeGreaterThan(0);
    expect(await stateOf(objectKey)).toMatchObject({ versionId: newer });

    proxy.setRules([]);
    const after = await auditAfterRecordedVersionGone(deps, BUCKET, recheck);
    expect(after).toMatchObject({ versionId: older, afterRemovalOf: newer, mode: 'sse-s3' });
    await through.store.record([after!]);
    expect(await stateOf(objectKey)).toMatchObject({ versionId: older, verdict: 'noncompliant' });
  }, 60_000);
});
