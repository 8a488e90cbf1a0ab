// The Lambda tier's sweep of one report from its Athena diff (SSEGUARD_ATHENA_DIFF_TABLE): no
// message reads the whole report, the previous one, or every recorded state. Three steps, each a
// message of the audit queue (shared/inventory/messages.ts `inventory-diff`):
//
// | step  | does                                                                                   | then sends |
// |-------|----------------------------------------------------------------------------------------|------------|
// | start | the bucket's last verified report (diffBaseline); the table, both partitions, the diff query started (athena-report-diff.ts) | a poll, delayed |
// | poll  | one GetQueryExecution                                                                   | running: itself again, delayed; succeeded: slice 0 and every data file in re-check-only mode; failed, cancelled or past the deadline (stopped): every data file in full |
// | slice | from a row boundary of the result file, at most rowsPerMessage rows (ranged GETs); the chain's checkpoint moved to the next boundary (conditional) and the next slice sent BEFORE auditing | the next slice |
//
// Each slice audits its `added` and `changed` rows through the one inventory loop (every row
// selected: the diff chose them), a checkpoint per 500 rows, and settles its `vanished` keys by
// the two-report deletion rule (inventory-absence.ts): reconciliation follows the diff's
// vanished rows. The report is marked verified when the diff's every slice and every re-check
// file are done (the report's progress item: the result counts as one file more, its slices as
// partitions). Every fallback to the full fan-out is recorded on the report's progress item
// (`sweepMode: full`, `diffFallback`) and logged; it is never a verdict and never a skip.
//
// Redelivery: a start gets the query already started (ClientRequestToken); the sweep mode is
// chosen once (a conditional write), so a late poll cannot switch it; a slice behind the chain's
// checkpoint sends no second continuation, and resumes its audit from its own checkpoint; a slice
// done does nothing.
import type { Finding } from '../domain/finding.ts';
import type { InventoryReportProgress, ReportSweepMode } from '../findings/inventory-progress.ts';
import type { StoredFinding } from '../findings/store.ts';
import { checkDiffHeader, diffResultColumns, diffRowFromRecord } from '../inventory/diff-result.ts';
import { readResultSlice, type ResultBytes } from './athena-result-slice.ts';
import { InventoryError } from '../inventory/errors.ts';
import { inventoryFileMessages, type InventoryDiffMessage } from '../inventory/messages.ts';
import type { InventoryRow } from '../inventory/row.ts';
import type { InventoryReport, InventorySource } from '../inventory/source.ts';
import type { DiffQueryState } from '../metadata/athena-report-diff.ts';
import { policyIdOf } from '../domain/policy-identity.ts';
import { diffBaseline } from './inventory-baseline.ts';
import {
  DEFAULT_SLICE_LIMITS,
  notingRemovals,
  queueReconcileIfComplete,
  reconcileStep,
  removedBy,
  type InventoryFileAuditDependencies,
  type ReconciledReport,
} from './inventory-file-audit.ts';
import { removeAbsent, type AbsenceOutcome } from './inventory-absence.ts';
import { auditInventoryRows, collectingHooks } from './inventory-scan-run.ts';

type StartMessage = Extract<InventoryDiffMessage, { step: 'start' }>;
type PollMessage = Extract<InventoryDiffMessage, { step: 'poll' }>;
type SliceMessage = Extract<InventoryDiffMessage, { step: 'slice' }>;
type AbsencesMessage = Extract<InventoryDiffMessage, { step: 'absences' }>;

export interface InventoryDiffSweepDependencies extends Omit<InventoryFileAuditDependencies, 'progress' | 'queue'> {
  progress: InventoryFileAuditDependencies['progress'] &
    Pick<InventoryReportProgress, 'lastVerified' | 'chooseSweepMode' | 'planPartitions' | 'absentKeysPage' | 'carriedPageDone' | 'markCarriedPageDone'>;
  queue: { sendToAuditQueue(bodies: string[], options?: { delaySeconds?: number }): Promise<void> };
  /** The diff in Athena (shared/metadata/athena-report-diff.ts), bound to the configured table, workgroup and output. */
  athena: {
    start(previous: InventoryReport, current: InventoryReport): Promise<string>;
    state(queryId: string): Promise<DiffQueryState>;
    stop(queryId: string): Promise<void>;
  };
  /** The result file's bytes from byte `from` on (ranged GETs, retried per range). */
  resultBytes: ResultBytes;
  diff: { deadlineMs: number; pollSeconds: number };
  /** Marks carried from the last verified report settled per message at most (default 1,000). */
  absentMarksPerMessage?: number;
}

