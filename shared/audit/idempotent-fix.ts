// Runs each object's fix at most once across deliveries, workers and runs: Powertools idempotency
// keyed by the object version, its audited ETag and the target, kept in a DynamoDB table. A
// duplicate gets the first run's outcome instead of fixing again.
//
// The in-progress lock is a lease as long as the fix can take, derived from the object's size (and
// never past a Lambda's own deadline): a process that died mid-fix blocks that object for a minute
// or so, never for a quarter of an hour. A fix another live process holds is reported as such
// (`FixInProgressElsewhere`, with its owner and the lease's end) for that object alone. A failed
// fix leaves no record, so it can be tried again. Each lock names its owner: a rerun on the same
// host takes over at once the locks of a process that no longer exists (owned-fix-locks.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import type { RemediationOutcome, RemediationTarget } from '../remediation/index.ts';
import { describeOwner, thisProcessOwner, type FixLockOwner } from './fix-lock-owner.ts';
import { OwnedFixLocks, type LockHolder } from './owned-fix-locks.ts';

/** How long a fix is remembered: longer than any redelivery of the same event. */
const REMEMBER_FIXES_SECONDS = 7 * 24 * 3600;
/** The lease of a small object's fix: a few requests, each bounded by the clients' timeouts. */
export const DEFAULT_FIX_LEASE_BASE_MS = 60_000;
/** Copy throughput assumed for the lease of a large object (S3 copies in-region at hundreds of MB/s). */
const LEASE_BYTES_PER_MS = 20 * 1024;

export const fixLeaseMs = (sizeBytes: number, baseMs = DEFAULT_FIX_LEASE_BASE_MS): number => baseMs + Math.ceil(sizeBytes / LEASE_BYTES_PER_MS);

/** Runs the fix of one object version at most once (an idempotency store); identity when absent. */
export type FixOnce = (
  identity: { bucket: string; key: string; versionId?: string; etag?: string; noncurrent?: boolean; size?: number; target: RemediationTarget },
  fix: () => Promise<RemediationOutcome>,
) => Promise<RemediationOutcome>;

/** Another process is fixing this object version now. */
export class FixInProgressElsewhere extends Error {
  override name = 'FixInProgressElsewhere';
  constructor(
    message: string,
    readonly holder?: LockHolder,
  ) {
    super(message);
  }
}

/** "held by pid 123 on host-a until 2026-12-04T19:40:00.000Z" */
export const describeHolder = (holder: LockHolder | undefined): string =>
  `held by ${describeOwner(holder?.owner)}${holder?.until !== undefined ? ` until ${new Date(holder.until).toISOString()}` : ''}`;

/** Carries a failed outcome out of the idempotent function, so that Powertools keeps no record of it. */
class FixFailed extends Error {
  constructor(readonly outcome: RemediationOutcome) {
    super(outcome.message);
  }
}

export interface IdempotentFixOptions {
  /** The lease of a zero-byte object's fix (default one minute); larger objects get more. */
  leaseBaseMs?: number;
  /** The owner the locks name (default: this process). */
  owner?: FixLockOwner;
}

export function idempotentFix(
  dynamodb: DynamoDBClient,
  tableName: string,
  options: IdempotentFixOptions = {},
): { fixOnce: FixOnce; registerLambdaContext(context: Context): void; locks: OwnedFixLocks } {
  const config = new IdempotencyConfig({ expiresAfterSeconds: REMEMBER_FIXES_SECONDS });
  const persistenceStore = new OwnedFixLocks(dynamodb, tableName, options.owner ?? thisProcessOwner());
  // Powertools asks the registered context for the time left when it takes the lock: answer with
  // the lease of the fix running in this async context.
  const lease = new AsyncLocalStorage<number>();
  let invocation: Pick<Context, 'getRemainingTimeInMillis'> | undefined;
  config.registerLambdaContext({
    getRemainingTimeInMillis: () =>
      Math.min(lease.getStore() ?? fixLeaseMs(0, options.leaseBaseMs), invocation?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY),
  } as Context);
  // The identity (argument 0) makes the key; the fix itself (argument 1) is what runs once.
  const once = makeIdempotent(
    async (_identity: Parameters<FixOnce>[0], fix: () => Promise<RemediationOutcome>) => {
      const outcome = await fix();
      if (outcome.outcome === 'failed') throw new FixFailed(outcome);
      return outcome;
    },
    { persistenceStore, config, dataIndexArgument: 0 },
  );
  return {
    locks: persistenceStore,
    fixOnce: async (identity, fix) => {
      const attempt = persistenceStore.watching(() => lease.run(fixLeaseMs(identity.size ?? 0, options.leaseBaseMs), () => once(identity, fix)));
      try {
        return await attempt.result;
      } catch (error) {
        if (error instanceof FixFailed) return error.outcome;
        if (error instanceof IdempotencyAlreadyInProgressError) {
          const holder = attempt.holder();
          throw new FixInProgressElsewhere(`${error.message}: ${describeHolder(holder)}`, holder);
        }
        throw error;
      }
    },
    registerLambdaContext: (context) => {
      invocation = context;
    },
  };
}
