// Counts SDK calls by operation with a middleware on each client, so that a run can report how
// many API calls it made per object (the benchmark's figure, and a check against regressions).
import type { Pluggable } from '@smithy/types';
import type { AwsClients } from './clients.ts';
import type { RegionalClients } from './regional-clients.ts';

export type CallCounts = Record<string, number>;

function counterPlugin<Input extends object, Output extends object>(counts: CallCounts): Pluggable<Input, Output> {
  return {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
          counts[name] = (counts[name] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name: 'sseguardCallCounter', override: true },
      );
    },
  };
}

/**
 * Starts counting the calls every client makes (with `regional`, the clients of other Regions too);
 * the returned object fills as calls are sent.
 */
export function countCalls(clients: AwsClients, regional?: Pick<RegionalClients, 'onClient'>): CallCounts {
  const counts: CallCounts = {};
  regional?.onClient((client) => client.middlewareStack.use(counterPlugin(counts)));
  clients.s3.middlewareStack.use(counterPlugin(counts));
  clients.kms.middlewareStack.use(counterPlugin(counts));
  clients.dynamodb.middlewareStack.use(counterPlugin(counts));
  clients.sqs.middlewareStack.use(counterPlugin(counts));
  return counts;
}
