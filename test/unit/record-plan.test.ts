import { describe, expect, test } from 'vitest';
import type { Finding } from '../../shared/domain/finding.ts';
import { planRecord, planSize, writesNothing, type PreviousState } from '../../shared/findings/record-decision.ts';
import type { FixIntent } from '../../shared/findings/store.ts';

const KEY_A = 'arn:aws:kms:us-east-1:111122223333:key/a';
const KEY_B = 'arn:aws:kms:us-east-1:111122223333:key/b';

function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    bucket: 'data',
    key: 'a.txt',
    size: 100,
    mode: 'sse-kms',
    kmsKeyArn: KEY_A,
    etag: '"e1"',
    lastModified: '2026-11-23T09:00:00.000Z',
    verdict: 'compliant',
    reasons: [],
    remediate: false,
    auditedAt: '2026-11-23T10:00:00.000Z',
    ...overrides,
  };
}

function stored(f: Finding, rev = 1): PreviousState {
  return { ...f, firstSeen: '2026-11-01T00:00:00.000Z', rev };
}
const previousOf = (...states: PreviousState[]) => new Map(states.map((s) => [`${s.bucket}/${s.key}`, s]));
const counters = (plan: ReturnType<typeof planRecord>) =>
  Object.fromEntries([...plan.counters].map(([sk, deltas]) => [sk, Object.fromEntries(deltas)]));

