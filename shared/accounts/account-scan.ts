// Audits many accounts in one run: per account its role is assumed once, its buckets listed (with
// their Regions), and each bucket scanned with that account's clients in the bucket's Region, the
// findings stamped with account and Region. An account that cannot be assumed, is denied or times
// out is a coverage gap — named, recorded, never a verdict — and the other accounts go on. Accounts
// run a few at a time; within an account the bucket scans share the account's concurrency (API
// quotas are per account and Region).
import { randomUUID } from 'node:crypto';
import type { ClientOptions } from '../aws/clients.ts';
import type { ResolvedPolicy } from '../domain/policy.ts';
import type { Finding } from '../domain/finding.ts';
import type { FindingsStore } from '../findings/store.ts';
import { S3ObjectInspector } from '../inspect/object-inspector.ts';
import { scanBucket, type ScanResult } from '../audit/scan.ts';
import type { Remediator } from '../audit/audit-batch.ts';
import type { AuditDependencies } from '../audit/audit-object.ts';
import type { AccountCredentials } from './credentials.ts';
import { AccountClientPool } from './client-pool.ts';
import { describeError, walkAccounts, type CoverageGap, type WalkedAccount } from './account-walk.ts';

export { AccountClientPool } from './client-pool.ts';
export { eachBounded, type CoverageGap } from './account-walk.ts';
export { accountBuckets, type AccountBucket } from './account-buckets.ts';

export interface AccountCoverage extends WalkedAccount {
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
  /**
   * Fixes where the policy says so (`scan --org --remediate`): the remediator of an account and
   * Region, made with the member's remediation role. A throw (the role cannot be assumed) leaves the
   * account's objects audited, not fixed, and names the gap.
   */
  remediatorFor?: (account: string, region: string, audit: AuditDependencies) => Promise<Remediator>;
}

export interface AccountsRunOptions {
  accounts: string[];
  /** Bucket globs, "!glob" excludes; default every bucket the role can see. */
  buckets?: string[];
  /** Only buckets in these Regions; default every Region the account has buckets in. */
  regions?: string[];
  /** Only keys under this prefix, in every bucket. */
  prefix?: string;
  /** Objects audited at once in one account (shared by its buckets). */
  concurrency: number;
  /** Accounts audited at once. */
  accountConcurrency?: number;
  onFinding?: (finding: Finding) => void | Promise<void>;
  onAccount?: (coverage: AccountCoverage) => void;
}

export async function scanAccounts(deps: AccountsRunDependencies, options: AccountsRunOptions): Promise<AccountsRunResult> {
  const clock = deps.clock ?? (() => new Date());
  const result: AccountsRunResult = { id: randomUUID(), startedAt: clock().toISOString(), finishedAt: '', accounts: [], gaps: [], scans: [] };
  const pool = new AccountClientPool(deps);
  const counted = new Map<string, { objects: number; notAudited: number }>();
  const coverageOf = (walked: WalkedAccount): AccountCoverage => ({ ...walked, objects: 0, notAudited: 0, ...counted.get(walked.account) });
  const walked = await walkAccounts(
    { pool, credentials: deps.credentials, ...(deps.centralAccount ? { centralAccount: deps.centralAccount } : {}), region: deps.region },
    options,
    async (account, bucket) => {
      const clients = pool.clientsFor(account, bucket.region);
      const objects = new S3ObjectInspector(clients.s3);
      const audit: AuditDependencies = { objects, keys: pool.routedKeys({ account, region: bucket.region }), policy: deps.policy, ...(deps.clock ? { clock: deps.clock } : {}) };
      let remediator: Remediator | undefined;
      let notFixed: string | undefined;
      if (deps.remediatorFor) {
        try {
          remediator = await deps.remediatorFor(account, bucket.region, audit);
        } catch (error) {
          notFixed = `audited, not fixed: ${describeError(error)}`;
        }
      }
      const scan = await scanBucket(
        { ...audit, lister: objects, ...(remediator ? { remediator } : {}), ...(deps.store ? { store: deps.store } : {}) },
        { bucket: bucket.name, ...(options.prefix ? { prefix: options.prefix } : {}), concurrency: options.concurrency, origin: { account, region: bucket.region }, ...(options.onFinding ? { onFinding: options.onFinding } : {}) },
      );
      result.scans.push({ ...scan, account, region: bucket.region });
      const count = counted.get(account) ?? { objects: 0, notAudited: 0 };
      count.objects += scan.objects;
      count.notAudited += scan.notAudited;
      counted.set(account, count);
      const partial = [scan.notAudited > 0 ? `${scan.notAudited} objects not audited (throttled, failing or timed out)` : undefined, notFixed].filter(Boolean);
      return partial.length > 0 ? partial.join('; ') : undefined;
    },
    options.onAccount ? (account) => options.onAccount!(coverageOf(account)) : undefined,
  );
  result.accounts = walked.accounts.map(coverageOf);
  result.gaps = walked.gaps;
  result.finishedAt = clock().toISOString();
  await deps.store?.recordAccountsRun?.({
    id: result.id,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    accounts: result.accounts,
    gaps: result.gaps,
  });
  return result;
}
