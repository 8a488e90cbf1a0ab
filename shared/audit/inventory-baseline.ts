// Which rows of an inventory report reach the audit: only those that changed since the bucket's
// last verified report (shared/inventory/report-diff.ts), plus the KMS objects whose rolling
// re-check falls in this sweep (shared/inventory/reverify.ts). The one inventory loop
// (inventory-scan-run.ts auditInventoryRows) calls `selectRow` for each row; everything else about
// the loop is unchanged.
//
// The last verified report comes from the inventory progress items of the findings table
// (shared/inventory/report-progress.ts): every file audited under one policy, then reconciled.
// A row listed exactly as in that report was decided, recorded and reconciled then, and nothing
// the audit reads of it has moved since: it is neither read, HEADed nor written. Every row is read
// instead (the run says why, `fallback`) when:
//
// | # | condition                                                        | why a diff would be wrong or impossible |
// |---|------------------------------------------------------------------|-----------------------------------------|
// | 1 | no earlier report of the bucket was verified                      | nothing to compare with |
// | 2 | the policy's hash differs from the one that judged that report    | an unchanged object can have a new verdict |
// | 3 | an exemption expired since that report                            | the same, by time |
// | 4 | the run fixes objects (a remediator, and a rule that remediates)  | an unchanged noncompliant object is to be fixed again |
// | 5 | that report's manifest or a data file can no longer be read       | (a lifecycle rule removed it) |
// | 6 | that report's data files exceed what a worker diffs in memory, and no Athena diff is configured | (with one: the diff runs in Athena, athena-report-diff.ts) |
//
// The rolling re-check applies in every case where a previous verified report dates the window.
import { errorFacts } from '../aws/errors.ts';
import type { ResolvedPolicy } from '../domain/policy.ts';
import { policyIdOf } from '../domain/policy-identity.ts';
import { InventoryError } from '../inventory/errors.ts';
import type { RowSelection } from './inventory-scan.ts';
import { IN_PROCESS_DIFF_LIMIT_BYTES, reportIndexOf, rowIdentity, type ReportChanges, type ReportIndex } from '../inventory/report-diff.ts';
import { InventoryReportProgress, markReportVerified, type AuditedUnder, type VerifiedReport } from '../findings/inventory-progress.ts';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DAY_MS, dueForReverify, type ReverifyWindow } from '../inventory/reverify.ts';
import type { InventoryRow } from '../inventory/row.ts';
import type { InventoryReport, InventorySource } from '../inventory/source.ts';
import type { MetadataWatermark } from '../metadata/athena-source.ts';

export interface InventoryBaselineSettings {
  /** Every KMS object is HEADed at least this often (SSEGUARD_REVERIFY_DAYS, --reverify-days). */
  reverifyDays: number;
  /** Data-file bytes of the previous report up to which it is diffed in process. */
  inProcessLimitBytes?: number;
}

export interface InventoryBaselineDependencies {
  progress: Pick<InventoryReportProgress, 'lastVerified'>;
  /** Reads the previous report (the same destination as this one). */
  inventory: InventorySource;
  policy: ResolvedPolicy;
  /** The run fixes what the policy says to fix. */
  remediating: boolean;
  clock?: () => Date;
  /** Keeps the last index built, for the next message of the same report (a warm worker). */
  cache?: BaselineCache;
  /** Diffs two reports in Athena (shared/inventory/athena-report-diff.ts): used when the previous report is too large to diff in memory. */
  athenaDiff?: (previous: InventoryReport, current: InventoryReport) => Promise<ReportChanges>;
  /** Re-check only, in the window after this date (a data file of a report swept from its Athena diff): no diff, no previous report read. */
  recheckSince?: string;
}

export interface InventoryBaseline {
  /** The last verified report the rows were compared with. */
  previous?: Pick<VerifiedReport, 'manifestKey' | 'reportDate'>;
  /** Why every row is read (no diff); undefined when the diff is used. */
  fallback?: string;
  reverify?: ReverifyWindow;
  /** The previous report's rows, when the diff is used: after the whole report, `vanished()` are the reconciliation's candidates. */
  index?: ReportIndex;
  selectRow(row: InventoryRow): RowSelection;
}

/** One index, of the last previous report diffed: a warm worker audits the next file of the same report without reading the previous report again. */
export type BaselineCache = Map<string, ReportIndex>;
export const baselineCache = (): BaselineCache => new Map();

const isKms = (row: InventoryRow) => row.encryptionStatus === 'SSE-KMS' || row.encryptionStatus === 'DSSE-KMS';

function exemptionExpiredBetween(policy: ResolvedPolicy, after: Date, until: Date): boolean {
  return policy.exemptions.some((e) => e.expires.getTime() > after.getTime() && e.expires.getTime() <= until.getTime());
}