describe('planRecord', () => {
  test('a new object: state expecting no previous item, a history entry, +1 on every counter it belongs to', () => {
    const plan = planRecord([finding()], new Map());
    expect(plan.states).toEqual([{ state: expect.objectContaining({ rev: 1, firstSeen: '2026-11-23T10:00:00.000Z' }) }]);
    expect(plan.states[0]!.expectedRev).toBeUndefined();
    expect(plan.history).toHaveLength(1);
    const one = { objects: 1, bytes: 100, 'verdict:compliant': 1, 'mode:sse-kms': 1 };
    expect(counters(plan)).toEqual({ ALL: one, 'BUCKET#data': one, [`KMSKEY#${KEY_A}`]: one });
  });

  test('an unchanged object audited again writes nothing at all (the scan run record proves it was seen)', () => {
    const before = stored(finding(), 4);
    const again = finding({ auditedAt: '2026-11-24T10:00:00.000Z', sequencer: '0055AED6DCD90281F0' });
    const plan = planRecord([again], previousOf(before));
    expect(planSize(plan)).toBe(0);
    expect(plan.unchanged).toEqual([again]);
  });

  test.each([
    ['verdict', { verdict: 'noncompliant' as const }],
    ['bucket key', { bucketKeyEnabled: true }],
    ['ETag (a newer write)', { etag: '"e2"', lastModified: '2026-11-24T09:00:00.000Z' }],
    ['version id (a newer version)', { versionId: 'v9', lastModified: '2026-11-24T09:00:00.000Z' }],
    ['reasons', { reasons: [{ code: 'kms-key-rotation-disabled' as const, message: 'x' }] }],
    ['remediate flag (the policy changed)', { remediate: true }],
  ])('a changed %s is written', (_what, change) => {
    const plan = planRecord([finding({ auditedAt: '2026-11-24T10:00:00.000Z', ...change })], previousOf(stored(finding(), 4)));
    expect(plan.states).toHaveLength(1);
    expect(plan.unchanged).toEqual([]);
  });

  test('a storage class change alone (a lifecycle transition) rewrites the state only: no history entry, no count', () => {
    const before = { ...stored({ ...finding(), storageClass: 'STANDARD' }, 4), chainHead: 'head-4' };
    const plan = planRecord([finding({ storageClass: 'STANDARD_IA', auditedAt: '2026-11-24T10:00:00.000Z' })], previousOf(before));
    expect(plan.states).toHaveLength(1);
    expect(plan.states[0]).toMatchObject({ state: { storageClass: 'STANDARD_IA', rev: 5, chainHead: 'head-4' }, expectedRev: 4, expectedHead: 'head-4' });
    expect(plan.history).toEqual([]);
    expect(plan.chainHeads).toEqual([]);
    expect(counters(plan)).toEqual({});
    // With anything the history records changed as well, the entry is written as before.
    const reencrypted = planRecord([finding({ storageClass: 'STANDARD_IA', kmsKeyArn: KEY_B, auditedAt: '2026-11-24T10:00:00.000Z' })], previousOf(before));
    expect(reencrypted.history).toHaveLength(1);
  });

  test('a verdict change moves the object between verdict counters and is written to history', () => {
    const before = stored(finding());
    const after = finding({ verdict: 'at-risk', reasons: [{ code: 'kms-key-disabled', message: 'x' }], auditedAt: '2026-11-24T00:00:00.000Z' });
    const plan = planRecord([after], previousOf(before));
    expect(plan.history[0]!.entry).toMatchObject({ verdict: 'at-risk', previousVerdict: 'compliant', rev: 2 });
    const moved = { 'verdict:compliant': -1, 'verdict:at-risk': 1 };
    expect(counters(plan)).toEqual({ ALL: moved, 'BUCKET#data': moved, [`KMSKEY#${KEY_A}`]: moved });
  });

  test('a new key and size move the blast radius from one key to the other', () => {
    const plan = planRecord([finding({ kmsKeyArn: KEY_B, size: 150, auditedAt: '2026-11-24T00:00:00.000Z' })], previousOf(stored(finding())));
    expect(counters(plan)).toEqual({
      ALL: { bytes: 50 },
      'BUCKET#data': { bytes: 50 },
      [`KMSKEY#${KEY_A}`]: { objects: -1, bytes: -100, 'verdict:compliant': -1, 'mode:sse-kms': -1 },
      [`KMSKEY#${KEY_B}`]: { objects: 1, bytes: 150, 'verdict:compliant': 1, 'mode:sse-kms': 1 },
    });
  });

  test('an audit older than the stored one is stale and changes nothing', () => {
    const plan = planRecord([finding({ verdict: 'noncompliant', auditedAt: '2026-11-22T00:00:00.000Z' })], previousOf(stored(finding())));
    expect(plan.states).toEqual([]);
    expect(plan.counters.size).toBe(0);
    expect(plan.stale).toHaveLength(1);
  });

  test('the same object twice in one batch: the latest audit stands, counted once', () => {
    const early = finding({ verdict: 'noncompliant', auditedAt: '2026-11-23T10:00:00.000Z' });
    const late = finding({ verdict: 'compliant', auditedAt: '2026-11-23T11:00:00.000Z' });
    for (const batch of [[early, late], [late, early]]) {
      const plan = planRecord(batch, new Map());
      expect(plan.states.map((s) => s.state.verdict)).toEqual(['compliant']);
      expect(counters(plan).ALL).toMatchObject({ objects: 1, 'verdict:compliant': 1 });
      expect(plan.stale).toEqual([early]);
    }
  });

  test('an unreadable object counts under mode unknown and no key', () => {
    const { mode: _m, kmsKeyArn: _k, ...rest } = finding({ verdict: 'unauditable' });
    const plan = planRecord([rest], new Map());
    expect(counters(plan)).toEqual({
      ALL: { objects: 1, bytes: 100, 'verdict:unauditable': 1, 'mode:unknown': 1 },
      'BUCKET#data': { objects: 1, bytes: 100, 'verdict:unauditable': 1, 'mode:unknown': 1 },
    });
  });
});

