import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelKeyDeletionCommand, DescribeKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Pluggable } from '@smithy/types';
import type { SQSEvent } from 'aws-lambda';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { reportCommand } from '../../cli/commands/report.ts';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { handlerRuntime, resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { handler, type KeyEventResult } from '../../functions/key-events.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseKeyEvent } from '../../shared/events/key-events.ts';
import { keysView } from '../../shared/report/overview.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { KEYACTIONS_PK, STATE_SK, objectPk } from '../../shared/findings/table.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { createBucket, createKey, disableKey, putObject, scheduleDeletion, type TestKey } from '../support/aws-fixtures.ts';
import { drainQueue } from '../support/sqs-event-source.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';

Object.assign(process.env, { SSEGUARD_TABLE: 'key-event-findings', SSEGUARD_QUEUE: 'key-event-audit', SSEGUARD_DLQ: 'key-event-audit-dlq' });
delete process.env.SSEGUARD_POLICY;

const context = localLambdaContext('key-events');
const workerContext = localLambdaContext('audit-worker');
const sample = JSON.parse(readFileSync(new URL('../events/kms-disable-key.json', import.meta.url), 'utf8'));
/** The CloudTrail event EventBridge delivers for `call` on `key` (recorded shape, test/events/). */
function cloudTrailEvent(call: string, key: TestKey) {
  return {
    ...sample,
    detail: { ...sample.detail, eventName: call, requestParameters: { keyId: key.id }, resources: [{ ...sample.detail.resources[0], ARN: key.arn }] },
  };
}

let key: TestKey;
let other: TestKey;
let queueUrl: string;
const runtime = () => createRuntime(loadConfig());
async function states(bucket: string): Promise<Map<string, StoredFinding>> {
  const byKey = new Map<string, StoredFinding>();
  for await (const page of runtime().store.findings({ bucket })) for (const f of page) byKey.set(f.key, f);
  return byKey;
}
async function verdicts(bucket: string) {
  return Object.fromEntries([...(await states(bucket))].map(([k, f]) => [k, f.verdict]));
}
const reevaluated = async (call: string, k: TestKey) => (await handler(cloudTrailEvent(call, k), context)) as KeyEventResult & { status: 'reevaluated' };
const keyState = async (k: TestKey) => (await runtime().clients.kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata?.KeyState;
/** A client-side (S3 Encryption Client v2, KMS-wrapped) object whose server-side layer is SSE-KMS. */
const putClientSideOverKms = (bucket: string, objectKey: string, k: TestKey) =>
  runtime().clients.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: objectKey,
      Body: Buffer.alloc(48, 7),
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: k.arn,
      Metadata: { 'x-amz-key-v2': 'a2V5', 'x-amz-iv': 'aXY=', 'x-amz-cek-alg': 'AES/GCM/NoPadding', 'x-amz-wrap-alg': 'kms', 'x-amz-matdesc': '{}' },
    }),
  );
const scan = async (bucket: string) => scanBucket(await scanDependencies(runtime()), { bucket, concurrency: 4 });

beforeAll(async () => {
  const current = runtime();
  await ensureFindingsTable(current.clients.dynamodb, current.config.table);
  await ensureIdempotencyTable(current.clients.dynamodb, current.config.idempotencyTable);
  ({ queueUrl } = await ensureQueues(current.clients.sqs, current.config));
  key = await createKey(current.clients, { rotation: true });
  other = await createKey(current.clients, { rotation: true });
  for (const bucket of ['keyed-a', 'keyed-b']) {
    await createBucket(current.clients, bucket);
    await putObject(current.clients, bucket, 'under-key.bin', { mode: 'sse-kms', key });
    await putObject(current.clients, bucket, 'other-key.bin', { mode: 'sse-kms', key: other });
    await putObject(current.clients, bucket, 'sse-s3.bin', { mode: 'sse-s3' });
    await scan(bucket);
  }
  resetHandlerRuntime();
});

afterEach(() => {
  delete process.env.SSEGUARD_POLICY;
  resetHandlerRuntime();
});

