// The tamper-evident history: each history entry of an object carries `hash`, the SHA-256 of a
// canonical serialisation of all its stored fields (sorted keys, so fields added later are covered
// without a change here) and of the object it belongs to, and `prevHash`, the hash of the entry
// before it for that object. The object's state item keeps the newest hash (`chainHead`), so a new
// entry links to it inside the same conditional transaction that writes the state (no extra read).
//
// An edited entry no longer matches its hash; a removed entry leaves a link to nothing (or a state
// whose head is missing). Entries written before hashing have no hash: a chain starts at the first
// hashed entry, and a reader says where history is unchained. A chain also restarts after the object
// was removed (its state, and with it the head, went away). A fix entry recorded for an object that
// has no state (nothing to link to) is sealed alone: hashed, not linked. Fixes folded from an S3
// Batch Operations report are linked like any other fix (findings/batch-job-store.ts).
import { createHash } from 'node:crypto';
import type { HistoryEntry } from './store.ts';

/** JSON with object keys sorted at every depth: DynamoDB does not keep the order of a map's keys. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_name, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The hash of an entry of object `<bucket>/<key>`: every stored field but the hash itself. */
export function entryHash(objectId: string, entry: HistoryEntry | Record<string, unknown>): string {
  const { hash: _hash, pk: _pk, sk: _sk, ...fields } = entry as Record<string, unknown>;
  return createHash('sha256').update(canonicalJson({ object: objectId, entry: fields })).digest('hex');
}

/** The entry linked after `head` (none: the chain starts here), with its own hash. */
export function chained(objectId: string, entry: HistoryEntry, head: string | undefined): HistoryEntry {
  const { hash: _h, prevHash: _p, ...fields } = entry;
  const linked: HistoryEntry = { ...fields, ...(head ? { prevHash: head } : {}) };
  return { ...linked, hash: entryHash(objectId, linked) };
}

/** A history entry as read back, with its sort key (where it sits in the object's partition). */
export interface StoredHistoryEntry extends HistoryEntry {
  sk: string;
}

export interface ChainCheck {
  /** One line per problem; empty when the history holds. */
  problems: string[];
  /** Entries before the first hashed one (written before hashing): not covered by the chain. */
  unchained: number;
  /** Hashed entries checked. */
  chained: number;
}

/**
 * Checks one object's history: every hashed entry matches its hash, every link names an entry that
 * exists, no entry has two successors, a chain starts only at the first hashed entry or after a
 * removal, and the state's head (when the object has a state) is the newest entry.
 */
export function checkChain(objectId: string, entries: StoredHistoryEntry[], stateHead?: string): ChainCheck {
  const problems: string[] = [];
  const sorted = [...entries].sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
  const hashed = sorted.filter((e) => e.hash !== undefined);
  const firstHashed = sorted.findIndex((e) => e.hash !== undefined);
  const unchained = firstHashed === -1 ? sorted.length : firstHashed;
  const byHash = new Map<string, StoredHistoryEntry>();
  for (const entry of hashed) {
    if (entryHash(objectId, entry) !== entry.hash) problems.push(`${objectId}: history entry ${entry.sk} does not match its hash (edited)`);
    byHash.set(entry.hash!, entry);
  }
  const successors = new Map<string, StoredHistoryEntry[]>();
  for (const entry of hashed) {
    if (entry.prevHash) {
      if (!byHash.has(entry.prevHash)) problems.push(`${objectId}: history entry ${entry.sk} links to an entry that is missing (removed)`);
      successors.set(entry.prevHash, [...(successors.get(entry.prevHash) ?? []), entry]);
    }
  }
  for (const [hash, next] of successors) {
    if (next.length > 1) problems.push(`${objectId}: history entry ${byHash.get(hash)?.sk ?? hash} has ${next.length} successors (${next.map((e) => e.sk).join(', ')})`);
  }
  // Starts of a chain: allowed at the first hashed entry, after a removal, and for a fix sealed alone.
  hashed.forEach((entry) => {
    if (entry.prevHash || entry.sealedAlone) return;
    const index = sorted.indexOf(entry);
    const before = sorted.slice(0, index).filter((e) => e.hash !== undefined && !e.sealedAlone);
    const last = before.at(-1);
    if (last && !last.removed) problems.push(`${objectId}: history entry ${entry.sk} starts a new chain after ${last.sk} (an entry between them was removed)`);
  });
  if (stateHead !== undefined && !byHash.has(stateHead)) {
    problems.push(`${objectId}: the newest history entry (the state's chain head) is missing (removed)`);
  } else if (stateHead !== undefined && successors.has(stateHead)) {
    problems.push(`${objectId}: the state's chain head is not the newest history entry`);
  }
  return { problems, unchained, chained: hashed.length };
}

