// The key ranges a report's reconciliation is fanned out over, one queue message each, so that no
// message holds more than `keysPerRange` of the report's keys. Pure.
//
// Ranges, not hashes: a range's recorded findings are one Query of the bucket index (its sort key
// is the object key), where a hash partition would read every finding of the bucket. The bounds
// are quantiles of keys sampled while the data files were audited (the first key of each
// message's slice), so ranges hold about the same number of keys whatever the keys look like.
// Keys compare as DynamoDB compares them, by their UTF-8 bytes: the report's side and the
// findings' side of a range must agree on every key, or a listed object could look unlisted.
export interface KeyRange {
  /** Inclusive; absent: from the first key. */
  from?: string;
  /** Exclusive; absent: to the last key. */
  to?: string;
}

export const compareKeys = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export function inRange(key: string, range: KeyRange): boolean {
  return (range.from === undefined || compareKeys(key, range.from) >= 0) && (range.to === undefined || compareKeys(key, range.to) < 0);
}

/**
 * ceil(2 × rows / keysPerRange) ranges (half full on average: a sample's quantiles are not exact)
 * whose bounds are sampled keys, spread evenly over the sample; fewer when the sample has fewer
 * distinct keys. A range that still holds more than the limit keeps the keys past it in a Bloom
 * filter (listed-keys.ts), which only errs towards keeping a finding.
 */
export function keyRanges(sampleKeys: readonly string[], rows: number, keysPerRange: number): KeyRange[] {
  const wanted = Math.max(1, Math.ceil((2 * rows) / keysPerRange));
  const sorted = [...new Set(sampleKeys)].sort(compareKeys);
  const bounds: string[] = [];
  for (let i = 1; i < wanted; i++) {
    const bound = sorted[Math.floor((i * sorted.length) / wanted)];
    if (bound !== undefined && bound !== bounds.at(-1) && (bounds.length > 0 || bound !== sorted[0])) bounds.push(bound);
  }
  if (bounds.length === 0) return [{}];
  return [{ to: bounds[0]! }, ...bounds.slice(1).map((to, i) => ({ from: bounds[i]!, to })), { from: bounds.at(-1)! }];
}
