// The one loop over many accounts, for every command that covers them (`scan --org`, `plan --org`):
// each account's role assumed once (all of them first, so a key of account A protecting B's
// objects is described with A's role), its buckets listed with their Regions, and each bucket
// handed to the caller's work with that account's clients. An account that cannot be assumed, is
// denied or times out, and a bucket whose work fails, is a coverage gap — named, never a verdict —
// and the other accounts go on. Accounts run a few at a time; within an account one bucket at a
// time (API quotas are per account and Region).
import { errorFacts } from '../aws/errors.ts';
import { accountBuckets, type AccountBucket, type BucketScope } from './account-buckets.ts';
import type { AccountClientPool } from './client-pool.ts';
import { AccountUnreachableError, type AccountCredentials } from './credentials.ts';

export type { AccountBucket } from './account-buckets.ts';

/** Something in scope that this run did not cover, and why. */
export interface CoverageGap {
  account: string;
  region?: string;
  bucket?: string;
  reason: string;
}

export interface WalkedAccount {
  account: string;
  status: 'covered' | 'partial' | 'gap';
  regions: string[];
  buckets: number;
}

export interface AccountWalkOptions extends BucketScope {
  accounts: string[];
  /** Accounts worked on at once. */
  accountConcurrency?: number;
}

export interface AccountWalkDependencies {
  pool: AccountClientPool;
  credentials: AccountCredentials;
  /** The central account's own id: reached with the process's credentials, no role assumed. */
  centralAccount?: string;
  /** The Region ListBuckets is asked in. */
  region: string;
}

/**
 * The work on one bucket. It may name a partial gap (objects it could not cover) by returning its
 * reason; a throw makes the whole bucket a gap.
 */
export type BucketWork = (account: string, bucket: AccountBucket) => Promise<string | undefined | void>;

/** Runs `work` over `items`, at most `limit` at once. */
export async function eachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

export const describeError = (error: unknown): string => {
  if (error instanceof AccountUnreachableError) return error.reason;
  const { name, message } = errorFacts(error);
  return `${name}: ${message}`;
};

/** Every account in scope, every chosen bucket of each: what was covered, and every gap by name. */
export async function walkAccounts(
  deps: AccountWalkDependencies,
  options: AccountWalkOptions,
  work: BucketWork,
  onAccount?: (walked: WalkedAccount) => void,
): Promise<{ accounts: WalkedAccount[]; gaps: CoverageGap[] }> {
  const { pool } = deps;
  const gaps: CoverageGap[] = [];
  const accounts: WalkedAccount[] = [];

  // Roles first, every account: a key in account A protecting B's objects is described with A's role.
  const unreachable = new Map<string, string>();
  await eachBounded(options.accounts, options.accountConcurrency ?? 8, async (account) => {
    if (account === deps.centralAccount) return void pool.reachable.add(account);
    try {
      await deps.credentials.assume(account);
      pool.reachable.add(account);
    } catch (error) {
      unreachable.set(account, describeError(error));
      pool.unreachable(account);
    }
  });

  await eachBounded(options.accounts, options.accountConcurrency ?? 4, async (account) => {
    const walked: WalkedAccount = { account, status: 'covered', regions: [], buckets: 0 };
    const gap = (reason: string, where: Partial<Pick<CoverageGap, 'region' | 'bucket'>> = {}) => gaps.push({ account, ...where, reason });
    try {
      const why = unreachable.get(account);
      if (why) throw new AccountUnreachableError(account, why);
      const buckets = await accountBuckets(pool, account, deps.region, options);
      walked.buckets = buckets.length;
      walked.regions = [...new Set(buckets.map((b) => b.region))].sort();
      // The account's concurrency is shared by its buckets: one bucket at a time, each at full width.
      for (const bucket of buckets) {
        try {
          const partial = await work(account, bucket);
          if (partial) gap(partial, { region: bucket.region, bucket: bucket.name });
        } catch (error) {
          gap(describeError(error), { region: bucket.region, bucket: bucket.name });
        }
      }
      if (gaps.some((g) => g.account === account)) walked.status = 'partial';
    } catch (error) {
      walked.status = 'gap';
      gap(describeError(error));
    }
    accounts.push(walked);
    onAccount?.(walked);
  });
  accounts.sort((a, b) => (a.account < b.account ? -1 : 1));
  return { accounts, gaps };
}