describe('key-state events re-evaluate every object under the key, in every bucket', () => {
  test('DisableKey raises at-risk; EnableKey clears it; other objects are untouched', async () => {
    await disableKey(runtime().clients, key);
    const disabled = await reevaluated('DisableKey', key);
    expect(disabled).toMatchObject({ status: 'reevaluated', objects: 2, verdicts: { 'at-risk': 2 }, queued: { messages: 0 } });
    for (const bucket of ['keyed-a', 'keyed-b']) {
      expect(await verdicts(bucket)).toEqual({ 'under-key.bin': 'at-risk', 'other-key.bin': 'compliant', 'sse-s3.bin': 'compliant' });
    }
    expect((await runtime().store.summary()).keyFacts[key.arn]).toMatchObject({ state: 'Disabled' });

    await runtime().clients.kms.send(new EnableKeyCommand({ KeyId: key.id }));
    expect(await reevaluated('EnableKey', key)).toMatchObject({ objects: 2, verdicts: { compliant: 2 } });
    expect((await verdicts('keyed-a'))['under-key.bin']).toBe('compliant');
    const history = await runtime().store.history('keyed-a', 'under-key.bin');
    expect(history.map((h) => h.verdict)).toEqual(['compliant', 'at-risk', 'compliant']);
  });

  test('ScheduleKeyDeletion is raised with the deletion date, objects and bytes; by default the key is left alone', async () => {
    await scheduleDeletion(runtime().clients, key);
    const scheduled = await reevaluated('ScheduleKeyDeletion', key);
    const bytes = [...(await states('keyed-a')).values(), ...(await states('keyed-b')).values()]
      .filter((f) => f.kmsKeyArn === key.arn)
      .reduce((sum, f) => sum + f.size, 0);
    expect(bytes).toBeGreaterThan(0);
    expect(scheduled).toMatchObject({ blastRadius: { objects: 2, bytes }, deletion: { date: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), objects: 2, bytes } });
    expect(scheduled.deletionCancelled).toBeUndefined();
    expect(await keyState(key)).toBe('PendingDeletion');

    const state = (await states('keyed-b')).get('under-key.bin');
    expect(state).toMatchObject({ verdict: 'at-risk', reasons: [{ code: 'kms-key-pending-deletion' }], kmsKeyDeletionDate: scheduled.deletion!.date });
    expect(state?.reasons[0]?.message).toContain(`deletion on ${scheduled.deletion!.date}`);
    // What `sseguard report` and the report API's keys read: the key's facts beside its counter.
    const summary = await runtime().store.summary();
    expect(summary.keyFacts[key.arn]).toMatchObject({ state: 'PendingDeletion', deletionDate: scheduled.deletion!.date });
    expect(summary.kmsKeys[key.arn]).toMatchObject({ objects: 2, bytes, verdicts: { 'at-risk': 2 } });
    expect(keysView(summary)[0]).toMatchObject({ arn: key.arn, atRisk: true, state: 'PendingDeletion', deletionDate: scheduled.deletion!.date, objects: 2, bytes });
    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    await reportCommand(runtime().config, { format: 'table' }, out);
    const row = printed.split('\n').find((line) => line.includes(key.arn));
    expect(row).toMatch(new RegExp(`PendingDeletion \\(deletes ${scheduled.deletion!.date.slice(0, 10)}\\).*\\b2\\b`));

    await runtime().clients.kms.send(new CancelKeyDeletionCommand({ KeyId: key.id }));
    await runtime().clients.kms.send(new EnableKeyCommand({ KeyId: key.id }));
    await reevaluated('CancelKeyDeletion', key);
    expect((await verdicts('keyed-b'))['under-key.bin']).toBe('compliant');
    expect((await states('keyed-b')).get('under-key.bin')).not.toHaveProperty('kmsKeyDeletionDate');
  });

  test('with keyDeletion.cancelWhileObjectsDepend, a deletion of a key objects depend on is cancelled and recorded', async () => {
    const guarded = await createKey(runtime().clients, { rotation: true });
    await createBucket(runtime().clients, 'guarded');
    await putObject(runtime().clients, 'guarded', 'precious.bin', { mode: 'sse-kms', key: guarded });
    await scan('guarded');
    const dir = mkdtempSync(join(tmpdir(), 'sseguard-key-events-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ version: 1, keyDeletion: { cancelWhileObjectsDepend: true } }));
    process.env.SSEGUARD_POLICY = join(dir, 'policy.json');
    resetHandlerRuntime();

    await scheduleDeletion(runtime().clients, guarded);
    const result = await reevaluated('ScheduleKeyDeletion', guarded);
    expect(result.deletionCancelled).toMatchObject({ action: 'cancel-key-deletion', outcome: 'cancelled', keyArn: guarded.arn, objects: 1, deletionDate: result.deletion!.date });
    // KMS leaves a key whose deletion was cancelled Disabled: its objects stay at-risk until someone enables it.
    expect(await keyState(guarded)).toBe('Disabled');
    expect(result.key).toMatchObject({ state: 'Disabled' });
    expect((await states('guarded')).get('precious.bin')).toMatchObject({ verdict: 'at-risk', reasons: [{ code: 'kms-key-disabled' }] });
    const { Items = [] } = await runtime().clients.documents.send(
      new QueryCommand({ TableName: runtime().config.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': KEYACTIONS_PK } }),
    );
    expect(Items).toEqual([expect.objectContaining({ keyArn: guarded.arn, outcome: 'cancelled', objects: 1, deletionDate: result.deletion!.date })]);
  });
});

describe('key changes under faults', () => {
  test('a cancellation whose answer was lost: the SDK retry finds the deletion already cancelled, and it is recorded as cancelled, not failed', async () => {
    const guarded = await createKey(runtime().clients, { rotation: true });
    await createBucket(runtime().clients, 'guarded-lost');
    await putObject(runtime().clients, 'guarded-lost', 'precious.bin', { mode: 'sse-kms', key: guarded });
    await scan('guarded-lost');
    const dir = mkdtempSync(join(tmpdir(), 'sseguard-key-events-'));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ version: 1, keyDeletion: { cancelWhileObjectsDepend: true } }));
    process.env.SSEGUARD_POLICY = join(dir, 'policy.json');
    const kmsEndpoint = process.env.AWS_ENDPOINT_URL_KMS;
    const proxy = await startFaultProxy({
      target: kmsEndpoint ?? process.env.AWS_ENDPOINT_URL!,
      rules: [{ service: 'kms', operation: 'CancelKeyDeletion', rate: 1, kind: 'lost-response', times: 1 }],
    });
    process.env.AWS_ENDPOINT_URL_KMS = proxy.endpoint;
    resetHandlerRuntime();
    try {
      await scheduleDeletion(runtime().clients, guarded);
      const result = await reevaluated('ScheduleKeyDeletion', guarded);
      expect(proxy.stats().faults['kms:CancelKeyDeletion:lost-response']).toBe(1);
      expect(proxy.stats().requests['kms:CancelKeyDeletion']).toBe(2);
      expect(result.deletionCancelled).toMatchObject({ action: 'cancel-key-deletion', outcome: 'cancelled', keyArn: guarded.arn, objects: 1 });
      expect(await keyState(guarded)).toBe('Disabled');
    } finally {
      if (kmsEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_KMS;
      else process.env.AWS_ENDPOINT_URL_KMS = kmsEndpoint;
      await proxy.close();
    }
  });
});

describe('key events go through the one audit pipeline', () => {
  test('a client-side object over SSE-KMS under a disabled key is raised to at-risk (its envelope is kept with the finding)', async () => {
    const sealed = await createKey(runtime().clients, { rotation: true });
    await createBucket(runtime().clients, 'sealed');
    await putClientSideOverKms('sealed', 'envelope.bin', sealed);
    await scan('sealed');
    expect((await states('sealed')).get('envelope.bin')).toMatchObject({ mode: 'client-side', verdict: 'compliant', kmsKeyArn: sealed.arn });
    // The evidence the recorded facts rest on (here as the inventory tier records it) stays theirs.
    await runtime().clients.documents.send(
      new UpdateCommand({
        TableName: runtime().config.table,
        Key: { pk: objectPk('sealed', 'envelope.bin'), sk: STATE_SK },
        UpdateExpression: 'SET evidence = :e, evidenceAt = :at',
        ExpressionAttributeValues: { ':e': 'inventory', ':at': '2026-11-30T00:00:00.000Z' },
      }),
    );

    await disableKey(runtime().clients, sealed);
    expect(await reevaluated('DisableKey', sealed)).toMatchObject({ objects: 1, verdicts: { 'at-risk': 1 } });
    expect((await states('sealed')).get('envelope.bin')).toMatchObject({
      mode: 'client-side',
      verdict: 'at-risk',
      reasons: [{ code: 'kms-key-disabled' }],
      facts: { clientSide: { envelope: 'v2', serverSideMode: 'sse-kms' } },
      evidence: 'inventory',
      evidenceAt: '2026-11-30T00:00:00.000Z',
    });
  });

  test('a state recorded before its facts were kept is audited afresh with HeadObject, never guessed', async () => {
    const legacy = await createKey(runtime().clients, { rotation: true });
    await createBucket(runtime().clients, 'legacy');
    await putClientSideOverKms('legacy', 'old.bin', legacy);
    await scan('legacy');
    // As an older sseguard recorded it: no facts beside the finding.
    await runtime().clients.documents.send(
      new UpdateCommand({ TableName: runtime().config.table, Key: { pk: objectPk('legacy', 'old.bin'), sk: STATE_SK }, UpdateExpression: 'REMOVE facts' }),
    );
    expect((await states('legacy')).get('old.bin')).not.toHaveProperty('facts');

    await disableKey(runtime().clients, legacy);
    expect(await reevaluated('DisableKey', legacy)).toMatchObject({ objects: 1, verdicts: { 'at-risk': 1 } });
    expect((await states('legacy')).get('old.bin')).toMatchObject({ verdict: 'at-risk', facts: { clientSide: { serverSideMode: 'sse-kms' } } });
  });

  test('a large blast radius fans out to the audit queue in pages; the worker drains them; EnableKey clears them the same way', async () => {
    const big = await createKey(runtime().clients, { rotation: true });
    await createBucket(runtime().clients, 'fanout');
    for (let start = 0; start < 250; start += 25) {
      await Promise.all(Array.from({ length: 25 }, (_, i) => putObject(runtime().clients, 'fanout', `o-${String(start + i).padStart(3, '0')}`, { mode: 'sse-kms', key: big })));
    }
    await scan('fanout');
    const seen: { kind: string; keyArn: string; objects: unknown[] }[] = [];
    const worker = async (event: SQSEvent, ctx: typeof workerContext) => {
      for (const record of event.Records) seen.push(JSON.parse(record.body));
      return auditWorker(event, ctx);
    };

    await disableKey(runtime().clients, big);
    const disabled = await reevaluated('DisableKey', big);
    // Nothing re-evaluated inline: three pages of at most 100 objects wait on the queue.
    expect(disabled).toMatchObject({ blastRadius: { objects: 250 }, objects: 0, queued: { messages: 3, objects: 250 } });
    expect(await drainQueue(runtime().clients.sqs, queueUrl, worker, workerContext)).toEqual([]);
    expect(seen.map((m) => [m.kind, m.keyArn, m.objects.length]).sort()).toEqual([
      ['sseguard.key-reevaluation', big.arn, 100],
      ['sseguard.key-reevaluation', big.arn, 100],
      ['sseguard.key-reevaluation', big.arn, 50],
    ]);
    const atRisk = await states('fanout');
    expect(atRisk.size).toBe(250);
    expect(new Set([...atRisk.values()].map((f) => f.verdict))).toEqual(new Set(['at-risk']));
    const counted = (await runtime().store.summary()).kmsKeys[big.arn]?.verdicts;
    expect([counted?.['at-risk'], counted?.compliant ?? 0]).toEqual([250, 0]);

    await runtime().clients.kms.send(new EnableKeyCommand({ KeyId: big.id }));
    expect(await reevaluated('EnableKey', big)).toMatchObject({ queued: { messages: 3, objects: 250 } });
    expect(await drainQueue(runtime().clients.sqs, queueUrl, worker, workerContext)).toEqual([]);
    expect(new Set([...(await states('fanout')).values()].map((f) => f.verdict))).toEqual(new Set(['compliant']));
  }, 120_000);
});

describe('what a key event cannot decide now is never recorded', () => {
  test('KMS failing on the objects\' key lookups: nothing recorded, the objects go to the audit queue, which retries them', async () => {
    const flaky = await createKey(runtime().clients, { rotation: true });
    await createBucket(runtime().clients, 'flaky');
    await putObject(runtime().clients, 'flaky', 'a.bin', { mode: 'sse-kms', key: flaky });
    await putObject(runtime().clients, 'flaky', 'b.bin', { mode: 'sse-kms', key: flaky });
    await scan('flaky');
    await disableKey(runtime().clients, flaky);
    // The handler's own DescribeKey succeeds; every later one (the objects' lookups) is throttled.
    let describes = 0;
    const throttleAfterFirst: Pluggable<object, object> = {
      applyToStack(stack) {
        stack.add(
          (next, context) => async (args) => {
            if (context.commandName === 'DescribeKeyCommand' && ++describes > 1) {
              throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
            }
            return next(args);
          },
          { step: 'initialize', name: 'injectedThrottling' },
        );
      },
    };
    (handlerRuntime().clients.kms.middlewareStack as unknown as { use(p: Pluggable<object, object>): void }).use(throttleAfterFirst);
    const result = await reevaluated('DisableKey', flaky);
    expect(result).toMatchObject({ objects: 0, queued: { messages: 1, objects: 2 } });
    expect(await verdicts('flaky')).toEqual({ 'a.bin': 'compliant', 'b.bin': 'compliant' });

    resetHandlerRuntime(); // KMS answers again
    expect(await drainQueue(runtime().clients.sqs, queueUrl, auditWorker, workerContext)).toEqual([]);
    expect(await verdicts('flaky')).toEqual({ 'a.bin': 'at-risk', 'b.bin': 'at-risk' });
  });
});

describe('parseKeyEvent', () => {
  test('takes the key ARN from CloudTrail resources; ignores other calls and failed calls', () => {
    expect(parseKeyEvent(sample)).toEqual({ kind: 'key-state', call: 'DisableKey', keyRef: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' });
    expect(parseKeyEvent({ ...sample, detail: { ...sample.detail, eventName: 'Encrypt' } })).toMatchObject({ kind: 'ignore' });
    expect(parseKeyEvent({ ...sample, detail: { ...sample.detail, errorCode: 'AccessDeniedException' } })).toMatchObject({ kind: 'ignore', reason: 'DisableKey failed (AccessDeniedException)' });
    expect(parseKeyEvent({ hello: 'world' })).toMatchObject({ kind: 'invalid' });
  });
});
