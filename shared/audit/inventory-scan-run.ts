// A scan from the bucket's newest S3 Inventory report instead of a listing and a HeadObject per
// object: each row is decided by the inventory where it can be (shared/inventory/decide.ts) and
// HEADed only where it cannot, then fixed and recorded exactly as scanBucket does (unchanged objects
// write nothing). Objects the store holds that the report does not list are settled by the deletion
// rule the audit worker uses (shared/audit/inventory-absence.ts: a HeadObject 404 or two consecutive
// reports remove; an unanswered HeadObject keeps and marks).
// The listed keys are held in bounded memory for that (shared/inventory/listed-keys.ts: exact up to
// a million keys, then a Bloom filter that can only err towards keeping a finding); the Lambda
// fan-out processes one data file per message and reconciles once every file of the report is done
// (shared/audit/inventory-file-audit.ts).
import { randomUUID } from 'node:crypto';
import type { Finding } from '../domain/finding.ts';
import { writesNothing } from '../findings/record-decision.ts';
import type { FindingsStore, RecordResult, StoredFinding } from '../findings/store.ts';
import type { RecordedState } from '../inventory/decide.ts';
import { inventoryScan, recordKey, type InventoryAudit, type InventoryScan, type InventoryScanDependencies, type InventoryScanOptions, type InventoryScanStats } from './inventory-scan.ts';
import { listedKeys } from '../inventory/listed-keys.ts';
import { listsAllVersions, reconcile } from '../inventory/reconcile.ts';
import type { InventoryReport, InventorySource } from '../inventory/source.ts';
import { auditAfterRecordedVersionGone, auditThenFix, isTransient, type Remediator } from './audit-batch.ts';
import { settleAbsent, statesWhere, type AbsenceOutcome } from './inventory-absence.ts';
import type { ObjectAbsenceMarks } from '../findings/absence-marks.ts';
import { BatchRecorder } from './batch-recorder.ts';
import { inventoryBaseline, metadataBaseline, remediatesAny, type InventoryBaseline, type InventoryBaselineDependencies, type InventoryBaselineOptions, type InventoryBaselineSettings } from './inventory-baseline.ts';
import { policyIdOf } from '../domain/policy-identity.ts';
import type { Verdict } from '../domain/verdict.ts';
import type { AuditedUnder, InventoryReportProgress } from '../findings/inventory-progress.ts';
import { countFinding, emptyScanResult, finishScan, stampOrigin, type ScanDependencies, type ScanOptions, type ScanResult } from './scan.ts';

export interface InventoryScanRunResult extends ScanResult {
  inventory: InventoryScanStats & {
    evidence: 'inventory' | 'metadata-table';
    reportDate: string;
    manifestKey: string;
    removed: number;
    /** What the deletion rule decided of the recorded objects the report did not list (inventory evidence, recorded runs). */
    absence?: AbsenceOutcome;
    noncurrentSkipped: number;
    /** Findings that matched their recorded state: nothing written, nothing read again. */
    unchanged: number;
    /** What the rows were compared with (shared/audit/inventory-baseline.ts). */
    diff: InventoryDiffSummary;
  };
}

export interface InventoryDiffSummary {
  /** The last verified report compared with. */
  previousManifestKey?: string;
  previousReportDate?: string;
  /** Why every row was read; absent when only changed rows were. */
  fallback?: string;
  /** Rows listed exactly as in the previous report: neither read, HEADed nor written. */
  unchangedSinceReport: number;
  /** KMS objects HEADed by the rolling re-check. */
  reverified: number;
  /** The rolling re-check's window: (after, until]. */
  reverifyWindow?: { after: string; until: string; days: number };
  /** With a diff, the verdicts of the bucket's recorded findings after the run (its counters): what the unchanged rows still are. */
  recordedVerdicts?: Partial<Record<Verdict, number>>;
}

