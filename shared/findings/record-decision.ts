// Plans the writes that record a batch of findings: the new state of each object (conditional on
// the revision read), a history entry where something changed, the counter deltas, and the
// reconciliation of fixes a crashed run left open. Pure: the DynamoDB adapter reads the previous
// states and intents, calls this, and writes the plan in one transaction.
//
// Precedence, for one object:
//   1. A finding about an older object version never replaces the state of a newer one. Versions
//      are ordered by the object itself: the same version (id, ETag, LastModified) → the later
//      audit; else, when S3 said the recorded version was permanently deleted and a HeadObject of
//      the current object made after says which version is current now, that one (the version that
//      becomes current is older by definition); else the S3 event sequencers where both have one
//      and they differ; else LastModified;
//      else a finding confirmed by a fresh HeadObject of the current object; else undecided (the
//      caller audits the object again and says so).
//   2. A finding that matches the recorded state (version, ETag, mode, key, bucket key, verdict,
//      reasons) writes nothing: the scan or sweep run record proves it was seen. One that differs
//      only in storage class (a lifecycle transition) rewrites the state without a history entry.
//   3. An open fix intent whose object has moved on is closed with what the audit shows (fixed,
//      or changed by someone else); one whose object has not moved stays open for its fix.
import type { Finding, RemediationRecord } from '../domain/finding.ts';
import { compareSequencers } from '../domain/sequencer.ts';
import { isAtTarget } from '../remediation/fix-plan.ts';
import type { FixIntent, HistoryEntry, StoredFinding } from './store.ts';
import { chained, entryHash } from './history-chain.ts';
import { counterSk } from './table.ts';

/** The part of a stored state the plan needs. */
export type PreviousState = Pick<
  StoredFinding,
  | 'bucket'
  | 'key'
  | 'verdict'
  | 'mode'
  | 'kmsKeyArn'
  | 'bucketKeyEnabled'
  | 'size'
  | 'storageClass'
  | 'etag'
  | 'versionId'
  | 'lastModified'
  | 'reasons'
  | 'remediate'
  | 'auditedAt'
  | 'firstSeen'
  | 'rev'
  | 'sequencer'
  | 'facts'
  | 'chainHead'
  | 'policy'
  | 'account'
  | 'region'
>;

export interface StateWrite {
  state: StoredFinding;
  /** The revision the write expects to replace; undefined when the object is new to the table. */
  expectedRev?: number;
  /** With expectedRev: the chain head read with it (none: the state had none). */
  expectedHead?: string;
}

export interface RecordPlan {
  states: StateWrite[];
  /** States to delete (the objects were removed from S3), each conditional on the revision read. */
  deletes: { bucket: string; key: string; expectedRev: number; expectedHead?: string }[];
  history: { bucket: string; key: string; entry: HistoryEntry; sk?: string }[];
  /** Fix outcomes for the remediation log (each beside its history entry). */
  remediations: { bucket: string; key: string; record: RemediationRecord }[];
  /** Open fix intents this batch closes, each conditional on being the intent read. */
  closedIntents: FixIntent[];
  /** counter sort key → attribute → delta; only non-zero deltas. */
  counters: Map<string, Map<string, number>>;
  /** Findings not written because a newer audit of the same object is already stored. */
  stale: Finding[];
  /** Findings whose order against the stored state only a fresh HeadObject can tell. */
  undecided: Finding[];
  /** Findings that matched the recorded state: nothing to write. */
  unchanged: Finding[];
  /**
   * Objects whose history grew while their state is not rewritten (an overtaken fix, a reconciled
   * intent): the state's chain head moves, conditional on the revision and head read.
   */
  chainHeads: { bucket: string; key: string; expectedRev: number; previousHead?: string; head: string }[];
  /**
   * Stale audits of the current object that only LastModified put behind a recorded version of
   * another id: that version may since have been deleted permanently (its event unheard). The
   * caller asks S3 for it by version id and, when it is gone, audits again naming it removed.
   */
  recheck: { finding: Finding; recordedVersionId: string }[];
}

