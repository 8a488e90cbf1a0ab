// Which recorded objects an inventory report proves gone, and their removal: the one deletion rule of
// the inventory tier, for the audit worker's key ranges and `sseguard scan --inventory` alike.
// Reports are eventually consistent ("the list might not include recently added or deleted
// objects"), so a report alone never removes an object (first match wins):
// | # | recorded object (reconcile.ts says the report could have listed it and did not)  | outcome |
// |---|-----------------------------------------------------------------------------------|---------|
// | 1 | listed by the report                                                              | kept; a mark of an earlier absence is cleared |
// | 2 | marked absent from the last verified report (the one before this)                 | removed: two consecutive reports |
// | 3 | HeadObject answers 404 (or 405: a delete marker)                                  | removed |
// | 4 | HeadObject reads it                                                               | kept: the report missed it; no mark |
// | 5 | HeadObject throttled, failing, timed out or denied                               | kept, marked absent from this report: never taken for a 404; a coverage gap |
// A mark from any other report (a run that crashed before its report was verified; a report whose
// diff never read the state again to clear it) is stale: the object may have been listed since, so
// it is asked about again by HeadObject (rows 3–5), never removed on that mark.
import type { Finding } from '../domain/finding.ts';
import type { ObjectAbsenceMarks } from '../findings/absence-marks.ts';
import type { FindingsStore, StoredFinding } from '../findings/store.ts';
import type { ObjectInspector } from '../inspect/object-inspector-port.ts';
import { inRange, type KeyRange } from '../inventory/key-ranges.ts';
import type { ListedKeys } from '../inventory/listed-keys.ts';
import { listsAllVersions, reconcile } from '../inventory/reconcile.ts';
import type { InventoryReport } from '../inventory/source.ts';

export interface AbsenceDependencies {
  store: Pick<FindingsStore, 'findings' | 'record'>;
  objects: ObjectInspector;
  absence: Pick<ObjectAbsenceMarks, 'mark' | 'clear'>;
  /** Told the keys marked absent from the report (row 5), a page at a time: a diff-driven sweep settles them with the next report. */
  noteMarked?: (keys: string[]) => Promise<void>;
}

/** Keys of objects kept because no HeadObject could answer, shown with why (at most this many). */
const UNANSWERED_EXAMPLES = 20;

export interface AbsenceOutcome {
  /** Recorded objects the report could have listed and did not (reconcile.ts): the rule above decided each. */
  notListed: number;
  removed: number;
  /** Removed because HeadObject answered 404 (or 405). */
  removedBy404: number;
  /** Removed without a HeadObject: the report it was marked absent from did not list it either. */
  removedBySecondReport: number;
  /** Kept because a HeadObject read the object although the report did not list it. */
  keptByHead: number;
  /** Kept because no HeadObject could tell (throttled, failing, timed out, denied): a coverage gap, never a verdict. */
  keptUnanswered: number;
  /** Of those, marked absent from this report (a second report decides); the rest are asked again next time. */
  marked: number;
  /** Marks of an earlier absence cleared: the report listed the object, or a HeadObject read it. */
  marksCleared: number;
  heads: number;
  /** The first objects kept unanswered, with the HeadObject's answer. */
  unanswered: { key: string; why: string }[];
}

export interface AbsenceRun {
  bucket: string;
  listed: Pick<ListedKeys, 'has'>;
  report: InventoryReport;
  clock: () => Date;
  /**
   * Whether an unanswered HeadObject leaves a mark (default true). Only where the next reconciliation
   * of the bucket reads every recorded finding, so a mark is cleared by the next report that lists the
   * object: a run that reconciles only part of the bucket, or whose report will not be a diff's baseline
   * that says so, leaves none (the object is asked about again; never removed on a stale mark).
   */
  leaveMarks?: boolean;
  /**
   * The date of the bucket's last verified report before this one: a mark from it, and from no other
   * report, makes this report the second consecutive one (row 2). Undefined when there is none: every
   * mark is then asked about by HeadObject.
   */
  previousReportDate: string | undefined;
}

export const emptyAbsenceOutcome = (): AbsenceOutcome => ({
  notListed: 0,
  removed: 0,
  removedBy404: 0,
  removedBySecondReport: 0,
  keptByHead: 0,
  keptUnanswered: 0,
  marked: 0,
  marksCleared: 0,
  heads: 0,
  unanswered: [],
});

