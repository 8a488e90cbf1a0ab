// The handlers' dependencies, built once per Lambda process (reused across invocations) from the
// validated configuration. Tests and `sseguard invoke` reset it when they change the environment.
import { loadConfig } from '#shared/config.ts';
import { createRuntime, type Runtime } from '#shared/runtime.ts';

let runtime: Runtime | undefined;

export function handlerRuntime(): Runtime {
  runtime ??= createRuntime(loadConfig());
  return runtime;
}

export function resetHandlerRuntime(): void {
  runtime = undefined;
}
