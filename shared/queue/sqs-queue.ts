// SQS adapter: the audit queue the sweep and key events feed, and its dead-letter queue. Queues
// are named by URL (in Lambda, from the stack) or by name (locally), looked up once.
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Config } from '../config.ts';

const MAX_BATCH_ENTRIES = 10;
const MAX_ATTEMPTS = 6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SqsQueues {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly config: Pick<Config, 'queue' | 'deadLetterQueue'>,
  ) {}

  private url(nameOrUrl: string): Promise<string> {
    if (/^https?:\/\//.test(nameOrUrl)) return Promise.resolve(nameOrUrl);
    let url = this.urls.get(nameOrUrl);
    if (!url) {
      url = this.sqs.send(new GetQueueUrlCommand({ QueueName: nameOrUrl })).then(({ QueueUrl }) => QueueUrl!);
      url.catch(() => this.urls.delete(nameOrUrl));
      this.urls.set(nameOrUrl, url);
    }
    return url;
  }

  /** Sends message bodies to the audit queue, ten per call; entries SQS refuses are retried. */
  /** `delaySeconds`: SQS hands the messages out only after that long (at most 900), e.g. the next poll of a running Athena query. */
  async sendToAuditQueue(bodies: string[], options: { delaySeconds?: number } = {}): Promise<void> {
    const QueueUrl = await this.url(this.config.queue);
    const delay = options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {};
    for (let start = 0; start < bodies.length; start += MAX_BATCH_ENTRIES) {
      let entries = bodies.slice(start, start + MAX_BATCH_ENTRIES).map((MessageBody, i) => ({ Id: String(start + i), MessageBody, ...delay }));
      for (let attempt = 1; entries.length > 0; attempt++) {
        const { Failed = [] } = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
        const senderFaults = Failed.filter((f) => f.SenderFault);
        if (senderFaults.length > 0) {
          throw new Error(`SQS refused ${senderFaults.length} messages: ${senderFaults.map((f) => `${f.Code}: ${f.Message}`).join('; ')}`);
        }
        const failedIds = new Set(Failed.map((f) => f.Id));
        entries = entries.filter((e) => failedIds.has(e.Id));
        if (entries.length > 0) {
          if (attempt >= MAX_ATTEMPTS) throw new Error(`SQS did not accept ${entries.length} messages after ${attempt} attempts`);
          await sleep(Math.random() * Math.min(2000, 50 * 2 ** attempt));
        }
      }
    }
  }

  /** Moves a message the worker cannot use to the dead-letter queue, with the reason beside it. */
  async deadLetter(body: string, reason: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: await this.url(this.config.deadLetterQueue),
        MessageBody: body,
        MessageAttributes: { 'sseguard-reason': { DataType: 'String', StringValue: reason.slice(0, 1000) } },
      }),
    );
  }
}

/** Creates the audit queue and its DLQ (with the redrive policy) if missing; returns their URLs. */
export async function ensureQueues(
  sqs: SQSClient,
  config: Pick<Config, 'queue' | 'deadLetterQueue' | 'maxReceiveCount'>,
  options: { visibilityTimeoutSeconds?: number } = {},
): Promise<{ queueUrl: string; deadLetterQueueUrl: string }> {
  const nameOf = (nameOrUrl: string) => nameOrUrl.split('/').pop()!;
  const { QueueUrl: deadLetterQueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: nameOf(config.deadLetterQueue), Attributes: { MessageRetentionPeriod: '1209600' } }),
  );
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }));
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: nameOf(config.queue),
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 360),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: config.maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queueUrl!, deadLetterQueueUrl: deadLetterQueueUrl! };
}