describe('ordering by S3 event sequencer', () => {
  test('an event older by sequencer is stale even when audited later', () => {
    const stored = stored_({ sequencer: '0055AED6DCD90281F0', auditedAt: '2026-11-23T10:00:00.000Z', versionId: 'v2' });
    const lateOldEvent = finding({ sequencer: '0055AED6DCD90281E5', auditedAt: '2026-11-23T11:00:00.000Z', versionId: 'v1' });
    expect(planRecord([lateOldEvent], previousOf(stored)).stale).toEqual([lateOldEvent]);
  });

  test('a newer sequencer wins even when audited earlier', () => {
    const stored = stored_({ sequencer: '0055AED6DCD90281E5', auditedAt: '2026-11-23T11:00:00.000Z', versionId: 'v1' });
    const plan = planRecord([finding({ sequencer: '0055AED6DCD90281F0', auditedAt: '2026-11-23T10:00:00.000Z', versionId: 'v2' })], previousOf(stored));
    expect(plan.states).toHaveLength(1);
  });

  test('a sweep audit (no sequencer) of the same version keeps that version\'s sequencer on the state', () => {
    const stored = stored_({ sequencer: '0055AED6DCD90281F0' });
    const plan = planRecord([finding({ auditedAt: '2026-11-24T00:00:00.000Z', verdict: 'noncompliant' })], previousOf(stored));
    expect(plan.states[0]!.state.sequencer).toBe('0055AED6DCD90281F0');
  });

  test('a newer version recorded without a sequencer drops the old version\'s one (it no longer describes the state)', () => {
    const stored = stored_({ sequencer: '0055AED6DCD90281F0', versionId: 'v1', lastModified: '2026-11-23T10:00:00.000Z' });
    const plan = planRecord([finding({ versionId: 'v2', lastModified: '2026-11-23T12:00:00.000Z', auditedAt: '2026-11-24T00:00:00.000Z' })], previousOf(stored));
    expect(plan.states[0]!.state.sequencer).toBeUndefined();
    // ...so a late event about a version between the two cannot beat it by sequencer alone.
    const late = finding({ versionId: 'v1b', sequencer: '0055AED6DCD90281F8', lastModified: '2026-11-23T11:00:00.000Z', auditedAt: '2026-11-25T00:00:00.000Z' });
    expect(planRecord([late], previousOf({ ...plan.states[0]!.state })).stale).toEqual([late]);
  });

  test('equal sequencers (LocalStack sends one value) fall back to LastModified', () => {
    const stored = stored_({ sequencer: '0055AED6DCD90281F0', versionId: 'v2', lastModified: '2026-11-23T12:00:00.000Z', auditedAt: '2026-11-23T12:00:01.000Z' });
    const olderVersion = finding({ sequencer: '0055AED6DCD90281F0', versionId: 'v1', lastModified: '2026-11-23T11:00:00.000Z', auditedAt: '2026-11-24T00:00:00.000Z' });
    expect(planRecord([olderVersion], previousOf(stored)).stale).toEqual([olderVersion]);
  });

  test('two versions nothing orders (same sequencer, same LastModified second) are undecided until a fresh HeadObject confirms one', () => {
    const stored = stored_({ sequencer: '00AA', versionId: 'v2', lastModified: '2026-11-23T12:00:00.000Z' });
    const other = finding({ sequencer: '00AA', versionId: 'v1', lastModified: '2026-11-23T12:00:00.000Z', verdict: 'noncompliant', auditedAt: '2026-11-24T00:00:00.000Z' });
    const plan = planRecord([other], previousOf(stored));
    expect(plan.undecided).toEqual([other]);
    expect(plan.states).toEqual([]);
    const confirmed = planRecord([{ ...other, confirmedCurrent: true }], previousOf(stored));
    expect(confirmed.states.map((s) => s.state.versionId)).toEqual(['v1']);
    expect(confirmed.states[0]!.state).not.toHaveProperty('confirmedCurrent');
  });

  test('a scan of the current version is not overwritten by a late event about the previous version', () => {
    // The scan (no sequencer) recorded v2, non-compliant; an ObjectCreated event for v1 arrives late.
    const scanned = stored_({ versionId: 'v2', lastModified: '2026-11-23T12:00:00.000Z', verdict: 'noncompliant', auditedAt: '2026-11-23T13:00:00.000Z' });
    const late = finding({ versionId: 'v1', lastModified: '2026-11-23T11:00:00.000Z', sequencer: '0055AED6DCD90281E5', auditedAt: '2026-11-23T14:00:00.000Z' });
    const plan = planRecord([late], previousOf(scanned));
    expect(plan.stale).toEqual([late]);
    expect(plan.states).toEqual([]);
  });

  test('a remediation is always written to history, even when the verdict is unchanged', () => {
    const remediation = { action: 'copy', outcome: 'skipped-object-changed', at: '2026-11-24T00:00:00.000Z', before: { mode: 'sse-kms' as const } };
    const plan = planRecord([finding({ auditedAt: '2026-11-24T00:00:00.000Z', remediation })], previousOf(stored(finding())));
    expect(plan.history.map((h) => h.entry.remediation)).toEqual([remediation]);
  });
});

