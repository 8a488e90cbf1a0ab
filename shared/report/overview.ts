// The report's views that come from counters and small partitions, never from a table scan:
// the summary (totals, compliance, at-risk keys, sweeps, remediations) and the KMS keys with
// their blast radius. Their cost depends on the number of buckets, keys and runs shown, not on
// the number of findings.
import { ENCRYPTION_MODES, type KeyLookup, type KeyState } from '../domain/encryption.ts';
import type { EncryptionSnapshot } from '../domain/encryption-snapshot.ts';
import { AT_RISK_STATES } from '../domain/evaluate.ts';
import { VERDICTS, type Verdict } from '../domain/verdict.ts';
import type { Counts, ScanRun, Summary } from '../findings/store.ts';
import type { PostureSummary } from '../findings/posture-reader.ts';
import { REMEDIATIONS_PK, SCANS_PK, SWEEPS_PK } from '../findings/table.ts';
import type { SweepRun } from '../findings/sweep-runs.ts';
import type { FindingsReader, ModeFilter } from '../findings/findings-query.ts';
import { describeRemediation, type KeyAliases } from './remediation-text.ts';

/** The remediation log (written with each fix, see shared/findings/dynamodb-store.ts), newest first. */
export { REMEDIATIONS_PK };
/** Runs plotted per scope, and scopes plotted (the most recently run first). */
const TREND_RUNS = 30;
const TREND_SCOPES = 12;
const COVERAGE_RUNS = 200;
/** The summary's few newest fixes; the whole log is paged through /remediations. */
export const RECENT_REMEDIATIONS = 5;


export interface CountsView {
  objects: number;
  bytes: number;
  /** Share of objects proven compliant or exempt, in percent (100 when there are none). */
  compliancePercent: number;
  verdicts: Record<Verdict, number>;
  modes: Record<ModeFilter, number>;
}

export interface KeyView {
  arn: string;
  /** `described`, or why KMS could not describe it (`not-found`, `access-denied`, `error`), or `unknown` when never looked up. */
  status: KeyLookup['status'] | 'unknown';
  state?: KeyState;
  manager?: 'AWS' | 'CUSTOMER';
  rotationEnabled?: boolean;
  deletionDate?: string;
  checkedAt?: string;
  /** Alias names (`alias/finance`), from ListAliases when the key was described; empty when none is known. */
  aliases: string[];
  /** Objects depend on it, and KMS cannot decrypt with it or objects under it are judged at-risk. */
  atRisk: boolean;
  /** Blast radius: the objects encrypted under the key, and their bytes. */
  objects: number;
  bytes: number;
  verdicts: Record<Verdict, number>;
}

export interface RemediationView {
  bucket: string;
  key: string;
  action: string;
  outcome: string;
  /** `sse-s3 → sse-kms (alias/finance), bucket key on, ETag kept`: see remediation-text.ts. */
  description: string;
  before?: unknown;
  after?: unknown;
  at: string;
}

export interface TrendPoint {
  id: string;
  /** What the run covered: `bucket`, `bucket/prefix`, or the scheduled sweep's `(sweep)`. */
  scope: string;
  bucket: string;
  prefix: string;
  finishedAt: string;
  objects: number;
  compliancePercent: number;
}

export interface SummaryView {
  generatedAt: string;
  overall: CountsView;
  buckets: ({ bucket: string; lastSweepAt: string | null } & CountsView)[];
  /** Per AWS account, the worst first (most objects not proven compliant). */
  accounts: ({ account: string } & CountsView)[];
  atRiskKeys: KeyView[];
  lastSweep: ScanRun | null;
  coverage: {
    /** Buckets holding findings. */
    buckets: number;
    /** Of those, buckets swept whole (no prefix) in the newest runs read. */
    bucketsSwept: number;
    /** Objects in the swept buckets over all objects, in percent. */
    objectsPercent: number;
    /** The oldest of the latest whole-bucket sweeps: everything is at least this fresh. */
    oldestSweepAt: string | null;
  };
  /** Compliance per run, oldest first, each with its scope; runs that audited no object are not plotted. */
  trend: TrendPoint[];
  recentRemediations: RemediationView[];
  /** Bucket postures by verdict (default encryption, TLS, SSE-C blocking), from their counter. */
  posture: PostureSummary;
}

const percent = (part: number, whole: number) => (whole === 0 ? 100 : Math.round((10000 * part) / whole) / 100);
const proven = (verdicts: Partial<Record<Verdict, number>>) => (verdicts.compliant ?? 0) + (verdicts.exempt ?? 0);

function filled<K extends string>(names: readonly K[], counts: Partial<Record<K, number>>): Record<K, number> {
  return Object.fromEntries(names.map((name) => [name, counts[name] ?? 0])) as Record<K, number>;
}

