import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, test } from 'vitest';
import { localLambdaContext } from '../../functions/commons/lambda-context.ts';
import { resetHandlerRuntime } from '../../functions/commons/runtime.ts';
import { sweepDependencies } from '../../functions/commons/sweep-dependencies.ts';
import { handler as auditWorker } from '../../functions/audit-worker.ts';
import { handler as sweepHandler } from '../../functions/sweep.ts';
import { loadConfig } from '../../shared/config.ts';
import { parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { ensureFindingsTable, ensureIdempotencyTable } from '../../shared/findings/dynamodb-store.ts';
import { ensureQueues } from '../../shared/queue/sqs-queue.ts';
import { createRuntime } from '../../shared/runtime.ts';
import { sweep, type SweepDependencies } from '../../shared/sweep/sweep.ts';
import { listPosture, PostureStore } from '../../shared/findings/posture-store.ts';
import { drainQueue } from '../support/sqs-event-source.ts';
import { scanBucket } from '../../shared/audit/scan.ts';
import { parsePolicy } from '../../shared/domain/policy.ts';
import { resolveKeys } from '../../shared/policy-loader.ts';
import { createKey, disableKey, putObject } from '../support/aws-fixtures.ts';

Object.assign(process.env, {
  SSEGUARD_TABLE: 'sweep-findings',
  SSEGUARD_QUEUE: 'sweep-audit',
  SSEGUARD_SWEEP_BUCKETS: 'swept-*,!swept-ignored',
  SSEGUARD_SWEEP_INTERVAL_HOURS: '24',
});
delete process.env.SSEGUARD_POLICY;

const OBJECTS = 1050; // two listing pages: 1000 + 50 keys → 10 + 1 sweep messages
const context = localLambdaContext('sweep');
let queueUrl: string;

async function seed(bucket: string, count: number) {
  const { s3 } = createRuntime(loadConfig()).clients;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const keys = Array.from({ length: count }, (_, i) => `obj/${String(i).padStart(5, '0')}`);
  for (let start = 0; start < keys.length; start += 50) {
    // SSE-S3 said explicitly, as S3 applies it by default: this suite also runs on ministack, which applies none.
    await Promise.all(keys.slice(start, start + 50).map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x', ServerSideEncryption: 'AES256' }))));
  }
}

/** Takes every message off the queue (without auditing) and returns the keys each names. */
async function takeMessages(): Promise<{ bodies: string[]; keys: string[] }> {
  const { sqs } = createRuntime(loadConfig()).clients;
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) break;
    for (const m of Messages) {
      bodies.push(m.Body!);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
  const keys = bodies.flatMap((body) => {
    const parsed = parseMessageBody(body);
    return parsed.kind === 'audit' ? parsed.requests.map((r) => `${r.bucket}/${r.key}`) : [];
  });
  return { bodies, keys };
}

/** Puts the messages back on the queue and lets the audit worker take them; returns its failures. */
async function auditThroughWorker(bodies: string[]): Promise<string[]> {
  const { sqs } = createRuntime(loadConfig()).clients;
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody })) }));
  }
  return drainQueue(sqs, queueUrl, auditWorker, context);
}

async function sweepDeps(overrides: Partial<SweepDependencies> = {}): Promise<SweepDependencies> {
  const deps = await sweepDependencies();
  return {
    lister: deps.runtime.objects,
    queue: deps.queues,
    runs: deps.sweepRuns,
    buckets: async () => ['swept-a'],
    ...overrides,
  };
}

beforeAll(async () => {
  resetHandlerRuntime();
  const { config, clients } = createRuntime(loadConfig());
  await ensureFindingsTable(clients.dynamodb, config.table);
  await ensureIdempotencyTable(clients.dynamodb, config.idempotencyTable);
  ({ queueUrl } = await ensureQueues(clients.sqs, config));
  await seed('swept-a', OBJECTS);
});

