// The audit worker's inventory tier, free of Lambda types. A data-file message audits a bounded
// slice of one data file of one report: rows from the file's checkpoint, audited by
// inventoryScan({ bucket, manifestKey, files: [file] }) over a row cursor (shared/inventory/
// row-cursor.ts), fixed and recorded exactly as `sseguard scan --inventory` does (writes only on
// change; evidence 'inventory' or 'head'; the one loop of shared/audit/inventory-scan-run.ts), the
// checkpoint moved after each recorded slice, and a continuation message sent when the message's
// row or time limit is reached. A finding a retry could change is never recorded: the checkpoint
// stays before it and the message is retried. The file marker makes a redelivery do nothing.
// When the last file of the report is marked done, one reconcile message goes to the audit queue;
// it fans out over key ranges (shared/inventory/key-ranges.ts), each removing what the deletion
// rule proves gone (shared/audit/inventory-absence.ts).
//
// Time per message: bounded by the limits (rows, seconds), whatever the file's or bucket's size,
// plus the parse of the rows before the checkpoint (a gzip stream cannot be entered in the middle).
// A key-range message holds at most its share of keys, but streams every row of the report, unless
// an Athena table is configured: then it reads its range's keys from a query's result, a bounded
// slice per message (reconcileRangeFromAthena).
import type { Finding } from '../domain/finding.ts';
import { InventoryError } from '../inventory/errors.ts';
import type { InventoryScanStats } from './inventory-scan.ts';
import { inventoryContinuationMessage, inventoryReconcileMessage, type InventoryFileMessage, type InventoryReconcileMessage } from '../inventory/messages.ts';
import { rowCursor } from '../inventory/row-cursor.ts';
import type { InventoryFileCheckpoints } from '../findings/inventory-checkpoints.ts';
import { reportCoverage, type InventoryReportProgress, type ReportCoverage, type ReportProgress } from '../findings/inventory-progress.ts';
import type { InventorySource } from '../inventory/source.ts';
import type { FindingsStore } from '../findings/store.ts';
import type { RequestAuditDependencies } from './audit-batch.ts';
import { listedKeys } from '../inventory/listed-keys.ts';
import { auditInventoryRows, collectingHooks } from './inventory-scan-run.ts';
import { removeAbsent, type AbsenceOutcome } from './inventory-absence.ts';
import type { ObjectAbsenceMarks } from '../findings/absence-marks.ts';
import { compareKeys, inRange, keyRanges, type KeyRange } from '../inventory/key-ranges.ts';
import type { InventoryReport } from '../inventory/source.ts';
import type { DiffQueryState } from '../metadata/athena-report-diff.ts';
import { readResultSlice, type ResultBytes } from './athena-result-slice.ts';

/** How much of a data file one message audits: whichever limit comes first ends the message. */
export interface InventorySliceLimits {
  /** Rows audited per message at most (default 100,000). */
  rowsPerMessage: number;
  /** Time per message at most, checked after each checkpoint (default 120 s). */
  msPerMessage: number;
  /** Rows between checkpoints: a crash repeats at most these (default 500, one recorded-state lookup). */
  rowsPerCheckpoint: number;
}

export const DEFAULT_SLICE_LIMITS: InventorySliceLimits = { rowsPerMessage: 100_000, msPerMessage: 120_000, rowsPerCheckpoint: 500 };
import type { InventoryBaselineOptions } from './inventory-baseline.ts';
import { policyIdOf } from '../domain/policy-identity.ts';