/** Athena's answer as an index: rows it names changed or added are audited, every other row is unchanged. */
function indexOfChanges(changes: ReportChanges): ReportIndex {
  return {
    rows: 0,
    compare: (row) => (changes.changed.has(rowIdentity(row.key, row.versionId)) ? 'changed' : 'unchanged'),
    vanished: () => changes.vanished,
  };
}

async function previousIndex(deps: InventoryBaselineDependencies, bucket: string, previous: VerifiedReport, current: InventoryReport, limit: number): Promise<ReportIndex | string> {
  const cached = deps.cache?.get(previous.manifestKey);
  if (cached) return cached;
  let report: InventoryReport;
  try {
    report = await deps.inventory.at(bucket, previous.manifestKey);
  } catch (error) {
    if (error instanceof InventoryError) return `its manifest is unreadable (${error.message})`;
    throw error;
  }
  const bytes = report.manifest.files.reduce((sum, f) => sum + f.size, 0);
  if (bytes > limit) {
    if (deps.athenaDiff) return indexOfChanges(await deps.athenaDiff(report, current));
    return `its ${bytes} bytes of data files exceed the ${limit} diffed in memory (diff in Athena)`;
  }
  try {
    const index = await reportIndexOf(deps.inventory.allRows(report));
    deps.cache?.clear();
    deps.cache?.set(previous.manifestKey, index);
    return index;
  } catch (error) {
    // Gone (a lifecycle rule), altered, or weather that outlasted the retries: reading every row is
    // always a correct answer, only a dearer one.
    const why = error instanceof InventoryError || errorFacts(error).status === 404 ? 'a data file is unreadable' : 'a data file could not be read';
    return `${why} (${(error as Error).message})`;
  }
}

/** Whether a run fixes what the policy says to fix: then unchanged noncompliant objects are to be fixed again (the table's #4). */
export const remediatesAny = (remediator: unknown, policy: ResolvedPolicy): boolean =>
  remediator !== undefined && (policy.default.remediate || policy.rules.some((r) => r.remediate));

/** Why the verdicts of an earlier verified run cannot stand for the objects unchanged since (the table's #2–#4); undefined when they can. */
export function staleBaselineReason(previous: Pick<VerifiedReport, 'reportDate' | 'policyHash'>, policy: ResolvedPolicy, remediating: boolean, clock: () => Date): string | undefined {
  const policyHash = policyIdOf(policy).hash;
  if (previous.policyHash !== policyHash) return `policy ${policyHash} did not judge it (${previous.policyHash} did)`;
  if (exemptionExpiredBetween(policy, new Date(previous.reportDate), clock())) return 'an exemption expired since';
  if (remediating) return 'fixing re-checks every row';
  return undefined;
}

/**
 * The metadata-table tier's starting point (shared/metadata/athena-source.ts): the evidence time of
 * the bucket's last verified metadata-table run, when its verdicts still stand; the query then asks
 * the journal only for what changed since, plus the rolling re-check's share of the KMS objects.
 */
export function metadataWatermark(
  deps: Pick<InventoryBaselineDependencies, 'progress' | 'policy' | 'remediating' | 'clock'>,
  reverifyDays: number,
): (bucket: string, evidenceAt: Date) => Promise<MetadataWatermark> {
  const clock = deps.clock ?? (() => new Date());
  return async (bucket, evidenceAt) => {
    const previous = await deps.progress.lastVerified(bucket, evidenceAt, 'metadata-table');
    if (!previous) return { fullBecause: 'no earlier verified metadata-table run' };
    const stale = staleBaselineReason(previous, deps.policy, deps.remediating, clock);
    return stale ? { fullBecause: stale } : { since: new Date(previous.reportDate), reverifyPeriodMs: reverifyDays * DAY_MS };
  };
}

/** A metadata-table run's baseline: its rows are already only what changed (or every current object, and why). */
export function metadataBaseline(report: InventoryReport): InventoryBaseline {
  const changes = report.metadataChanges;
  if (!changes) return { fallback: report.fullReadBecause ?? 'no earlier verified metadata-table run', selectRow: () => 'audit' };
  return {
    previous: { manifestKey: 'metadata-table', reportDate: changes.since },
    index: { rows: 0, compare: () => 'changed', vanished: () => changes.vanished },
    selectRow: () => 'audit',
  };
}

/**
 * The bucket's last verified report before `createdAt`, and why the rows cannot be compared with
 * it (rows 1–4 of the table above), without reading any report: the Lambda tier's Athena diff
 * asks this before it starts a query.
 */