export function countsView(counts: Counts): CountsView {
  return {
    objects: counts.objects,
    bytes: counts.bytes,
    compliancePercent: percent(proven(counts.verdicts), counts.objects),
    verdicts: filled(VERDICTS, counts.verdicts),
    modes: filled<ModeFilter>([...ENCRYPTION_MODES, 'unknown'], counts.modes),
  };
}

/** What the recorded facts say of a key, as every view of keys shows it (dashboard, API, evidence pack). */
export function keyFactFields(arn: string, facts: (KeyLookup & { checkedAt?: string }) | undefined): Pick<KeyView, 'arn' | 'status' | 'state' | 'manager' | 'rotationEnabled' | 'deletionDate' | 'checkedAt'> {
  const described = facts?.status === 'described' ? facts : undefined;
  return {
    arn,
    status: facts?.status ?? 'unknown',
    ...(described ? { state: described.state, manager: described.manager } : {}),
    ...(described?.rotationEnabled === undefined ? {} : { rotationEnabled: described.rotationEnabled }),
    ...(described?.deletionDate ? { deletionDate: described.deletionDate } : {}),
    ...(facts?.checkedAt ? { checkedAt: facts.checkedAt } : {}),
  };
}

export function keysView(summary: Summary): KeyView[] {
  const arns = new Set([...Object.entries(summary.kmsKeys).filter(([, c]) => c.objects > 0).map(([arn]) => arn), ...Object.keys(summary.keyFacts)]);
  const keys = [...arns].map((arn): KeyView => {
    const counts = summary.kmsKeys[arn] ?? { objects: 0, bytes: 0, verdicts: {}, modes: {} };
    const facts = summary.keyFacts[arn];
    const described = facts?.status === 'described' ? facts : undefined;
    const unusable = facts?.status === 'not-found' || (described !== undefined && AT_RISK_STATES[described.state] !== undefined);
    return {
      ...keyFactFields(arn, facts),
      aliases: described?.aliases ?? [],
      // A key no object depends on puts nothing at risk, whatever its state (a key event for a key
      // never seen on an object records its facts, and must not raise an alarm).
      atRisk: counts.objects > 0 && (unusable || (counts.verdicts['at-risk'] ?? 0) > 0),
      objects: counts.objects,
      bytes: counts.bytes,
      verdicts: filled(VERDICTS, counts.verdicts),
    };
  });
  // Most urgent first: at-risk keys by blast radius, then the others by blast radius.
  return keys.sort((a, b) => Number(b.atRisk) - Number(a.atRisk) || b.bytes - a.bytes || b.objects - a.objects || (a.arn < b.arn ? -1 : 1));
}

function scanRun(item: Record<string, unknown>): ScanRun {
  const { pk: _pk, sk: _sk, ...run } = item;
  return run as unknown as ScanRun;
}

/** How a scheduled sweep run appears among scan runs: all its buckets at once. */
export const SWEEP_BUCKET = '(sweep)';

function sweepRun(item: Record<string, unknown>): SweepRun {
  const { pk: _pk, sk: _sk, ...run } = item;
  return run as unknown as SweepRun;
}

function sweepAsScanRun(run: SweepRun & { finishedAt: string }): ScanRun {
  return {
    id: run.runId,
    bucket: SWEEP_BUCKET,
    prefix: '',
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    objects: run.objectsAudited,
    verdicts: run.verdicts,
    ...(run.objectsAudited === 0 ? { empty: true } : {}),
  };
}

/** Alias names per key ARN, from the recorded key facts. */
export function keyAliases(summary: Summary): KeyAliases {
  const aliases: Record<string, string[]> = {};
  for (const [arn, facts] of Object.entries(summary.keyFacts)) if (facts.status === 'described' && facts.aliases?.length) aliases[arn] = facts.aliases;
  return aliases;
}

/** One entry of the remediation log (REMEDIATIONS partition), or undefined for an item of another shape. */
export function remediationView(item: Record<string, unknown>, aliases: KeyAliases): RemediationView | undefined {
  if (typeof item.bucket !== 'string' || typeof item.key !== 'string' || typeof item.at !== 'string') return undefined;
  const snapshot = (value: unknown) => (value && typeof value === 'object' ? (value as EncryptionSnapshot) : undefined);
  const before = snapshot(item.before);
  const after = snapshot(item.after);
  const outcome = String(item.outcome ?? 'unknown');
  return {
    bucket: item.bucket,
    key: item.key,
    action: String(item.action ?? 'unknown'),
    outcome,
    description: describeRemediation({ outcome, ...(before ? { before } : {}), ...(after ? { after } : {}) }, aliases),
    before: item.before,
    after: item.after,
    at: item.at,
  };
}