export interface InventoryFileAuditDependencies extends RequestAuditDependencies {
  store: Pick<FindingsStore, 'record' | 'statesOf' | 'findings'>;
  /** The report's destination as the message names it. */
  inventory: (destination: InventoryFileMessage['destination']) => InventorySource;
  progress: Pick<
    InventoryReportProgress,
    | 'fileDone'
    | 'markFileDone'
    | 'progress'
    | 'lastVerified'
    | 'markReconcileQueued'
    | 'claimReconcile'
    | 'markReconciled'
    | 'planPartitions'
    | 'partitionDone'
    | 'markPartitionDone'
    | 'noteAbsent'
    | 'rangeSliceDone'
    | 'markRangeSliceDone'
    | 'noteRemoving'
    | 'removingKeys'
  >;
  checkpoints: Pick<InventoryFileCheckpoints, 'read' | 'advance' | 'continuationSent' | 'reportTotals'>;
  /** Marks of objects a report did not list and no HeadObject could say were gone. */
  absence: Pick<ObjectAbsenceMarks, 'mark' | 'clear'>;
  /** Keys of a report one reconciliation message holds at most (default 1,000,000). */
  keysPerReconcileMessage?: number;
  queue: { sendToAuditQueue(bodies: string[], options?: { delaySeconds?: number }): Promise<void> };
  slices?: Partial<InventorySliceLimits>;
  /** With an Athena table (SSEGUARD_ATHENA_DIFF_TABLE): a key range's listed keys are asked of Athena, not streamed from the report. */
  rangeKeys?: RangeKeysQueries;
  clock?: () => Date;
  /** Monotonic milliseconds, for the time limit (tests move it). */
  elapsedMs?: () => number;
  /** Audit only the rows that changed since the bucket's last verified report, plus the rolling re-check. */
  baseline?: InventoryBaselineOptions;
}

/** A key range's listed keys in Athena (shared/metadata/athena-report-diff.ts), bound to the configured table, workgroup and output. */
export interface RangeKeysQueries {
  /** The table and the report's partition (DDL, waited for): once, by the message that plans the ranges. */
  prepare(report: InventoryReport): Promise<void>;
  /** Starts the range's query (a stable ClientRequestToken per attempt: a redelivery gets the same query). */
  start(report: InventoryReport, range: { index: number } & KeyRange, attempt?: number): Promise<string>;
  state(queryId: string): Promise<DiffQueryState>;
  stop(queryId: string): Promise<void>;
  resultBytes: ResultBytes;
  deadlineMs: number;
  pollSeconds: number;
}

export interface InventoryFileAuditResult {
  /** The file was already audited on an earlier delivery: nothing was read or recorded. */
  alreadyDone: boolean;
  recorded: Finding[];
  /** Findings a retry could change: not recorded, the checkpoint not moved past them; retry the message. */
  transient: Finding[];
  stats?: InventoryScanStats;
  reconcileQueued: boolean;
  /** Rows of the file this message audited: [from, to). */
  rows?: { from: number; to: number };
  /** A continuation message was sent for the rest of the file. */
  continued?: boolean;
  /** Another delivery holds the file's position (a continuation sent past this one, or a slice moved first): nothing more done. */
  superseded?: boolean;
  /** Why every row of the file was read rather than only those changed since the last verified report. */
  fullReadBecause?: string;
  /** This message completed a report swept from its diff: what the report says (coverage, gap). */
  reconciled?: ReconciledReport;
}

/**
 * What a reconciled report says, as `sseguard scan --inventory`'s run says it: `partial` when its
 * reconciliation kept objects no HeadObject could answer for (their existence unknown: not
 * audited), with how many; the worker logs it and counts it (InventoryObjectsUnanswered).
 */
export interface ReconciledReport {
  coverage: ReportCoverage;
  removed: number;
  /** Recorded objects kept because no HeadObject could answer: the report's gap. */
  keptUnanswered: number;
  /** Of the objects the report did not list, those left marked absent (a 404 or the next report decides). */
  absencesMarked: number;
}

/** Marks the report reconciled with the counts its steps added (`counted`: the progress read after the last step's). */
export async function markReportReconciled(
  deps: Pick<InventoryFileAuditDependencies, 'progress'>,
  bucket: string,
  manifestKey: string,
  at: string,
  counted: ReportProgress,
): Promise<ReconciledReport> {
  await deps.progress.markReconciled(bucket, manifestKey, at, counted);
  return {
    coverage: reportCoverage(counted),
    removed: counted.removed ?? 0,
    keptUnanswered: counted.keptUnanswered ?? 0,
    absencesMarked: (counted.absencesMarked ?? 0) + (counted.absencesCarried ?? 0),
  };
}

