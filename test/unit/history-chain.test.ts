import { describe, expect, test } from 'vitest';
import type { Finding } from '../../shared/domain/finding.ts';
import { canonicalJson, chained, checkChain, entryHash, type StoredHistoryEntry } from '../../shared/findings/history-chain.ts';
import { planRecord, type PreviousState } from '../../shared/findings/record-decision.ts';
import type { HistoryEntry } from '../../shared/findings/store.ts';

const ID = 'data/a.txt';

function finding(overrides: Partial<Finding> = {}): Finding {
  return { bucket: 'data', key: 'a.txt', size: 100, mode: 'sse-s3', etag: '"e1"', verdict: 'noncompliant', reasons: [], remediate: false, auditedAt: '2026-11-23T10:00:00.000Z', ...overrides };
}

const entry = (auditedAt: string, rev: number, extra: Partial<HistoryEntry> = {}): HistoryEntry => ({ auditedAt, rev, verdict: 'compliant', reasons: [], ...extra });

/** Three linked entries as the store holds them (sort key beside each). */
function chainOf(...entries: HistoryEntry[]): StoredHistoryEntry[] {
  let head: string | undefined;
  return entries.map((e) => {
    const linked = chained(ID, e, head);
    head = linked.hash;
    return { ...linked, sk: `HIST#${e.auditedAt}#${String(e.rev).padStart(10, '0')}` };
  });
}

describe('canonical hash', () => {
  test('does not depend on the order of keys at any depth (DynamoDB keeps none)', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[{"x":2,"y":1}]},"b":1}');
    const one = entry('2026-11-23T10:00:00.000Z', 1, { kmsKeyArn: 'k', mode: 'sse-kms' });
    const reordered = Object.fromEntries(Object.entries(one).reverse()) as unknown as HistoryEntry;
    expect(entryHash(ID, reordered)).toBe(entryHash(ID, one));
  });

  test('covers every stored field, fields added later too, and the object it belongs to', () => {
    const one = entry('2026-11-23T10:00:00.000Z', 1);
    const base = entryHash(ID, one);
    expect(entryHash(ID, { ...one, account: '111122223333' })).not.toBe(base);
    expect(entryHash(ID, { ...one, verdict: 'noncompliant' })).not.toBe(base);
    expect(entryHash('data/b.txt', one)).not.toBe(base);
    // The hash and the item's keys are not fields of the entry.
    expect(entryHash(ID, { ...one, hash: 'x', sk: 'HIST#…' })).toBe(base);
  });
});

describe('checkChain', () => {
  const history = () => chainOf(entry('2026-11-01T00:00:00.000Z', 1), entry('2026-11-02T00:00:00.000Z', 2), entry('2026-11-03T00:00:00.000Z', 3));

  test('an intact chain whose head is the state\'s holds', () => {
    const entries = history();
    expect(checkChain(ID, entries, entries[2]!.hash)).toEqual({ problems: [], unchained: 0, chained: 3 });
  });

  test('an edited entry is named', () => {
    const entries = history();
    entries[1] = { ...entries[1]!, verdict: 'noncompliant' };
    expect(checkChain(ID, entries, entries[2]!.hash).problems).toEqual([`${ID}: history entry ${entries[1]!.sk} does not match its hash (edited)`]);
  });

  test('a removed middle entry, and a removed newest entry, are found', () => {
    const entries = history();
    expect(checkChain(ID, [entries[0]!, entries[2]!], entries[2]!.hash).problems).toEqual([`${ID}: history entry ${entries[2]!.sk} links to an entry that is missing (removed)`]);
    expect(checkChain(ID, entries.slice(0, 2), entries[2]!.hash).problems).toEqual([`${ID}: the newest history entry (the state's chain head) is missing (removed)`]);
  });

  test('entries before hashing are counted as unchained, not as problems; a restart is one only without a removal before it', () => {
    const legacy: StoredHistoryEntry = { ...entry('2026-10-01T00:00:00.000Z', 1), sk: 'HIST#2026-10-01T00:00:00.000Z#0000000001' };
    const entries = history();
    expect(checkChain(ID, [legacy, ...entries], entries[2]!.hash)).toMatchObject({ problems: [], unchained: 1, chained: 3 });
    const removed = chainOf(entry('2026-11-01T00:00:00.000Z', 1), entry('2026-11-02T00:00:00.000Z', 2, { removed: true }));
    const again = chainOf(entry('2026-11-05T00:00:00.000Z', 1));
    expect(checkChain(ID, [...removed, ...again], again[0]!.hash).problems).toEqual([]);
    const cut = chainOf(entry('2026-11-01T00:00:00.000Z', 1), entry('2026-11-02T00:00:00.000Z', 2));
    expect(checkChain(ID, [...cut, ...again], again[0]!.hash).problems).toEqual([`${ID}: history entry ${again[0]!.sk} starts a new chain after ${cut[1]!.sk} (an entry between them was removed)`]);
  });
});

describe('planRecord links history', () => {
  const stored = (f: Finding, rev: number, chainHead?: string): PreviousState => ({ ...f, firstSeen: f.auditedAt, rev, ...(chainHead ? { chainHead } : {}) });

  test('a new entry links to the state\'s head, and the state written carries the new head (conditional on the head read)', () => {
    const before = stored(finding(), 1, 'h1');
    const plan = planRecord([finding({ verdict: 'compliant', mode: 'sse-kms', kmsKeyArn: 'k', auditedAt: '2026-11-24T10:00:00.000Z' })], new Map([[ID, before]]));
    const [written] = plan.history;
    expect(written!.entry.prevHash).toBe('h1');
    expect(written!.entry.hash).toBe(entryHash(ID, written!.entry));
    expect(plan.states[0]).toMatchObject({ expectedRev: 1, expectedHead: 'h1', state: { chainHead: written!.entry.hash } });
  });

  test('a removal links too; a state that gains facts only keeps its head', () => {
    const removal = planRecord([finding({ removed: true, auditedAt: '2026-11-24T10:00:00.000Z' })], new Map([[ID, stored(finding(), 2, 'h2')]]));
    expect(removal.history[0]!.entry).toMatchObject({ removed: true, prevHash: 'h2' });
    expect(removal.deletes[0]).toMatchObject({ expectedRev: 2, expectedHead: 'h2' });
    const facts = { objectLock: {} } as Finding['facts'];
    const gains = planRecord([finding({ facts, auditedAt: '2026-11-24T10:00:00.000Z' })], new Map([[ID, stored(finding(), 2, 'h2')]]));
    expect(gains.history).toEqual([]);
    expect(gains.states[0]!.state.chainHead).toBe('h2');
  });
});