const removal = (state: StoredFinding, why: string, report: InventoryReport, clock: () => Date): Finding => ({
  bucket: state.bucket,
  key: state.key,
  size: state.size,
  verdict: 'unauditable',
  reasons: [{ code: 'object-vanished', message: `not in the inventory report of ${report.manifest.createdAt.toISOString()}: ${why}` }],
  remediate: false,
  auditedAt: clock().toISOString(),
  removed: true,
  evidence: 'inventory',
  evidenceAt: report.manifest.createdAt.toISOString(),
});

/**
 * Applies the rule above to `candidates` (pages of recorded states: a key range's, a bucket's, or the
 * keys a report diff says vanished) and removes (history kept) what it proves gone. The one owner of
 * the deletion rule: the audit worker's key ranges and `sseguard scan --inventory` both call it.
 */
export async function settleAbsent(
  deps: Pick<AbsenceDependencies, 'objects' | 'absence' | 'noteMarked'> & { store: Pick<FindingsStore, 'record'> },
  candidates: AsyncIterable<StoredFinding[]>,
  run: AbsenceRun,
): Promise<AbsenceOutcome> {
  const { bucket, listed, report, clock } = run;
  const leaveMarks = run.leaveMarks ?? true;
  const scope = { createdAt: report.manifest.createdAt, allVersions: listsAllVersions(report.manifest.columns) };
  const reportDate = scope.createdAt.toISOString();
  const outcome = emptyAbsenceOutcome();
  const cleared = async (state: StoredFinding) => {
    if (state.absentFrom && (await deps.absence.clear(bucket, state.key, state.rev))) outcome.marksCleared += 1;
  };
  for await (const page of candidates) {
    const gone: Finding[] = [];
    const marked: string[] = [];
    for (const state of page) {
      if (listed.has(state.key)) {
        await cleared(state);
        continue;
      }
      const presence = { key: state.key, firstSeen: state.firstSeen, auditedAt: state.auditedAt, ...(state.lastModified ? { lastModified: state.lastModified } : {}) };
      if (reconcile(presence, false, scope) !== 'gone') continue;
      outcome.notListed += 1;
      if (state.absentFrom !== undefined && state.absentFrom === run.previousReportDate && state.absentFrom < reportDate) {
        outcome.removedBySecondReport += 1;
        gone.push(removal(state, `nor in the report of ${state.absentFrom}`, report, clock));
        continue;
      }
      outcome.heads += 1;
      const inspection = await deps.objects.inspect(bucket, { key: state.key, size: state.size });
      if (inspection.status === 'unreadable' && inspection.reason === 'object-vanished') {
        outcome.removedBy404 += 1;
        gone.push(removal(state, 'HeadObject answered 404', report, clock));
      } else if (inspection.status === 'read') {
        outcome.keptByHead += 1;
        await cleared(state);
      } else {
        outcome.keptUnanswered += 1;
        if (outcome.unanswered.length < UNANSWERED_EXAMPLES) outcome.unanswered.push({ key: state.key, why: inspection.detail || inspection.reason });
        // Marked by this report already (a run of the same report again): the mark stands, and is noted
        // again (a crash may have come between the mark and the note; noting is idempotent).
        if (state.absentFrom === reportDate) {
          outcome.marked += 1;
          marked.push(state.key);
        } else if (leaveMarks && (await deps.absence.mark(bucket, state.key, reportDate, state.rev))) {
          outcome.marked += 1;
          marked.push(state.key);
        }
      }
    }
    if (marked.length > 0) await deps.noteMarked?.(marked);
    outcome.removed += gone.length;
    if (gone.length > 0) await deps.store.record(gone);
  }
  return outcome;
}

/** Pages of `pages` keeping only the states `keep` holds. */
export async function* statesWhere(pages: AsyncIterable<StoredFinding[]>, keep: (state: StoredFinding) => boolean): AsyncGenerator<StoredFinding[]> {
  for await (const page of pages) yield page.filter(keep);
}

/** Removes (history kept) the recorded objects of `range` that the report and the rule above prove gone, a page of states at a time. */
export function removeAbsent(
  deps: AbsenceDependencies,
  bucket: string,
  listed: Pick<ListedKeys, 'has'>,
  report: InventoryReport,
  range: KeyRange,
  clock: () => Date,
  previousReportDate: string | undefined,
): Promise<AbsenceOutcome> {
  return settleAbsent(deps, statesWhere(deps.store.findings({ bucket, keyRange: range }), (state) => inRange(state.key, range)), { bucket, listed, report, clock, previousReportDate });
}
