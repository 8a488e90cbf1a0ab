// Audits many accounts in one run: per account its role is assumed once, its buckets listed (with
// their Regions), and each bucket scanned with that account's clients in the bucket's Region, the
// findings stamped with account and Region. An account that cannot be assumed, is denied or times
// out is a coverage gap — named, recorded, never a verdict — and the other accounts go on. Accounts
// run a few at a time; within an account the bucket scans share the account's concurrency (API
// quotas are per account and Region).
import { randomUUID } from 'node:crypto';
import type { ClientOptions } from '../aws/clients.ts';
import { errorFacts } from '../aws/errors.ts';
import type { ResolvedPolicy } from '../domain/policy.ts';
import type { Finding } from '../domain/finding.ts';
import type { FindingsStore } from '../findings/store.ts';
import { S3ObjectInspector } from '../inspect/object-inspector.ts';
import { scanBucket, type ScanResult } from '../audit/scan.ts';
import { AccountUnreachableError, type AccountCredentials } from './credentials.ts';
import { AccountClientPool } from './client-pool.ts';

export { AccountClientPool } from './client-pool.ts';
export { accountBuckets, type AccountBucket } from './account-buckets.ts';
import { accountBuckets } from './account-buckets.ts';

/** Something in scope that this run did not cover, and why. */
export interface CoverageGap {
  account: string;
  region?: string;
  bucket?: string;
  reason: string;
}

export interface AccountCoverage {
  account: string;
  status: 'covered' | 'partial' | 'gap';
  regions: string[];
  buckets: number;
  objects: number;
  notAudited: number;
}

export interface AccountsRunResult {
  id: string;
  startedAt: string;
  finishedAt: string;
  accounts: AccountCoverage[];
  gaps: CoverageGap[];
  scans: (ScanResult & { account: string; region: string })[];
}

export interface AccountsRunDependencies {
  credentials: AccountCredentials;
  /** Endpoints and timeouts of the member clients (the central account's configuration). */
  clientOptions: ClientOptions;
  /** The central account's own id: audited with the process's credentials, no role assumed. */
  centralAccount?: string;
  policy: ResolvedPolicy;
  store?: FindingsStore;
  /** The default Region (the one ListBuckets is asked in). */
  region: string;
  clock?: () => Date;
}

export interface AccountsRunOptions {
  accounts: string[];
  /** Bucket globs, "!glob" excludes; default every bucket the role can see. */
  buckets?: string[];
  /** Only buckets in these Regions; default every Region the account has buckets in. */
  regions?: string[];
  /** Objects audited at once in one account (shared by its buckets). */
  concurrency: number;
  /** Accounts audited at once. */
  accountConcurrency?: number;
  onFinding?: (finding: Finding) => void | Promise<void>;
  onAccount?: (coverage: AccountCoverage) => void;
}

/** Runs `work` over `items`, at most `limit` at once. */
export async function eachBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

const describeError = (error: unknown): string => {
  if (error instanceof AccountUnreachableError) return error.reason;
  const { name, message } = errorFacts(error);
  return `${name}: ${message}`;
};

export async function scanAccounts(deps: AccountsRunDependencies, options: AccountsRunOptions): Promise<AccountsRunResult> {
  const clock = deps.clock ?? (() => new Date());
  const result: AccountsRunResult = { id: randomUUID(), startedAt: clock().toISOString(), finishedAt: '', accounts: [], gaps: [], scans: [] };
  const pool = new AccountClientPool(deps);

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
    const coverage: AccountCoverage = { account, status: 'covered', regions: [], buckets: 0, objects: 0, notAudited: 0 };
    const gap = (reason: string, where: Partial<Pick<CoverageGap, 'region' | 'bucket'>> = {}) => result.gaps.push({ account, ...where, reason });
    try {
      const why = unreachable.get(account);
      if (why) throw new AccountUnreachableError(account, why);
      const buckets = await accountBuckets(pool, account, deps.region, options);
      coverage.buckets = buckets.length;
      coverage.regions = [...new Set(buckets.map((b) => b.region))].sort();
      // The account's concurrency is shared by its buckets: one bucket at a time, each at full width.
      for (const bucket of buckets) {
        const clients = pool.clientsFor(account, bucket.region);
        const objects = new S3ObjectInspector(clients.s3);
        try {
          const scan = await scanBucket(
            { objects, lister: objects, keys: pool.routedKeys({ account, region: bucket.region }), policy: deps.policy, ...(deps.store ? { store: deps.store } : {}), ...(deps.clock ? { clock: deps.clock } : {}) },
            { bucket: bucket.name, concurrency: options.concurrency, origin: { account, region: bucket.region }, ...(options.onFinding ? { onFinding: options.onFinding } : {}) },
          );
          result.scans.push({ ...scan, account, region: bucket.region });
          coverage.objects += scan.objects;
          coverage.notAudited += scan.notAudited;
          if (scan.notAudited > 0) gap(`${scan.notAudited} objects not audited (throttled, failing or timed out)`, { region: bucket.region, bucket: bucket.name });
        } catch (error) {
          gap(describeError(error), { region: bucket.region, bucket: bucket.name });
        }
      }
      if (result.gaps.some((g) => g.account === account)) coverage.status = 'partial';
    } catch (error) {
      coverage.status = 'gap';
      gap(describeError(error));
    }
    result.accounts.push(coverage);
    options.onAccount?.(coverage);
  });
  result.accounts.sort((a, b) => (a.account < b.account ? -1 : 1));
  result.finishedAt = clock().toISOString();
  await deps.store?.recordAccountsRun?.({
    id: result.id,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    accounts: result.accounts,
    gaps: result.gaps,
  });
  return result;
}