function recordedState(state: StoredFinding): RecordedState | undefined {
  if (!state.mode) return undefined;
  return {
    ...(state.versionId ? { versionId: state.versionId } : {}),
    ...(state.etag ? { etag: state.etag } : {}),
    mode: state.mode,
    ...(state.kmsKeyArn ? { kmsKeyArn: state.kmsKeyArn } : {}),
    bucketKeyEnabled: Boolean(state.bucketKeyEnabled),
    verdict: state.verdict,
  };
}

/** One row's finding, with the evidence it rests on; fixed first where the policy says so (a fix's after-state rests on its HEAD). */
export async function findingOfInventoryAudit(deps: { remediator?: Remediator | undefined }, audit: InventoryAudit, clock: () => Date): Promise<Finding> {
  const finding: Finding = { ...audit.finding, evidence: audit.evidence, evidenceAt: audit.evidenceAt };
  if (!finding.remediate || !deps.remediator || isTransient(finding)) return finding;
  return { ...(await deps.remediator(audit)), evidence: 'head', evidenceAt: clock().toISOString() };
}

/** The store's recorded states as inventoryScan asks for them; `onStates` sees each chunk's states as read. */
export function storeRecordedStates(
  store: Pick<FindingsStore, 'statesOf'>,
  onStates?: (states: Map<string, StoredFinding>) => void,
): InventoryScanDependencies['recordedStates'] {
  return async (bucket, objects) => {
    const found = new Map<string, RecordedState>();
    const states = await store.statesOf(bucket, objects.map((o) => o.key));
    onStates?.(states);
    for (const query of objects) {
      const state = states.get(query.key);
      // The store holds each object's current version: it speaks for a row of that version only.
      if (!state || (query.versionId && state.versionId && state.versionId !== query.versionId)) continue;
      const recorded = recordedState(state);
      if (recorded) found.set(recordKey(query.key, query.versionId), recorded);
    }
    return found;
  };
}

/**
 * The S3 Metadata table's reconciliation: removes (history kept) what the store holds for `bucket`
 * that the table's answer does not list (shared/inventory/reconcile.ts), a page of states at a time.
 * The table is read as of its query's start minus the lag S3 states for it, so one answer decides;
 * inventory reports are settled by the deletion rule instead (settleAbsent). Safe to run twice: a
 * removed state is not there to remove again, and the store's revision check keeps a state written since.
 */
export async function removeUnlisted(
  store: Pick<FindingsStore, 'findings' | 'record'>,
  bucket: string,
  isListed: (key: string) => boolean,
  report: InventoryReport,
  clock: () => Date,
  prefix?: string,
): Promise<number> {
  const scope = { createdAt: report.manifest.createdAt, allVersions: listsAllVersions(report.manifest.columns) };
  const evidence = report.evidence ?? 'inventory';
  const source = evidence === 'metadata-table' ? 'S3 Metadata table as of' : 'inventory report of';
  let removed = 0;
  for await (const page of store.findings({ bucket })) {
    const gone: Finding[] = [];
    for (const state of page) {
      if (prefix && !state.key.startsWith(prefix)) continue;
      const presence = {
        key: state.key,
        firstSeen: state.firstSeen,
        auditedAt: state.auditedAt,
        ...(state.lastModified ? { lastModified: state.lastModified } : {}),
      };
      if (reconcile(presence, isListed(state.key), scope) !== 'gone') continue;
      gone.push({
        bucket: state.bucket,
        key: state.key,
        size: state.size,
        verdict: 'unauditable',
        reasons: [{ code: 'object-vanished', message: `not in the ${source} ${scope.createdAt.toISOString()}` }],
        remediate: false,
        auditedAt: clock().toISOString(),
        removed: true,
        evidence,
        evidenceAt: scope.createdAt.toISOString(),
      });
    }
    removed += gone.length;
    if (gone.length > 0) await store.record(gone);
  }
  return removed;
}

export type InventoryAuditDependencies = Omit<InventoryScanDependencies, 'inventory' | 'recordedStates'> & {
  store?: Pick<FindingsStore, 'record' | 'statesOf'> | undefined;
  remediator?: Remediator | undefined;
  clock?: () => Date;
  /** Audit only what changed since the last verified report, plus the rolling re-check (absent: every row). */
  baseline?: InventoryBaselineOptions | undefined;
};


