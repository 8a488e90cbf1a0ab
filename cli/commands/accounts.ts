// `sseguard scan --accounts … | --org` and `sseguard accounts`: many accounts from one place. Roles
// are assumed per account (shared/accounts/credentials.ts); an account that cannot be reached is a
// coverage gap, named in the output and the run record, and makes the exit code 2 — never a verdict.
import type { Writable } from 'node:stream';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { clientSettings, type ClientOptions } from '#shared/aws/clients.ts';
import { accountBuckets, AccountClientPool, eachBounded, scanAccounts, type AccountsRunResult } from '#shared/accounts/account-scan.ts';
import { assumedRoleCredentials, AccountUnreachableError, type AccountCredentials } from '#shared/accounts/credentials.ts';
import { organizationAccounts, parseOrgTags } from '#shared/accounts/organization.ts';
import { errorFacts } from '#shared/aws/errors.ts';
import { VERDICTS, isFailingVerdict, type Verdict } from '#shared/domain/verdict.ts';
import type { Config } from '#shared/config.ts';
import { ConfigError } from '#shared/config.ts';
import { loadPolicy } from '#shared/policy-loader.ts';
import { createRuntime } from '#shared/runtime.ts';
import { findingJson } from '#shared/report/export-formats.ts';
import { renderTable } from '../output/format.ts';
import { write } from '../output/stream.ts';

export interface AccountScope {
  accounts?: string[];
  org?: boolean;
  ous?: string[];
  exclude?: string[];
  /** `--org-tag KEY=VALUE` (repeatable): only accounts with every KEY, at one of its VALUEs. */
  orgTags?: string[];
  roleName: string;
  externalId?: string;
}

export interface AccountsScanOptions extends AccountScope {
  buckets?: string[];
  regions?: string[];
  policy?: string;
  concurrency: number;
  json: boolean;
  record: boolean;
}

/** Clients the commands make, injectable so a test can put a recorded-shape fake at the STS boundary. */
export interface AccountClients {
  sts?: STSClient;
  organizations?: OrganizationsClient;
}

const clientOptionsOf = (config: Config): ClientOptions => ({ endpoints: config.endpoints, timeouts: config.timeouts, region: config.region });

