// Which recorded objects of one key range an inventory report proves gone, and their removal.
// Reports are eventually consistent ("the list might not include recently added or deleted
// objects"), so a report alone never removes an object (first match wins):
// | # | recorded object (reconcile.ts says the report could have listed it and did not)  | outcome |
// |---|-----------------------------------------------------------------------------------|---------|
// | 1 | listed by the report                                                              | kept; a mark of an earlier absence is cleared |
// | 2 | marked absent from an earlier report (the last one reconciled did not list it either) | removed: two consecutive reports |
// | 3 | HeadObject answers 404 (or 405: a delete marker)                                  | removed |
// | 4 | HeadObject reads it                                                               | kept: the report missed it; no mark |
// | 5 | HeadObject throttled, failing, timed out or denied                               | kept, marked absent from this report: never taken for a 404 |
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

export interface AbsenceOutcome {
  removed: number;
  /** Kept because a HeadObject read the object although the report did not list it. */
  keptByHead: number;
  /** Kept and marked: no HeadObject could tell (a second report decides). */
  marked: number;
  heads: number;
}

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

/** Removes (history kept) the recorded objects of `range` that the report and the rule above prove gone, a page of states at a time. */
export async function removeAbsent(
  deps: AbsenceDependencies,
  bucket: string,
  listed: Pick<ListedKeys, 'has'>,
  report: InventoryReport,
  range: KeyRange,
  clock: () => Date,
): Promise<AbsenceOutcome> {
  const scope = { createdAt: report.manifest.createdAt, allVersions: listsAllVersions(report.manifest.columns) };
  const reportDate = scope.createdAt.toISOString();
  const outcome: AbsenceOutcome = { removed: 0, keptByHead: 0, marked: 0, heads: 0 };
  for await (const page of deps.store.findings({ bucket, keyRange: range })) {
    const gone: Finding[] = [];
    const marked: string[] = [];
    for (const state of page) {
      if (!inRange(state.key, range)) continue;
      if (listed.has(state.key)) {
        if (state.absentFrom) await deps.absence.clear(bucket, state.key, state.rev);
        continue;
      }
      const presence = { key: state.key, firstSeen: state.firstSeen, auditedAt: state.auditedAt, ...(state.lastModified ? { lastModified: state.lastModified } : {}) };
      if (reconcile(presence, false, scope) !== 'gone') continue;
      if (state.absentFrom && state.absentFrom < reportDate) {
        gone.push(removal(state, `nor in the report of ${state.absentFrom}`, report, clock));
        continue;
      }
      outcome.heads += 1;
      const inspection = await deps.objects.inspect(bucket, { key: state.key, size: state.size });
      if (inspection.status === 'unreadable' && inspection.reason === 'object-vanished') {
        gone.push(removal(state, 'HeadObject answered 404', report, clock));
      } else if (inspection.status === 'read') {
        outcome.keptByHead += 1;
        if (state.absentFrom) await deps.absence.clear(bucket, state.key, state.rev);
      } else if (state.absentFrom !== reportDate) {
        outcome.marked += 1;
        if (await deps.absence.mark(bucket, state.key, reportDate, state.rev)) marked.push(state.key);
      }
    }
    if (marked.length > 0) await deps.noteMarked?.(marked);
    outcome.removed += gone.length;
    if (gone.length > 0) await deps.store.record(gone);
  }
  return outcome;
}
