import { describe, expect, test } from 'vitest';
import { buildEvidence, EvidenceAccumulator, type EvidenceInputs, type EvidenceOptions, type ObjectRecords } from '../../shared/evidence/pack.ts';
import { objectRecordsOf } from '../../shared/evidence/gather.ts';
import { chained, type StoredHistoryEntry } from '../../shared/findings/history-chain.ts';
import type { HistoryEntry, StoredFinding } from '../../shared/findings/store.ts';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/k';

function objectOf(bucket: string, key: string, entries: HistoryEntry[], state?: Partial<StoredFinding>): ObjectRecords {
  let head: string | undefined;
  const history: StoredHistoryEntry[] = entries.map((e) => {
    const linked = chained(`${bucket}/${key}`, e, head);
    head = linked.hash;
    return { ...linked, sk: `HIST#${e.auditedAt}#${String(e.rev).padStart(10, '0')}` };
  });
  const last = entries.at(-1)!;
  return {
    bucket,
    key,
    history,
    versions: [],
    ...(state
      ? { state: { bucket, key, size: 10, verdict: last.verdict, reasons: [], remediate: false, auditedAt: last.auditedAt, firstSeen: entries[0]!.auditedAt, lastSeen: last.auditedAt, rev: last.rev, chainHead: head!, ...state } }
      : {}),
  };
}

const audit = (auditedAt: string, rev: number, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({ auditedAt, rev, verdict: 'compliant', reasons: [], mode: 'sse-kms', kmsKeyArn: KEY, size: 10, ...extra });

function inputsOf(...objects: ObjectRecords[]): EvidenceInputs {
  return { objects: new Map(objects.map((o) => [`${o.bucket}/${o.key}`, o])), keyFacts: {}, keyActions: [], wholeBucketRuns: new Map([['b', ['2026-10-05T00:00:00.000Z']]]), exemptions: [], existingBuckets: ['b', 'never'] };
}
const at = (asOf: string, reconstructed = true): EvidenceOptions => ({ asOf: new Date(asOf), reconstructed, windowDays: 90, scope: {}, generatedAt: new Date('2026-12-01T00:00:00Z') });

describe('buildEvidence as of a time', () => {
  const fixed = objectOf('b', 'fixed.txt', [
    audit('2026-09-01T00:00:00.000Z', 1, { verdict: 'noncompliant', mode: 'sse-s3', reasons: [{ code: 'mode-not-allowed', message: 'SSE-S3' }] } as Partial<HistoryEntry>),
    audit('2026-10-02T00:00:00.000Z', 2, { previousVerdict: 'noncompliant' }),
  ], {});
  const removed = objectOf('b', 'removed.txt', [audit('2026-09-01T00:00:00.000Z', 1, { mode: 'sse-s3', kmsKeyArn: undefined }), audit('2026-09-10T00:00:00.000Z', 2, { removed: true })]);
  const later = objectOf('b', 'later.txt', [audit('2026-11-01T00:00:00.000Z', 1)], {});
  // Written before hashing: no hash, no size, no chain head on its state.
  const hashedLegacy = objectOf('b', 'legacy.txt', [{ auditedAt: '2026-08-01T00:00:00.000Z', rev: 1, verdict: 'compliant', reasons: [], mode: 'sse-s3' }], { mode: 'sse-s3', size: 77 });
  const { chainHead: _head, ...legacyState } = hashedLegacy.state!;
  const legacy: ObjectRecords = { ...hashedLegacy, state: legacyState, history: hashedLegacy.history.map(({ hash: _h, prevHash: _p, ...entry }) => entry) };

  test('an object fixed after the time is non-compliant then; removed before, gone; recorded later, unknown (not guessed)', () => {
    const pack = buildEvidence(inputsOf(fixed, removed, later, legacy), at('2026-09-30T23:59:59Z'));
    expect(pack.exceptions.objects.map((o) => `${o.key}:${o.verdict}`)).toEqual(['fixed.txt:noncompliant']);
    expect(pack.population.objects).toBe(2);
    expect(pack.population.unknownAsOf).toEqual({ objects: 1, examples: ['b/later.txt'] });
    expect(pack.gaps).toContain('1 object(s) recorded whose history starts after 2026-09-30T23:59:59.000Z: their state then is unknown, not counted');
    // The legacy entry has no size: the state's size stands in, it is the same version.
    expect(pack.population.bytes).toBe(10 + 77);
    expect(pack.changes.fixes).toEqual([]);
  });

  test('now: the states; the fix is a verdict change in the window; chains hold; legacy entries are counted as unchained', () => {
    const pack = buildEvidence(inputsOf(fixed, removed, later, legacy), at('2026-12-01T00:00:00Z', false));
    expect(pack.population.objects).toBe(3);
    expect(pack.exceptions.objects).toEqual([]);
    expect(pack.changes.verdictChanges).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'fixed.txt', from: 'noncompliant', to: 'compliant' }), expect.objectContaining({ key: 'removed.txt', to: 'removed' })]));
    expect(pack.chains).toMatchObject({ problems: [], unchainedEntries: 1, objectsWithUnchainedHistory: 1 });
  });

  test('coverage lists never-audited buckets first, then stale, and the first gap says so', () => {
    const pack = buildEvidence(inputsOf(fixed), at('2026-12-01T00:00:00Z', false));
    expect(pack.coverage.map((c) => `${c.bucket}:${c.status}`)).toEqual(['never:never', 'b:stale']);
    expect(pack.gaps[0]).toBe('1 bucket(s) in scope never audited: never');
  });
});

