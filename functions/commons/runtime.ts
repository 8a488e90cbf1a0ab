// The handlers' dependencies, built once per Lambda process (reused across invocations) from the
// validated configuration. Tests and `sseguard invoke` reset them when they change the environment.
import type { Context } from 'aws-lambda';
import type { RequestAuditDependencies } from '#shared/audit/audit-requests.ts';
import { idempotentFix } from '#shared/audit/idempotent-fix.ts';
import { createRemediator } from '#shared/audit/remediator.ts';
import type { Config } from '#shared/config.ts';
import { linkedConfig } from '#commons/linked-config.ts';
import { loadPolicy } from '#shared/policy-loader.ts';
import { SqsQueues } from '#shared/queue/sqs-queue.ts';
import { createRuntime, type Runtime } from '#shared/runtime.ts';
import { SweepRuns } from '#shared/sweep/sweep-runs.ts';
import type { PostureDependencies } from '#shared/posture/audit-posture.ts';
import { S3BucketInspector } from '#shared/posture/bucket-inspector.ts';
import { PostureStore } from '#shared/findings/posture-store.ts';

/** A warm Lambda re-describes a KMS key after this long, so a key disabled since is noticed. */
const KEY_FACTS_TTL_MS = 5 * 60_000;

export interface WorkerDependencies extends RequestAuditDependencies {
  config: Config;
  runtime: Runtime;
  queues: SqsQueues;
  sweepRuns: SweepRuns;
  /** Bucket posture: audited by the sweep as it reaches each bucket. */
  posture: PostureDependencies;
  /** Lets the idempotency store see the invocation's deadline. */
  registerLambdaContext(context: Context): void;
}

let runtime: Runtime | undefined;
let worker: Promise<WorkerDependencies> | undefined;

export function handlerRuntime(): Runtime {
  runtime ??= createRuntime(linkedConfig(), { keyTtlMs: KEY_FACTS_TTL_MS });
  return runtime;
}

async function buildWorkerDependencies(): Promise<WorkerDependencies> {
  const current = handlerRuntime();
  const policy = await loadPolicy(current.config.policyPath, current.keys);
  const audit = { objects: current.objects, keys: current.keys, policy };
  const idempotency = idempotentFix(current.clients.dynamodb, current.config.idempotencyTable);
  return {
    ...audit,
    config: current.config,
    runtime: current,
    store: current.store,
    remediate: createRemediator({ ...audit, s3: current.clients.s3, fixOnce: idempotency.fixOnce }),
    registerLambdaContext: idempotency.registerLambdaContext,
    queues: new SqsQueues(current.clients.sqs, current.config),
    sweepRuns: new SweepRuns(current.clients.documents, current.config.table),
    posture: {
      buckets: new S3BucketInspector(current.clients.s3, current.keys, current.config.region),
      policy,
      store: new PostureStore(current.clients.documents, current.config.table),
    },
  };
}

export function workerDependencies(): Promise<WorkerDependencies> {
  if (!worker) {
    worker = buildWorkerDependencies();
    // A failed start (bad policy, KMS unreachable) is retried on the next invocation.
    worker.catch(() => {
      worker = undefined;
    });
  }
  return worker;
}

export function resetHandlerRuntime(): void {
  runtime = undefined;
  worker = undefined;
}