/**
 * The store a reconciling step removes through: each removal's key is noted under the step
 * (noteRemoving) before it is recorded, so the step's count (removedBy) is exact however often
 * it is delivered: a redelivery after a crash between the removal and the done marker no longer
 * sees the states it removed, the notes still name them.
 */
export function notingRemovals<S extends Pick<FindingsStore, 'record'>>(
  deps: { store: S; progress: Pick<InventoryReportProgress, 'noteRemoving'> },
  manifestKey: string,
  step: string,
): Pick<FindingsStore, 'record'> {
  return {
    async record(findings) {
      const removing = findings.filter((f) => f.removed).map((f) => f.key);
      if (removing.length > 0) await deps.progress.noteRemoving(manifestKey, step, removing);
      return deps.store.record(findings);
    },
  };
}

/** The objects `step` removed, on any delivery: those noted (notingRemovals) whose recorded state is gone. */
export async function removedBy(
  deps: { store: Pick<FindingsStore, 'statesOf'>; progress: Pick<InventoryReportProgress, 'removingKeys'> },
  bucket: string,
  manifestKey: string,
  step: string,
): Promise<number> {
  let removed = 0;
  for await (const keys of deps.progress.removingKeys(manifestKey, step)) {
    // A page of the Query (1 MB at most); statesOf reads it in batches.
    const states = await deps.store.statesOf(bucket, keys);
    removed += keys.filter((key) => !states.has(key)).length;
  }
  return removed;
}

/** Step names of notingRemovals: a key range (P3), a slice of one read from Athena (A3.1), a diff slice (D2), a page of carried marks (C0). */
export const reconcileStep = {
  range: (partition: number) => `P${partition}`,
  rangeSlice: (partition: number, slice: number) => `A${partition}.${slice}`,
  diffSlice: (slice: number) => `D${slice}`,
  carriedPage: (page: number) => `C${page}`,
};

/**
 * Once every file of the report is counted: its reconciliation is queued, or, for a report swept
 * from its Athena diff (whose result slices settled the vanished keys, and whose result counts as
 * one more file), the report is marked reconciled here.
 */
export async function queueReconcileIfComplete(
  deps: Pick<InventoryFileAuditDependencies, 'progress' | 'queue'>,
  message: Pick<InventoryFileMessage, 'bucket' | 'destination' | 'manifestKey'>,
  files: number,
  at: string,
): Promise<{ queued: boolean; reconciled?: ReconciledReport }> {
  const progress = await deps.progress.progress(message.bucket, message.manifestKey);
  if (!progress || progress.filesDone < files || progress.reconciledAt) return { queued: false };
  if (progress.sweepMode === 'athena') return { queued: false, reconciled: await markReportReconciled(deps, message.bucket, message.manifestKey, at, progress) };
  if (progress.reconcileQueuedAt) return { queued: false };
  // Claimed first: of the files that completed the report together, one sends the plan (its Athena
  // queries are not started twice). Sent before it is noted: a crash in between sends it again on
  // redelivery (the claim is stale by then), and a second reconciliation removes nothing more.
  const now = Date.parse(at);
  if (!(await deps.progress.claimReconcile(message.bucket, message.manifestKey, at, new Date(now - RECONCILE_CLAIM_STALE_MS).toISOString()))) {
    // Another worker holds the claim: it sends within moments, or it crashed and this message fails,
    // to be delivered again once the claim is stale. Never returns having sent nothing and seen nothing sent.
    for (let waited = 0; waited < RECONCILE_CLAIM_WAIT_MS; waited += RECONCILE_CLAIM_POLL_MS) {
      await new Promise((resolve) => setTimeout(resolve, RECONCILE_CLAIM_POLL_MS));
      if ((await deps.progress.progress(message.bucket, message.manifestKey))?.reconcileQueuedAt) return { queued: false };
    }
    // Weather, not a report problem: the message is retried (SQS), never dead-lettered at once.
    throw new Error(`reconciliation of ${message.manifestKey} claimed, not sent yet: retried`);
  }
  await deps.queue.sendToAuditQueue([JSON.stringify(inventoryReconcileMessage(message))]);
  await deps.progress.markReconcileQueued(message.bucket, message.manifestKey, at);
  return { queued: true };
}

