// The report per AWS account, the worst first (GET /accounts, the dashboard's "Accounts" card):
// each account's counts (from its counter), the at-risk KMS keys it owns (from the key ARN), and
// its coverage in the newest multi-account run that named it (ACCOUNTRUNS: covered, partly, or a
// gap and why). An account that run could not reach has no findings at all: it is listed anyway,
// first, since nothing is known about its objects. Reads counters and small partitions only.
//
// Order ("worst first"):
// | rank | account                                                         |
// |------|-----------------------------------------------------------------|
// | 1    | not covered by its newest account run (a gap: role, SCP, …)     |
// | 2    | the most objects not proven compliant (noncompliant, at-risk, unauditable), then partly covered before covered |
// | 3    | ties by account id                                              |
import type { Summary } from '../findings/store.ts';
import { ACCOUNT_RUNS_PK } from '../findings/table.ts';
import type { FindingsReader } from '../findings/findings-query.ts';
import { countsView, keysView, type CountsView } from './overview.ts';

/** Account runs read for coverage: the newest few hold every account's latest status. */
const ACCOUNT_RUNS_READ = 20;

export interface AccountCoverageView {
  /** `none`: no multi-account run named the account (its findings come from scans of single buckets). */
  status: 'covered' | 'partial' | 'gap' | 'none';
  /** When that run finished. */
  runAt: string | null;
  regions: string[];
  buckets: number;
  /** The run covered only keys under this prefix. */
  prefix?: string;
  /** What the run could not cover in the account, and why. */
  gaps: { region?: string; bucket?: string; reason: string }[];
}

export interface AccountView extends CountsView {
  account: string;
  /** Objects not proven compliant: every verdict but compliant and exempt. */
  unproven: number;
  /** At-risk KMS keys whose ARN names this account (their blast radius may span other accounts). */
  atRiskKeys: { arn: string; aliases: string[]; objects: number }[];
  coverage: AccountCoverageView;
}

interface AccountsRunItem {
  finishedAt?: string;
  prefix?: string;
  accounts?: { account: string; status: 'covered' | 'partial' | 'gap'; regions?: string[]; buckets?: number }[];
  gaps?: { account: string; region?: string; bucket?: string; reason: string }[];
}

const keyAccount = (arn: string) => /^arn:aws[a-z-]*:kms:[^:]*:(\d{12}):/.exec(arn)?.[1];
const EMPTY = { objects: 0, bytes: 0, verdicts: {}, modes: {} };
const RANK = { gap: 0, partial: 1, covered: 2, none: 2 } as const;

export async function accountsView(summary: Summary, reader: Pick<FindingsReader, 'newest'>): Promise<AccountView[]> {
  const runs = (await reader.newest(ACCOUNT_RUNS_PK, ACCOUNT_RUNS_READ)) as AccountsRunItem[];
  const coverage = new Map<string, AccountCoverageView>();
  for (const run of runs) {
    for (const a of run.accounts ?? []) {
      if (coverage.has(a.account)) continue;
      coverage.set(a.account, {
        status: a.status,
        runAt: run.finishedAt ?? null,
        regions: a.regions ?? [],
        buckets: a.buckets ?? 0,
        ...(run.prefix ? { prefix: run.prefix } : {}),
        gaps: (run.gaps ?? []).filter((g) => g.account === a.account).map(({ account: _account, ...gap }) => gap),
      });
    }
  }
  const atRisk = keysView(summary).filter((k) => k.atRisk);
  const accounts = new Set([...Object.entries(summary.accounts ?? {}).filter(([, c]) => c.objects > 0).map(([account]) => account), ...coverage.keys()]);
  const views = [...accounts].map((account): AccountView => {
    const counts = countsView(summary.accounts?.[account] ?? EMPTY);
    return {
      account,
      ...counts,
      unproven: counts.objects - counts.verdicts.compliant - counts.verdicts.exempt,
      atRiskKeys: atRisk.filter((k) => keyAccount(k.arn) === account).map((k) => ({ arn: k.arn, aliases: k.aliases, objects: k.objects })),
      coverage: coverage.get(account) ?? { status: 'none', runAt: null, regions: [], buckets: 0, gaps: [] },
    };
  });
  return views.sort(
    (a, b) =>
      Number(a.coverage.status !== 'gap') - Number(b.coverage.status !== 'gap') ||
      b.unproven - a.unproven ||
      RANK[a.coverage.status] - RANK[b.coverage.status] ||
      (a.account < b.account ? -1 : 1),
  );
}