export type InventoryDiffStepResult =
  | { step: 'start'; outcome: 'query-started'; queryId: string; previousManifestKey: string }
  | { step: 'start' | 'poll'; outcome: 'full-fan-out'; reason: string; files: number }
  | { step: 'start' | 'poll' | 'slice'; outcome: 'already-decided' | 'superseded'; detail: string }
  | { step: 'poll'; outcome: 'running'; queryId: string }
  | { step: 'poll'; outcome: 'swept-from-diff'; queryId: string; files: number }
  | { step: 'absences'; outcome: 'settled'; page: number; keys: number; removed: number; continued: boolean; reportVerified: boolean; report?: ReconciledReport }
  | {
      step: 'slice';
      outcome: 'audited';
      slice: number;
      bytes: { from: number; to: number };
      rows: number;
      audited: number;
      vanished: number;
      recorded: Finding[];
      transient: Finding[];
      absence?: AbsenceOutcome;
      continued: boolean;
      last: boolean;
      reportVerified: boolean;
      report?: ReconciledReport;
    };

const chainKey = (queryId: string) => `athena-diff:${queryId}`;
const remediating = (deps: Pick<InventoryDiffSweepDependencies, 'remediator' | 'policy'>) =>
  deps.remediator !== undefined && (deps.policy.default.remediate || deps.policy.rules.some((r) => r.remediate));

async function actOn(
  deps: InventoryDiffSweepDependencies,
  report: InventoryReport,
  message: StartMessage | PollMessage,
  mode: ReportSweepMode,
  previous?: { manifestKey: string; reportDate: string },
  result?: { bucket: string; key: string },
): Promise<void> {
  if (mode.mode === 'full') {
    await deps.queue.sendToAuditQueue(inventoryFileMessages(report).map((m) => JSON.stringify(m)));
    return;
  }
  const slice: SliceMessage = {
    kind: message.kind,
    step: 'slice',
    bucket: message.bucket,
    destination: message.destination,
    manifestKey: message.manifestKey,
    queryId: mode.queryId,
    result: result!,
    fromByte: 0,
    previousManifestKey: previous!.manifestKey,
    slice: 0,
  };
  // The diff's first slice, then every data file for the rolling re-check only.
  await deps.queue.sendToAuditQueue([JSON.stringify(slice), ...inventoryFileMessages(report, previous!.reportDate).map((m) => JSON.stringify(m))]);
}

async function fullFanOut(deps: InventoryDiffSweepDependencies, report: InventoryReport, message: StartMessage | PollMessage, reason: string): Promise<InventoryDiffStepResult> {
  const chosen = await deps.progress.chooseSweepMode(message.bucket, message.manifestKey, { mode: 'full', reason });
  if (chosen.mode !== 'full') return { step: message.step, outcome: 'already-decided', detail: `swept from the diff ${chosen.queryId}` };
  await actOn(deps, report, message, chosen);
  return { step: message.step, outcome: 'full-fan-out', reason: chosen.reason, files: report.manifest.files.length };
}