test('a fix whose audit was overtaken by a newer one still reaches the history, and changes nothing else', () => {
  const remediation = { action: 'copy', outcome: 'fixed', at: '2026-11-23T10:00:00.000Z', before: { mode: 'dsse-kms' as const } };
  const stored = stored_({ sequencer: '0055AED6DCD90281F0', verdict: 'compliant', versionId: 'v2' });
  const overtaken = finding({ sequencer: '0055AED6DCD90281E5', remediation, versionId: 'v1' });
  const plan = planRecord([overtaken], previousOf(stored));
  expect(plan.states).toEqual([]);
  expect(plan.counters.size).toBe(0);
  expect(plan.history.map((h) => h.entry)).toEqual([expect.objectContaining({ remediation, overtaken: true, rev: stored.rev })]);
});

describe('removed objects', () => {
  const removal = (overrides: Partial<Finding> = {}) =>
    finding({ verdict: 'unauditable', removed: true, reasons: [{ code: 'object-vanished', message: 'gone' }], auditedAt: '2026-11-24T00:00:00.000Z', ...overrides });

  test('a removed object loses its state and its counts; its history says it was removed', () => {
    const before = stored(finding(), 3);
    const plan = planRecord([removal()], previousOf(before));
    expect(plan.states).toEqual([]);
    expect(plan.deletes).toEqual([{ bucket: 'data', key: 'a.txt', expectedRev: 3 }]);
    expect(plan.history.map((h) => h.entry)).toEqual([expect.objectContaining({ removed: true, verdict: 'compliant', previousVerdict: 'compliant', rev: 4 })]);
    const minusOne = { objects: -1, bytes: -100, 'verdict:compliant': -1, 'mode:sse-kms': -1 };
    expect(counters(plan)).toEqual({ ALL: minusOne, 'BUCKET#data': minusOne, [`KMSKEY#${KEY_A}`]: minusOne });
  });

  test('a removal (no version of its own) stands against a state recorded before it was observed, and not against a later one', () => {
    const before = stored(finding({ auditedAt: '2026-11-23T10:00:00.000Z' }), 2);
    const { etag: _e, lastModified: _l, ...gone } = removal({ auditedAt: '2026-11-24T00:00:00.000Z' });
    expect(planRecord([gone], previousOf(before)).deletes).toHaveLength(1);
    const later = stored(finding({ auditedAt: '2026-11-25T00:00:00.000Z' }), 3);
    expect(planRecord([gone], previousOf(later)).stale).toEqual([gone]);
  });

  test('removing what was never recorded writes nothing', () => {
    const plan = planRecord([removal()], new Map());
    expect([plan.states, plan.deletes, plan.history]).toEqual([[], [], []]);
    expect(plan.counters.size).toBe(0);
  });

  test('a removal older than a newer creation (by sequencer) leaves the newer state alone', () => {
    const plan = planRecord([removal({ sequencer: '0055AED6DCD90281E5', versionId: 'v1' })], previousOf(stored_({ sequencer: '0055AED6DCD90281F0', versionId: 'v2' })));
    expect(plan.deletes).toEqual([]);
    expect(plan.stale).toHaveLength(1);
  });
});

