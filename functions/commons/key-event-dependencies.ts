// Key events' dependencies: describe the key afresh and re-evaluate its objects from their recorded
// facts. Reads and writes findings; sends nothing to S3.
import { handlerPolicy, handlerRuntime } from './runtime.ts';

export async function keyEventDependencies() {
  const current = handlerRuntime();
  return { keys: current.keys, store: current.store, policy: await handlerPolicy() };
}