/** Chooses the baseline and starts the diff, or fans the report out in full saying why. */
export async function startInventoryDiff(deps: InventoryDiffSweepDependencies, message: StartMessage): Promise<InventoryDiffStepResult> {
  const clock = deps.clock ?? (() => new Date());
  const progress = await deps.progress.progress(message.bucket, message.manifestKey);
  if (progress?.sweepMode) return { step: 'start', outcome: 'already-decided', detail: progress.sweepMode === 'athena' ? `swept from the diff ${progress.diffQueryId}` : `read in full: ${progress.diffFallback}` };
  const source = deps.inventory(message.destination);
  const report = await source.at(message.bucket, message.manifestKey);
  // Marks its baseline carries for a diff (ABSENT# items) are settled by this sweep's last step (settleCarriedAbsences).
  const { previous, fallback } = await diffBaseline({ progress: deps.progress, policy: deps.policy, remediating: remediating(deps), clock }, message.bucket, report.manifest.createdAt, true);
  if (!previous || fallback) return fullFanOut(deps, report, message, fallback ?? 'no earlier verified report');
  let previousReport: InventoryReport;
  try {
    previousReport = await source.at(message.bucket, previous.manifestKey);
  } catch (error) {
    if (error instanceof InventoryError) return fullFanOut(deps, report, message, `the last verified report's manifest is unreadable (${error.message})`);
    throw error;
  }
  let queryId: string;
  try {
    queryId = await deps.athena.start(previousReport, report);
  } catch (error) {
    // A table or partition Athena refused (its reason given): the full fan-out. Weather is retried (the message fails).
    if (error instanceof InventoryError) return fullFanOut(deps, report, message, `the Athena diff could not start: ${error.message}`);
    throw error;
  }
  const poll: PollMessage = {
    kind: message.kind,
    step: 'poll',
    bucket: message.bucket,
    destination: message.destination,
    manifestKey: message.manifestKey,
    queryId,
    previousManifestKey: previous.manifestKey,
    previousReportDate: previous.reportDate,
    startedAt: clock().toISOString(),
  };
  await deps.queue.sendToAuditQueue([JSON.stringify(poll)], { delaySeconds: deps.diff.pollSeconds });
  return { step: 'start', outcome: 'query-started', queryId, previousManifestKey: previous.manifestKey };
}

/** One look at the query: wait again, sweep from its result, or fall back to the full fan-out. */
export async function pollInventoryDiff(deps: InventoryDiffSweepDependencies, message: PollMessage): Promise<InventoryDiffStepResult> {
  const clock = deps.clock ?? (() => new Date());
  const progress = await deps.progress.progress(message.bucket, message.manifestKey);
  const source = deps.inventory(message.destination);
  if (progress?.sweepMode === 'athena' && progress.diffQueryId !== message.queryId) return { step: 'poll', outcome: 'superseded', detail: `swept from the diff ${progress.diffQueryId}` };
  if (progress?.sweepMode === 'full') {
    // Chosen already (this poll redelivered after the fan-out was sent, or before it was): sent again, file markers make it once.
    await actOn(deps, await source.at(message.bucket, message.manifestKey), message, { mode: 'full', reason: progress.diffFallback ?? '' });
    return { step: 'poll', outcome: 'already-decided', detail: `read in full: ${progress.diffFallback}` };
  }
  const state = await deps.athena.state(message.queryId);
  const report = await source.at(message.bucket, message.manifestKey);
  if (state.state === 'running') {
    const runningMs = clock().getTime() - Date.parse(message.startedAt);
    if (runningMs < deps.diff.deadlineMs) {
      await deps.queue.sendToAuditQueue([JSON.stringify(message)], { delaySeconds: deps.diff.pollSeconds });
      return { step: 'poll', outcome: 'running', queryId: message.queryId };
    }
    await deps.athena.stop(message.queryId);
    return fullFanOut(deps, report, message, `the Athena diff query ${message.queryId} was still running after ${Math.round(deps.diff.deadlineMs / 1000)} s: stopped`);
  }
  if (state.state === 'failed') return fullFanOut(deps, report, message, state.reason);
  const chosen = await deps.progress.chooseSweepMode(message.bucket, message.manifestKey, { mode: 'athena', queryId: message.queryId });
  if (chosen.mode === 'full') return { step: 'poll', outcome: 'already-decided', detail: `read in full: ${chosen.reason}` };
  if (chosen.queryId !== message.queryId) return { step: 'poll', outcome: 'superseded', detail: `swept from the diff ${chosen.queryId}` };
  await actOn(deps, report, message, chosen, { manifestKey: message.previousManifestKey, reportDate: message.previousReportDate }, state.result);
  return { step: 'poll', outcome: 'swept-from-diff', queryId: message.queryId, files: report.manifest.files.length };
}

/** Rows of the result from the slice's byte: at most `rows` (plus the header at byte 0), where they end, and whether the file ends there. */
const readSlice = (deps: InventoryDiffSweepDependencies, message: SliceMessage, rows: number) => readResultSlice(deps.resultBytes, message.result, message.fromByte, rows);

