// The audit worker and events from member accounts: an EventBridge event forwarded from a member
// account's bus names its account and Region; the worker audits the object with that account's role
// (SSEGUARD_MEMBER_ROLE_NAME), and a key re-evaluation page of account A's key re-evaluates B's
// objects through B's role. moto's AssumeRole credentials act in the role's account: the central
// credentials cannot see a member's bucket, so only the member's role can audit it.
import { CreateKeyCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { beforeAll, expect, test } from 'vitest';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { resetMemberAccounts } from '../../functions/commons/member-accounts.ts';
import { handler } from '../../functions/audit-worker.ts';
import { assumedRoleCredentials } from '../../shared/accounts/credentials.ts';
import { createAccountClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { KEY_REEVALUATION_MESSAGE_KIND } from '../../shared/events/audit-queue-messages.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { drainQueue } from '../support/sqs-event-source.ts';

Object.assign(process.env, { SSEGUARD_TABLE: 'member-findings', SSEGUARD_QUEUE: 'member-audit', SSEGUARD_MEMBER_ROLE_NAME: 'sseguard-audit' });
delete process.env.SSEGUARD_POLICY;

const KEY_OWNER = '311111111111';
const MEMBER = '322222222222';
const MEMBER_REGION = 'eu-west-1';
const BUCKET = 'member-bucket-322222222222';
const context = localLambdaContext('audit-worker');
let sqs: SQSClient;
let queueUrl: string;
let keyArn: string;
let ownerKms: ReturnType<typeof createAccountClients>['kms'];

const runtime = () => createRuntime(loadConfig());
async function stateOf(key: string): Promise<StoredFinding | undefined> {
  for await (const page of runtime().store.findings({ bucket: BUCKET })) {
    const found = page.find((f) => f.key === key);
    if (found) return found;
  }
  return undefined;
}

const memberClients = (account: string, region: string) =>
  createAccountClients({ region, credentials: assumedRoleCredentials({ roleName: 'seeder' }, { sts: new STSClient({ region: 'us-east-1' }) }).provider(account) });

const objectCreated = (key: string) => ({
  version: '0',
  id: `event-${key}`,
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: MEMBER,
  time: new Date().toISOString(),
  region: MEMBER_REGION,
  resources: [`arn:aws:s3:::${BUCKET}`],
  detail: { version: '0', bucket: { name: BUCKET }, object: { key, size: 10 }, 'request-id': 'R', requester: MEMBER, 'source-ip-address': '203.0.113.15', reason: 'PutObject' },
});

beforeAll(async () => {
  resetHandlerRuntime();
  resetMemberAccounts();
  const { config, clients } = runtime();
  sqs = clients.sqs;
  await ensureFindingsTable(clients.dynamodb, config.table);
  await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  ({ queueUrl } = await ensureQueues(sqs, config));
  ownerKms = memberClients(KEY_OWNER, MEMBER_REGION).kms;
  keyArn = (await ownerKms.send(new CreateKeyCommand({ Description: 'owner key' }))).KeyMetadata!.Arn!;
  const { s3 } = memberClients(MEMBER, MEMBER_REGION);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: MEMBER_REGION as BucketLocationConstraint } }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain.txt', Body: 'plain body', ServerSideEncryption: 'AES256' }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'shared-key.txt', Body: 'keyed body', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn }));
}, 60_000);

test("an EventBridge event from a member account is audited with that account's role and recorded with its account and Region", async () => {
  for (const key of ['plain.txt', 'shared-key.txt']) {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(objectCreated(key)) }));
  }
  expect(await drainQueue(sqs, queueUrl, handler, context)).toEqual([]);
  expect(await stateOf('plain.txt')).toMatchObject({ account: MEMBER, region: MEMBER_REGION, verdict: 'compliant', mode: 'sse-s3' });
  // The key lives in another account: described there, with that account's role.
  expect(await stateOf('shared-key.txt')).toMatchObject({ account: MEMBER, region: MEMBER_REGION, verdict: 'compliant', kmsKeyArn: keyArn });
  expect((await runtime().store.summary()).accounts?.[MEMBER]).toMatchObject({ objects: 2 });
});

test("a key re-evaluation page for account A's key re-evaluates account B's objects through B's role: disabled → at-risk", async () => {
  await ownerKms.send(new DisableKeyCommand({ KeyId: keyArn.split('/').pop()! }));
  const page = { kind: KEY_REEVALUATION_MESSAGE_KIND, account: MEMBER, region: MEMBER_REGION, keyArn, bucket: BUCKET, objects: [{ key: 'shared-key.txt', size: 10 }] };
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(page) }));
  expect(await drainQueue(sqs, queueUrl, handler, context)).toEqual([]);
  expect(await stateOf('shared-key.txt')).toMatchObject({ account: MEMBER, verdict: 'at-risk', reasons: [{ code: 'kms-key-disabled' }] });
});

test("a KMS key event for account A's key sends B's recorded objects through the queue, re-evaluated with B's role (never judged with the central credentials)", async () => {
  const { EnableKeyCommand } = await import('@aws-sdk/client-kms');
  const { readFileSync } = await import('node:fs');
  const { handler: keyEvents } = await import('../../functions/key-events.ts');
  await ownerKms.send(new EnableKeyCommand({ KeyId: keyArn.split('/').pop()! }));
  const sample = JSON.parse(readFileSync(new URL('../events/kms-disable-key.json', import.meta.url), 'utf8')) as { detail: { resources: object[] } };
  const event = {
    ...sample,
    account: KEY_OWNER,
    region: MEMBER_REGION,
    detail: { ...sample.detail, eventName: 'EnableKey', requestParameters: { keyId: keyArn }, resources: [{ ...sample.detail.resources[0], ARN: keyArn }] },
  };
  await keyEvents(event as never, localLambdaContext('key-events'));
  expect(await drainQueue(sqs, queueUrl, handler, context)).toEqual([]);
  expect(await stateOf('shared-key.txt')).toMatchObject({ account: MEMBER, verdict: 'compliant', kmsKeyArn: keyArn });
});
