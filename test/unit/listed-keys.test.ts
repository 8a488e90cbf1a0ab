import { describe, expect, test } from 'vitest';
import { listedKeys } from '../../shared/inventory/listed-keys.ts';

const key = (i: number) => `logs/2026/11/${i % 997}/object-${i}.json.gz`;

describe('keys listed by a report', () => {
  test('below the exact limit: exact answers', () => {
    const keys = listedKeys({ exactLimit: 100 });
    for (let i = 0; i < 100; i++) keys.add(key(i));
    keys.add(key(5));
    expect(keys.size).toBe(100);
    expect(keys.approximate).toBe(false);
    expect(keys.has(key(99))).toBe(true);
    expect(keys.has(key(100))).toBe(false);
  });

  test('past it: never "not listed" for a listed key, and false positives within the rate, over several growing slices', () => {
    const keys = listedKeys({ exactLimit: 1_000, falsePositiveRate: 0.01, seed: 42 });
    const added = 60_000; // the first slice holds 4,000: this needs four more
    for (let i = 0; i < added; i++) keys.add(key(i));
    expect(keys.approximate).toBe(true);
    expect(keys.size).toBe(added);
    for (let i = 0; i < added; i++) if (!keys.has(key(i))) throw new Error(`listed key ${key(i)} reported as not listed`);
    let falsePositives = 0;
    const probes = 100_000;
    for (let i = added; i < added + probes; i++) if (keys.has(key(i))) falsePositives += 1;
    expect(falsePositives / probes).toBeLessThan(0.01);
  });

  test('a different seed errs on different keys: a stale finding is not kept by the same false positive twice', () => {
    const [a, b] = [listedKeys({ exactLimit: 10, seed: 1 }), listedKeys({ exactLimit: 10, seed: 2 })];
    for (let i = 0; i < 5_000; i++) {
      a.add(key(i));
      b.add(key(i));
    }
    const wrong = (keys: typeof a) => new Set(Array.from({ length: 50_000 }, (_, i) => key(5_000 + i)).filter((k) => keys.has(k)));
    const [fa, fb] = [wrong(a), wrong(b)];
    expect(fa.size).toBeGreaterThan(0);
    const both = [...fa].filter((k) => fb.has(k)).length;
    expect(both).toBeLessThan(fa.size / 10);
  });
});