export const objectId = (f: { bucket: string; key: string }): string => `${f.bucket}/${f.key}`;

/** Counter attributes of noncurrent versions: counted apart, so the current picture stays the objects'. */
const NONCURRENT = 'noncurrent:';

type Counted = Pick<Finding, 'bucket' | 'verdict' | 'mode' | 'kmsKeyArn' | 'size' | 'account'>;

/** Moves one finding's share of its counters (ALL, its bucket, its key, its account); noncurrent versions count apart. */
function addContribution(counters: RecordPlan['counters'], f: Counted, sign: 1 | -1, noncurrent = false): void {
  const attributes: [string, number][] = noncurrent
    ? [
        [`${NONCURRENT}objects`, sign],
        [`${NONCURRENT}bytes`, sign * f.size],
        [`${NONCURRENT}verdict:${f.verdict}`, sign],
      ]
    : [
        ['objects', sign],
        ['bytes', sign * f.size],
        [`verdict:${f.verdict}`, sign],
        [`mode:${f.mode ?? 'unknown'}`, sign],
      ];
  const targets = [
    counterSk.all,
    counterSk.bucket(f.bucket),
    ...(f.kmsKeyArn ? [counterSk.kmsKey(f.kmsKeyArn)] : []),
    ...(f.account ? [counterSk.account(f.account)] : []),
  ];
  for (const target of targets) {
    const deltas = counters.get(target) ?? new Map<string, number>();
    for (const [name, delta] of attributes) deltas.set(name, (deltas.get(name) ?? 0) + delta);
    counters.set(target, deltas);
  }
}

const reasonCodes = (f: Pick<Finding, 'reasons'>): string => f.reasons.map((r) => r.code).join(',');

/** What identifies one version of an object: version id, ETag and LastModified. */
type VersionIdentity = Pick<Finding, 'versionId' | 'etag' | 'lastModified'>;

export function sameVersion(a: VersionIdentity, b: VersionIdentity): boolean {
  return (
    (a.versionId ?? null) === (b.versionId ?? null) &&
    a.etag === b.etag &&
    (a.lastModified === undefined || b.lastModified === undefined || a.lastModified === b.lastModified)
  );
}

/** JSON with keys sorted: DynamoDB does not keep the order of a map's keys. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_name, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );

/** Whether recording `finding` over `previous` would change anything a reader can see. */
function changed(previous: PreviousState, finding: Finding): boolean {
  return (
    !sameVersion(previous, finding) ||
    previous.verdict !== finding.verdict ||
    previous.mode !== finding.mode ||
    previous.kmsKeyArn !== finding.kmsKeyArn ||
    Boolean(previous.bucketKeyEnabled) !== Boolean(finding.bucketKeyEnabled) ||
    previous.size !== finding.size ||
    previous.storageClass !== finding.storageClass ||
    Boolean(previous.remediate) !== Boolean(finding.remediate) ||
    reasonCodes(previous) !== reasonCodes(finding) ||
    // A state recorded before accounts were kept gains its account (and its account counter) once.
    (finding.account !== undefined && (previous.account !== finding.account || previous.region !== finding.region))
  );
}

/**
 * Whether the change is one a history entry records: not a change of storage class alone. A
 * lifecycle transition (STANDARD to STANDARD_IA, to Glacier) keeps the version, the ETag and the
 * encryption, and the history entry has no storage class: an entry for it would repeat the last one
 * under a new revision. Such a change rewrites the state only (readers see the new class), like
 * gained facts: no history entry, no chain move, no count, no outbox item.
 */
const changedForHistory = (previous: PreviousState, finding: Finding): boolean =>
  changed({ ...previous, storageClass: finding.storageClass }, finding);

/**
 * Whether the finding brings facts a re-evaluation needs that the state lacks: a state recorded
 * before they were kept gains them on its next audit (the state only; no history entry, no count).
 */
