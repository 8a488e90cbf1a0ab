import { readFileSync } from 'node:fs';
import { CancelKeyDeletionCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, test } from 'vitest';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { handler } from '../../functions/key-events.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseKeyEvent } from '../../shared/events/key-events.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';
import { createBucket, createKey, disableKey, putObject, scheduleDeletion, type TestKey } from '../support/aws-fixtures.ts';

Object.assign(process.env, { SSEGUARD_TABLE: 'key-event-findings' });
delete process.env.SSEGUARD_POLICY;

const context = localLambdaContext('key-events');
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
const runtime = () => createRuntime(loadConfig());
async function verdicts(bucket: string) {
  const byKey: Record<string, string> = {};
  for await (const page of runtime().store.findings({ bucket })) for (const f of page) byKey[f.key] = f.verdict;
  return byKey;
}

beforeAll(async () => {
  const current = runtime();
  await ensureFindingsTable(current.clients.dynamodb, current.config.table);
  key = await createKey(current.clients, { rotation: true });
  other = await createKey(current.clients, { rotation: true });
  for (const bucket of ['keyed-a', 'keyed-b']) {
    await createBucket(current.clients, bucket);
    await putObject(current.clients, bucket, 'under-key.bin', { mode: 'sse-kms', key });
    await putObject(current.clients, bucket, 'other-key.bin', { mode: 'sse-kms', key: other });
    await putObject(current.clients, bucket, 'sse-s3.bin', { mode: 'sse-s3' });
    await scanBucket(await scanDependencies(current), { bucket, concurrency: 4 });
  }
  resetHandlerRuntime();
});

describe('key-state events re-evaluate every object under the key, in every bucket', () => {
  test('DisableKey raises at-risk; EnableKey clears it; other objects are untouched', async () => {
    await disableKey(runtime().clients, key);
    const disabled = await handler(cloudTrailEvent('DisableKey', key), context);
    expect(disabled).toMatchObject({ status: 'reevaluated', objects: 2, verdicts: { 'at-risk': 2 } });
    for (const bucket of ['keyed-a', 'keyed-b']) {
      expect(await verdicts(bucket)).toEqual({ 'under-key.bin': 'at-risk', 'other-key.bin': 'compliant', 'sse-s3.bin': 'compliant' });
    }
    expect((await runtime().store.summary()).keyFacts[key.arn]).toMatchObject({ state: 'Disabled' });

    await runtime().clients.kms.send(new EnableKeyCommand({ KeyId: key.id }));
    expect(await handler(cloudTrailEvent('EnableKey', key), context)).toMatchObject({ objects: 2, verdicts: { compliant: 2 } });
    expect((await verdicts('keyed-a'))['under-key.bin']).toBe('compliant');
    const history = await runtime().store.history('keyed-a', 'under-key.bin');
    expect(history.map((h) => h.verdict)).toEqual(['compliant', 'at-risk', 'compliant']);
  });

  test('ScheduleKeyDeletion raises at-risk with the deletion date; CancelKeyDeletion clears it', async () => {
    await scheduleDeletion(runtime().clients, key);
    await handler(cloudTrailEvent('ScheduleKeyDeletion', key), context);
    const [state] = await (async () => {
      const out = [];
      for await (const page of runtime().store.findings({ bucket: 'keyed-b' })) out.push(...page.filter((f) => f.key === 'under-key.bin'));
      return out;
    })();
    expect(state).toMatchObject({ verdict: 'at-risk', reasons: [{ code: 'kms-key-pending-deletion' }] });
    expect(state?.reasons[0]?.message).toMatch(/deletion on \d{4}-\d\d-\d\d/);

    await runtime().clients.kms.send(new CancelKeyDeletionCommand({ KeyId: key.id }));
    await runtime().clients.kms.send(new EnableKeyCommand({ KeyId: key.id }));
    await handler(cloudTrailEvent('CancelKeyDeletion', key), context);
    expect((await verdicts('keyed-b'))['under-key.bin']).toBe('compliant');
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