describe('a permanent delete of the recorded version (ObjectRemoved:Delete with its version id)', () => {
  // The deleted version v2 was current and recorded; v1, older by definition, is current again.
  const deleted = stored(finding({ versionId: 'v2', etag: '"e2"', lastModified: '2026-11-24T09:00:00.000Z', sequencer: '0055AED6DCD90281F0' }), 5);
  const nowCurrent = (overrides: Partial<Finding> = {}) =>
    finding({ versionId: 'v1', mode: 'sse-s3', kmsKeyArn: undefined, verdict: 'noncompliant', lastModified: '2026-11-23T09:00:00.000Z', auditedAt: '2026-11-25T00:00:00.000Z', ...overrides });

  test('the version now current (a HeadObject made after the delete) replaces the deleted one, though older by LastModified and sequencer', () => {
    const plan = planRecord([nowCurrent({ afterRemovalOf: 'v2', sequencer: '0055AED6DCD90281E0' })], previousOf(deleted));
    expect(plan.states).toEqual([{ state: expect.objectContaining({ versionId: 'v1', mode: 'sse-s3', verdict: 'noncompliant', rev: 6 }), expectedRev: 5 }]);
    // What the audit was made after is a fact about the audit, not about the object: never stored.
    expect(plan.states[0]!.state).not.toHaveProperty('afterRemovalOf');
  });

  test('without word of the removal, an older version never replaces the recorded one (the rule it mends)', () => {
    expect(planRecord([nowCurrent()], previousOf(deleted)).stale).toHaveLength(1);
  });

  test('a removal of another version (not the recorded one) lets nothing older through', () => {
    const newer = stored(finding({ versionId: 'v3', etag: '"e3"', lastModified: '2026-11-24T12:00:00.000Z' }), 7);
    const plan = planRecord([nowCurrent({ afterRemovalOf: 'v2' })], previousOf(newer));
    expect(plan.states).toEqual([]);
    expect(plan.stale).toHaveLength(1);
  });

  test('once replaced, a replayed older event cannot bring the deleted version back: its audit is of the current object, the same version', () => {
    const replaced = stored(nowCurrent({ sequencer: '0055AED6DCD90281E0' }), 6);
    // The worker audits what is current whatever version an event names: a late ObjectCreated of v2 finds v1.
    const replay = nowCurrent({ auditedAt: '2026-11-26T00:00:00.000Z', sequencer: undefined });
    const plan = planRecord([replay], previousOf(replaced));
    expect(plan.states).toEqual([]);
    expect(plan.unchanged).toEqual([replay]);
    // A duplicate of the delete event finds v1 as recorded: nothing to write either.
    expect(planSize(planRecord([nowCurrent({ afterRemovalOf: 'v2', auditedAt: '2026-11-26T00:00:00.000Z', sequencer: '0055AED6DCD90281E0' })], previousOf(replaced)))).toBe(0);
  });

  test('without word of the removal (a scan): a stale audit put behind the recorded version by LastModified alone asks the caller to check that version; one ordered by sequencers does not', () => {
    const scanned = nowCurrent({ sequencer: undefined });
    const plan = planRecord([scanned], previousOf(deleted));
    expect(plan.stale).toEqual([scanned]);
    expect(plan.recheck).toEqual([{ finding: scanned, recordedVersionId: 'v2' }]);
    // S3's sequencers order the two events exactly: a late event about v1 needs no check.
    expect(planRecord([nowCurrent({ sequencer: '0055AED6DCD90281E0' })], previousOf(deleted)).recheck).toEqual([]);
    // The same version audited earlier, or a noncurrent version's audit: nothing to check.
    expect(planRecord([finding({ ...deleted, auditedAt: '2026-11-01T00:00:00.000Z' })], previousOf(deleted)).recheck).toEqual([]);
  });

  test('the deleted version was the only one: the object is removed from the findings, whatever the sequencers say', () => {
    const gone = finding({ removed: true, verdict: 'unauditable', reasons: [{ code: 'object-vanished', message: 'gone' }], etag: undefined, lastModified: undefined, versionId: undefined, afterRemovalOf: 'v2', auditedAt: '2026-11-23T00:00:00.000Z' });
    expect(planRecord([gone], previousOf(deleted)).deletes).toEqual([{ bucket: 'data', key: 'a.txt', expectedRev: 5 }]);
  });
});

function stored_(overrides: Partial<Finding>): PreviousState {
  return stored(finding(overrides));
}