/** What a run covered, as the trend groups runs. */
export const runScope = (run: Pick<ScanRun, 'bucket' | 'prefix'>): string => (run.prefix ? `${run.bucket}/${run.prefix}` : run.bucket);

/**
 * The trend: the newest runs of each scope, oldest first (the dashboard draws one scope at a time). A run that
 * audited no object (a mistyped prefix, an empty bucket) proves nothing, so it is not plotted as
 * compliance, whether or not the scan recorded it as empty; nor is a run stopped by a signal, whose
 * figure is that of the objects it reached.
 */
export function trendOf(runsNewestFirst: readonly ScanRun[]): TrendPoint[] {
  const byScope = new Map<string, ScanRun[]>();
  for (const run of runsNewestFirst) {
    if (!(run.objects > 0) || run.interrupted) continue;
    const scope = runScope(run);
    const runs = byScope.get(scope) ?? [];
    if (runs.length === 0 && byScope.size >= TREND_SCOPES) continue;
    if (runs.length < TREND_RUNS) runs.push(run);
    byScope.set(scope, runs);
  }
  return [...byScope]
    .flatMap(([scope, runs]) =>
      runs.map((run) => ({
        id: run.id,
        scope,
        bucket: run.bucket,
        prefix: run.prefix,
        finishedAt: run.finishedAt,
        objects: run.objects,
        compliancePercent: percent(proven(run.verdicts), run.objects),
      })),
    )
    .sort((a, b) => (a.finishedAt < b.finishedAt ? -1 : a.finishedAt > b.finishedAt ? 1 : 0));
}

export async function summaryView(summary: Summary, reader: FindingsReader, posture: PostureSummary, now = new Date()): Promise<SummaryView> {
  const [runItems, sweepItems, remediationItems] = await Promise.all([
    reader.newest(SCANS_PK, COVERAGE_RUNS),
    reader.newest(SWEEPS_PK, COVERAGE_RUNS),
    reader.newest(REMEDIATIONS_PK, RECENT_REMEDIATIONS),
  ]);
  // `sseguard scan` runs and the scheduled sweep's finished runs, newest first.
  const sweeps = sweepItems.map(sweepRun).filter((run): run is SweepRun & { finishedAt: string } => Boolean(run.finishedAt));
  const runs = [...runItems.map(scanRun), ...sweeps.map(sweepAsScanRun)].sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : -1));
  const lastWholeSweep = new Map<string, string>();
  for (const run of runs) {
    // A scan that audited nothing, or was stopped part way, did not cover its bucket (a sweep's
    // coverage is its list of buckets).
    if (run.prefix !== '' || run.interrupted || (run.bucket !== SWEEP_BUCKET && !(run.objects > 0))) continue;
    const covered = run.bucket === SWEEP_BUCKET ? (sweeps.find((s) => s.runId === run.id)?.buckets ?? []) : [run.bucket];
    for (const bucket of covered) if (!lastWholeSweep.has(bucket)) lastWholeSweep.set(bucket, run.finishedAt);
  }
  const buckets = Object.entries(summary.buckets)
    .filter(([, counts]) => counts.objects > 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([bucket, counts]) => ({ bucket, lastSweepAt: lastWholeSweep.get(bucket) ?? null, ...countsView(counts) }));
  const swept = buckets.filter((b) => b.lastSweepAt !== null);
  const sweptObjects = swept.reduce((sum, b) => sum + b.objects, 0);
  const totalObjects = buckets.reduce((sum, b) => sum + b.objects, 0);
  const sweepTimes = swept.map((b) => b.lastSweepAt!).sort();
  const aliases = keyAliases(summary);
  return {
    generatedAt: now.toISOString(),
    overall: countsView(summary.overall),
    buckets,
    accounts: Object.entries(summary.accounts ?? {})
      .filter(([, counts]) => counts.objects > 0)
      .map(([account, counts]) => ({ account, unproven: counts.objects - proven(counts.verdicts), ...countsView(counts) }))
      .sort((a, b) => b.unproven - a.unproven || (a.account < b.account ? -1 : 1))
      .map(({ unproven: _unproven, ...view }) => view),
    atRiskKeys: keysView(summary).filter((key) => key.atRisk),
    lastSweep: runs[0] ?? null,
    coverage: {
      buckets: buckets.length,
      bucketsSwept: swept.length,
      objectsPercent: percent(sweptObjects, totalObjects),
      oldestSweepAt: buckets.length > 0 && swept.length === buckets.length ? sweepTimes[0]! : null,
    },
    trend: trendOf(runs),
    recentRemediations: remediationItems.map((item) => remediationView(item, aliases)).filter((r): r is RemediationView => r !== undefined),
    posture,
  };
}
