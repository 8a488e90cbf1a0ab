// Patch s3_delete_marker_event: a DeleteObject without a version id in a versioned bucket creates a
// delete marker and sends ObjectRemoved:DeleteMarkerCreated (moto sends nothing); the audit worker
// then takes the object's state out of the findings.
import { CreateBucketCommand, DeleteObjectCommand, PutBucketNotificationConfigurationCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, expect, test } from 'vitest';
import { auditRequests } from '../../shared/audit/audit-batch.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { ensureFindingsTable } from '../../shared/findings/dynamodb-store.ts';
import { createRuntime, scanDependencies } from '../../shared/runtime.ts';

const { s3, sqs } = createAwsClients();
const BUCKET = 'marked';
let queueUrl: string;

async function drain(): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages?.length) return bodies;
    bodies.push(...Messages.map((m) => m.Body!));
  }
}

beforeAll(async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'marked-events' }));
  queueUrl = QueueUrl!;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: BUCKET,
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: Attributes!.QueueArn!, Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'] }] },
    }),
  );
  await drain(); // the s3:TestEvent
});

test('a delete marker sends ObjectRemoved:DeleteMarkerCreated with the marker\'s version id and a later sequencer, no size or eTag (AWS event structure)', async () => {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'doc.txt', Body: 'one' }));
  const deleted = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'doc.txt' }));
  expect(deleted.DeleteMarker).toBe(true);
  const records = (await drain()).flatMap((body) => (JSON.parse(body) as { Records: { eventName: string; s3: { object: Record<string, unknown> } }[] }).Records);
  expect(records.map((r) => r.eventName)).toEqual(['ObjectCreated:Put', 'ObjectRemoved:DeleteMarkerCreated']);
  const [created, removed] = records.map((r) => r.s3.object);
  expect(removed).toMatchObject({ key: 'doc.txt', versionId: deleted.VersionId });
  expect(removed).not.toHaveProperty('size');
  expect(removed).not.toHaveProperty('eTag');
  expect(String(removed!.sequencer) > String(created!.sequencer)).toBe(true);
});

test('the worker takes an object whose current version is now a delete marker out of the findings', async () => {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept-then-deleted.txt', Body: 'x' }));
  const runtime = createRuntime(loadConfig({ ...process.env, SSEGUARD_TABLE: 'marked-findings' }));
  await ensureFindingsTable(runtime.clients.dynamodb, 'marked-findings');
  const deps = { ...(await scanDependencies(runtime)), store: runtime.store };
  const audit = async (body: string) => {
    const parsed = parseMessageBody(body);
    if (parsed.kind !== 'audit') throw new Error(`not an audit message: ${body}`);
    return auditRequests(deps, parsed.requests);
  };
  for (const body of await drain()) await audit(body);
  expect((await runtime.store.statesOf(BUCKET, ['kept-then-deleted.txt'])).size).toBe(1);
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'kept-then-deleted.txt' }));
  const bodies = await drain();
  expect(bodies).toHaveLength(1);
  await audit(bodies[0]!);
  expect((await runtime.store.statesOf(BUCKET, ['kept-then-deleted.txt'])).size).toBe(0);
  const history = await runtime.store.history(BUCKET, 'kept-then-deleted.txt');
  expect(history.at(-1)).toMatchObject({ removed: true });
});
