// `sseguard invoke <function> --event FILE`: runs a Lambda handler in this process against the
// configured endpoint (the emulator, LocalStack when AWS_ENDPOINT_URL points there, or AWS), with
// the event as Lambda would pass it, and prints what the handler returned.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Context } from 'aws-lambda';
import { localLambdaContext } from '#commons/lambda-context.ts';
import { loadConfig } from '#shared/config.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export const FUNCTIONS = {
  'audit-worker': () => import('../../functions/audit-worker.ts'),
  sweep: () => import('../../functions/sweep.ts'),
  'key-events': () => import('../../functions/key-events.ts'),
  'report-api': () => import('../../functions/report-api.ts'),
} as const satisfies Record<string, () => Promise<{ handler: unknown }>>;
export type FunctionName = keyof typeof FUNCTIONS;

export class InvokeError extends Error {
  override name = 'InvokeError';
}

async function readEvent(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvokeError(`cannot read event file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvokeError(`event file ${path} is not JSON: ${(error as Error).message}`);
  }
}

const isSqsEvent = (event: unknown): boolean =>
  Array.isArray((event as { Records?: unknown[] })?.Records) &&
  (event as { Records: { eventSource?: string }[] }).Records.every((r) => r.eventSource === 'aws:sqs');

/** The audit worker takes SQS events: a bare message body is wrapped as the queue would deliver it. */
function asSqsEvent(event: unknown): unknown {
  const body = JSON.stringify(event);
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: 'local',
        body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'sseguard-invoke', ApproximateFirstReceiveTimestamp: String(Date.now()) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:local:000000000000:sseguard-invoke',
        awsRegion: process.env.AWS_REGION ?? 'us-east-1',
      },
    ],
  };
}

export async function invokeCommand(
  name: FunctionName,
  options: { event: string; timeout: number },
  log: (line: string) => void = (line) => console.error(line),
): Promise<number> {
  loadConfig(); // a missing or bad setting is reported before the handler runs
  let event = await readEvent(options.event);
  if (name === 'audit-worker' && !isSqsEvent(event)) {
    log('sseguard invoke: the event is not an SQS event; sending it as the body of one SQS message');
    event = asSqsEvent(event);
  }
  const { handler } = (await FUNCTIONS[name]()) as { handler: Handler };
  const result = await handler(event, localLambdaContext(name, options.timeout * 1000));
  console.log(JSON.stringify(result, null, 2));
  const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
  return Array.isArray(failures) && failures.length > 0 ? 1 : 0;
}