/** A claim to send a report's reconcile message (claimReconcile) that sent nothing for this long was lost with its worker. */
export const RECONCILE_CLAIM_STALE_MS = 60_000;
/** How long a file that completed the report too waits to see the claim holder's message sent, a look every poll. */
const RECONCILE_CLAIM_WAIT_MS = 5_000;
const RECONCILE_CLAIM_POLL_MS = 250;

const addStats = (sum: InventoryScanStats, more: InventoryScanStats): InventoryScanStats => {
  const headReasons = { ...sum.headReasons };
  for (const [why, n] of Object.entries(more.headReasons) as [keyof InventoryScanStats['headReasons'], number][]) headReasons[why] = (headReasons[why] ?? 0) + n;
  return {
    rows: sum.rows + more.rows,
    byInventory: sum.byInventory + more.byInventory,
    byHead: sum.byHead + more.byHead,
    skipped: sum.skipped + more.skipped,
    unchangedSinceReport: sum.unchangedSinceReport + more.unchangedSinceReport,
    headReasons,
  };
};

/**
 * Audits the next slice of one data file: from the file's checkpoint, a checkpoint at a time
 * (rows audited, their findings recorded, then the checkpoint moved conditionally), until the
 * file ends or the message's row or time limit is reached; then a continuation message carries
 * on. A retried message resumes from the last checkpoint: rows before it are never audited again,
 * rows after it never skipped.
 */
export async function auditInventoryFile(
  deps: InventoryFileAuditDependencies,
  message: InventoryFileMessage,
  /** The bucket's account and Region, stamped on every finding (the worker's own account). */
  origin?: { account: string; region: string },
): Promise<InventoryFileAuditResult> {
  const clock = deps.clock ?? (() => new Date());
  const elapsed = deps.elapsedMs ?? (() => performance.now());
  const limits = { ...DEFAULT_SLICE_LIMITS, ...deps.slices };
  const startedMs = elapsed();
  if (await deps.progress.fileDone(message.manifestKey, message.file.key)) {
    const progress = await deps.progress.progress(message.bucket, message.manifestKey);
    const queued = progress ? await queueReconcileIfComplete(deps, message, progress.files, clock().toISOString()) : { queued: false };
    return { alreadyDone: true, recorded: [], transient: [], reconcileQueued: queued.queued, ...(queued.reconciled ? { reconciled: queued.reconciled } : {}) };
  }
  const checkpoint = await deps.checkpoints.read(message.manifestKey, message.file.key);
  // A delivery behind a continuation already on the queue: that message goes on from there.
  if ((message.fromRow ?? 0) < checkpoint.rowsDone && checkpoint.continuationFrom === checkpoint.rowsDone) {
    return { alreadyDone: false, recorded: [], transient: [], reconcileQueued: false, superseded: true };
  }
  const source = deps.inventory(message.destination);
  const report = await source.at(message.bucket, message.manifestKey);
  // The verified manifest's entry, not the message's: its size and MD5 are the ones checked.
  const file = report.manifest.files.find((f) => f.key === message.file.key);
  if (!file) throw new InventoryError('data-file-invalid', `s3://${message.destination.bucket}/${message.manifestKey} lists no data file ${message.file.key}`);

  const recorded: Finding[] = [];
  const transient: Finding[] = [];
  const from = checkpoint.rowsDone;
  const cursor = await rowCursor(source, report, file, from);
  let stats: InventoryScanStats = { rows: 0, byInventory: 0, byHead: 0, skipped: 0, unchangedSinceReport: 0, headReasons: {} };
  let fullReadBecause: string | undefined;
  const result = (extra: Partial<InventoryFileAuditResult> = {}): InventoryFileAuditResult => ({
    alreadyDone: false,
    recorded,
    transient,
    stats,
    reconcileQueued: false,
    rows: { from, to: cursor.position },
    ...(fullReadBecause ? { fullReadBecause } : {}),
    ...extra,
  });
  while (!cursor.exhausted) {
    const before = cursor.position;
    const { scan, tally } = await auditInventoryRows(
      // The slice's cursor reads this file only: the baseline reads the previous report from the report's source.
      deps.baseline ? { ...deps, baseline: { ...deps.baseline, reports: source, ...(message.recheckSince ? { recheckSince: message.recheckSince } : {}) } } : deps,
      cursor.slice(Math.min(limits.rowsPerCheckpoint, limits.rowsPerMessage - (before - from))),
      { bucket: message.bucket, manifestKey: message.manifestKey, files: [file], chunkSize: limits.rowsPerCheckpoint, ...(deps.concurrency ? { concurrency: deps.concurrency } : {}) },
      collectingHooks(recorded, transient, origin),
    );
    stats = addStats(stats, scan.stats);
    if (tally.baseline?.fallback) fullReadBecause = tally.baseline.fallback;
    // The checkpoint stays before this slice: the retry audits it again (what was recorded of it then matches and writes nothing).
    if (transient.length > 0) return result({ rows: { from, to: before } });
    const last = cursor.exhausted || cursor.position - from >= limits.rowsPerMessage || elapsed() - startedMs >= limits.msPerMessage;
    // The last checkpoint of each message adds its sample of the file's keys (the reconciliation's key ranges come from them).
    const sample = last ? cursor.sampleKeys : undefined;
    if (!(await deps.checkpoints.advance(message.manifestKey, file.key, before, cursor.position, clock().toISOString(), sample))) return result({ superseded: true });
    if (cursor.exhausted) break;
    if (last) {
      // Sent, then noted: a crash in between leaves a redelivery that carries on itself, or (if it was sent) a duplicate that loses the next checkpoint.
      await deps.queue.sendToAuditQueue([JSON.stringify(inventoryContinuationMessage(message, cursor.position))]);
      await deps.checkpoints.continuationSent(message.manifestKey, file.key, cursor.position);
      return result({ continued: true });
    }
  }

  const at = clock().toISOString();
  // A report swept from its Athena diff counts the diff's result as one file more.
  const files = report.manifest.files.length + (message.recheckSince ? 1 : 0);
  // The report's date and the policy go with the count: a report verified under one policy is the next sweep's baseline.
  await deps.progress.markFileDone({ bucket: message.bucket, manifestKey: message.manifestKey, files }, file.key, at, {
    reportDate: report.manifest.createdAt.toISOString(),
    policyHash: policyIdOf(deps.policy).hash,
  });
  const queued = await queueReconcileIfComplete(deps, message, files, at);
  return result({ reconcileQueued: queued.queued, continued: false, ...(queued.reconciled ? { reconciled: queued.reconciled } : {}) });
}