/** What the one inventory audit loop hands back to its driver for each row it keeps. */
/**
 * The hooks of a worker's slice: what was recorded (a settled finding in place of the one handed
 * back) and what a retry could change (transient, or not recorded as it stands: the slice's message
 * is retried, its checkpoint stays).
 */
export function collectingHooks(recorded: Finding[], transient: Finding[], origin?: { account: string; region: string }): InventoryAuditHooks {
  return {
    ...(origin ? { origin } : {}),
    onTransient: (finding) => void transient.push(finding),
    onFinding: (finding) => void recorded.push(finding),
    onSettled: (finding, settled) => {
      const at = recorded.indexOf(finding);
      if (at >= 0) recorded.splice(at, 1, settled);
    },
    onUnrecorded: (finding) => {
      const at = recorded.indexOf(finding);
      if (at >= 0) recorded.splice(at, 1);
      transient.push(finding);
    },
  };
}

export interface InventoryAuditHooks {
  /** A row the driver leaves out (outside the scan's prefix): not counted, not recorded. */
  includes?(audit: InventoryAudit): boolean;
  /** A finding a retry could change: never recorded (the row is still in the report). */
  onTransient(finding: Finding, stats: InventoryScanStats): Promise<void> | void;
  /** A finding to count; recorded afterwards unless it matches its recorded state. */
  onFinding(finding: Finding, stats: InventoryScanStats): Promise<void> | void;
  /**
   * A counted finding the store would not record as it stands (its order against the recorded
   * version needs a fresh HeadObject): not recorded this time, never silently dropped.
   */
  onUnrecorded(finding: Finding): Promise<void> | void;
  /** A counted finding the store handed back, settled by a fresh HeadObject: `settled` was recorded in its place. */
  onSettled?(finding: Finding, settled: Finding): Promise<void> | void;
  /** Once aborted (Ctrl-C), no more rows are taken: the fix of the row in hand has finished. */
  stop?: AbortSignal;
  /** The bucket's account and Region: stamped on every finding, as the listing scan does. */
  origin?: { account: string; region: string } | undefined;
  /** A row listed exactly as in the last verified report: not audited, still listed. */
  onUnchanged?(key: string): void;
}

export interface InventoryAuditTally {
  /** Noncurrent versions: not the object's state (versions are audited with --all-versions). */
  noncurrentSkipped: number;
  /** Findings that matched their recorded state: nothing written, nothing read again. */
  unchanged: number;
  /** Stopped (`stop`) before the report's last row. */
  interrupted?: boolean;
  /** What the rows were compared with; undefined without `deps.baseline` or a store. */
  baseline?: InventoryBaseline;
}

/**
 * The one inventory audit loop, for `sseguard scan --inventory` and the audit worker's data-file
 * messages alike: rows decided (shared/inventory/decide.ts), fixed where the policy says so, and
 * recorded only when they differ from the state read for their chunk. A finding that matches that
 * state is not handed to the recorder, which would read the state again only to write nothing, so
 * changed findings fill the recorder's transactions instead of one near-empty transaction per 45
 * rows at 1% churn. Every audit of a chunk is consumed before the next chunk's lookup (the scan's
 * generator is lazy): only the current chunk's states are kept.
 */
