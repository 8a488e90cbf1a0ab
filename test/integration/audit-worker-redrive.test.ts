// The audit queue's redrive: what cannot be parsed goes to the dead-letter queue at once, a message
// that keeps failing reaches it after SSEGUARD_MAX_RECEIVE_COUNT deliveries, and neighbours in the
// same batch succeed. Depends on no S3 encryption semantics (SSE-S3 objects only), so it also runs
// against ministack (test/support/engines.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Pluggable } from '@smithy/types';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { handlerRuntime, resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { handler } from '../../functions/audit-worker.ts';
import { loadConfig } from '../../shared/config.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { putObject } from '../support/aws-fixtures.ts';
import { deadLetters as deadLettersOn, recordedState, watchedBucketOnAuditQueue } from '../support/audit-queue.ts';
import { drainQueue } from '../support/sqs-event-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'sseguard-redrive-'));
const policyPath = join(dir, 'policy.yaml');
writeFileSync(policyPath, 'version: 1\n');
Object.assign(process.env, {
  SSEGUARD_TABLE: 'redrive-findings',
  SSEGUARD_QUEUE: 'redrive-audit',
  SSEGUARD_MAX_RECEIVE_COUNT: '2',
  SSEGUARD_POLICY: policyPath,
});

const context = localLambdaContext('audit-worker');
let sqs: SQSClient;
let queueUrl: string;
let deadLetterUrl: string;

const runtime = () => createRuntime(loadConfig());
const stateOf = (bucket: string, key: string) => recordedState(runtime(), bucket, key);
const deadLetters = () => deadLettersOn(sqs, deadLetterUrl);

beforeAll(async () => {
  resetHandlerRuntime();
  sqs = runtime().clients.sqs;
  ({ queueUrl, deadLetterUrl } = await watchedBucketOnAuditQueue(runtime(), 'watched'));
  // Configuring the destination sent the s3:TestEvent: not part of these tests.
  await drainQueue(sqs, queueUrl, async () => ({ batchItemFailures: [] }), context);
});

afterEach(async () => {
  // Whatever a test left behind must not leak into the next one.
  await drainQueue(sqs, queueUrl, async () => ({ batchItemFailures: [] }), context);
});

describe('failures', () => {
  test('a message that cannot be parsed goes to the DLQ at once with its reason; its neighbours succeed', async () => {
    const { clients } = runtime();
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"not": "an event"}' }));
    await putObject(clients, 'watched', 'neighbour/fine.txt', { mode: 'sse-s3' });
    expect(await drainQueue(sqs, queueUrl, handler, context)).toEqual([]);
    const dead = await deadLetters();
    expect(dead.map((m) => m.Body)).toEqual(['{"not": "an event"}']);
    expect(dead[0]!.MessageAttributes?.['sseguard-reason']?.StringValue).toContain('not an S3 notification');
    expect(await stateOf('watched', 'neighbour/fine.txt')).toMatchObject({ verdict: 'compliant' });
  });

  test('a poison message (its findings write fails every time: fault injected at the DynamoDB client boundary) reaches the DLQ after the configured deliveries; its neighbours succeed', async () => {
    resetHandlerRuntime();
    const failPoison: Pluggable<object, object> = {
      applyToStack(stack) {
        stack.add(
          (next, context) => async (args) => {
            if (context.commandName === 'TransactWriteItemsCommand' && JSON.stringify(args.input).includes('poison/bad.txt')) {
              throw new DynamoDBServiceException({ name: 'InternalServerError', $fault: 'server', message: 'Internal server error', $metadata: { httpStatusCode: 500 } });
            }
            return next(args);
          },
          { step: 'initialize', name: 'injectedFault' },
        );
      },
    };
    (handlerRuntime().clients.dynamodb.middlewareStack as unknown as { use(p: Pluggable<object, object>): void }).use(failPoison);
    const { clients } = runtime();
    await putObject(clients, 'watched', 'poison/bad.txt', { mode: 'sse-s3' });
    await putObject(clients, 'watched', 'poison/neighbour.txt', { mode: 'sse-s3' });

    const failures = await drainQueue(sqs, queueUrl, handler, context);
    expect(failures).toHaveLength(2); // delivered twice (SSEGUARD_MAX_RECEIVE_COUNT), failed twice
    // The earlier test's dead letter (read, not deleted) may be visible again by now: look for this one.
    // The event's key is URL-encoded; whether "/" is escaped differs between emulators (moto: %2F, ministack: /).
    const dead = (await deadLetters()).filter((m) => /"poison(%2F|\/)(bad|neighbour)\.txt"/.test(m.Body ?? ''));
    expect(dead).toHaveLength(1);
    expect(dead[0]!.Body).toMatch(/"poison(%2F|\/)bad\.txt"/);
    expect(await stateOf('watched', 'poison/neighbour.txt')).toMatchObject({ verdict: 'compliant' });
    expect(await stateOf('watched', 'poison/bad.txt')).toBeUndefined();
    resetHandlerRuntime();
    // Each delivery retries the failing write with backoff (about 15 s) before giving the message back.
  }, 120_000);
});
