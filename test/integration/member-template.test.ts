// The member template on the emulator's CloudFormation, and the event path it sets up: an object
// written in a member account reaches the central audit queue through the member's forwarding
// rule and the central bus, still naming the member account. The central account is the
// emulator's default; the member is another account (x-moto-account-id: test/support/moto-accounts.ts).
import { readFileSync } from 'node:fs';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { CreateEventBusCommand, DescribeRuleCommand, EventBridgeClient, ListTargetsByRuleCommand, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, test } from 'vitest';
import { MEMBER_KEY_EVENT_PATTERN, MEMBER_OBJECT_EVENT_PATTERN, memberTemplate, trustPolicy, type MemberTemplateOptions } from '../../shared/deploy/member-template.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { parseKeyEvent } from '../../shared/events/key-events.ts';
import { CENTRAL_OBJECT_EVENT_PATTERN, KEY_EVENT_PATTERN, centralBusName } from '../../stacks/settings.ts';
import { templateYaml } from '../../cli/commands/member-template.ts';
import { inAccount } from '../support/moto-accounts.ts';

const CENTRAL = '123456789012';
const MEMBER = '111111111111';
const region = process.env.AWS_REGION ?? 'us-east-1';
const otherRegion = region === 'us-west-2' ? 'us-east-1' : 'us-west-2';
const busArn = `arn:aws:events:${region}:${CENTRAL}:event-bus/${centralBusName('test')}`;
const workerRole = `arn:aws:iam::${CENTRAL}:role/sseguard-test-AuditWorkerRole`;
const options: MemberTemplateOptions = { centralAccount: CENTRAL, centralRoleArns: [workerRole], externalId: 'sseguard-test', variant: 'head', remediation: true, eventBusArn: busArn };

const central = { events: new EventBridgeClient({}), sqs: new SQSClient({}) };
const member = {
  cloudFormation: inAccount(new CloudFormationClient({}), MEMBER),
  iam: inAccount(new IAMClient({}), MEMBER),
  events: inAccount(new EventBridgeClient({}), MEMBER),
  s3: inAccount(new S3Client({ forcePathStyle: true }), MEMBER),
};

async function queue(name: string) {
  const { QueueUrl } = await central.sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await central.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}
async function received(url: string): Promise<Record<string, unknown>[]> {
  const { Messages } = await central.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return (Messages ?? []).map((m) => JSON.parse(m.Body!));
}
async function createStack(cloudFormation: CloudFormationClient, name: string, primaryRegion: string) {
  await cloudFormation.send(
    new CreateStackCommand({
      StackName: name,
      TemplateBody: JSON.stringify(memberTemplate(options)),
      Parameters: [{ ParameterKey: 'PrimaryRegion', ParameterValue: primaryRegion }],
      Capabilities: ['CAPABILITY_NAMED_IAM'],
    }),
  );
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: name }));
  return Stacks![0]!;
}
const policyDocument = (text: string) => JSON.parse(decodeURIComponent(text));

let auditQueue: { url: string; arn: string };
let keyQueue: { url: string; arn: string };

beforeAll(async () => {
  // The central stage (stacks/organization.ts): its bus, a rule to the audit queue, a rule for key events.
  auditQueue = await queue('central-audit');
  keyQueue = await queue('central-key-events');
  await central.events.send(new CreateEventBusCommand({ Name: centralBusName('test') }));
  const onBus = { EventBusName: centralBusName('test') };
  await central.events.send(new PutRuleCommand({ ...onBus, Name: 'member-object-events', EventPattern: JSON.stringify(CENTRAL_OBJECT_EVENT_PATTERN) }));
  await central.events.send(new PutTargetsCommand({ ...onBus, Rule: 'member-object-events', Targets: [{ Id: 'audit', Arn: auditQueue.arn }] }));
  await central.events.send(new PutRuleCommand({ ...onBus, Name: 'member-key-events', EventPattern: JSON.stringify(KEY_EVENT_PATTERN) }));
  await central.events.send(new PutTargetsCommand({ ...onBus, Rule: 'member-key-events', Targets: [{ Id: 'keys', Arn: keyQueue.arn }] }));
});