export async function auditInventoryRows(
  deps: InventoryAuditDependencies,
  inventory: InventorySource,
  options: InventoryScanOptions,
  hooks: InventoryAuditHooks,
): Promise<{ scan: InventoryScan; tally: InventoryAuditTally }> {
  const clock = deps.clock ?? (() => new Date());
  const store = deps.store;
  const undecided: Finding[] = [];
  const rechecks: NonNullable<RecordResult['recheck']> = [];
  const recorder = store
    ? new BatchRecorder(store, undefined, undefined, (found) => void undecided.push(...found), (found) => void rechecks.push(...found))
    : undefined;
  const tally: InventoryAuditTally = { noncurrentSkipped: 0, unchanged: 0 };
  let chunkStates = new Map<string, StoredFinding>();
  const recordedStates = store
    ? storeRecordedStates(store, (states) => (chunkStates = states))
    : async () => new Map<string, RecordedState>();

  // The scan reads no row before its audits are iterated: the baseline is chosen once the report is known.
  let selectRow: InventoryBaseline['selectRow'] | undefined;
  const scan = await inventoryScan(
    { ...deps, inventory, recordedStates },
    { ...options, selectRow: (row) => (selectRow ? selectRow(row) : 'audit') },
    { onUnchanged: (row) => hooks.onUnchanged?.(row.key) },
  );
  if (deps.baseline && store && (scan.report.evidence ?? 'inventory') === 'inventory') {
    tally.baseline = await inventoryBaseline(
      { progress: deps.baseline.progress, inventory: deps.baseline.reports ?? inventory, policy: deps.policy, remediating: remediatesAny(deps.remediator, deps.policy), ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.baseline.cache ? { cache: deps.baseline.cache } : {}), ...(deps.baseline.athenaDiff ? { athenaDiff: deps.baseline.athenaDiff } : {}), ...(deps.baseline.recheckSince ? { recheckSince: deps.baseline.recheckSince } : {}) },
      options.bucket,
      scan.report,
      deps.baseline.settings,
    );
    selectRow = tally.baseline.selectRow;
  } else if (scan.report.metadataChanges || (deps.baseline && store && scan.report.evidence === 'metadata-table')) {
    // Rows of only what changed must never be reconciled as the whole bucket: their baseline names the candidates.
    tally.baseline = metadataBaseline(scan.report);
  }
  for await (const audit of scan.audits) {
    // Each row's fix is awaited below: when stopped, nothing is in flight.
    if (hooks.stop?.aborted) {
      tally.interrupted = true;
      break;
    }
    if (audit.isLatest === false) {
      tally.noncurrentSkipped += 1;
      continue;
    }
    if (hooks.includes && !hooks.includes(audit)) continue;
    const finding = stampOrigin(await findingOfInventoryAudit(deps, audit, clock), hooks.origin);
    if (isTransient(finding)) {
      await hooks.onTransient(finding, scan.stats);
      continue;
    }
    await hooks.onFinding(finding, scan.stats);
    const stored = chunkStates.get(finding.key);
    if (stored && writesNothing(stored, finding)) tally.unchanged += 1;
    else await recorder?.add(finding);
  }
  await recorder?.flush();
  if (recorder) await settleHandedBack(deps, options.bucket, recorder, { undecided, rechecks }, hooks);
  return { scan, tally };
}

/**
 * Settles what the store handed back, as scanBucket does, so that a retried message ends instead of
 * looping to the DLQ: an undecided order is decided by a fresh HeadObject of the current object
 * (recorded as confirmed current); a recorded version that may be gone is asked for by its version
 * id (only a 404 counts as gone, and the object is then audited afresh naming it removed). A HEAD
 * that fails (throttled, 5xx, timed out) settles nothing: the finding goes to `onUnrecorded`. One
 * round: what the settled records hand back again is not settled twice.
 */