/** The accounts in scope: the list given, or the Organization's ACTIVE accounts (under --ou, minus --exclude). */
export async function accountsInScope(config: Config, scope: AccountScope, clients: AccountClients = {}): Promise<string[]> {
  if (scope.org && scope.accounts?.length) throw new ConfigError('--org and --accounts cannot be used together');
  if (!scope.org && !scope.accounts?.length) throw new ConfigError('name the accounts: --accounts ID,ID… or --org');
  if (!scope.org && scope.ous?.length) throw new ConfigError('--ou needs --org');
  if (!scope.org && scope.orgTags?.length) throw new ConfigError('--org-tag needs --org');
  let tags;
  try {
    tags = parseOrgTags(scope.orgTags ?? []);
  } catch (error) {
    throw new ConfigError(`--org-tag: ${(error as Error).message}`);
  }
  const excluded = new Set(scope.exclude ?? []);
  if (!scope.org) return [...new Set(scope.accounts)].filter((id) => !excluded.has(id)).sort();
  const organizations = clients.organizations ?? new OrganizationsClient({ ...clientSettings('organizations', clientOptionsOf(config)), region: config.region });
  const listed = await organizationAccounts(organizations, {
    ...(scope.ous ? { ous: scope.ous } : {}),
    ...(scope.exclude ? { exclude: scope.exclude } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
  });
  return listed.map((a) => a.id);
}

function memberCredentials(config: Config, scope: AccountScope, sts: STSClient): AccountCredentials {
  return assumedRoleCredentials({ roleName: scope.roleName, ...(scope.externalId ? { externalId: scope.externalId } : {}) }, { sts });
}

/** The account the process's own credentials belong to: audited with them, no role assumed. */
async function callerAccount(sts: STSClient): Promise<string | undefined> {
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch {
    // Without it every account, this one included, is reached through its role: still correct.
    return undefined;
  }
}

export async function accountsScanCommand(config: Config, options: AccountsScanOptions, out: Writable = process.stdout, clients: AccountClients = {}): Promise<number> {
  const sts = clients.sts ?? new STSClient({ ...clientSettings('sts', clientOptionsOf(config)), region: config.region });
  const accounts = await accountsInScope(config, options, clients);
  const central = await callerAccount(sts);
  const runtime = createRuntime(config);
  const policy = await loadPolicy(options.policy ?? config.policyPath, runtime.keys);
  const verdicts: Partial<Record<Verdict, number>> = {};
  let first = true;
  if (options.json) await write(out, `{"scan":${JSON.stringify({ accounts, buckets: options.buckets ?? [], regions: options.regions ?? [] })},"findings":[`);
  const result = await scanAccounts(
    {
      credentials: memberCredentials(config, options, sts),
      clientOptions: { ...clientOptionsOf(config), maxSockets: options.concurrency },
      ...(central ? { centralAccount: central } : {}),
      policy,
      ...(options.record ? { store: runtime.store } : {}),
      region: config.region,
    },
    {
      accounts,
      concurrency: options.concurrency,
      ...(options.buckets?.length ? { buckets: options.buckets } : {}),
      ...(options.regions?.length ? { regions: options.regions } : {}),
      onFinding: async (finding) => {
        if (finding.isLatest !== false) verdicts[finding.verdict] = (verdicts[finding.verdict] ?? 0) + 1;
        if (options.json) {
          await write(out, `${first ? '' : ','}\n${JSON.stringify(findingJson(finding))}`);
          first = false;
        }
      },
    },
  );
  const failing = VERDICTS.filter(isFailingVerdict).some((v) => (verdicts[v] ?? 0) > 0);
  // Anything in scope not covered makes the run incomplete: that is an error, not a verdict.
  const exitCode = result.gaps.length > 0 ? 2 : failing ? 1 : 0;
  if (options.json) {
    const summary = { id: result.id, startedAt: result.startedAt, finishedAt: result.finishedAt, verdicts, accounts: result.accounts, gaps: result.gaps, recorded: options.record, exitCode };
    await write(out, `\n],"summary":${JSON.stringify(summary)}}\n`);
  } else {
    await write(out, renderAccountsRun(result, verdicts, options.record ? config.table : undefined));
  }
  return exitCode;
}

function renderAccountsRun(result: AccountsRunResult, verdicts: Partial<Record<Verdict, number>>, table: string | undefined): string {
  const lines = [
    `Scanned ${result.accounts.length} accounts: ${result.accounts.filter((a) => a.status === 'covered').length} covered, ` +
      `${result.accounts.filter((a) => a.status === 'partial').length} partly, ${result.accounts.filter((a) => a.status === 'gap').length} not at all.`,
    '',
    renderTable(
      ['account', 'status', 'regions', 'buckets', 'objects'],
      result.accounts.map((a) => [a.account, a.status, a.regions.join(',') || '-', a.buckets, a.objects]),
    ),
    '',
    renderTable(
      ['verdict', 'objects'],
      VERDICTS.map((v) => [v, verdicts[v] ?? 0]),
    ),
  ];
  if (result.gaps.length > 0) {
    lines.push(
      '',
      `Not covered (${result.gaps.length}): no verdict was made for these; fix the access and run again.`,
      renderTable(
        ['account', 'region', 'bucket', 'why'],
        result.gaps.map((g) => [g.account, g.region ?? '-', g.bucket ?? '-', g.reason]),
      ),
    );
  }
  lines.push('', table ? `Findings and the run record (with its gaps) recorded in table ${table}.` : 'Findings not recorded (--no-record).');
  return `${lines.join('\n')}\n`;
}

export interface AccountsCommandOptions extends AccountScope {
  json: boolean;
  buckets?: string[];
  regions?: string[];
}

interface AccountCheck {
  account: string;
  assumable: boolean;
  regions: string[];
  buckets: number;
  reason?: string;
}

/** `sseguard accounts`: what a run would cover, before it runs — role, Regions, buckets per account. */
export async function accountsCommand(config: Config, options: AccountsCommandOptions, out: Writable = process.stdout, clients: AccountClients = {}): Promise<number> {
  const sts = clients.sts ?? new STSClient({ ...clientSettings('sts', clientOptionsOf(config)), region: config.region });
  const accounts = await accountsInScope(config, options, clients);
  const central = await callerAccount(sts);
  const credentials = memberCredentials(config, options, sts);
  const pool = new AccountClientPool({ credentials, clientOptions: clientOptionsOf(config), ...(central ? { centralAccount: central } : {}) });
  const checks: AccountCheck[] = [];
  await eachBounded(accounts, 8, async (account) => {
    try {
      if (account !== central) await credentials.assume(account);
    } catch (error) {
      checks.push({ account, assumable: false, regions: [], buckets: 0, reason: error instanceof AccountUnreachableError ? error.reason : errorFacts(error).message });
      return;
    }
    try {
      const buckets = await accountBuckets(pool, account, config.region, options);
      checks.push({ account, assumable: true, regions: [...new Set(buckets.map((b) => b.region))].sort(), buckets: buckets.length });
    } catch (error) {
      const { name, message } = errorFacts(error);
      checks.push({ account, assumable: true, regions: [], buckets: 0, reason: `ListBuckets: ${name}: ${message}` });
    }
  });
  checks.sort((a, b) => (a.account < b.account ? -1 : 1));
  const gaps = checks.filter((c) => c.reason !== undefined);
  if (options.json) {
    await write(out, `${JSON.stringify({ accounts: checks, gaps: gaps.length })}\n`);
  } else {
    await write(
      out,
      `${renderTable(
        ['account', 'role', 'regions', 'buckets', 'problem'],
        checks.map((c) => [c.account, c.account === central ? 'own credentials' : c.assumable ? 'assumed' : 'NOT ASSUMABLE', c.regions.join(',') || '-', c.buckets, c.reason ?? '']),
      )}\n${gaps.length > 0 ? `\n${gaps.length} of ${checks.length} accounts cannot be covered as things stand.\n` : ''}`,
    );
  }
  return gaps.length > 0 ? 2 : 0;
}
