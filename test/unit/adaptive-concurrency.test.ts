import { describe, expect, test } from 'vitest';
import { AdaptiveLimit, DEFAULT_DEFER_POLICY, deferDelayMs } from '../../shared/audit/adaptive-concurrency.ts';

describe('AdaptiveLimit (AIMD)', () => {
  test('throttling halves the window, once per cooldown; successes grow it back by about one slot per window', () => {
    let now = 0;
    const limit = new AdaptiveLimit({ max: 16, cooldownMs: 1_000, now: () => now });
    const run = async (result: 'ok' | 'throttled') => {
      await limit.acquire();
      limit.release(result);
    };
    return (async () => {
      await run('throttled');
      expect(limit.limit).toBe(8);
      // A burst of errors from requests already in flight counts once.
      await run('throttled');
      await run('throttled');
      expect(limit.limit).toBe(8);
      now += 1_000;
      await run('throttled');
      expect(limit.limit).toBe(4);
      for (let i = 0; i < 4; i++) await run('ok');
      expect(limit.limit).toBe(4);
      for (let i = 0; i < 40; i++) await run('ok');
      expect(limit.limit).toBeGreaterThanOrEqual(8);
      for (let i = 0; i < 1_000; i++) await run('ok');
      expect(limit.limit).toBe(16);
    })();
  });

  test('never below one slot, and never more in flight than the window allows', async () => {
    let now = 0;
    const limit = new AdaptiveLimit({ max: 4, cooldownMs: 0, now: () => now++ });
    for (let i = 0; i < 10; i++) {
      await limit.acquire();
      limit.release('throttled');
    }
    expect(limit.limit).toBe(1);
    await limit.acquire();
    let second = false;
    const waiting = limit.acquire().then(() => (second = true));
    await Promise.resolve();
    expect(second).toBe(false);
    expect(limit.inFlight).toBe(1);
    limit.release('ok');
    await waiting;
    expect(second).toBe(true);
  });

  test('rejects a maximum that is not a whole number ≥ 1', () => {
    expect(() => new AdaptiveLimit({ max: 0 })).toThrow(RangeError);
  });
});

test('deferred audits back off exponentially with jitter, capped', () => {
  const policy = { ...DEFAULT_DEFER_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
  expect(deferDelayMs(1, policy, () => 0)).toBe(50);
  expect(deferDelayMs(1, policy, () => 1)).toBe(100);
  expect(deferDelayMs(3, policy, () => 1)).toBe(400);
  expect(deferDelayMs(10, policy, () => 1)).toBe(1_000);
  expect(deferDelayMs(10, policy, () => 0)).toBe(500);
});
