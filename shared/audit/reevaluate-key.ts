// When a KMS key's state changes, every object encrypted under it changes risk. The key is described
// afresh and recorded, then the objects under it (the by-key index) go through the one audit
// pipeline as key-event requests (auditRequests: re-evaluated from their recorded facts, or audited
// afresh where those facts were never kept). A blast radius that fits one page is re-evaluated here;
// a larger one goes to the audit queue in pages, so that a key under millions of objects never
// rests on one invocation finishing in time.
//
// A key scheduled for deletion while recorded objects depend on it is the most urgent finding there
// is: the outcome carries its deletion date and blast radius (objects, bytes), and when the policy
// says so (keyDeletion.cancelWhileObjectsDepend) the deletion is cancelled and that is recorded.
// KMS leaves a key whose deletion was cancelled Disabled: its objects stay at-risk until a person
// enables it (sseguard does not: the key may have been disabled on purpose).
import { errorFacts } from '../aws/errors.ts';
import type { KeyLookup } from '../domain/encryption.ts';
import type { KeyDeletionPolicy } from '../domain/policy.ts';
import type { Verdict } from '../domain/verdict.ts';
import {
  KEY_REEVALUATION_MESSAGE_KIND,
  MAX_OBJECTS_PER_KEY_MESSAGE,
  type AuditRequest,
  type KeyReevaluationMessage,
} from '../events/audit-queue-messages.ts';
import type { KeyStateCall } from '../events/key-events.ts';
import type { FindingsStore, KeyAction } from '../findings/store.ts';
import type { KeyDeletionCanceller } from '../inspect/key-deletion.ts';
import type { KeyInspector } from '../inspect/key-inspector.ts';
import { auditRequests, type RequestAuditDependencies } from './audit-batch.ts';

export interface KeyEventDependencies extends Omit<RequestAuditDependencies, 'store' | 'keys' | 'remediate'> {
  keys: KeyInspector & { forget(keyRef: string): void };
  store: Pick<FindingsStore, 'findings' | 'record' | 'statesOf' | 'recordKeys' | 'recordKeyAction' | 'summary'>;
  queue: { sendToAuditQueue(bodies: string[]): Promise<void> };
  deletions: KeyDeletionCanceller;
  /** The account this function acts in (SSEGUARD_ACCOUNT_ID): its own objects are re-evaluated here, not queued. */
  ownAccount?: string;
}

export interface BlastRadius {
  objects: number;
  bytes: number;
}

export interface KeyEventOutcome {
  call: KeyStateCall;
  key: KeyLookup;
  /** The objects and bytes recorded under the key (its counter) when the event arrived. */
  blastRadius: BlastRadius;
  /** The key is pending deletion: when, and what would be lost with it. */
  deletion?: BlastRadius & { date: string };
  /** The deletion sseguard cancelled (or tried to), as recorded. */
  deletionCancelled?: KeyAction;
  /** Objects re-evaluated here (a blast radius of one page at most), by verdict. */
  objects: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** Pages sent to the audit queue (a larger blast radius, or objects a retry must decide). */
  queued: { messages: number; objects: number };
}

export class KeyLookupFailedError extends Error {
  override name = 'KeyLookupFailedError';
}

/** Whether to cancel the key's deletion: the policy opts in, and recorded objects depend on the key. */
export function deletionToCancel(key: KeyLookup, radius: BlastRadius, policy: KeyDeletionPolicy): boolean {
  return policy.cancelWhileObjectsDepend && key.status === 'described' && key.state === 'PendingDeletion' && radius.objects > 0;
}

/** Pages of at most MAX_OBJECTS_PER_KEY_MESSAGE objects, one bucket each, as the audit queue carries them. */
export function keyReevaluationPages(keyArn: string, requests: readonly Pick<AuditRequest, 'bucket' | 'key' | 'size' | 'account' | 'region'>[]): KeyReevaluationMessage[] {
  const pages: KeyReevaluationMessage[] = [];
  for (const request of requests) {
    const last = pages.at(-1);
    const object = { key: request.key, size: request.size ?? 0 };
    if (last && last.bucket === request.bucket && last.objects.length < MAX_OBJECTS_PER_KEY_MESSAGE) last.objects.push(object);
    else {
      // A key of account A protects objects of B and C: each page names its bucket's account, whose role the worker takes.
      const origin = { ...(request.account ? { account: request.account } : {}), ...(request.region ? { region: request.region } : {}) };
      pages.push({ kind: KEY_REEVALUATION_MESSAGE_KIND, ...origin, keyArn, bucket: request.bucket, objects: [object] });
    }
  }
  return pages;
}