const gainsFacts = (previous: PreviousState, finding: Finding): boolean =>
  finding.facts !== undefined && canonical(previous.facts) !== canonical(finding.facts);

/**
 * Whether the finding was judged under another policy than the state: the state must then name the
 * policy that judged it last, even when the verdict is the same. Like gained facts, that rewrites
 * the state only (no history entry, no count), so a policy change costs one write per object once.
 * A finding that names no policy (made by code from before policies were named) changes nothing.
 */
const rejudged = (previous: PreviousState, finding: Finding): boolean =>
  finding.policy !== undefined && (previous.policy?.hash !== finding.policy.hash || previous.policy.version !== finding.policy.version);

/**
 * Whether recording `finding` over the state `previous` would write nothing (rule 2): not a removal,
 * no fix outcome to log, nothing a reader can see changed, no facts to gain. A caller that read the
 * state itself (the inventory sweep) may leave such a finding out of the batch: planRecord would find
 * it unchanged. An open fix intent is no reason to record it: an intent whose object has not moved
 * (same version as the state) stays open either way.
 */
export function writesNothing(previous: PreviousState, finding: Finding): boolean {
  const carriesFix = Boolean(finding.remediation && !finding.remediationRecorded);
  return !finding.removed && !carriesFix && !changed(previous, finding) && !gainsFacts(previous, finding) && !rejudged(previous, finding);
}

export type VersionOrder = 'older' | 'newer' | 'undecided';

/** How `finding` stands against `other` (another finding or the stored state) for the same object. */
export function compareFindings(
  finding: Pick<Finding, 'versionId' | 'etag' | 'lastModified' | 'sequencer' | 'auditedAt' | 'confirmedCurrent' | 'removed' | 'afterRemovalOf'>,
  other: Pick<Finding, 'versionId' | 'etag' | 'lastModified' | 'sequencer' | 'auditedAt'>,
): VersionOrder {
  if (sameVersion(finding, other)) return finding.auditedAt < other.auditedAt ? 'older' : 'newer';
  // The other is the version S3 deleted: it can never be current again, whatever came after it.
  if (finding.afterRemovalOf && other.versionId === finding.afterRemovalOf) return 'newer';
  // "Gone" has no version of its own: it stands against what was recorded before it was observed.
  if (finding.removed) {
    if (finding.sequencer && other.sequencer && compareSequencers(finding.sequencer, other.sequencer) !== 0) {
      return compareSequencers(finding.sequencer, other.sequencer) < 0 ? 'older' : 'newer';
    }
    return finding.auditedAt < other.auditedAt ? 'older' : 'newer';
  }
  if (finding.sequencer && other.sequencer) {
    const order = compareSequencers(finding.sequencer, other.sequencer);
    // LocalStack sends one sequencer for every event: equal says nothing, fall through.
    if (order !== 0) return order < 0 ? 'older' : 'newer';
  }
  if (finding.lastModified && other.lastModified && finding.lastModified !== other.lastModified) {
    return finding.lastModified < other.lastModified ? 'older' : 'newer';
  }
  return finding.confirmedCurrent ? 'newer' : 'undecided';
}

/**
 * Whether a stale audit of the current object may be the version left current by a permanent delete
 * of the recorded one: another version id, put behind it by LastModified alone (S3's sequencers,
 * where both have one, order events exactly and need no check).
 */
function mayFollowRemovalOf(finding: Finding, before: PreviousState): boolean {
  const bySequencer = Boolean(finding.sequencer && before.sequencer && compareSequencers(finding.sequencer, before.sequencer) !== 0);
  return (
    !finding.removed &&
    finding.isLatest !== false &&
    !bySequencer &&
    before.versionId !== undefined &&
    finding.versionId !== undefined &&
    finding.versionId !== before.versionId
  );
}