describe('fix intents left open by a crash', () => {
  const target = { mode: 'sse-kms' as const, kmsKey: KEY_B, bucketKey: false };
  const intent: FixIntent = {
    id: '2026-11-23T10:00:00.000Z#abcd',
    bucket: 'data',
    key: 'a.txt',
    startedAt: '2026-11-23T10:00:00.000Z',
    action: 'update-encryption',
    target,
    before: { mode: 'sse-kms', kmsKeyArn: KEY_A, bucketKeyEnabled: false, etag: '"e1"', lastModified: '2026-11-23T09:00:00.000Z' },
    verdict: 'noncompliant',
  };
  const intentsOf = (...open: FixIntent[]) => new Map(open.map((i) => [`${i.bucket}/${i.key}`, i]));
  const before = stored(finding({ verdict: 'noncompliant', lastModified: '2026-11-23T09:00:00.000Z' }), 2);

  test('the object moved on and is at the target: the fix is recorded once (its own history entry and log line) and the intent closed', () => {
    const fixed = finding({ kmsKeyArn: KEY_B, etag: '"e2"', lastModified: '2026-11-23T10:00:01.000Z', auditedAt: '2026-11-23T10:05:00.000Z' });
    const plan = planRecord([fixed], previousOf(before), intentsOf(intent));
    expect(plan.closedIntents).toEqual([intent]);
    const fixEntries = plan.history.filter((h) => h.sk === intent.id);
    expect(fixEntries.map((h) => h.entry.remediation)).toEqual([
      expect.objectContaining({ outcome: 'fixed', action: 'update-encryption', before: intent.before, after: expect.objectContaining({ kmsKeyArn: KEY_B, etag: '"e2"' }) }),
    ]);
    expect(plan.remediations).toHaveLength(1);
    expect(plan.states).toHaveLength(1);
  });

  test('the object changed but is not at the target: closed as changed by someone else', () => {
    const rewritten = finding({ etag: '"e3"', lastModified: '2026-11-23T10:00:01.000Z', verdict: 'noncompliant', auditedAt: '2026-11-23T10:05:00.000Z' });
    const plan = planRecord([rewritten], previousOf(before), intentsOf(intent));
    expect(plan.remediations.map((r) => r.record.outcome)).toEqual(['skipped-object-changed']);
  });

  test('the object has not moved (crash before the S3 call, or the fix still running): the intent stays open', () => {
    const same = finding({ verdict: 'noncompliant', lastModified: '2026-11-23T09:00:00.000Z', auditedAt: '2026-11-23T10:05:00.000Z' });
    const plan = planRecord([same], previousOf(before), intentsOf(intent));
    expect(plan.closedIntents).toEqual([]);
    expect(plan.remediations).toEqual([]);
  });

  test('a finding whose fix was already recorded by the fixer logs nothing again', () => {
    const remediation = { action: 'update-encryption', outcome: 'fixed', at: '2026-11-23T10:00:02.000Z', before: intent.before };
    const fixed = finding({ kmsKeyArn: KEY_B, etag: '"e2"', lastModified: '2026-11-23T10:00:02.000Z', auditedAt: '2026-11-23T10:00:03.000Z', remediation, remediationRecorded: true });
    const plan = planRecord([fixed], previousOf(before));
    expect(plan.remediations).toEqual([]);
    expect(plan.history.every((h) => h.entry.remediation === undefined)).toBe(true);
    expect(plan.states[0]!.state).not.toHaveProperty('remediationRecorded');
  });
});

describe('writesNothing: what a caller holding the state may leave out of a batch', () => {
  const before = stored(finding());
  const later = { auditedAt: '2026-11-30T10:00:00.000Z' };

  test('a re-audit that finds the object as recorded writes nothing, and planRecord agrees', () => {
    const again = finding(later);
    expect(writesNothing(before, again)).toBe(true);
    expect(planSize(planRecord([again], previousOf(before)))).toBe(0);
  });

  test.each([
    ['a new ETag (the object was rewritten)', { etag: '"e2"', lastModified: '2026-11-29T09:00:00.000Z' }],
    ['another key', { kmsKeyArn: KEY_B }],
    ['another verdict', { verdict: 'at-risk' as const }],
    ['a removal', { removed: true }],
    ['a fix outcome not yet logged', { remediation: { action: 'update-encryption', outcome: 'fixed', at: later.auditedAt, before: { mode: 'sse-s3' as const, bucketKeyEnabled: false } } }],
  ])('%s is written, as planRecord writes it', (_what, change) => {
    const changed = finding({ ...later, ...change });
    expect(writesNothing(before, changed)).toBe(false);
    expect(planSize(planRecord([changed], previousOf(before)))).toBeGreaterThan(0);
  });
});