/** Marks carried from the last verified report settled by one message at most: a message does not grow with the marks. */
export const DEFAULT_ABSENT_MARKS_PER_MESSAGE = 1_000;

/**
 * One page of the keys the last verified report marked absent (its HEADs could not tell), once
 * every slice of this report's diff is done. They are not in this diff unless this report lists
 * them (then `added`, and their marks cleared by the slice): those still marked from that report
 * are missed by this one too, the second consecutive report: removed without a HEAD. The page is
 * settled, counted once (its done marker), then the next page is sent (a chain guarded like the
 * slices': a redelivery sends no second one); the last page marks the report verified, so a report
 * is never verified with marks of its baseline unsettled. A redelivery settles nothing twice: a
 * removed object's state is gone, and the page's removals are counted with its done marker.
 */
export async function settleCarriedAbsences(deps: InventoryDiffSweepDependencies, message: AbsencesMessage): Promise<InventoryDiffStepResult> {
  const clock = deps.clock ?? (() => new Date());
  const { bucket, manifestKey } = message;
  const report = await deps.inventory(message.destination).at(bucket, manifestKey);
  const previous = await deps.progress.progress(bucket, message.previousManifestKey);
  const page = await deps.progress.absentKeysPage(message.previousManifestKey, deps.absentMarksPerMessage ?? DEFAULT_ABSENT_MARKS_PER_MESSAGE, message.after);
  let removed = 0;
  if (page.keys.length > 0 && !(await deps.progress.carriedPageDone(manifestKey, message.page))) {
    const step = reconcileStep.carriedPage(message.page);
    const candidates = {
      ...notingRemovals(deps, manifestKey, step),
      async *findings(): AsyncGenerator<StoredFinding[]> {
        for (let i = 0; i < page.keys.length; i += 100) {
          // Only those still marked from the earlier report: a mark cleared since means a report or a HEAD saw the object.
          yield [...(await deps.store.statesOf(bucket, page.keys.slice(i, i + 100))).values()].filter((s) => s.absentFrom !== undefined && previous?.reportDate !== undefined && s.absentFrom <= previous.reportDate);
        }
      },
    };
    const outcome = await removeAbsent({ store: candidates, objects: deps.objects, absence: deps.absence }, bucket, { has: () => false }, report, {}, clock, previous?.reportDate);
    removed = await removedBy(deps, bucket, manifestKey, step);
    await deps.progress.markCarriedPageDone(bucket, manifestKey, message.page, removed, page.keys.length, clock().toISOString(), { keptUnanswered: outcome.keptUnanswered });
  }
  const at = clock().toISOString();
  const chain = `${chainKey(message.queryId)}#absent`;
  let continued = false;
  if (page.next) {
    let position = await deps.checkpoints.read(manifestKey, chain);
    if (position.rowsDone === message.page) {
      await deps.checkpoints.advance(manifestKey, chain, message.page, message.page + 1, at);
      position = await deps.checkpoints.read(manifestKey, chain);
    }
    if (position.rowsDone === message.page + 1 && position.continuationFrom !== message.page + 1) {
      const next: AbsencesMessage = { ...message, page: message.page + 1, after: page.next };
      await deps.queue.sendToAuditQueue([JSON.stringify(next)]);
      await deps.checkpoints.continuationSent(manifestKey, chain, message.page + 1);
      continued = true;
    }
    return { step: 'absences', outcome: 'settled', page: message.page, keys: page.keys.length, removed, continued, reportVerified: false };
  }
  // The last page: the diff counts as the report's one file more (markFileDone counts it once).
  const files = report.manifest.files.length + 1;
  await deps.progress.markFileDone({ bucket, manifestKey, files }, chainKey(message.queryId), at, { reportDate: report.manifest.createdAt.toISOString(), policyHash: policyIdOf(deps.policy).hash });
  const { reconciled } = await queueReconcileIfComplete(deps, message, files, at);
  const reportVerified = Boolean((await deps.progress.progress(bucket, manifestKey))?.reconciledAt);
  return { step: 'absences', outcome: 'settled', page: message.page, keys: page.keys.length, removed, continued, reportVerified, ...(reconciled ? { report: reconciled } : {}) };
}