/** The history entry an audit leaves; `extra` says how it relates to the state before it. */
function historyEntry(finding: Finding, rev: number, extra: Partial<HistoryEntry> = {}): RecordPlan['history'][number] {
  const recordFix = finding.remediation && !finding.remediationRecorded;
  return {
    bucket: finding.bucket,
    key: finding.key,
    entry: {
      auditedAt: finding.auditedAt,
      rev,
      ...(finding.account ? { account: finding.account } : {}),
      ...(finding.region ? { region: finding.region } : {}),
      verdict: finding.verdict,
      reasons: finding.reasons,
      ...(finding.mode ? { mode: finding.mode } : {}),
      ...(finding.kmsKeyArn ? { kmsKeyArn: finding.kmsKeyArn } : {}),
      ...(finding.versionId ? { versionId: finding.versionId } : {}),
      ...(finding.etag ? { etag: finding.etag } : {}),
      size: finding.size,
      ...(finding.policy ? { policy: finding.policy } : {}),
      ...(recordFix ? { remediation: finding.remediation } : {}),
      ...extra,
    },
  };
}

/** A fix's own history entry: one per intent, whoever records it (the fixer or a later audit). */
export function fixHistoryEntry(intent: FixIntent, record: RemediationRecord): HistoryEntry {
  return {
    auditedAt: record.at,
    rev: 0,
    verdict: intent.verdict,
    reasons: [],
    ...(intent.before.mode ? { mode: intent.before.mode } : {}),
    ...(intent.before.kmsKeyArn ? { kmsKeyArn: intent.before.kmsKeyArn } : {}),
    ...(intent.before.versionId ? { versionId: intent.before.versionId } : {}),
    ...(intent.before.etag ? { etag: intent.before.etag } : {}),
    remediation: record,
  };
}

/** A fix's entry for an object that has no state (no chain to join): hashed, sealed alone (not linked). */
export function sealedFixEntry(intent: FixIntent, record: RemediationRecord): HistoryEntry {
  const entry: HistoryEntry = { ...fixHistoryEntry(intent, record), sealedAlone: true };
  return { ...entry, hash: entryHash(`${intent.bucket}/${intent.key}`, entry) };
}

/**
 * What an audit tells about an open intent: the fix happened (the object is at the target; an
 * in-place update keeps version and ETag, so identity alone cannot tell), the object moved on
 * without it, or nothing yet (same version, not at the target: not fixed, or still being fixed).
 */
function reconcile(intent: FixIntent, finding: Finding): RemediationRecord | undefined {
  const base = { action: intent.action, at: finding.auditedAt, before: intent.before };
  if (finding.removed) {
    return { ...base, outcome: 'skipped-object-vanished', detail: 'the object was removed after a fix was begun; the run that began it stopped before recording an outcome' };
  }
  const atTarget =
    finding.mode !== undefined &&
    isAtTarget({ mode: finding.mode, kmsKeyArn: finding.kmsKeyArn, bucketKeyEnabled: Boolean(finding.bucketKeyEnabled) }, intent.target);
  const moved = !sameVersion(intent.before, { versionId: finding.versionId, etag: finding.etag, lastModified: finding.lastModified });
  if (!atTarget && !moved) return undefined;
  const after = {
    ...(finding.mode ? { mode: finding.mode } : {}),
    ...(finding.kmsKeyArn ? { kmsKeyArn: finding.kmsKeyArn } : {}),
    bucketKeyEnabled: Boolean(finding.bucketKeyEnabled),
    ...(finding.versionId ? { versionId: finding.versionId } : {}),
    ...(finding.etag ? { etag: finding.etag } : {}),
  };
  return atTarget
    ? { ...base, outcome: 'fixed', after, detail: 'recorded on reconciliation: the run that made this fix stopped before recording it' }
    : { ...base, outcome: 'skipped-object-changed', after, detail: 'the object changed after a fix was begun and is not at the target; the run that began it stopped before recording an outcome' };
}