export interface InventoryReconcileResult {
  status: 'reconciled' | 'partitioned' | 'already-reconciled' | 'incomplete' | 'query-started' | 'query-running' | 'slice-reconciled';
  removed: number;
  /** Keys of the report this message held (one key range's). */
  keysListed?: number;
  /** Key ranges sent (the planning message), or this message's range. */
  partitions?: number;
  absence?: AbsenceOutcome;
  /** This message reconciled the report's last range: what the report says (coverage, gap). */
  report?: ReconciledReport;
}

/** Keys of a report one reconciliation message holds at most (exactly; past it, a Bloom filter). */
export const DEFAULT_KEYS_PER_RECONCILE_MESSAGE = 1_000_000;

/**
 * Removes what the report proves gone, once every one of its files was audited, fanned out over
 * key ranges so that no message holds more than `keysPerReconcileMessage` of the report's keys:
 * the first message plans the ranges (from the keys the file audits sampled) and sends one
 * message per range; each reads the report's rows keeping only its range's keys, reads only its
 * range's findings (one Query of the bucket index), and removes what the deletion rule proves
 * gone (inventory-absence.ts: two consecutive reports, or a HeadObject 404). The last range done
 * marks the report reconciled. Without an Athena table each range streams every row of the report
 * (parsing, not auditing: ~2.5 µs a row): its time follows the report's rows, its memory does not;
 * with one (deps.rangeKeys) it reads its keys from a query's result instead, a slice per message.
 */
