// The order of two S3 events for the same key, by their sequencers: plain data the events carry
// and the recorder decides with (findings/record-decision.ts). Pure.

/**
 * Orders two S3 sequencers for the same key. AWS: compare as hexadecimal strings after
 * right-padding the shorter with zeros. Returns <0, 0, >0 like a comparator.
 */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const left = a.toUpperCase().padEnd(width, '0');
  const right = b.toUpperCase().padEnd(width, '0');
  return left < right ? -1 : left > right ? 1 : 0;
}
