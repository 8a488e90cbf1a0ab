// Key events' dependencies: describe the key afresh, re-evaluate its objects through the audit
// pipeline (from recorded facts; HeadObject only for states recorded before facts were kept), send
// larger blast radii to the audit queue in pages, and cancel a key's deletion where policy says so.
// Fixes nothing: the remediator is not built here, so this role cannot change objects.
import type { KeyEventDependencies } from '#shared/audit/reevaluate-key.ts';
import { KmsKeyDeletionCanceller } from '#shared/inspect/key-deletion.ts';
import { SqsQueues } from '#shared/queue/sqs-queue.ts';
import { handlerPolicy, handlerRuntime, memoized } from './runtime.ts';

const keyEvents = memoized<KeyEventDependencies>(async () => {
  const current = handlerRuntime();
  return {
    objects: current.objects,
    keys: current.keys,
    store: current.store,
    policy: await handlerPolicy(),
    queue: new SqsQueues(current.clients.sqs, current.config),
    deletions: new KmsKeyDeletionCanceller(current.regional),
    // Findings stamped with this account are its own: re-evaluated in place (the stacks set SSEGUARD_ACCOUNT_ID).
    ...(current.config.batch.accountId ? { ownAccount: current.config.batch.accountId } : {}),
  };
});

export const keyEventDependencies = (): Promise<KeyEventDependencies> => keyEvents.get();