async function settleHandedBack(
  deps: InventoryAuditDependencies,
  bucket: string,
  recorder: BatchRecorder,
  handedBack: { undecided: Finding[]; rechecks: NonNullable<RecordResult['recheck']> },
  hooks: InventoryAuditHooks,
): Promise<void> {
  const undecided = handedBack.undecided.splice(0);
  const rechecks = handedBack.rechecks.splice(0);
  if (undecided.length === 0 && rechecks.length === 0) return;
  const settled: { finding: Finding; settled: Finding }[] = [];
  for (const finding of undecided) {
    const fresh = stampOrigin(await auditThenFix(deps, bucket, { key: finding.key, size: finding.size }, {}, { confirmedCurrent: true }), hooks.origin);
    if (isTransient(fresh)) await hooks.onUnrecorded(finding);
    else settled.push({ finding, settled: fresh });
  }
  for (const recheck of rechecks) {
    const gone = await auditAfterRecordedVersionGone(deps, bucket, recheck);
    // undefined: the recorded version is still there, so it stands and this (older) audit is simply stale.
    if (gone === undefined) continue;
    const after = stampOrigin(gone, hooks.origin);
    if (isTransient(after)) await hooks.onUnrecorded(recheck.finding);
    else settled.push({ finding: recheck.finding, settled: after });
  }
  for (const { settled: finding } of settled) await recorder.add(finding);
  await recorder.flush();
  const again = new Set([...handedBack.undecided, ...handedBack.rechecks.map((r) => r.finding)]);
  for (const { finding, settled: fresh } of settled) {
    if (again.has(fresh)) await hooks.onUnrecorded(finding);
    else await hooks.onSettled?.(finding, fresh);
  }
}

/** The recorded states of the keys a report diff says vanished (listed by the last verified report, not by this one), read by key (BatchGetItem). */
async function* vanishedStates(store: Pick<FindingsStore, 'statesOf'>, bucket: string, vanished: string[]): AsyncGenerator<StoredFinding[]> {
  for (let i = 0; i < vanished.length; i += 500) yield [...(await store.statesOf(bucket, vanished.slice(i, i + 500))).values()];
}

