// The handlers' runtime (clients, inspectors, store) and policy, built once per Lambda process
// (reused across invocations) from the validated configuration. What each handler builds on top of
// it lives in dependencies.ts, so that a handler's bundle — and its role — holds only what it uses.
// Its SDK clients are traced (X-Ray) once, here. Tests and `sseguard invoke` reset everything when
// they change the environment.
import type { ResolvedPolicy } from '#shared/domain/policy.ts';
import { linkedConfig } from '#commons/linked-config.ts';
import { loadPolicy } from '#shared/policy-loader.ts';
import { createRuntime, type Runtime } from '#shared/runtime.ts';
import { traceClients, traced } from './traced-clients.ts';

/** A warm Lambda re-describes a KMS key after this long, so a key disabled since is noticed. */
const KEY_FACTS_TTL_MS = 5 * 60_000;

let runtime: Runtime | undefined;

const resets: (() => void)[] = [];

export function handlerRuntime(): Runtime {
  if (!runtime) {
    runtime = createRuntime(linkedConfig(), { keyTtlMs: KEY_FACTS_TTL_MS });
    traceClients(runtime.clients);
    // The clients of other Regions (a key's, a bucket's) are traced as they are made.
    runtime.regional.onClient((client) => traced(client));
  }
  return runtime;
}

/** Built once per process; a failed build (bad policy file, KMS unreachable) is tried again next time. */
export function memoized<T>(build: () => Promise<T>): { get(): Promise<T>; reset(): void } {
  let value: Promise<T> | undefined;
  const memo = {
    get() {
      if (!value) {
        value = build();
        value.catch(() => {
          value = undefined;
        });
      }
      return value;
    },
    reset() {
      value = undefined;
    },
  };
  resets.push(memo.reset);
  return memo;
}

const policy = memoized<ResolvedPolicy>(async () => {
  const current = handlerRuntime();
  return loadPolicy(current.config.policyPath, current.keys);
});

export const handlerPolicy = (): Promise<ResolvedPolicy> => policy.get();

export function resetHandlerRuntime(): void {
  runtime = undefined;
  for (const reset of resets) reset();
}