test('the sample is drawn as the objects pass: the same seed draws the same objects whatever their order; another seed others; a larger N takes them all', () => {
  const objects = Array.from({ length: 50 }, (_, i) => objectOf('b', `k${i}.txt`, [audit('2026-11-01T00:00:00.000Z', 1)], {}));
  const draw = (order: ObjectRecords[], size: number, seed: number) => {
    const accumulator = new EvidenceAccumulator(inputsOf(), at('2026-12-01T00:00:00Z', false), { exception: () => {}, fix: () => {}, verdictChange: () => {} }, { size, seed });
    for (const o of order) accumulator.add(`${o.bucket}/${o.key}`, o);
    return accumulator.sample!.drawn().map((o) => o.key);
  };
  expect(draw(objects, 5, 42)).toEqual(draw([...objects].reverse(), 5, 42));
  expect(draw(objects, 5, 42)).not.toEqual(draw(objects, 5, 43));
  expect(new Set(draw(objects, 20, 1)).size).toBe(20);
  expect(draw(objects, 500, 1).sort()).toEqual(objects.map((o) => o.key).sort());
});

describe('objectRecordsOf: the table Scan, one object at a time', () => {
  const item = (id: string, sk: string) => ({ pk: `OBJ#${id}`, sk, auditedAt: '2026-11-01T00:00:00.000Z', rev: 1, verdict: 'compliant', reasons: [] });
  async function* pages(...lists: Record<string, unknown>[][]) {
    yield* lists;
  }
  const collect = async (source: AsyncIterable<[string, ObjectRecords]>) => {
    const out: [string, number][] = [];
    for await (const [id, records] of source) out.push([id, records.history.length]);
    return out;
  };

  test('an object whose items span two pages is one object', async () => {
    expect(await collect(objectRecordsOf(pages([item('b/x', 'HIST#1'), item('b/y', 'HIST#1')], [item('b/y', 'HIST#2'), item('b/z', 'HIST#1')])))).toEqual([
      ['b/x', 1],
      ['b/y', 2],
      ['b/z', 1],
    ]);
  });

  test('an object whose items come apart is refused, never counted twice', async () => {
    await expect(collect(objectRecordsOf(pages([item('b/x', 'HIST#1'), item('b/y', 'HIST#1'), item('b/x', 'HIST#2')])))).rejects.toThrow(/returned the items of b\/x apart/);
  });
});
