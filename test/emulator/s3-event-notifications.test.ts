import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, expect, test } from 'vitest';
import { createAwsClients } from '../../shared/aws/clients.ts';

const { s3 } = createAwsClients();
const sqs = new SQSClient({});
const events = new EventBridgeClient({});

async function queue(name: string) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

async function drain(url: string): Promise<unknown[]> {
  const bodies: unknown[] = [];
  for (;;) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages?.length) return bodies;
    bodies.push(...Messages.map((m) => JSON.parse(m.Body!)));
  }
}

/** AWS: compare sequencers as hex strings after right-padding the shorter with zeros. */
const later = (a: string, b: string) => a.padEnd(Math.max(a.length, b.length), '0') > b.padEnd(Math.max(a.length, b.length), '0');

interface S3Record {
  eventName: string;
  s3: { object: { key: string; sequencer?: string; versionId?: string } };
}

let notified: { url: string; arn: string };

beforeAll(async () => {
  notified = await queue('notified');
  await s3.send(new CreateBucketCommand({ Bucket: 'watched' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'watched', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'watched',
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: notified.arn, Events: ['s3:ObjectCreated:*'] }] },
    }),
  );
});

test('S3 notifications carry an increasing sequencer per key and the version id, as AWS sends them', async () => {
  const first = await s3.send(new PutObjectCommand({ Bucket: 'watched', Key: 'a b+c.txt', Body: 'one' }));
  const second = await s3.send(new PutObjectCommand({ Bucket: 'watched', Key: 'a b+c.txt', Body: 'two' }));
  const bodies = (await drain(notified.url)) as ({ Event?: string } & { Records?: S3Record[] })[];
  // Configuring the destination sent the test event first.
  expect(bodies[0]).toMatchObject({ Event: 's3:TestEvent', Bucket: 'watched' });
  const records = bodies.flatMap((b) => b.Records ?? []);
  expect(records.map((r) => r.s3.object.key)).toEqual(['a+b%2Bc.txt', 'a+b%2Bc.txt']); // URL-encoded, + for space
  const [one, two] = records.map((r) => r.s3.object);
  // A hex string of no fixed length: AWS's own sample event has 18 digits (0055AED6DCD90281E5), moto sends 16.
  expect(one!.sequencer).toMatch(/^[0-9A-F]+$/);
  expect(later(two!.sequencer!, one!.sequencer!)).toBe(true);
  expect([one!.versionId, two!.versionId]).toEqual([first.VersionId, second.VersionId]);
});

test('EventBridge "Object Created" events carry the write sequencer, not a constant', async () => {
  const target = await queue('bridged');
  await s3.send(new CreateBucketCommand({ Bucket: 'bridged-bucket' }));
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'bridged-bucket', NotificationConfiguration: { EventBridgeConfiguration: {} } }));
  await events.send(new PutRuleCommand({ Name: 's3-created', EventPattern: JSON.stringify({ source: ['aws.s3'], 'detail-type': ['Object Created'] }) }));
  await events.send(new PutTargetsCommand({ Rule: 's3-created', Targets: [{ Id: 'q', Arn: target.arn }] }));
  await s3.send(new PutObjectCommand({ Bucket: 'bridged-bucket', Key: 'k', Body: '1' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bridged-bucket', Key: 'k', Body: '2' }));
  const bodies = (await drain(target.url)) as { 'detail-type': string; detail: { object: { key: string; sequencer: string } } }[];
  expect(bodies.map((b) => b['detail-type'])).toEqual(['Object Created', 'Object Created']);
  const [one, two] = bodies.map((b) => b.detail.object.sequencer);
  expect(one).not.toBe('617f08299329d189');
  expect(later(two!, one!)).toBe(true);
});
