// What the outbox delivered, read back on the emulator: the EventBridge events a rule's queue target
// holds, each checked against its detail type's schema, and the Security Hub findings of a bucket.
import { GetFindingsCommand, type AwsSecurityFinding, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import { eventSchemaValidator } from './event-schemas.ts';

let validate: ReturnType<typeof eventSchemaValidator> | undefined;

/** Every event the queue holds now (received and deleted), each checked against its schema. */
export async function drainEvents<Event extends { 'detail-type': string; detail: unknown }>(sqs: SQSClient, url: string): Promise<Event[]> {
  validate ??= eventSchemaValidator();
  const all: Event[] = [];
  for (;;) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!Messages?.length) return all;
    for (const message of Messages) {
      const event = JSON.parse(message.Body!) as Event;
      expect(validate(event['detail-type'], event.detail), `${event['detail-type']} ${JSON.stringify(event.detail)}`).toEqual([]);
      all.push(event);
    }
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

/** The Security Hub findings sseguard imported for one bucket (every page). */
export async function hubFindingsOf(securityHub: SecurityHubClient, bucket: string): Promise<AwsSecurityFinding[]> {
  const found: AwsSecurityFinding[] = [];
  let NextToken: string | undefined;
  do {
    const page = await securityHub.send(new GetFindingsCommand({ MaxResults: 100, ...(NextToken ? { NextToken } : {}) }));
    found.push(...(page.Findings ?? []).filter((f) => f.Id?.startsWith(`sseguard/${bucket}/`)));
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}
