import { describe, expect, test } from 'vitest';
import { compareKeys, inRange, keyRanges } from '../../shared/inventory/key-ranges.ts';

describe('key ranges of a reconciliation', () => {
  const keys = Array.from({ length: 100 }, (_, i) => `k-${String(i).padStart(3, '0')}`);

  test('a report of 100 keys with 50 keys per message: four ranges (half full on average) that hold every key exactly once, each about 25', () => {
    const sample = keys.filter((_, i) => i % 10 === 0);
    const ranges = keyRanges(sample, keys.length, 50);
    expect(ranges).toHaveLength(4);
    for (const key of keys) expect(ranges.filter((r) => inRange(key, r))).toHaveLength(1);
    for (const range of ranges) expect(keys.filter((k) => inRange(k, range)).length).toBeLessThanOrEqual(30);
  });

  test('a report within one message\'s budget, or no sample: one range of every key', () => {
    expect(keyRanges(keys, keys.length, 1_000)).toEqual([{}]);
    expect(keyRanges(keys, keys.length, 200)).toEqual([{}]);
    expect(keyRanges([], 5_000, 10)).toEqual([{}]);
  });

  test('keys compare by their UTF-8 bytes, as DynamoDB sorts them, not by UTF-16 code units', () => {
    // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (4 bytes, F0 9F 98 80) in UTF-8; in UTF-16 the surrogate D83D comes first.
    expect('\u{1F600}' < '\uFF5E').toBe(true);
    expect(compareKeys('\uFF5E', '\u{1F600}')).toBeLessThan(0);
    const ranges = keyRanges(['a', '\uFF5E', '\u{1F600}'], 3, 1);
    for (const key of ['a', 'b', '\uFF5E', '\u{1F600}', 'z']) expect(ranges.filter((r) => inRange(key, r))).toHaveLength(1);
  });
});