describe('the member template on CloudFormation', () => {
  let stackStatus: string | undefined;
  beforeAll(async () => {
    stackStatus = (await createStack(member.cloudFormation, 'sseguard-member', region)).StackStatus;
  });

  test('creates in the member account: CREATE_COMPLETE with every resource', async () => {
    expect(stackStatus).toBe('CREATE_COMPLETE');
    const { StackResourceSummaries } = await member.cloudFormation.send(new ListStackResourcesCommand({ StackName: 'sseguard-member' }));
    expect(StackResourceSummaries!.map((r) => r.LogicalResourceId).sort()).toEqual(
      ['AuditRole', 'BatchOperationsRole', 'EventForwardingRole', 'KeyStateEventsRule', 'ObjectEventsRule', 'RemediationRole'],
    );
  });

  test('the audit role in the member account trusts only the central worker role, with the external id', async () => {
    const { Role } = await member.iam.send(new GetRoleCommand({ RoleName: 'sseguard-audit' }));
    expect(Role!.Arn).toBe(`arn:aws:iam::${MEMBER}:role/sseguard-audit`);
    expect(policyDocument(Role!.AssumeRolePolicyDocument!)).toEqual(trustPolicy(options));
  });

  test('its HeadObject statement is resolved to the member account’s own objects', async () => {
    const { PolicyDocument } = await member.iam.send(new GetRolePolicyCommand({ RoleName: 'sseguard-audit', PolicyName: 'sseguard-audit' }));
    const statements = policyDocument(PolicyDocument!).Statement as { Sid: string }[];
    expect(statements.find((s) => s.Sid === 'HeadObjects')).toEqual({
      Sid: 'HeadObjects',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: 'arn:aws:s3:::*/*',
      Condition: { StringEquals: { 's3:ResourceAccount': MEMBER } },
    });
  });

  test('the forwarding rules: S3 object events and KMS key-state calls to the central bus, through the member’s forwarding role', async () => {
    for (const [name, pattern] of [['sseguard-object-events', MEMBER_OBJECT_EVENT_PATTERN], ['sseguard-key-state-events', MEMBER_KEY_EVENT_PATTERN]] as const) {
      const rule = await member.events.send(new DescribeRuleCommand({ Name: name }));
      expect(JSON.parse(rule.EventPattern!)).toEqual(pattern);
      const { Targets } = await member.events.send(new ListTargetsByRuleCommand({ Rule: name }));
      expect(Targets).toEqual([{ Id: 'CentralBus', Arn: busArn, RoleArn: `arn:aws:iam::${MEMBER}:role/sseguard-event-forwarding` }]);
    }
  });

  test('in a second Region the same template creates the rules only (IAM is global): no clash with the primary Region’s roles', async () => {
    const elsewhere = inAccount(new CloudFormationClient({ region: otherRegion }), MEMBER);
    expect((await createStack(elsewhere, 'sseguard-member', region)).StackStatus).toBe('CREATE_COMPLETE');
    const { StackResourceSummaries } = await elsewhere.send(new ListStackResourcesCommand({ StackName: 'sseguard-member' }));
    // moto lists each resource whose Condition is false as an entry with empty ids (AWS leaves it out).
    const created = StackResourceSummaries!.filter((r) => r.LogicalResourceId !== '');
    expect(created.map((r) => r.LogicalResourceId).sort()).toEqual(['KeyStateEventsRule', 'ObjectEventsRule']);
    expect(StackResourceSummaries!.filter((r) => r.ResourceType === 'AWS::IAM::Role')).toEqual([]);
  });
});

test('the YAML form (as `member-template --out member.yaml` writes it) creates the same stack', async () => {
  const another = inAccount(new CloudFormationClient({}), '222222222222');
  await another.send(
    new CreateStackCommand({
      StackName: 'sseguard-member',
      TemplateBody: templateYaml(memberTemplate(options)),
      Parameters: [{ ParameterKey: 'PrimaryRegion', ParameterValue: region }],
      Capabilities: ['CAPABILITY_NAMED_IAM'],
    }),
  );
  const { Stacks } = await another.send(new DescribeStacksCommand({ StackName: 'sseguard-member' }));
  expect(Stacks![0]!.StackStatus).toBe('CREATE_COMPLETE');
  const { Role } = await inAccount(new IAMClient({}), '222222222222').send(new GetRoleCommand({ RoleName: 'sseguard-audit' }));
  expect(policyDocument(Role!.AssumeRolePolicyDocument!)).toEqual(trustPolicy(options));
});

describe('events from a member account reach the central queues unchanged', () => {
  test('an object written in an EventBridge-enabled member bucket arrives on the audit queue naming the member account, and the worker accepts it', async () => {
    await member.s3.send(new CreateBucketCommand({ Bucket: 'member-data' }));
    await member.s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'member-data', NotificationConfiguration: { EventBridgeConfiguration: {} } }));
    await member.s3.send(new PutObjectCommand({ Bucket: 'member-data', Key: 'reports/q4.csv', Body: 'x' }));
    const events = await received(auditQueue.url);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'aws.s3', 'detail-type': 'Object Created', account: MEMBER, region, detail: { bucket: { name: 'member-data' }, object: { key: 'reports/q4.csv' } } });
    const parsed = parseMessageBody(JSON.stringify(events[0]));
    expect(parsed).toMatchObject({ kind: 'audit', requests: [{ bucket: 'member-data', key: 'reports/q4.csv', source: 'eventbridge' }] });
  });

  test('a KMS key-state call in the member account (PutEvents stands in for CloudTrail, which the emulator lacks) arrives for key events naming the member account', async () => {
    const sample = JSON.parse(readFileSync(new URL('../events/kms-disable-key.json', import.meta.url), 'utf8'));
    const keyArn = `arn:aws:kms:${region}:${MEMBER}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const detail = { ...sample.detail, recipientAccountId: MEMBER, resources: [{ ...sample.detail.resources[0], accountId: MEMBER, ARN: keyArn }] };
    const { FailedEntryCount } = await member.events.send(
      new PutEventsCommand({ Entries: [{ Source: 'aws.kms', DetailType: 'AWS API Call via CloudTrail', Detail: JSON.stringify(detail) }] }),
    );
    expect(FailedEntryCount).toBe(0);
    const events = await received(keyQueue.url);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ account: MEMBER, source: 'aws.kms' });
    expect(parseKeyEvent(events[0])).toEqual({ kind: 'key-state', call: 'DisableKey', keyRef: keyArn });
    expect(await received(auditQueue.url)).toEqual([]);
  });

  test('an S3 event type the worker does not act on is not forwarded', async () => {
    await member.events.send(new PutEventsCommand({ Entries: [{ Source: 'aws.s3', DetailType: 'Object Tags Added', Detail: JSON.stringify({ bucket: { name: 'member-data' } }) }] }));
    expect(await received(auditQueue.url)).toEqual([]);
  });
});