export async function reconcileInventoryReport(deps: InventoryFileAuditDependencies, message: InventoryReconcileMessage): Promise<InventoryReconcileResult> {
  const clock = deps.clock ?? (() => new Date());
  const keysPerMessage = deps.keysPerReconcileMessage ?? DEFAULT_KEYS_PER_RECONCILE_MESSAGE;
  const progress = await deps.progress.progress(message.bucket, message.manifestKey);
  if (progress?.reconciledAt) return { status: 'already-reconciled', removed: 0 };
  if (!progress || progress.filesDone < progress.files) return { status: 'incomplete', removed: 0 };
  const { partition } = message;
  if (!partition) {
    // The range messages ask Athena for their keys: the table and this report's partition first
    // (a report swept in full was never diffed, so nothing made them).
    if (deps.rangeKeys) {
      const report = await deps.inventory(message.destination).at(message.bucket, message.manifestKey);
      if (report.manifest.format !== 'ORC') await deps.rangeKeys.prepare(report);
    }
    const { rows, sampleKeys } = await deps.checkpoints.reportTotals(message.manifestKey);
    const ranges = keyRanges(sampleKeys, rows, keysPerMessage);
    // The plan is a function of the checkpoints, which no longer move: a redelivery plans the same ranges.
    await deps.progress.planPartitions(message.bucket, message.manifestKey, ranges.length);
    await deps.queue.sendToAuditQueue(ranges.map((range, index) => JSON.stringify(inventoryReconcileMessage(message, { index, of: ranges.length, ...range }))));
    return { status: 'partitioned', removed: 0, partitions: ranges.length };
  }
  if (await deps.progress.partitionDone(message.manifestKey, partition.index)) return { status: 'already-reconciled', removed: 0 };
  const range: KeyRange = { ...(partition.from ? { from: partition.from } : {}), ...(partition.to ? { to: partition.to } : {}) };
  const source = deps.inventory(message.destination);
  const report = await source.at(message.bucket, message.manifestKey);
  if (deps.rangeKeys && report.manifest.format !== 'ORC') return reconcileRangeFromAthena(deps, deps.rangeKeys, message, partition, report, clock);
  // Bounded memory: this range's keys exactly up to the limit, then a Bloom filter that can only
  // keep a finding one report longer (shared/inventory/listed-keys.ts).
  const listed = listedKeys({ exactLimit: keysPerMessage });
  for await (const row of source.allRows(report)) if (!row.isDeleteMarker && row.isLatest !== false && inRange(row.key, range)) listed.add(row.key);
  const previousReportDate = (await deps.progress.lastVerified(message.bucket, report.manifest.createdAt))?.reportDate;
  const step = reconcileStep.range(partition.index);
  const store = { findings: deps.store.findings.bind(deps.store), ...notingRemovals(deps, message.manifestKey, step) };
  const absence = await removeAbsent({ ...deps, store, noteMarked: (keys) => deps.progress.noteAbsent(message.bucket, message.manifestKey, keys) }, message.bucket, listed, report, range, clock, previousReportDate);
  // Counted from the notes: what an earlier delivery removed before it crashed counts too.
  const removed = await removedBy(deps, message.bucket, message.manifestKey, step);
  const at = clock().toISOString();
  const after = await deps.progress.markPartitionDone(message.bucket, message.manifestKey, partition.index, removed, listed.size, at, { absencesMarked: absence.marked, keptUnanswered: absence.keptUnanswered });
  const done = (after.partitionsDone ?? 0) >= partition.of ? await markReportReconciled(deps, message.bucket, message.manifestKey, at, after) : undefined;
  return { status: 'reconciled', removed, keysListed: listed.size, partitions: partition.of, absence, ...(done ? { report: done } : {}) };
}

/**
 * One key range reconciled from Athena's answer rather than by streaming the report: the query of
 * the range's listed keys (diff-query.ts rangeKeysQuery over the report's partition) is started,
 * polled by delayed messages as the diff is (a failed, cancelled or late query fails the message:
 * SQS retries it, and a range never reconciled leaves the report unverified, so the next report is
 * swept in full; never a verdict, never a skip), then its result file (keys in UTF-8 byte order) is
 * read a slice at a time (at most rowsPerMessage keys, ranged GETs from a row boundary). Each slice
 * reconciles the keys from its first (the range's start for the first slice) to its last (the
 * range's end for the last slice) by the deletion rule (inventory-absence.ts), marks itself done
 * with its removals (once), then sends the next slice (a chain guarded like the diff's: a redelivery
 * sends no second one). The last slice marks the range done. So every message is bounded by the
 * rows-per-message setting, whatever the report's size.
 */
