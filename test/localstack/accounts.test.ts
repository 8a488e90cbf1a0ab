// A second opinion on the cross-account paths of the Organization issue, against LocalStack: it takes
// a 12-digit access key id as that account, its STS AssumeRole credentials act in the role's account,
// and — unlike moto — it answers a cross-account DescribeKey by key ARN, as AWS does when the key
// policy allows it. LocalStack (community) has no Organizations API, so the scans name their accounts
// (--accounts); it enforces no IAM either, so an unassumable account is tested on moto only
// (test/integration/organization.test.ts, at the STS client boundary).
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutObjectCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyRotationCommand } from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, test } from 'vitest';
import { createAccountClients, createAwsClients } from '../../shared/aws/clients.ts';
import { file, sseguard } from './cli.ts';

const TABLE = 'localstack-accounts-findings';
const QUEUE = 'localstack-accounts-audit';
const ROLE = 'sseguard-audit';
const KEY_OWNER = '411111111111';
const MEMBER = '422222222222';
const MEMBER_REGION = 'eu-west-1';
const env = { SSEGUARD_TABLE: TABLE, SSEGUARD_QUEUE: QUEUE };
const run = (args: string[], extra: Record<string, string> = {}) => sseguard(args, { ...env, ...extra });
const central = createAwsClients();

/** Clients acting in `account` (LocalStack reads the account from a 12-digit access key id). */
const credentialsOf = (account: string) => ({ accessKeyId: account, secretAccessKey: 'test' });
const inAccount = (account: string, region = 'us-east-1') => createAccountClients({ region, credentials: async () => credentialsOf(account) });
const eventsIn = (account: string, region: string) => new EventBridgeClient({ region, credentials: credentialsOf(account) });

interface JsonFinding {
  account?: string;
  region?: string;
  bucket: string;
  key: string;
  mode: string;
  kmsKeyArn: string | null;
  verdict: string;
  reasons: (string | { code: string })[];
}
const codes = (f: JsonFinding) => f.reasons.map((r) => (typeof r === 'string' ? r : r.code));

const ownerBucket = `ls-owner-${KEY_OWNER}`;
const memberBucket = `ls-member-${MEMBER}`;
const keyArns: Record<'owner' | 'ownerEu' | 'disabledEu', string> = { owner: '', ownerEu: '', disabledEu: '' };

async function createRole(account: string) {
  const iam = new IAMClient({ region: 'us-east-1', credentials: credentialsOf(account) });
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' }] };
  await iam.send(new CreateRoleCommand({ RoleName: ROLE, AssumeRolePolicyDocument: JSON.stringify(trust) }));
}

async function createKeyIn(account: string, region: string): Promise<string> {
  const { kms } = inAccount(account, region);
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  await kms.send(new EnableKeyRotationCommand({ KeyId: KeyMetadata!.KeyId! }));
  return KeyMetadata!.Arn!;
}

async function bucketIn(account: string, region: string, bucket: string) {
  const { s3 } = inAccount(account, region);
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }) }));
  return s3;
}

let accountsScan: { code: number; findings: Map<string, JsonFinding>; gaps: unknown[] };

beforeAll(async () => {
  expect((await run(['init'])).code).toBe(0);
  await createRole(KEY_OWNER);
  await createRole(MEMBER);
  keyArns.owner = await createKeyIn(KEY_OWNER, 'us-east-1');
  keyArns.ownerEu = await createKeyIn(KEY_OWNER, MEMBER_REGION);
  keyArns.disabledEu = await createKeyIn(KEY_OWNER, MEMBER_REGION);

  const owner = await bucketIn(KEY_OWNER, 'us-east-1', ownerBucket);
  await owner.send(new PutObjectCommand({ Bucket: ownerBucket, Key: 'own-key.txt', Body: 'a', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArns.owner }));
  // The member's bucket is in another Region than the one sseguard runs in, and its objects use
  // keys of the key owner's account in that Region.
  const member = await bucketIn(MEMBER, MEMBER_REGION, memberBucket);
  await member.send(new PutObjectCommand({ Bucket: memberBucket, Key: 'cross-account-key.txt', Body: 'b', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArns.ownerEu }));
  await member.send(new PutObjectCommand({ Bucket: memberBucket, Key: 'disabled-key.txt', Body: 'c', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArns.disabledEu }));
  await member.send(new PutObjectCommand({ Bucket: memberBucket, Key: 'sse-s3.txt', Body: 'd', ServerSideEncryption: 'AES256' }));
  await inAccount(KEY_OWNER, MEMBER_REGION).kms.send(new DisableKeyCommand({ KeyId: keyArns.disabledEu }));

  const scan = await run(['scan', '--accounts', `${KEY_OWNER},${MEMBER}`, '--role-name', ROLE, '--json'], { AWS_REGION: 'us-east-1' });
  expect(scan.stderr).toBe('');
  const output = JSON.parse(scan.stdout) as { findings: JsonFinding[]; summary: { gaps: unknown[] } };
  accountsScan = { code: scan.code, findings: new Map(output.findings.map((f) => [`${f.bucket}/${f.key}`, f])), gaps: output.summary.gaps };
});

