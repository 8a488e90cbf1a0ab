// Plays Lambda's SQS event source mapping against the emulator's real queue: receive a batch,
// hand it to the handler as an SQS event, delete what succeeded, and make the reported failures
// visible again at once (instead of after the visibility timeout) so tests need not wait.
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'sender',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: process.env.AWS_REGION ?? 'us-east-1',
  };
}

export interface PollResult {
  received: number;
  failed: string[];
}

export async function pollOnce(
  sqs: SQSClient,
  queueUrl: string,
  handler: SqsHandler,
  context: Context,
  batchSize = 10,
): Promise<PollResult> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: batchSize, AttributeNames: ['All'], VisibilityTimeout: 30, WaitTimeSeconds: 0 }),
  );
  if (Messages.length === 0) return { received: 0, failed: [] };
  const queueArn = `arn:aws:sqs:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:${queueUrl.split('/').pop()}`;
  let failed: string[];
  try {
    const response = await handler({ Records: Messages.map((m) => toRecord(m, queueArn)) }, context);
    failed = response.batchItemFailures.map((f) => f.itemIdentifier);
  } catch {
    failed = Messages.map((m) => m.MessageId!); // the whole batch failed
  }
  for (const message of Messages) {
    if (failed.includes(message.MessageId!)) {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 }));
    } else {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  }
  return { received: Messages.length, failed };
}

/** Polls until the queue is empty (or `maxPolls` is reached); returns every failure seen. */
export async function drainQueue(sqs: SQSClient, queueUrl: string, handler: SqsHandler, context: Context, maxPolls = 50): Promise<string[]> {
  const failures: string[] = [];
  for (let poll = 0; poll < maxPolls; poll++) {
    const { received, failed } = await pollOnce(sqs, queueUrl, handler, context);
    if (received === 0) return failures;
    failures.push(...failed);
  }
  throw new Error(`queue ${queueUrl} still had messages after ${maxPolls} polls`);
}