/** Queries one key range's keys may take: a failed or late one is started again until this many have been. */
export const RANGE_QUERY_ATTEMPTS = 3;

async function reconcileRangeFromAthena(
  deps: InventoryFileAuditDependencies,
  queries: RangeKeysQueries,
  message: InventoryReconcileMessage,
  partition: NonNullable<InventoryReconcileMessage['partition']>,
  report: InventoryReport,
  clock: () => Date,
): Promise<InventoryReconcileResult> {
  const { bucket, manifestKey } = message;
  const range: KeyRange = { ...(partition.from ? { from: partition.from } : {}), ...(partition.to ? { to: partition.to } : {}) };
  const step = message.athena;
  const send = (next: InventoryReconcileMessage, delaySeconds?: number) =>
    deps.queue.sendToAuditQueue([JSON.stringify(next)], delaySeconds === undefined ? undefined : { delaySeconds });
  if (!step) {
    const queryId = await queries.start(report, { index: partition.index, ...range });
    await send({ ...message, athena: { step: 'poll', queryId, startedAt: clock().toISOString() } }, queries.pollSeconds);
    return { status: 'query-started', removed: 0, partitions: partition.of };
  }
  if (step.step === 'poll') {
    const state = await queries.state(step.queryId);
    let failure: string | undefined;
    if (state.state === 'running') {
      if (clock().getTime() - Date.parse(step.startedAt) < queries.deadlineMs) {
        await send(message, queries.pollSeconds);
        return { status: 'query-running', removed: 0, partitions: partition.of };
      }
      await queries.stop(step.queryId);
      failure = `the key range ${partition.index} query ${step.queryId} was still running after ${Math.round(queries.deadlineMs / 1000)} s: stopped`;
    } else if (state.state === 'failed') {
      failure = `key range ${partition.index} of ${manifestKey}: ${state.reason}`;
    }
    if (failure) {
      // A new query, a few times (Athena's own failures can pass); then the message fails (SQS retries it, then the DLQ). Never a verdict.
      const attempt = (step.attempt ?? 1) + 1;
      if (attempt > RANGE_QUERY_ATTEMPTS) throw new InventoryError('query-failed', `${failure} (attempt ${attempt - 1} of ${RANGE_QUERY_ATTEMPTS})`);
      const queryId = await queries.start(report, { index: partition.index, ...range }, attempt);
      await send({ ...message, athena: { step: 'poll', queryId, startedAt: clock().toISOString(), attempt } }, queries.pollSeconds);
      return { status: 'query-started', removed: 0, partitions: partition.of };
    }
    if (state.state !== 'succeeded') throw new InventoryError('query-failed', `key range ${partition.index} of ${manifestKey}: no result`);
    await send({ ...message, athena: { step: 'slice', queryId: step.queryId, result: state.result, fromByte: 0, slice: 0 } });
    return { status: 'query-running', removed: 0, partitions: partition.of };
  }

  const limits = { ...DEFAULT_SLICE_LIMITS, ...deps.slices };
  const read = await readResultSlice(queries.resultBytes, step.result, step.fromByte, limits.rowsPerMessage);
  const where = `s3://${step.result.bucket}/${step.result.key}`;
  let records = read.records;
  if (step.fromByte === 0) {
    if (records[0]?.length !== 1 || records[0][0] !== 'key') throw new InventoryError('data-file-invalid', `${where}: the header is not "key"`);
    records = records.slice(1);
  }
  const keys = records.map((record, i) => {
    if (record.length !== 1 || !record[0]) throw new InventoryError('data-file-invalid', `${where} from byte ${step.fromByte} row ${i + 1}: not one key`);
    return record[0];
  });
  // The slice's part of the range: from its first key (the range's start for the first slice) to
  // its last key inclusive (the smallest key after it is the last key followed by U+0000), or the
  // range's end for the last slice. Keys must come in the order ranges compare them, or an object
  // listed in the next slice could look unlisted here: checked, never assumed.
  const from = step.fromKey ?? range.from;
  for (const [i, key] of keys.entries()) {
    const before = i === 0 ? from : keys[i - 1];
    if ((before !== undefined && compareKeys(key, before) < (i === 0 ? 0 : 1)) || !inRange(key, range)) {
      throw new InventoryError('data-file-invalid', `${where} from byte ${step.fromByte}: key ${JSON.stringify(key)} out of order or outside key range ${partition.index}`);
    }
  }
  if (!read.last && keys.length === 0) throw new InventoryError('data-file-invalid', `${where} from byte ${step.fromByte}: no key before the end`);
  // A range's start is a key the report's rows were sampled at: in a report of current versions
  // only, every row is listed, so Athena's answer must start with it. An answer without it (a
  // partition over the wrong files, an empty one) would make every recorded object look unlisted.
  const everyRowListed = !report.manifest.columns.includes('IsLatest') && !report.manifest.columns.includes('IsDeleteMarker');
  if (step.slice === 0 && range.from !== undefined && everyRowListed && keys[0] !== range.from) {
    throw new InventoryError('query-failed', `${where}: the key range ${partition.index} query does not list ${JSON.stringify(range.from)}, which the report lists: not reconciled from it`);
  }
  const to = read.last ? range.to : `${keys.at(-1)!}\u0000`;
  const part: KeyRange = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  const at = clock().toISOString();
  let absence: AbsenceOutcome | undefined;
  let removed = 0;
  if (!(await deps.progress.rangeSliceDone(manifestKey, partition.index, step.slice))) {
    const listed = new Set(keys);
    const previousReportDate = (await deps.progress.lastVerified(bucket, report.manifest.createdAt))?.reportDate;
    const sliceStep = reconcileStep.rangeSlice(partition.index, step.slice);
    const store = { findings: deps.store.findings.bind(deps.store), ...notingRemovals(deps, manifestKey, sliceStep) };
    absence = await removeAbsent({ ...deps, store, noteMarked: (marked) => deps.progress.noteAbsent(bucket, manifestKey, marked) }, bucket, listed, report, part, clock, previousReportDate);
    removed = await removedBy(deps, bucket, manifestKey, sliceStep);
    // Its marks counted as the streaming ranges count theirs: the next report then reconciles every recorded finding.
    await deps.progress.markRangeSliceDone(bucket, manifestKey, partition.index, step.slice, removed, keys.length, at, { absencesMarked: absence.marked, keptUnanswered: absence.keptUnanswered });
  }
  if (!read.last) {
    // Reconciled, then the next slice: the range is done only when every slice before its last is.
    const chain = `athena-range:${partition.index}:${step.queryId}`;
    let position = await deps.checkpoints.read(manifestKey, chain);
    if (position.rowsDone === step.fromByte) {
      await deps.checkpoints.advance(manifestKey, chain, step.fromByte, read.to, at);
      position = await deps.checkpoints.read(manifestKey, chain);
    }
    if (position.rowsDone === read.to && position.continuationFrom !== read.to) {
      await send({ ...message, athena: { ...step, fromByte: read.to, slice: step.slice + 1, fromKey: to! } });
      await deps.checkpoints.continuationSent(manifestKey, chain, read.to);
    }
    return { status: 'slice-reconciled', removed, keysListed: keys.length, partitions: partition.of, ...(absence ? { absence } : {}) };
  }
  // The range's last slice: its removals were counted by its slices.
  const after = await deps.progress.markPartitionDone(bucket, manifestKey, partition.index, 0, keys.length, at);
  const done = (after.partitionsDone ?? 0) >= partition.of ? await markReportReconciled(deps, bucket, manifestKey, at, after) : undefined;
  return { status: 'reconciled', removed, keysListed: keys.length, partitions: partition.of, ...(absence ? { absence } : {}), ...(done ? { report: done } : {}) };
}