describe('planRecord: the policy that judged the object', () => {
  const POLICY_A = { version: 1, hash: 'sha256:aaaaaaaaaaaaaaaa' };
  const POLICY_B = { version: 1, hash: 'sha256:bbbbbbbbbbbbbbbb' };
  const later = { auditedAt: '2026-11-24T10:00:00.000Z' };

  test('the same policy and the same object: nothing written', () => {
    const plan = planRecord([finding({ ...later, policy: POLICY_A })], previousOf(stored(finding({ policy: POLICY_A }), 4)));
    expect(planSize(plan)).toBe(0);
  });

  test.each([
    ['another policy', POLICY_A],
    ['a state recorded before findings named their policy', undefined],
  ])('%s with the same verdict: the state names the new policy (one write), no history entry, no counter', (_what, before) => {
    const plan = planRecord([finding({ ...later, policy: POLICY_B })], previousOf(stored(finding(before ? { policy: before } : {}), 4)));
    expect(plan.states).toEqual([{ state: expect.objectContaining({ policy: POLICY_B, rev: 5 }), expectedRev: 4 }]);
    expect(plan.history).toEqual([]);
    expect(plan.counters.size).toBe(0);
    expect(writesNothing(stored(finding(before ? { policy: before } : {}), 4), finding({ ...later, policy: POLICY_B }))).toBe(false);
  });

  test('another policy and another verdict: the history entry names the policy that judged it', () => {
    const plan = planRecord([finding({ ...later, policy: POLICY_B, verdict: 'noncompliant' })], previousOf(stored(finding({ policy: POLICY_A }), 4)));
    expect(plan.history).toEqual([expect.objectContaining({ entry: expect.objectContaining({ verdict: 'noncompliant', previousVerdict: 'compliant', policy: POLICY_B }) })]);
  });

  test('a finding that names no policy (made by code from before) leaves the recorded policy alone', () => {
    const plan = planRecord([finding(later)], previousOf(stored(finding({ policy: POLICY_A }), 4)));
    expect(planSize(plan)).toBe(0);
  });
});

describe('accounts and Regions', () => {
  const one = { objects: 1, bytes: 100, 'verdict:compliant': 1, 'mode:sse-kms': 1 };

  test("a finding with its account counts under ACCOUNT#<id> too, and its history entry names account and Region", () => {
    const plan = planRecord([finding({ account: '444455556666', region: 'eu-west-1' })], new Map());
    expect(counters(plan)).toEqual({ ALL: one, 'BUCKET#data': one, [`KMSKEY#${KEY_A}`]: one, 'ACCOUNT#444455556666': one });
    expect(plan.history[0]!.entry).toMatchObject({ account: '444455556666', region: 'eu-west-1' });
    expect(plan.states[0]!.state).toMatchObject({ account: '444455556666', region: 'eu-west-1' });
  });

  test('a state recorded before accounts were kept gains its account once: moved into the account counter, nothing else', () => {
    const before = stored(finding(), 2);
    const plan = planRecord([finding({ auditedAt: '2026-11-24T10:00:00.000Z', account: '444455556666', region: 'eu-west-1' })], previousOf(before));
    expect(plan.states[0]!.state).toMatchObject({ account: '444455556666', rev: 3 });
    expect(counters(plan)).toEqual({ 'ACCOUNT#444455556666': one });
    // Recorded with its account, the same audit again writes nothing.
    const withAccount = stored(finding({ account: '444455556666', region: 'eu-west-1' }), 3);
    expect(writesNothing(withAccount, finding({ auditedAt: '2026-11-25T10:00:00.000Z', account: '444455556666', region: 'eu-west-1' }))).toBe(true);
  });

  test("an audit that does not know the account (an older caller) keeps the recorded one and its counter", () => {
    const before = stored(finding({ account: '444455556666', region: 'eu-west-1' }), 2);
    const plan = planRecord([finding({ auditedAt: '2026-11-24T10:00:00.000Z', verdict: 'noncompliant', reasons: [{ code: 'not-encrypted', message: 'x' }] })], previousOf(before));
    expect(plan.states[0]!.state).toMatchObject({ account: '444455556666', region: 'eu-west-1', verdict: 'noncompliant' });
    expect(counters(plan)['ACCOUNT#444455556666']).toMatchObject({ 'verdict:compliant': -1, 'verdict:noncompliant': 1 });
    expect(counters(plan)['ACCOUNT#444455556666']).not.toHaveProperty('objects');
  });
});
