// The worker in member accounts: an event or message that names another account is audited with
// that account's role (SSEGUARD_MEMBER_ROLE_NAME), its S3 in the bucket's Region and each key in its
// own account. The central account (SSEGUARD_ACCOUNT_ID, else whose credentials the function holds:
// STS GetCallerIdentity, once) uses the function's credentials. Fixes in member accounts need their opt-in remediation role: not here, so
// member objects are audited and recorded, never fixed, by this worker.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { clientSettings } from '#shared/aws/clients.ts';
import { accountBuckets } from '#shared/accounts/account-buckets.ts';
import { AccountClientPool } from '#shared/accounts/client-pool.ts';
import { assumedRoleCredentials } from '#shared/accounts/credentials.ts';
import { auditRequests, type RequestAuditDependencies } from '#shared/audit/audit-batch.ts';
import type { Config } from '#shared/config.ts';
import { S3ObjectInspector } from '#shared/inspect/object-inspector.ts';
import type { SqsQueues } from '#shared/queue/sqs-queue.ts';
import type { OrgUnitDependencies } from '#shared/sweep/org-units.ts';
import type { OrgSweepRuns } from '#shared/findings/org-sweep-runs.ts';

let pool: AccountClientPool | undefined;
let ownAccount: Promise<string | undefined> | undefined;
/** The STS client member roles are assumed with (a test puts a recorded-shape fake here: moto enforces no trust policy). */
let memberSts: STSClient | undefined;

/** The central account: SSEGUARD_ACCOUNT_ID, else the account of the function's own credentials. */
export function centralAccount(config: Config): Promise<string | undefined> {
  if (config.batch.accountId) return Promise.resolve(config.batch.accountId);
  ownAccount ??= new STSClient({ ...clientSettings('sts', { endpoints: config.endpoints, timeouts: config.timeouts }), region: config.region })
    .send(new GetCallerIdentityCommand({}))
    .then((answer) => answer.Account)
    .catch((error: unknown) => {
      ownAccount = undefined;
      throw error;
    });
  return ownAccount;
}

function members(config: Config, central: string | undefined): AccountClientPool {
  const clientOptions = { endpoints: config.endpoints, timeouts: config.timeouts, region: config.region };
  pool ??= new AccountClientPool({
    credentials: assumedRoleCredentials(
      { roleName: config.memberRoleName, ...(config.memberExternalId ? { externalId: config.memberExternalId } : {}) },
      { clientOptions, ...(memberSts ? { sts: memberSts } : {}) },
    ),
    clientOptions,
    ...(central ? { centralAccount: central } : {}),
  });
  return pool;
}

/** Forgets the member clients (tests; a new configuration); `sts`: the client member roles are assumed with from now on. */
export function resetMemberAccounts(options: { sts?: STSClient } = {}): void {
  pool = undefined;
  ownAccount = undefined;
  memberSts = options.sts;
}

/**
 * The audit dependencies for objects of `account` in `region`: the central ones for the central
 * account (or no account named); else that account's S3 and keys, report only. Assumes the role
 * first: a refusal throws (the message is retried, then dead-lettered), never a verdict.
 */
export async function auditDependenciesFor<D extends RequestAuditDependencies>(deps: D & { config: Config }, account: string | undefined, region: string | undefined): Promise<D> {
  if (!account) return deps;
  const central = await centralAccount(deps.config);
  if (account === central) return deps;
  const accounts = members(deps.config, central);
  await accounts.deps.credentials.assume(account);
  const where = region ?? deps.config.region;
  const objects = new S3ObjectInspector(accounts.clientsFor(account, where).s3);
  const { remediator: _central, ...rest } = deps;
  return { ...rest, objects, keys: accounts.routedKeys({ account, region: where }) } as D;
}

/**
 * Requests that name no account (the central account's own bucket notifications and sweep pages)
 * gain the central account and, when S3 says, the bucket's Region: their findings then carry both,
 * as a member account's do. When STS cannot tell the account, they stay as they were: never a wrong one.
 */
export async function withOwnAccount<R extends { bucket: string; account?: string; region?: string }>(
  config: Config,
  regionOf: (bucket: string) => Promise<string | undefined>,
  requests: R[],
): Promise<R[]> {
  const own = await centralAccount(config).catch(() => undefined);
  if (!own) return requests;
  return Promise.all(
    requests.map(async (request) => {
      if (request.account) return request;
      const region = request.region ?? (await regionOf(request.bucket).catch(() => undefined));
      return { ...request, account: own, ...(region ? { region } : {}) };
    }),
  );
}

/**
 * The Organization sweep's units in the worker (shared/sweep/org-units.ts): each account through its
 * role (SSEGUARD_MEMBER_ROLE_NAME), its buckets as SSEGUARD_ORG_BUCKETS and SSEGUARD_SWEEP_REGIONS
 * choose them, each page audited and recorded with that account's clients — never fixed.
 */
export function orgUnitDependencies<D extends RequestAuditDependencies>(deps: D & { config: Config; queues: SqsQueues; orgRuns: OrgSweepRuns }): OrgUnitDependencies {
  const { config } = deps;
  const accounts = async () => members(config, await centralAccount(config));
  return {
    runs: deps.orgRuns,
    queue: deps.queues,
    buckets: async (account) => {
      const pool = await accounts();
      await pool.deps.credentials.assume(account);
      return accountBuckets(pool, account, config.region, {
        ...(config.organization?.buckets.length ? { buckets: config.organization.buckets } : {}),
        ...(config.sweepRegions.length ? { regions: config.sweepRegions } : {}),
      });
    },
    listPage: async (account, region, bucket, token) => new S3ObjectInspector((await accounts()).clientsFor(account, region).s3).page(bucket, token),
    // Report only, whichever account: the sweep's units never fix (a member's fixes need its opt-in role).
    audit: async (account, region, requests) => {
      const { remediator: _never, ...reportOnly } = await auditDependenciesFor(deps, account, region);
      return auditRequests(reportOnly, requests);
    },
  };
}