export function planRecord(
  findings: Finding[],
  previous: ReadonlyMap<string, PreviousState>,
  intents: ReadonlyMap<string, FixIntent> = new Map(),
): RecordPlan {
  const plan: RecordPlan = {
    states: [],
    deletes: [],
    history: [],
    remediations: [],
    closedIntents: [],
    counters: new Map(),
    stale: [],
    undecided: [],
    unchanged: [],
    chainHeads: [],
    recheck: [],
  };
  // A batch may name one object twice (duplicate events): the newest audit stands for it.
  const latest = new Map<string, Finding>();
  for (const finding of findings) {
    const seen = latest.get(objectId(finding));
    if (!seen) latest.set(objectId(finding), finding);
    else if (compareFindings(finding, seen) === 'older') plan.stale.push(finding);
    else {
      plan.stale.push(seen);
      latest.set(objectId(finding), finding);
    }
  }

  for (const [id, audited] of latest) {
    const before = previous.get(id);
    // An audit that does not know the account (an older caller) keeps the one recorded: a bucket's
    // account never changes, and its account counter stays whole.
    const finding = audited.account === undefined && before?.account ? { ...audited, account: before.account, ...(before.region ? { region: before.region } : {}) } : audited;
    // A fix this batch carries, and not yet in the log: its outcome goes there with the state.
    const carriesFix = Boolean(finding.remediation && !finding.remediationRecorded);
    const intent = intents.get(id);
    const closing = intent && !carriesFix ? reconcile(intent, finding) : undefined;
    if (closing && intent) {
      plan.closedIntents.push(intent);
      plan.history.push({ bucket: finding.bucket, key: finding.key, entry: fixHistoryEntry(intent, closing), sk: intent.id });
      plan.remediations.push({ bucket: finding.bucket, key: finding.key, record: closing });
    }
    if (carriesFix) plan.remediations.push({ bucket: finding.bucket, key: finding.key, record: finding.remediation! });

    const order = before ? compareFindings(finding, before) : 'newer';
    if (before && order !== 'newer') {
      (order === 'older' ? plan.stale : plan.undecided).push(finding);
      if (order === 'older' && mayFollowRemovalOf(finding, before)) plan.recheck.push({ finding, recordedVersionId: before.versionId! });
      // A newer audit already stands, but what a fix did to the object must stay on record.
      if (carriesFix) plan.history.push(historyEntry(finding, before.rev, { overtaken: true }));
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
    if (before && writesNothing(before, finding)) {
      plan.unchanged.push(finding);
      continue;
    }
    const rev = (before?.rev ?? 0) + 1;
    // A sequencer orders events of one version's key only while it describes that version.
    const sequencer = finding.sequencer ?? (before && sameVersion(before, finding) ? before.sequencer : undefined);
    const { confirmedCurrent: _confirmed, remediationRecorded: _recorded, afterRemovalOf: _removal, ...recorded } = finding;
    plan.states.push({
      state: {
        ...recorded,
        ...(sequencer ? { sequencer } : {}),
        firstSeen: before?.firstSeen ?? finding.auditedAt,
        lastSeen: finding.auditedAt,
        rev,
      },
      ...(before ? { expectedRev: before.rev } : {}),
    });
    if (!before || changedForHistory(before, finding) || carriesFix) {
      plan.history.push(historyEntry(finding, rev, before ? { previousVerdict: before.verdict } : {}));
    }
    if (before) addContribution(plan.counters, before, -1);
    addContribution(plan.counters, finding, 1);
  }
  for (const [target, deltas] of plan.counters) {
    for (const [name, delta] of deltas) if (delta === 0) deltas.delete(name);
    if (deltas.size === 0) plan.counters.delete(target);
  }
  linkHistory(plan, previous);
  return plan;
}

/**
 * Links each object's new history entries, in plan order, after the state's chain head, and moves
 * the head: with the state written, or by a head update when the state is not rewritten. A removed
 * object's head goes with its state (the next object of that key starts a chain of its own).
 */
function linkHistory(plan: RecordPlan, previous: ReadonlyMap<string, PreviousState>): void {
  const heads = new Map<string, string | undefined>();
  plan.history = plan.history.map((item) => {
    const id = objectId(item);
    const head = heads.has(id) ? heads.get(id) : previous.get(id)?.chainHead;
    const entry = chained(id, item.entry, head);
    heads.set(id, entry.hash);
    return { ...item, entry };
  });
  const written = new Set(plan.states.map(({ state }) => objectId(state)));
  const deleted = new Set(plan.deletes.map((d) => objectId(d)));
  // A write replacing a state expects the head read with it: a head moved meanwhile re-plans.
  for (const write of plan.states) {
    const readHead = previous.get(objectId(write.state))?.chainHead;
    if (write.expectedRev !== undefined && readHead) write.expectedHead = readHead;
  }
  for (const write of plan.deletes) {
    const readHead = previous.get(objectId(write))?.chainHead;
    if (readHead) write.expectedHead = readHead;
  }
  for (const write of plan.states) {
    const id = objectId(write.state);
    const head = heads.has(id) ? heads.get(id) : previous.get(id)?.chainHead;
    if (head) write.state.chainHead = head;
  }
  for (const [id, head] of heads) {
    const before = previous.get(id);
    if (!head || !before || written.has(id) || deleted.has(id)) continue;
    plan.chainHeads.push({ bucket: before.bucket, key: before.key, expectedRev: before.rev, ...(before.chainHead ? { previousHead: before.chainHead } : {}), head });
  }
}

/** How many items the plan writes (DynamoDB transactions take at most 100). */
export const planSize = (plan: RecordPlan): number =>
  plan.states.length + plan.deletes.length + plan.history.length + plan.remediations.length + plan.closedIntents.length + plan.counters.size + plan.chainHeads.length;

export const isEmptyPlan = (plan: RecordPlan): boolean => planSize(plan) === 0;


export interface VersionPlan {
  states: StateWrite[];
  counters: Map<string, Map<string, number>>;
  unchanged: Finding[];
}

/** The previous record of a noncurrent version is keyed by object and version. */
export const versionId_ = (f: { bucket: string; key: string; versionId?: string }): string => `${objectId(f)}#${f.versionId ?? 'null'}`;


/**
 * Plans the records of noncurrent versions: one item per version beside the object's state (never
 * the state itself: a noncurrent version is not what the object is now), written only on change,
 * counted under noncurrent:* so that summaries and each key's blast radius show them apart.
 */
export function planVersionRecord(findings: Finding[], previous: ReadonlyMap<string, PreviousState>): VersionPlan {
  const plan: VersionPlan = { states: [], counters: new Map(), unchanged: [] };
  const latest = new Map<string, Finding>();
  for (const finding of findings) {
    const seen = latest.get(versionId_(finding));
    if (!seen || seen.auditedAt <= finding.auditedAt) latest.set(versionId_(finding), finding);
  }
  for (const [id, finding] of latest) {
    const before = previous.get(id);
    if (before && before.auditedAt > finding.auditedAt) continue;
    if (before && !changed(before, finding) && !rejudged(before, finding)) {
      plan.unchanged.push(finding);
      continue;
    }
    const { confirmedCurrent: _c, remediationRecorded: _r, afterRemovalOf: _a, ...recorded } = finding;
    plan.states.push({
      state: { ...recorded, firstSeen: before?.firstSeen ?? finding.auditedAt, lastSeen: finding.auditedAt, rev: (before?.rev ?? 0) + 1 },
      ...(before ? { expectedRev: before.rev } : {}),
    });
    if (before) addContribution(plan.counters, before, -1, true);
    addContribution(plan.counters, finding, 1, true);
  }
  for (const [target, deltas] of plan.counters) {
    for (const [name, delta] of deltas) if (delta === 0) deltas.delete(name);
    if (deltas.size === 0) plan.counters.delete(target);
  }
  return plan;
}