export async function diffBaseline(
  deps: Pick<InventoryBaselineDependencies, 'progress' | 'policy' | 'remediating' | 'clock'>,
  bucket: string,
  createdAt: Date,
  /** The caller settles the marks the previous report carries for its diff (ABSENT# items): the Lambda tier's diff sweep does, a run that reads no ABSENT# item does not. */
  settlesCarriedMarks = false,
): Promise<{ previous?: VerifiedReport; fallback?: string }> {
  const clock = deps.clock ?? (() => new Date());
  const previous = await deps.progress.lastVerified(bucket, createdAt);
  if (!previous) return { fallback: 'no earlier verified report' };
  const stale = staleBaselineReason(previous, deps.policy, deps.remediating, clock);
  if (stale) return { previous, fallback: stale };
  // Its marks are cleared only where a report lists the object and its state is read: a diff reads neither for unchanged rows.
  const marks = previous.absencesMarked + (settlesCarriedMarks ? 0 : previous.absencesCarried);
  if (marks > 0) {
    return { previous, fallback: `its reconciliation left ${marks} recorded objects marked absent (no HeadObject could answer): every recorded finding is reconciled against this report` };
  }
  return { previous };
}

export async function inventoryBaseline(
  deps: InventoryBaselineDependencies,
  bucket: string,
  report: InventoryReport,
  settings: InventoryBaselineSettings,
): Promise<InventoryBaseline> {
  const createdAt = report.manifest.createdAt;
  if (deps.recheckSince) {
    // The report is swept from its Athena diff: this slice only re-checks (no previous report read).
    const reverify: ReverifyWindow = { after: new Date(deps.recheckSince), until: createdAt, periodMs: settings.reverifyDays * DAY_MS };
    return { reverify, selectRow: (row) => (isKms(row) && dueForReverify(bucket, row.key, row.versionId, reverify) ? 'reverify' : 'unchanged') };
  }
  const { previous, fallback } = await diffBaseline(deps, bucket, createdAt);
  if (!previous) return { fallback: fallback!, selectRow: () => 'audit' };

  const reverify: ReverifyWindow = { after: new Date(previous.reportDate), until: createdAt, periodMs: settings.reverifyDays * DAY_MS };
  const due = (row: InventoryRow) => isKms(row) && dueForReverify(bucket, row.key, row.versionId, reverify);
  const withoutDiff = (why: string): InventoryBaseline => ({
    previous: { manifestKey: previous.manifestKey, reportDate: previous.reportDate },
    fallback: why,
    reverify,
    selectRow: (row) => (due(row) ? 'reverify' : 'audit'),
  });

  if (fallback) return withoutDiff(fallback);
  const index = await previousIndex(deps, bucket, previous, report, settings.inProcessLimitBytes ?? IN_PROCESS_DIFF_LIMIT_BYTES);
  if (typeof index === 'string') return withoutDiff(index);
  return {
    previous: { manifestKey: previous.manifestKey, reportDate: previous.reportDate },
    reverify,
    index,
    selectRow(row) {
      // Compared first whatever else holds: the comparison is what marks a key listed (vanished()).
      const change = index.compare(row);
      if (due(row)) return 'reverify';
      return change === 'unchanged' ? 'unchanged' : 'audit';
    },
  };
}

/** The baseline of a run that audits a whole report and records it (`sseguard scan --inventory`, the fleet bench). */
export function recordingBaseline(documents: DynamoDBDocumentClient, tableName: string, reverifyDays: number): InventoryBaselineOptions {
  return {
    progress: new InventoryReportProgress(documents, tableName),
    markVerified: (report, under, at, removed, absencesMarked) => markReportVerified(documents, tableName, report, under, at, removed, absencesMarked),
    settings: { reverifyDays },
  };
}

/** What a driver of the inventory loop gives it to audit only what changed (see inventoryBaseline). */
export interface InventoryBaselineOptions {
  progress: Pick<InventoryReportProgress, 'lastVerified'>;
  /** Notes a report (or metadata-table run) wholly audited and reconciled by one run (the CLI's; workers count files instead). */
  markVerified?: (report: { bucket: string; manifestKey: string; files: number; evidence?: 'metadata-table' }, under: AuditedUnder, at: string, removed: number, absencesMarked: number) => Promise<void>;
  settings: InventoryBaselineSettings;
  cache?: InventoryBaselineDependencies['cache'];
  athenaDiff?: InventoryBaselineDependencies['athenaDiff'];
  /** Where the previous report is read whole; default: the rows' own source (a worker's slice of one file reads no other report). */
  reports?: InventorySource;
  recheckSince?: InventoryBaselineDependencies['recheckSince'];
}