describe('scan --accounts against LocalStack', () => {
  test('each account is audited through its own role: every object of both accounts has a finding naming its account and Region; no gap', () => {
    expect(accountsScan.gaps).toEqual([]);
    expect([...accountsScan.findings.values()].map((f) => `${f.account}/${f.region}/${f.bucket}/${f.key}`).sort()).toEqual([
      `${KEY_OWNER}/us-east-1/${ownerBucket}/own-key.txt`,
      `${MEMBER}/${MEMBER_REGION}/${memberBucket}/cross-account-key.txt`,
      `${MEMBER}/${MEMBER_REGION}/${memberBucket}/disabled-key.txt`,
      `${MEMBER}/${MEMBER_REGION}/${memberBucket}/sse-s3.txt`,
    ]);
  });

  test('a key of account A in eu-west-1 protecting account B\'s objects is judged by its real state, whatever AWS_REGION says: enabled → compliant, disabled → at-risk', () => {
    const cross = accountsScan.findings.get(`${memberBucket}/cross-account-key.txt`)!;
    expect({ mode: cross.mode, kmsKeyArn: cross.kmsKeyArn, verdict: cross.verdict, reasons: codes(cross) }).toEqual({ mode: 'sse-kms', kmsKeyArn: keyArns.ownerEu, verdict: 'compliant', reasons: [] });
    const disabled = accountsScan.findings.get(`${memberBucket}/disabled-key.txt`)!;
    expect({ verdict: disabled.verdict, reasons: codes(disabled) }).toEqual({ verdict: 'at-risk', reasons: ['kms-key-disabled'] });
    expect(accountsScan.findings.get(`${ownerBucket}/own-key.txt`)).toMatchObject({ verdict: 'compliant', kmsKeyArn: keyArns.owner });
    expect(accountsScan.code).toBe(1); // the at-risk object
  });

  test('report --account reads back only that account\'s recorded findings', async () => {
    const report = await run(['report', '--account', MEMBER, '--format', 'json']);
    expect(report.code).toBe(0);
    const findings = (JSON.parse(report.stdout) as { findings: JsonFinding[] }).findings;
    expect(findings.map((f) => f.key).sort()).toEqual(['cross-account-key.txt', 'disabled-key.txt', 'sse-s3.txt']);
    expect(new Set(findings.map((f) => f.account))).toEqual(new Set([MEMBER]));
  });
});

describe('an event from a member account\'s bus, across accounts, to the central audit queue', () => {
  let queueUrl: string;

  async function receiveAll(expected: number): Promise<Message[]> {
    const messages: Message[] = [];
    for (let polls = 0; polls < 20 && messages.length < expected; polls++) {
      const { Messages } = await central.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
      for (const message of Messages ?? []) {
        messages.push(message);
        await central.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      }
    }
    return messages;
  }

  test('the member\'s rule forwards "Object Created" to the central bus, whose rule puts it on the audit queue; the worker audits it with the member\'s role', async () => {
    queueUrl = (await central.sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE }))).QueueUrl!;
    const queueArn = (await central.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const centralAccount = queueArn.split(':')[4]!;
    const centralEvents = eventsIn(centralAccount, 'us-east-1');
    await centralEvents.send(new CreateEventBusCommand({ Name: 'sseguard-central' }));
    await centralEvents.send(new PutRuleCommand({ Name: 'to-audit', EventBusName: 'sseguard-central', EventPattern: JSON.stringify({ source: ['aws.s3'], 'detail-type': ['Object Created'] }) }));
    await centralEvents.send(new PutTargetsCommand({ Rule: 'to-audit', EventBusName: 'sseguard-central', Targets: [{ Id: 'audit', Arn: queueArn }] }));
    const member = eventsIn(MEMBER, MEMBER_REGION);
    await member.send(new PutRuleCommand({ Name: 'sseguard-forward', EventPattern: JSON.stringify({ source: ['aws.s3'] }) }));
    await member.send(new PutTargetsCommand({ Rule: 'sseguard-forward', Targets: [{ Id: 'central', Arn: `arn:aws:events:us-east-1:${centralAccount}:event-bus/sseguard-central` }] }));
    const detail = { version: '0', bucket: { name: memberBucket }, object: { key: 'disabled-key.txt', size: 1 }, reason: 'PutObject' };
    // On AWS, S3 itself puts this event on the member's default bus; a test can only put it by hand.
    const put = await member.send(new PutEventsCommand({ Entries: [{ Source: 'aws.s3', DetailType: 'Object Created', Detail: JSON.stringify(detail), Resources: [`arn:aws:s3:::${memberBucket}`] }] }));
    expect(put.FailedEntryCount).toBe(0);

    const messages = await receiveAll(1);
    expect(messages).toHaveLength(1);
    const event = JSON.parse(messages[0]!.Body!) as { account: string; region: string; detail: typeof detail };
    expect({ account: event.account, region: event.region, bucket: event.detail.bucket.name }).toEqual({ account: MEMBER, region: MEMBER_REGION, bucket: memberBucket });

    const sqsEvent = {
      Records: messages.map((m) => ({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'localstack', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: 'us-east-1',
      })),
    };
    const table = 'localstack-accounts-events';
    expect((await sseguard(['init'], { SSEGUARD_TABLE: table, SSEGUARD_QUEUE: QUEUE })).code).toBe(0);
    const invoked = await sseguard(['invoke', 'audit-worker', '--event', file('member-event.json', JSON.stringify(sqsEvent)), '--json'], {
      SSEGUARD_TABLE: table,
      SSEGUARD_QUEUE: QUEUE,
      SSEGUARD_MEMBER_ROLE_NAME: ROLE,
    });
    expect(invoked.stderr).not.toMatch(/error/i);
    expect(JSON.parse(invoked.stdout)).toEqual({ batchItemFailures: [] });
    const report = await sseguard(['report', '--format', 'json'], { SSEGUARD_TABLE: table });
    const recorded = (JSON.parse(report.stdout) as { findings: JsonFinding[] }).findings;
    expect(recorded.map((f) => ({ account: f.account, region: f.region, key: f.key, verdict: f.verdict, kmsKeyArn: f.kmsKeyArn }))).toEqual([
      { account: MEMBER, region: MEMBER_REGION, key: 'disabled-key.txt', verdict: 'at-risk', kmsKeyArn: keyArns.disabledEu },
    ]);
  });
});
