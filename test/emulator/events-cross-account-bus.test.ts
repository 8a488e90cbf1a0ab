// emulator/patches/events_cross_account_bus.py: an event a member account's rule forwards to a bus
// of another account arrives there as it was sent (account, Region, resources, detail), and goes
// no further than that account.
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, expect, test } from 'vitest';
import { inAccount } from '../support/moto-accounts.ts';

const CENTRAL = '123456789012'; // the emulator's default account
const MEMBER = '111111111111';
const THIRD = '222222222222';
const region = process.env.AWS_REGION ?? 'us-east-1';
const centralEvents = new EventBridgeClient({});
const centralSqs = new SQSClient({});
const memberEvents = inAccount(new EventBridgeClient({}), MEMBER);
const thirdSqs = inAccount(new SQSClient({}), THIRD);
const thirdEvents = inAccount(new EventBridgeClient({}), THIRD);
const bus = `arn:aws:events:${region}:${CENTRAL}:event-bus/central`;

async function queue(sqs: SQSClient, name: string) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}
async function received(sqs: SQSClient, url: string): Promise<Record<string, unknown>[]> {
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return (Messages ?? []).map((m) => JSON.parse(m.Body!));
}

let central: { url: string; arn: string };
let third: { url: string; arn: string };

beforeAll(async () => {
  central = await queue(centralSqs, 'central-events');
  third = await queue(thirdSqs, 'third-events');
  await centralEvents.send(new CreateEventBusCommand({ Name: 'central' }));
  await centralEvents.send(new PutRuleCommand({ Name: 'to-queue', EventBusName: 'central', EventPattern: JSON.stringify({ source: ['sseguard.test'] }) }));
  await centralEvents.send(new PutTargetsCommand({ Rule: 'to-queue', EventBusName: 'central', Targets: [{ Id: 'q', Arn: central.arn }] }));
  // A second hop: the central account forwarding what it received to a third account's bus.
  await thirdEvents.send(new CreateEventBusCommand({ Name: 'third' }));
  await thirdEvents.send(new PutRuleCommand({ Name: 'to-queue', EventBusName: 'third', EventPattern: JSON.stringify({ source: ['sseguard.test'] }) }));
  await thirdEvents.send(new PutTargetsCommand({ Rule: 'to-queue', EventBusName: 'third', Targets: [{ Id: 'q', Arn: third.arn }] }));
  await centralEvents.send(new PutRuleCommand({ Name: 'onward', EventBusName: 'central', EventPattern: JSON.stringify({ source: ['sseguard.test'] }) }));
  await centralEvents.send(new PutTargetsCommand({ Rule: 'onward', EventBusName: 'central', Targets: [{ Id: 'b', Arn: `arn:aws:events:${region}:${THIRD}:event-bus/third` }] }));
  // The member's default bus forwards to the central bus, with the role EventBridge needs for it.
  await memberEvents.send(new PutRuleCommand({ Name: 'forward', EventPattern: JSON.stringify({ source: ['sseguard.test'] }) }));
  await memberEvents.send(
    new PutTargetsCommand({ Rule: 'forward', Targets: [{ Id: 'central', Arn: bus, RoleArn: `arn:aws:iam::${MEMBER}:role/sseguard-event-forwarding` }] }),
  );
});

test('a forwarded event keeps the member account, Region, resources and detail it was put with', async () => {
  const resources = [`arn:aws:s3:::member-bucket`];
  const { FailedEntryCount } = await memberEvents.send(
    new PutEventsCommand({ Entries: [{ Source: 'sseguard.test', DetailType: 'Object Created', Detail: JSON.stringify({ bucket: { name: 'member-bucket' } }), Resources: resources }] }),
  );
  expect(FailedEntryCount).toBe(0);
  const [event, ...more] = await received(centralSqs, central.url);
  expect(more).toEqual([]);
  expect(event).toMatchObject({ account: MEMBER, region, source: 'sseguard.test', 'detail-type': 'Object Created', resources, detail: { bucket: { name: 'member-bucket' } } });
});

test('what the central account received from a member goes to no third account', async () => {
  await memberEvents.send(new PutEventsCommand({ Entries: [{ Source: 'sseguard.test', DetailType: 'x', Detail: '{}' }] }));
  expect(await received(centralSqs, central.url)).toHaveLength(1);
  expect(await received(thirdSqs, third.url)).toEqual([]);
});

test('an event the central account puts itself reaches the third account, naming the central account (moto left account out of every delivered event)', async () => {
  await centralEvents.send(new PutEventsCommand({ Entries: [{ Source: 'sseguard.test', DetailType: 'x', Detail: '{}', EventBusName: 'central' }] }));
  expect(await received(centralSqs, central.url)).toHaveLength(1);
  const [event] = await received(thirdSqs, third.url);
  expect(event).toMatchObject({ account: CENTRAL });
});
