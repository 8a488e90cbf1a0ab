// Rolling re-verification: every KMS-encrypted object is re-checked against its live key (a
// HeadObject of its version, then the key's facts) at least every `period`, spread evenly over the
// sweeps. UpdateObjectEncryption from key A to key B keeps the version, ETag, mode and LastModified
// and sends no event: no report diff and no inventory column can see it, only a HEAD. Pure.
//
// Stateless selection: each object (bucket, key, version) has a phase in [0, period), from a hash of
// its name. Time is cut into periods since the epoch; an object is due in a sweep when a moment
// `epoch + n·period + phase` falls in the sweep's window (previous swept report's date, this report's
// date]. Consecutive windows tile time, so every object falls in exactly one window per period: each
// sweep re-checks about window/period of the KMS objects, and a key change is found within
// `period` plus one sweep interval. A window of a whole period or more takes every KMS object.
import { createHash } from 'node:crypto';

export const DEFAULT_REVERIFY_DAYS = 30;
export const DAY_MS = 86_400_000;

export interface ReverifyWindow {
  /** Exclusive: the previous swept report's date. */
  after: Date;
  /** Inclusive: this report's date. */
  until: Date;
  periodMs: number;
}

/** The object's phase in [0, periodMs): the first 48 bits of SHA-256 of bucket, key and version. */
export function reverifyPhaseMs(bucket: string, key: string, versionId: string | undefined, periodMs: number): number {
  const digest = createHash('sha256').update(`${bucket}\u0000${key}\u0000${versionId ?? ''}`).digest();
  return digest.readUIntBE(0, 6) % periodMs;
}

const modulo = (n: number, m: number) => ((n % m) + m) % m;

/** Whether a moment of phase `phaseMs` (mod the period) lies in (after, until]. */
export function phaseInWindow(phaseMs: number, window: ReverifyWindow): boolean {
  const from = window.after.getTime();
  const to = window.until.getTime();
  if (to <= from) return false;
  if (to - from >= window.periodMs) return true;
  // The first moment after `from` with this phase.
  const offset = modulo(phaseMs - from, window.periodMs);
  return from + (offset === 0 ? window.periodMs : offset) <= to;
}

export function dueForReverify(bucket: string, key: string, versionId: string | undefined, window: ReverifyWindow): boolean {
  return phaseInWindow(reverifyPhaseMs(bucket, key, versionId, window.periodMs), window);
}

/** HeadObject calls per sweep for the re-check: the KMS objects times the window's share of the period. */
export function reverifyHeadsPerSweep(kmsObjects: number, sweepIntervalMs: number, periodMs: number): number {
  return Math.ceil(kmsObjects * Math.min(1, sweepIntervalMs / periodMs));
}
