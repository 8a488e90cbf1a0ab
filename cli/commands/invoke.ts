// `sseguard invoke <function> --event FILE`: runs a Lambda handler in this process against the
// configured endpoint (the emulator, LocalStack when AWS_ENDPOINT_URL points there, or AWS), with
// the event as Lambda would pass it, and prints what the handler returned.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Context } from 'aws-lambda';
import { localLambdaContext } from '#commons/lambda-context.ts';
import { callerAccountId } from '#shared/accounts/caller-account.ts';
import { loadConfig } from '#shared/config.ts';
import { missingTableMessage } from '../missing-table.ts';
import { EXIT, errorLine, warningLine } from '../vocabulary.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export const FUNCTIONS = {
  'audit-worker': () => import('../../functions/audit-worker.ts'),
  sweep: () => import('../../functions/sweep.ts'),
  'key-events': () => import('../../functions/key-events.ts'),
  'report-api': () => import('../../functions/report-api.ts'),
  'outbox-delivery': () => import('../../functions/outbox-delivery.ts'),
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

/** One EMF document (Powertools Metrics' output): the metric names and values, whatever the dimensions. */
function emfMetrics(line: string): Record<string, number> | undefined {
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const aws = document?._aws as { CloudWatchMetrics?: { Metrics?: { Name: string }[] }[] } | undefined;
  if (!aws?.CloudWatchMetrics) return undefined;
  const values: Record<string, number> = {};
  for (const directive of aws.CloudWatchMetrics) {
    for (const { Name } of directive.Metrics ?? []) {
      const value = document[Name];
      const total = Array.isArray(value) ? value.reduce((sum: number, v) => sum + Number(v), 0) : Number(value);
      if (Number.isFinite(total)) values[Name] = (values[Name] ?? 0) + total;
    }
  }
  return values;
}

/**
 * Runs `body` with what it writes to stdout taken aside: EMF metric documents are added up into
 * `metrics`, every other line (the handler's log) goes to stderr. Stdout is left for the summary.
 */
async function withStdoutCaptured<T>(body: () => Promise<T>): Promise<{ result: T; metrics: Record<string, number> }> {
  const metrics: Record<string, number> = {};
  const original = process.stdout.write.bind(process.stdout);
  let pending = '';
  const take = (text: string) => {
    pending += text;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      const values = emfMetrics(line);
      if (values) for (const [name, value] of Object.entries(values)) metrics[name] = (metrics[name] ?? 0) + value;
      else process.stderr.write(`${line}\n`);
    }
  };
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    take(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await body(), metrics };
  } finally {
    process.stdout.write = original;
    if (pending) take('\n');
  }
}

/** A few lines a person reads: what the handler returned, its metrics, and whatever went to a real queue. */
export function renderInvokeSummary(name: FunctionName, result: unknown, metrics: Record<string, number>, records: number | undefined, where: string): string {
  const lines: string[] = [];
  const failures = (result as { batchItemFailures?: { itemIdentifier?: string }[] } | undefined)?.batchItemFailures;
  if (Array.isArray(failures)) {
    const handled = records === undefined ? '' : ` of ${records}`;
    lines.push(
      failures.length === 0
        ? `${name}: every message${handled} handled`
        : `${name}: ${failures.length} message(s)${handled} FAILED (batch item failures: ${failures.map((f) => f.itemIdentifier).join(', ')}); SQS would deliver them again`,
    );
  } else {
    lines.push(`${name} returned: ${JSON.stringify(result)}`);
  }
  const names = Object.keys(metrics).sort();
  if (names.length > 0) lines.push(`metrics: ${names.map((n) => `${n} ${metrics[n]}`).join(', ')}`);
  const deadLettered = metrics.MessagesDeadLettered ?? 0;
  if (deadLettered > 0) {
    const banner = '!'.repeat(78);
    lines.push(banner, `!! ${deadLettered} message(s) were SENT TO THE DEAD-LETTER QUEUE on ${where}.`, `!! They are there now, with the reason beside them.`, banner);
  }
  lines.push('(the handler\'s return value in full: --json)');
  return `${lines.join('\n')}\n`;
}

export async function invokeCommand(
  name: FunctionName,
  options: { event: string; timeout: number; json?: boolean },
  log: (line: string) => void = (line) => console.error(line),
): Promise<number> {
  const config = loadConfig(); // a missing or bad setting is reported before the handler runs
  let event = await readEvent(options.event);
  if (name === 'audit-worker' && !isSqsEvent(event)) {
    log('sseguard invoke: the event is not an SQS event; sending it as the body of one SQS message');
    event = asSqsEvent(event);
  }
  const where = config.endpoints.sqs ? `${config.endpoints.sqs} (queue ${config.deadLetterQueue})` : `AWS ${config.region} (queue ${config.deadLetterQueue})`;
  if (name === 'audit-worker' && !config.endpoints.sqs) {
    // A message the worker cannot use goes to the configured dead-letter queue: on AWS, a real one.
    log(warningLine(`no SQS endpoint is set: a message the worker cannot use is dead-lettered to the real queue ${config.deadLetterQueue} in ${config.region}`));
  }
  if (name === 'key-events' && !config.batch.accountId) {
    // The stacks set SSEGUARD_ACCOUNT_ID on every function; run here, key events get the same: without
    // it, findings stamped with this account look like another account's, and would all be queued.
    try {
      process.env.SSEGUARD_ACCOUNT_ID = await callerAccountId(config);
      log(`sseguard invoke: SSEGUARD_ACCOUNT_ID is not set: ${process.env.SSEGUARD_ACCOUNT_ID}, the caller's account (STS), as the stacks would set it`);
    } catch (error) {
      log(warningLine(`SSEGUARD_ACCOUNT_ID is not set and STS could not say whose credentials these are (${(error as Error).message}): objects recorded with an account are queued to the worker, not re-evaluated here`));
    }
  }
  const { handler } = (await FUNCTIONS[name]()) as { handler: Handler };
  const records = (event as { Records?: { messageId?: string }[] }).Records;
  const { result, metrics } = await withStdoutCaptured(() =>
    handler(event, localLambdaContext(name, options.timeout * 1000)).catch((error: unknown) => {
      // Powertools throws when every record failed (Lambda then retries the whole batch): the same
      // outcome as a batch item failure for each message, said with each message's error.
      if ((error as Error)?.name !== 'FullBatchFailureError' || !records) throw error;
      for (const cause of (error as { recordErrors?: unknown[] }).recordErrors ?? []) {
        log(errorLine(`message failed: ${missingTableMessage(cause, config) ?? (cause as Error)?.message ?? String(cause)}`));
      }
      return { batchItemFailures: records.map((r) => ({ itemIdentifier: r.messageId })) };
    }),
  );
  if (options.json) console.log(JSON.stringify(result, null, 2));
  else process.stdout.write(renderInvokeSummary(name, result, metrics, records?.length, where));
  if ((metrics.MessagesDeadLettered ?? 0) > 0 && options.json) log(warningLine(`${metrics.MessagesDeadLettered} message(s) were sent to the dead-letter queue on ${where}`));
  const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
  // Failed or dead-lettered messages are work left undone: the user must act (exit 1), as with findings.
  const failed = (Array.isArray(failures) && failures.length > 0) || (metrics.MessagesDeadLettered ?? 0) > 0;
  return failed ? EXIT.findings : EXIT.ok;
}
