// How many objects the scan audits at once, AIMD-style as TCP does: each success adds about one
// slot per window, throttling halves the window (at most once per cooldown, so one burst of
// errors from requests already in flight counts once). A run under throttling then completes at
// the rate AWS allows instead of burning its retry budget at full speed.

export interface AdaptiveLimitOptions {
  max: number;
  min?: number;
  /** After a decrease, further throttling within this long does not decrease again. */
  cooldownMs?: number;
  now?: () => number;
}

export class AdaptiveLimit {
  private window: number;
  private active = 0;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  private readonly waiters: (() => void)[] = [];
  private readonly min: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AdaptiveLimitOptions) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError(`max must be a whole number ≥ 1, got ${options.max}`);
    this.window = options.max;
    this.min = Math.max(1, Math.min(options.min ?? 1, options.max));
    this.cooldownMs = options.cooldownMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** Slots open now. */
  get limit(): number {
    return Math.floor(this.window);
  }

  get inFlight(): number {
    return this.active;
  }

  async acquire(): Promise<void> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.active += 1;
  }

  /** Frees a slot and adapts the window to how the work went. */
  release(result: 'ok' | 'throttled'): void {
    this.active -= 1;
    if (result === 'ok') {
      this.window = Math.min(this.options.max, this.window + 1 / Math.max(1, this.window));
    } else if (this.now() - this.lastDecrease >= this.cooldownMs) {
      this.window = Math.max(this.min, this.window / 2);
      this.lastDecrease = this.now();
    }
    // Wake everyone: the window may have grown by more than one slot.
    for (const wake of this.waiters.splice(0)) wake();
  }
}

export interface DeferPolicy {
  /** Tries per object in one run, the first included. */
  attemptsPerObject: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retries the run may spend: this many, plus `budgetPerObject` for each object listed. */
  budgetBase: number;
  budgetPerObject: number;
}

export const DEFAULT_DEFER_POLICY: DeferPolicy = { attemptsPerObject: 10, baseDelayMs: 200, maxDelayMs: 5_000, budgetBase: 100, budgetPerObject: 1 };

/** When a deferred object is tried again: exponential backoff with jitter (half fixed, half random). */
export function deferDelayMs(attempt: number, policy: DeferPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Maps items with at most `limit` calls in flight, results in input order. */
export async function mapConcurrently<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