describe('resumable sweep', () => {
  test('interrupted after the first page and resumed: every object enqueued exactly once, audited and counted once', async () => {
    let pagesAllowed = 1;
    const stopAfterOnePage = () => pagesAllowed-- <= 0;
    const first = await sweep(await sweepDeps(), { shouldStop: stopAfterOnePage });
    expect(first).toMatchObject({ status: 'paused', pagesEnqueued: 10, objectsEnqueued: 1000 });
    const second = await sweep(await sweepDeps(), { shouldStop: () => false });
    expect(second).toMatchObject({ status: 'finished', runId: first.status === 'paused' ? first.runId : '', pagesEnqueued: 1, objectsEnqueued: 50 });

    const { bodies, keys } = await takeMessages();
    expect(bodies).toHaveLength(11);
    expect(new Set(keys).size).toBe(OBJECTS);
    expect(keys).toHaveLength(OBJECTS);

    // Feed them to the worker and check the run's tally.
    expect(await auditThroughWorker(bodies)).toEqual([]);
    const [run] = await (await sweepDependencies()).sweepRuns.runs(1);
    expect(run).toMatchObject({ pagesEnqueued: 11, objectsEnqueued: OBJECTS, pagesAudited: 11, objectsAudited: OBJECTS, verdicts: { compliant: OBJECTS } });
    expect(run?.finishedAt).toBeTruthy();
    expect((await createRuntime(loadConfig()).store.summary()).buckets['swept-a']?.objects).toBe(OBJECTS);
  });

  test('a crash between sending a page and saving the checkpoint re-sends that page: audited twice, counted once', async () => {
    const deps = await sweepDeps();
    let crashes = 1;
    const crashingRuns: SweepDependencies['runs'] = {
      checkpoint: () => deps.runs.checkpoint(),
      start: (run) => deps.runs.start(run),
      finish: (checkpoint, at) => deps.runs.finish(checkpoint, at),
      advance: (previous, next, enqueued) => {
        if (crashes-- > 0) throw new Error('Lambda timed out');
        return deps.runs.advance(previous, next, enqueued);
      },
    };
    // The previous test's run started moments ago: allow a new one at once.
    await expect(sweep({ ...deps, runs: crashingRuns }, { shouldStop: () => false })).rejects.toThrow('Lambda timed out');
    expect(await sweep(deps, { shouldStop: () => false })).toMatchObject({ status: 'finished', pagesEnqueued: 11 });

    const { bodies, keys } = await takeMessages();
    expect(bodies).toHaveLength(21); // page 1's ten messages twice, then the rest
    expect(new Set(keys).size).toBe(OBJECTS);
    expect(await auditThroughWorker(bodies)).toEqual([]);
    const [run] = await (await sweepDependencies()).sweepRuns.runs(1);
    expect(run).toMatchObject({ pagesAudited: 11, objectsAudited: OBJECTS });
  });
});

describe('the scheduled handler', () => {
  test('selects buckets by glob, skips excluded ones, and does not start a new run before the interval', async () => {
    await seed('swept-b', 3);
    await seed('swept-ignored', 2);
    await seed('other', 1);
    resetHandlerRuntime();
    process.env.SSEGUARD_SWEEP_INTERVAL_HOURS = '0';
    const outcome = await sweepHandler({}, context);
    expect(outcome).toMatchObject({ status: 'finished', objectsEnqueued: OBJECTS + 3 });
    const { keys } = await takeMessages();
    expect(new Set(keys.map((k) => k.split('/')[0]))).toEqual(new Set(['swept-a', 'swept-b']));
    // The sweep audits each bucket's posture as it reaches it.
    const postures = await listPosture(new PostureStore(createRuntime(loadConfig()).clients.documents, loadConfig().table));
    expect(postures.map((p) => p.bucket).sort()).toEqual(['swept-a', 'swept-b']);

    resetHandlerRuntime();
    process.env.SSEGUARD_SWEEP_INTERVAL_HOURS = '24';
    expect(await sweepHandler({}, context)).toMatchObject({ status: 'not-due' });
  });

  test('a new run describes each key recorded findings depend on: an object under a key disabled with no key event is recorded at-risk', async () => {
    const runtime = createRuntime(loadConfig());
    const key = await createKey(runtime.clients);
    // Outside the swept globs: only the key check can re-judge it in this run.
    await runtime.clients.s3.send(new CreateBucketCommand({ Bucket: 'drift-kms' }));
    await putObject(runtime.clients, 'drift-kms', 'k', { mode: 'sse-kms', key });
    const policy = await resolveKeys(parsePolicy('{"version":1}', 'test policy'), runtime.keys, 'test policy');
    await scanBucket({ objects: runtime.objects, lister: runtime.objects, keys: runtime.keys, policy, store: runtime.store }, { bucket: 'drift-kms', concurrency: 1 });
    const verdictOf = async () => (await runtime.store.statesOf('drift-kms', ['k'])).get('k')?.verdict;
    expect(await verdictOf()).toBe('compliant');

    await disableKey(runtime.clients, key);
    resetHandlerRuntime();
    process.env.SSEGUARD_SWEEP_INTERVAL_HOURS = '0';
    try {
      const outcome = await sweepHandler({}, context);
      expect(outcome).toMatchObject({ status: 'finished', keyCheck: { described: 1, unchecked: [], reevaluated: 1, changed: [{ arn: key.arn }] } });
      expect(await verdictOf()).toBe('at-risk');
    } finally {
      process.env.SSEGUARD_SWEEP_INTERVAL_HOURS = '24';
      resetHandlerRuntime();
      await takeMessages();
    }
  });
});