/** A source whose one "file" is the given rows of `report` (the loop reads the report's manifest facts from it). */
const rowsSource = (report: InventoryReport, rows: InventoryRow[]): InventorySource => ({
  newest: () => Promise.resolve(report),
  at: () => Promise.resolve(report),
  async *rows() {
    yield* rows;
  },
  allRows: () => {
    throw new Error('a diff slice reads its own rows');
  },
});

/**
 * One slice of the diff's result: read, chain moved on (checkpoint, then the next slice sent),
 * then audited and reconciled. A message whose audit meets weather fails (retried from its
 * checkpoints); its chain has already moved on, and never twice.
 */
export async function auditInventoryDiffSlice(
  deps: InventoryDiffSweepDependencies,
  message: SliceMessage,
  origin?: { account: string; region: string },
): Promise<InventoryDiffStepResult> {
  const clock = deps.clock ?? (() => new Date());
  const limits = { ...DEFAULT_SLICE_LIMITS, ...deps.slices };
  const { bucket, manifestKey } = message;
  if (await deps.progress.partitionDone(manifestKey, message.slice)) return { step: 'slice', outcome: 'already-decided', detail: `slice ${message.slice} done` };
  const source = deps.inventory(message.destination);
  const report = await source.at(bucket, manifestKey);
  if (report.manifest.format === 'ORC') throw new InventoryError('unsupported-format', 'ORC reports are not diffed');
  const format = report.manifest.format;
  const read = await readSlice(deps, message, limits.rowsPerMessage);
  const where = `s3://${message.result.bucket}/${message.result.key}`;
  const expected = diffResultColumns(report.manifest.columns);
  let records = read.records;
  if (message.fromByte === 0) {
    if (records.length === 0) throw new InventoryError('data-file-invalid', `${where} has no header row`);
    checkDiffHeader(records[0]!, expected, where);
    records = records.slice(1);
  }
  const rows = records.map((record, i) => diffRowFromRecord(record, expected, format, `${where} slice ${message.slice} row ${i + 1}`));

  // The chain first: the next slice is on the queue before this one audits, so slices audit side by side.
  const chain = chainKey(message.queryId);
  let position = await deps.checkpoints.read(manifestKey, chain);
  if (position.rowsDone < message.fromByte) throw new InventoryError('data-file-invalid', `${where}: slice ${message.slice} starts at byte ${message.fromByte}, past the chain's ${position.rowsDone}`);
  if (position.rowsDone === message.fromByte && read.to > message.fromByte) {
    await deps.checkpoints.advance(manifestKey, chain, message.fromByte, read.to, clock().toISOString());
    position = await deps.checkpoints.read(manifestKey, chain);
  }
  let continued = false;
  // Only this slice's continuation, and once: a chain past `to` has run it; a noted one was sent.
  if (!read.last && position.rowsDone === read.to && position.continuationFrom !== read.to) {
    const next: SliceMessage = { ...message, fromByte: read.to, slice: message.slice + 1 };
    await deps.queue.sendToAuditQueue([JSON.stringify(next)]);
    await deps.checkpoints.continuationSent(manifestKey, chain, read.to);
    continued = true;
  }

  // Audit: added and changed rows through the one loop, every row selected, a checkpoint per chunk.
  const audited = rows.filter((r) => r.change !== 'vanished').map((r) => r.row);
  const recorded: Finding[] = [];
  const transient: Finding[] = [];
  const sliceKey = `${chain}#${message.slice}`;
  const resultFile = { key: message.result.key, size: 0, md5: '' };
  const { baseline: _everyRowSelected, ...loopDeps } = deps;
  const result = (extra: { absence?: AbsenceOutcome; reportVerified?: boolean; report?: ReconciledReport } = {}): InventoryDiffStepResult => ({
    step: 'slice',
    outcome: 'audited',
    slice: message.slice,
    bytes: { from: message.fromByte, to: read.to },
    rows: rows.length,
    audited: audited.length,
    vanished: rows.length - audited.length,
    recorded,
    transient,
    continued,
    last: read.last,
    reportVerified: extra.reportVerified ?? false,
    ...(extra.absence ? { absence: extra.absence } : {}),
    ...(extra.report ? { report: extra.report } : {}),
  });
  for (let done = (await deps.checkpoints.read(manifestKey, sliceKey)).rowsDone; done < audited.length; ) {
    const chunk = audited.slice(done, done + limits.rowsPerCheckpoint);
    await auditInventoryRows(
      loopDeps,
      rowsSource(report, chunk),
      { bucket, manifestKey, files: [resultFile], chunkSize: limits.rowsPerCheckpoint, ...(deps.concurrency ? { concurrency: deps.concurrency } : {}) },
      collectingHooks(recorded, transient, origin),
    );
    // The checkpoint stays before this chunk: the retry audits it again (what was recorded of it then matches and writes nothing).
    if (transient.length > 0) return result();
    if (!(await deps.checkpoints.advance(manifestKey, sliceKey, done, done + chunk.length, clock().toISOString()))) {
      return { step: 'slice', outcome: 'superseded', detail: `another delivery of slice ${message.slice} moved its checkpoint` };
    }
    done += chunk.length;
  }

  // A key the last verified report did not list and this one does: a mark of its absence from an
  // earlier report is cleared, as a report that lists it clears it in the full reconciliation.
  const added = [...new Set(rows.filter((r) => r.change === 'added').map((r) => r.row.key))];
  for (let i = 0; i < added.length; i += 100) {
    for (const state of (await deps.store.statesOf(bucket, added.slice(i, i + 100))).values()) {
      if (state.absentFrom) await deps.absence.clear(bucket, state.key, state.rev);
    }
  }

  // Reconciliation from the diff: the keys the last verified report listed and this one does not, read by key.
  const vanished = [...new Set(rows.filter((r) => r.change === 'vanished').map((r) => r.row.key))];
  const step = reconcileStep.diffSlice(message.slice);
  const candidates = {
    ...notingRemovals(deps, manifestKey, step),
    async *findings(): AsyncGenerator<StoredFinding[]> {
      for (let i = 0; i < vanished.length; i += 100) yield [...(await deps.store.statesOf(bucket, vanished.slice(i, i + 100))).values()];
    },
  };
  const noteMarked = (keys: string[]) => deps.progress.noteAbsent(bucket, manifestKey, keys);
  // The report the diff compared with: only its marks make this report the second consecutive one.
  const previousReportDate = (await deps.progress.progress(bucket, message.previousManifestKey))?.reportDate;
  const absence = await removeAbsent({ store: candidates, objects: deps.objects, absence: deps.absence, noteMarked }, bucket, { has: () => false }, report, {}, clock, previousReportDate);

  // Counted from the notes: what an earlier delivery removed before it crashed counts too.
  const removed = await removedBy(deps, bucket, manifestKey, step);
  const at = clock().toISOString();
  // The slice done, with what it removed and left unanswered; its marks are carried (ABSENT#
  // items) for the next report's diff, counted apart: any other next run reconciles every finding.
  let after = await deps.progress.markPartitionDone(bucket, manifestKey, message.slice, removed, vanished.length, at, {
    absencesCarried: absence.marked,
    keptUnanswered: absence.keptUnanswered,
  });
  if (read.last) {
    await deps.progress.planPartitions(bucket, manifestKey, message.slice + 1);
    after = (await deps.progress.progress(bucket, manifestKey))!;
  }
  let reportVerified = false;
  let reconciled: ReconciledReport | undefined;
  if (after.partitions !== undefined && (after.partitionsDone ?? 0) >= after.partitions) {
    // Every slice audited: the keys the last verified report marked absent are settled, a page per
    // message (the first here); the last page marks the report verified.
    const settled = await settleCarriedAbsences(deps, {
      kind: message.kind,
      step: 'absences',
      bucket,
      destination: message.destination,
      manifestKey,
      queryId: message.queryId,
      previousManifestKey: message.previousManifestKey,
      page: 0,
    });
    reportVerified = settled.step === 'absences' && settled.outcome === 'settled' && settled.reportVerified;
    if (settled.step === 'absences' && settled.outcome === 'settled') reconciled = settled.report;
  }
  return result({ absence, reportVerified, ...(reconciled ? { report: reconciled } : {}) });
}
