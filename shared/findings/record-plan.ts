// Plans the writes that record a batch of findings: the new state of each object (conditional on
// the revision read), a history entry where something changed, and the counter deltas. Pure: the
// DynamoDB adapter reads the previous states, calls this, and writes the plan in one transaction.
import type { Finding } from '../domain/finding.ts';
import { compareSequencers } from '../events/audit-requests.ts';
import type { HistoryEntry, StoredFinding } from './store.ts';
import { counterSk } from './table.ts';

/** The part of a stored state the plan needs. */
export type PreviousState = Pick<
  StoredFinding,
  'bucket' | 'key' | 'verdict' | 'mode' | 'kmsKeyArn' | 'size' | 'etag' | 'versionId' | 'reasons' | 'auditedAt' | 'firstSeen' | 'rev' | 'sequencer'
>;

export interface StateWrite {
  state: StoredFinding;
  /** The revision the write expects to replace; undefined when the object is new to the table. */
  expectedRev?: number;
}

export interface RecordPlan {
  states: StateWrite[];
  /** States to delete (the objects were removed from S3), each conditional on the revision read. */
  deletes: { bucket: string; key: string; expectedRev: number }[];
  history: { bucket: string; key: string; entry: HistoryEntry }[];
  /** counter sort key → attribute → delta; only non-zero deltas. */
  counters: Map<string, Map<string, number>>;
  /** Findings not written because a newer audit of the same object is already stored. */
  stale: Finding[];
}

export const objectId = (f: { bucket: string; key: string }): string => `${f.bucket}/${f.key}`;

type Counted = Pick<Finding, 'bucket' | 'verdict' | 'mode' | 'kmsKeyArn' | 'size'>;

function addContribution(counters: RecordPlan['counters'], f: Counted, sign: 1 | -1): void {
  const attributes: [string, number][] = [
    ['objects', sign],
    ['bytes', sign * f.size],
    [`verdict:${f.verdict}`, sign],
    [`mode:${f.mode ?? 'unknown'}`, sign],
  ];
  const targets = [counterSk.all, counterSk.bucket(f.bucket), ...(f.kmsKeyArn ? [counterSk.kmsKey(f.kmsKeyArn)] : [])];
  for (const target of targets) {
    const deltas = counters.get(target) ?? new Map<string, number>();
    for (const [name, delta] of attributes) deltas.set(name, (deltas.get(name) ?? 0) + delta);
    counters.set(target, deltas);
  }
}

const reasonCodes = (f: Pick<Finding, 'reasons'>): string => f.reasons.map((r) => r.code).join(',');

function changed(previous: PreviousState, finding: Finding): boolean {
  return (
    previous.verdict !== finding.verdict ||
    previous.mode !== finding.mode ||
    previous.kmsKeyArn !== finding.kmsKeyArn ||
    previous.etag !== finding.etag ||
    previous.versionId !== finding.versionId ||
    reasonCodes(previous) !== reasonCodes(finding)
  );
}

/**
 * Whether `finding` is older than `other` for the same object. S3 event sequencers order events
 * of one key; without two of them, the audit times do.
 */
function isOlder(finding: Pick<Finding, 'sequencer' | 'auditedAt'>, other: Pick<Finding, 'sequencer' | 'auditedAt'>): boolean {
  if (finding.sequencer && other.sequencer) return compareSequencers(finding.sequencer, other.sequencer) < 0;
  return finding.auditedAt < other.auditedAt;
}

/** The history entry an audit leaves; `extra` says how it relates to the state before it. */
function historyEntry(finding: Finding, rev: number, extra: Partial<HistoryEntry> = {}): RecordPlan['history'][number] {
  return {
    bucket: finding.bucket,
    key: finding.key,
    entry: {
      auditedAt: finding.auditedAt,
      rev,
      verdict: finding.verdict,
      reasons: finding.reasons,
      ...(finding.mode ? { mode: finding.mode } : {}),
      ...(finding.kmsKeyArn ? { kmsKeyArn: finding.kmsKeyArn } : {}),
      ...(finding.versionId ? { versionId: finding.versionId } : {}),
      ...(finding.etag ? { etag: finding.etag } : {}),
      ...(finding.remediation ? { remediation: finding.remediation } : {}),
      ...extra,
    },
  };
}

export function planRecord(findings: Finding[], previous: ReadonlyMap<string, PreviousState>): RecordPlan {
  // A batch may name one object twice (duplicate events): the latest audit stands for it.
  const latest = new Map<string, Finding>();
  const stale: Finding[] = [];
  for (const finding of findings) {
    const seen = latest.get(objectId(finding));
    if (seen && isOlder(finding, seen)) stale.push(finding);
    else {
      if (seen) stale.push(seen);
      latest.set(objectId(finding), finding);
    }
  }

  const plan: RecordPlan = { states: [], deletes: [], history: [], counters: new Map(), stale };
  for (const [id, finding] of latest) {
    const before = previous.get(id);
    if (before && isOlder(finding, before)) {
      plan.stale.push(finding);
      // A newer audit already stands, but what a fix did to the object must stay on record.
      if (finding.remediation) plan.history.push(historyEntry(finding, before.rev, { overtaken: true }));
      continue;
    }
    if (finding.removed) {
      // Nothing recorded, nothing to remove; otherwise the state goes and its counts with it.
      if (before) {
        plan.deletes.push({ bucket: finding.bucket, key: finding.key, expectedRev: before.rev });
        plan.history.push(historyEntry({ ...finding, verdict: before.verdict }, before.rev + 1, { removed: true, previousVerdict: before.verdict }));
        addContribution(plan.counters, before, -1);
      }
      continue;
    }
    const rev = (before?.rev ?? 0) + 1;
    // The newest sequencer seen stays with the state, so a late event about an older version
    // cannot overwrite it even after a sweep (which has no sequencer) recorded the object.
    const sequencer = finding.sequencer ?? before?.sequencer;
    plan.states.push({
      state: {
        ...finding,
        ...(sequencer ? { sequencer } : {}),
        firstSeen: before?.firstSeen ?? finding.auditedAt,
        lastSeen: finding.auditedAt,
        rev,
      },
      ...(before ? { expectedRev: before.rev } : {}),
    });
    if (!before || changed(before, finding) || finding.remediation) {
      plan.history.push(historyEntry(finding, rev, before ? { previousVerdict: before.verdict } : {}));
    }
    if (before) addContribution(plan.counters, before, -1);
    addContribution(plan.counters, finding, 1);
  }
  for (const [target, deltas] of plan.counters) {
    for (const [name, delta] of deltas) if (delta === 0) deltas.delete(name);
    if (deltas.size === 0) plan.counters.delete(target);
  }
  return plan;
}

/** How many items the plan writes (DynamoDB transactions take at most 100). */
export const planSize = (plan: RecordPlan): number =>
  plan.states.length + plan.deletes.length + plan.history.length + plan.history.filter((h) => h.entry.remediation).length + plan.counters.size;
