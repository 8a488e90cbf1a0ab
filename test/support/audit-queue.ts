// The audit worker's world on the emulator: the findings and idempotency tables, the audit queue and
// its dead-letter queue, and a bucket whose object-created notifications go to the queue.
import { CreateBucketCommand, PutBucketNotificationConfigurationCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import type { StoredFinding } from '../../shared/findings/store.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import type { Runtime } from '../../shared/runtime.ts';

export interface AuditQueue {
  queueUrl: string;
  deadLetterUrl: string;
}

/** Creates the tables and queues of `runtime`'s configuration and `bucket` (versioned when asked), notifying the queue. */
export async function watchedBucketOnAuditQueue(runtime: Runtime, bucket: string, options: { versioned?: boolean } = {}): Promise<AuditQueue> {
  const { config, clients } = runtime;
  await ensureFindingsTable(clients.dynamodb, config.table);
  await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  const { queueUrl, deadLetterQueueUrl: deadLetterUrl } = await ensureQueues(clients.sqs, config);
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  if (options.versioned) await clients.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await clients.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: { QueueConfigurations: [{ QueueArn: Attributes!.QueueArn!, Events: ['s3:ObjectCreated:*'] }] },
    }),
  );
  return { queueUrl, deadLetterUrl };
}

/** The recorded state of one object, if any. */
export async function recordedState(runtime: Runtime, bucket: string, key: string): Promise<StoredFinding | undefined> {
  return (await runtime.store.statesOf(bucket, [key])).get(key);
}

/** Up to ten messages on the dead-letter queue, with their attributes (the reason sseguard gives). */
export async function deadLetters(sqs: SQSClient, deadLetterUrl: string): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 0 }),
  );
  return Messages;
}