async function cancelDeletion(deps: KeyEventDependencies, key: KeyLookup & { status: 'described' }, radius: BlastRadius, at: Date): Promise<KeyAction> {
  const base = {
    action: 'cancel-key-deletion' as const,
    keyArn: key.arn,
    at: at.toISOString(),
    ...(key.deletionDate ? { deletionDate: key.deletionDate } : {}),
    ...radius,
  };
  let action: KeyAction;
  try {
    await deps.deletions.cancelDeletion(key.keyId, key.arn);
    action = {
      ...base,
      outcome: 'cancelled',
      detail: `deletion on ${key.deletionDate ?? '(date unknown)'} cancelled: ${radius.objects} objects (${radius.bytes} bytes) depend on the key; KMS leaves it Disabled until a person enables it`,
    };
  } catch (error) {
    const facts = errorFacts(error);
    // Throttled or failing: the event is retried (and the whole handling with it), not recorded as failed.
    if (facts.transient) throw error;
    // The SDK's retry of a cancellation whose answer was lost finds its own work done: KMS refuses a
    // key that is no longer pending deletion (DisabledException once cancelled, KMSInvalidStateException
    // if a person enabled it meanwhile). The key's state now says whether the deletion is off.
    const cancelled = (facts.name === 'DisabledException' || facts.name === 'KMSInvalidStateException') && (await noLongerPendingDeletion(deps, key.arn));
    action = cancelled
      ? { ...base, outcome: 'cancelled', detail: `deletion on ${key.deletionDate ?? '(date unknown)'} no longer scheduled (cancelled; KMS answered ${facts.name} to a retry): ${radius.objects} objects (${radius.bytes} bytes) depend on the key; it stays Disabled until a person enables it` }
      : { ...base, outcome: 'failed', detail: `CancelKeyDeletion failed: ${facts.name}: ${facts.message}` };
  }
  await deps.store.recordKeyAction(action);
  return action;
}

async function noLongerPendingDeletion(deps: KeyEventDependencies, keyArn: string): Promise<boolean> {
  deps.keys.forget(keyArn);
  const now = await deps.keys.lookup(keyArn);
  return now.status === 'described' && now.state !== 'PendingDeletion' && now.state !== 'PendingReplicaDeletion';
}

async function describeAfresh(deps: KeyEventDependencies, keyRef: string, at: Date): Promise<KeyLookup> {
  deps.keys.forget(keyRef);
  const key = await deps.keys.lookup(keyRef);
  // Without the key's state there is nothing to re-evaluate against: the event is retried.
  if (key.status === 'error') throw new KeyLookupFailedError(`cannot describe KMS key ${keyRef}: ${key.detail}`);
  await deps.store.recordKeys([key], at);
  return key;
}

export async function handleKeyEvent(deps: KeyEventDependencies, call: KeyStateCall, keyRef: string): Promise<KeyEventOutcome> {
  const now = deps.clock?.() ?? new Date();
  let key = await describeAfresh(deps, keyRef, now);
  const counts = (await deps.store.summary()).kmsKeys[key.arn];
  const blastRadius = { objects: counts?.objects ?? 0, bytes: counts?.bytes ?? 0 };
  const outcome: KeyEventOutcome = { call, key, blastRadius, objects: 0, verdicts: {}, queued: { messages: 0, objects: 0 } };
  if (key.status === 'described' && key.state === 'PendingDeletion') {
    outcome.deletion = { date: key.deletionDate ?? '(unknown)', ...blastRadius };
    if (deletionToCancel(key, blastRadius, deps.policy.keyDeletion)) {
      outcome.deletionCancelled = await cancelDeletion(deps, key, blastRadius, now);
      if (outcome.deletionCancelled.outcome === 'cancelled') key = outcome.key = await describeAfresh(deps, key.arn, now);
    }
  }

  // Pages go to the queue as soon as the blast radius is larger than one: memory stays bounded.
  let held: AuditRequest[] = [];
  let queueing = false;
  const send = async (requests: AuditRequest[]) => {
    const pages = keyReevaluationPages(key.arn, requests);
    await deps.queue.sendToAuditQueue(pages.map((page) => JSON.stringify(page)));
    outcome.queued.messages += pages.length;
    outcome.queued.objects += requests.length;
  };
  for await (const page of deps.store.findings({ kmsKeyArn: key.arn })) {
    held.push(
      ...page.map((f): AuditRequest => ({
        ...(f.account ? { account: f.account } : {}),
        ...(f.region ? { region: f.region } : {}),
        bucket: f.bucket,
        key: f.key,
        size: f.size,
        source: 'key-event',
        changedKeyArn: key.arn,
      })),
    );
    if (!queueing && held.length > MAX_OBJECTS_PER_KEY_MESSAGE) queueing = true;
    if (queueing) {
      await send(held);
      held = [];
    }
  }
  if (queueing || held.length === 0) return outcome;
  // Objects recorded with their account go through the queue: the worker re-evaluates them with that
  // account's role (this function holds only the central account's credentials).
  const elsewhere = (r: AuditRequest) => r.account !== undefined && r.account !== deps.ownAccount;
  const ofAccounts = held.filter(elsewhere);
  if (ofAccounts.length > 0) await send(ofAccounts);
  held = held.filter((r) => !elsewhere(r));
  if (held.length === 0) return outcome;

  const result = await auditRequests(deps, held);
  outcome.objects = result.recorded.length;
  for (const finding of result.recorded) outcome.verdicts[finding.verdict] = (outcome.verdicts[finding.verdict] ?? 0) + 1;
  // What a retry could change is never recorded here: the queue retries it, then dead-letters it.
  const retry = held.filter((r) => result.transient.some((f) => f.bucket === r.bucket && f.key === r.key));
  if (retry.length > 0) await send(retry);
  return outcome;
}