export async function scanFromInventory(
  deps: ScanDependencies & {
    inventory: InventorySource;
    baseline?: InventoryBaselineOptions;
    /** Marks of recorded objects a report did not list and no HeadObject could say were gone. */
    absence: Pick<ObjectAbsenceMarks, 'mark' | 'clear'>;
  },
  options: ScanOptions & { configId?: string },
): Promise<InventoryScanRunResult> {
  const clock = deps.clock ?? (() => new Date());
  const result = emptyScanResult(randomUUID(), options, clock());
  const store = deps.store;
  const listed = listedKeys();
  // A --prefix scan covers part of the report: it neither diffs against nor verifies a report.
  const baseline = options.prefix ? undefined : deps.baseline;
  const { scan, tally } = await auditInventoryRows(
    { ...deps, baseline },
    deps.inventory,
    { bucket: options.bucket, concurrency: options.concurrency, ...(options.configId ? { configId: options.configId } : {}) },
    {
      includes: (audit) => !options.prefix || audit.finding.key.startsWith(options.prefix),
      onTransient: async (finding) => {
        listed.add(finding.key);
        result.notAudited += 1;
        await options.onNotAudited?.(finding);
      },
      onUnrecorded: (finding) => {
        countFinding(result, finding, -1);
        result.notAudited += 1;
      },
      onSettled: (finding, settled) => {
        countFinding(result, finding, -1);
        countFinding(result, settled, 1);
      },
      onFinding: async (finding, stats) => {
        listed.add(finding.key);
        countFinding(result, finding, 1);
        await options.onFinding?.(finding);
        options.onProgress?.({ listed: stats.rows, audited: result.objects });
      },
      onUnchanged: (key) => listed.add(key),
      ...(options.stop ? { stop: options.stop } : {}),
      ...(options.origin ? { origin: options.origin } : {}),
    },
  );
  if (tally.interrupted) result.interrupted = { listingFinished: false };

  // What the store holds that the report does not list: settled by the deletion rule, what it proves
  // gone removed with its history kept. Not after an interrupted read: the rows not reached would
  // look gone. With a diff, only what vanished since the last verified report is a candidate.
  const index = tally.baseline?.index;
  const fromInventory = (scan.report.evidence ?? 'inventory') === 'inventory';
  // This run's report (or metadata-table run) becomes the next run's baseline; a report carries how many marks it left.
  const verifies = Boolean(baseline?.markVerified) && store !== undefined && !result.interrupted && result.notAudited === 0;
  let absence: AbsenceOutcome | undefined;
  let removed = 0;
  if (store && !result.interrupted) {
    if (fromInventory) {
      const candidates = index
        ? vanishedStates(store, options.bucket, index.vanished())
        : statesWhere(store.findings({ bucket: options.bucket }), (state) => !options.prefix || state.key.startsWith(options.prefix));
      absence = await settleAbsent({ store, objects: deps.objects, absence: deps.absence }, candidates, {
        bucket: options.bucket,
        listed,
        report: scan.report,
        clock,
        // A mark is cleared only by a later run that reads every recorded finding: the run after a
        // verified report that left marks does (inventory-baseline.ts); after a --prefix run or an
        // unverified one a diff may not, so those leave none.
        leaveMarks: !options.prefix && (baseline ? verifies : true),
        // The verified report this one follows (diffed against, or read in full after it): only its marks are a first absence.
        previousReportDate: tally.baseline?.previous?.reportDate,
      });
      removed = absence.removed;
      // Their existence is unknown this run: the run record and its `Run Completed` event say partial, not complete.
      result.notAudited += absence.keptUnanswered;
    } else {
      // The metadata table: one answer decides (its lag is in its date). An incremental run's only
      // candidates are the keys its journal named that the live table no longer lists.
      const candidates: Pick<FindingsStore, 'findings' | 'record'> = index
        ? { findings: () => vanishedStates(store, options.bucket, index.vanished()), record: (findings) => store.record(findings) }
        : store;
      removed = await removeUnlisted(candidates, options.bucket, (key) => listed.has(key), scan.report, clock, options.prefix);
    }
  }
  const recordedVerdicts = index && store ? ((await store.summary()).buckets[options.bucket]?.verdicts ?? {}) : undefined;
  // Objects a metadata-table run did not ask for (unchanged since its watermark) are the bucket's all the same: not an empty run.
  const unchangedNotRead = scan.report.metadataChanges ? Object.values(recordedVerdicts ?? {}).reduce((sum, n) => sum + (n ?? 0), 0) : 0;
  await finishScan(deps, result, clock, scan.stats.unchangedSinceReport + unchangedNotRead);
  // Every row audited and recorded, the reconciliation done: the next sweep's baseline.
  if (verifies && baseline?.markVerified) {
    await baseline.markVerified(
      { bucket: options.bucket, manifestKey: scan.report.location.key, files: scan.report.manifest.files.length, ...(scan.report.evidence === 'metadata-table' ? { evidence: 'metadata-table' as const } : {}) },
      { reportDate: scan.report.manifest.createdAt.toISOString(), policyHash: policyIdOf(deps.policy).hash },
      clock().toISOString(),
      removed,
      absence?.marked ?? 0,
    );
  }
  const window = tally.baseline?.reverify;
  const diff: InventoryDiffSummary = {
    ...(tally.baseline?.previous ? { previousManifestKey: tally.baseline.previous.manifestKey, previousReportDate: tally.baseline.previous.reportDate } : {}),
    ...(tally.baseline?.fallback ? { fallback: tally.baseline.fallback } : baseline ? {} : { fallback: options.prefix ? 'a --prefix scan covers part of the report' : 'findings not recorded' }),
    unchangedSinceReport: scan.stats.unchangedSinceReport,
    reverified: scan.stats.headReasons.reverify ?? 0,
    ...(window ? { reverifyWindow: { after: window.after.toISOString(), until: window.until.toISOString(), days: window.periodMs / 86_400_000 } } : {}),
    ...(recordedVerdicts ? { recordedVerdicts } : {}),
  };
  return {
    ...result,
    inventory: {
      ...scan.stats,
      evidence: scan.report.evidence ?? 'inventory',
      reportDate: scan.report.manifest.createdAt.toISOString(),
      manifestKey: scan.report.location.key,
      removed,
      ...(absence ? { absence } : {}),
      noncurrentSkipped: tally.noncurrentSkipped,
      unchanged: tally.unchanged,
      ...(tally.interrupted ? { interrupted: true } : {}),
      diff,
    },
  };
}
