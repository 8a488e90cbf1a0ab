// The keys a report listed, for reconciliation (which recorded objects did it not list?), in memory
// that stays bounded at a billion keys. Pure.
//
// Up to `exactLimit` keys they are held exactly. Past it they move into a scalable Bloom filter:
// slices of growing capacity, each at a tighter false-positive rate, so the whole stays below
// `falsePositiveRate` whatever the count (Almeida et al., "Scalable Bloom Filters", 2007), at about
// 1.2 bytes a key for 1%: 1.2 GB for a billion keys, where a Set would need ~100 GB.
//
// A Bloom filter never says "not listed" of a listed key. It may say "listed" of a key that was not:
// that object's finding is kept one report longer, the safe direction (a present object is never
// removed). Each run hashes with its own seed, so the same stale finding is not kept twice in a row
// except by chance (1% × 1%).
export interface ListedKeys {
  add(key: string): void;
  /** false: certainly not listed. true: listed, or (past the exact limit) rarely a false positive. */
  has(key: string): boolean;
  readonly size: number;
  /** Whether `has` can answer true for a key that was not added. */
  readonly approximate: boolean;
}

export interface ListedKeysOptions {
  exactLimit?: number;
  falsePositiveRate?: number;
  /** Per run; a random one by default. */
  seed?: number;
}

/** FNV-1a over UTF-16 code units, seeded: fast, and good enough to index a Bloom filter. */
function fnv1a(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // Final avalanche (murmur3 fmix32): FNV alone clusters on keys that differ in their last characters.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  return (hash ^ (hash >>> 16)) >>> 0;
}

class BloomSlice {
  readonly bits: Uint8Array;
  readonly bitCount: number;
  readonly hashes: number;
  count = 0;

  constructor(
    readonly capacity: number,
    rate: number,
  ) {
    // m = -n ln p / (ln 2)^2, k = (m / n) ln 2 (the optimal numbers of bits and of hashes).
    this.bitCount = Math.max(64, Math.ceil((-capacity * Math.log(rate)) / Math.LN2 ** 2));
    this.hashes = Math.max(1, Math.round((this.bitCount / capacity) * Math.LN2));
    this.bits = new Uint8Array(Math.ceil(this.bitCount / 8));
  }

  // Kirsch–Mitzenmacher: k indexes from two hashes, h1 + i·h2 (h2 made odd, and unsigned: `|` alone
  // makes it a signed 32-bit number). Loops rather than a generator: this runs once per listed key.
  add(h1: number, h2: number): void {
    const step = (h2 | 1) >>> 0;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + i * step) % this.bitCount;
      this.bits[bit >>> 3]! |= 1 << (bit & 7);
    }
    this.count += 1;
  }

  has(h1: number, h2: number): boolean {
    const step = (h2 | 1) >>> 0;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + i * step) % this.bitCount;
      if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }
}

export function listedKeys(options: ListedKeysOptions = {}): ListedKeys {
  const exactLimit = options.exactLimit ?? 1_000_000;
  const rate = options.falsePositiveRate ?? 0.01;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  let exact: Set<string> | undefined = new Set<string>();
  const slices: BloomSlice[] = [];
  let size = 0;

  const hashes = (key: string): [number, number] => [fnv1a(key, seed), fnv1a(key, seed ^ 0x9e3779b9)];

  function addApproximate(key: string): void {
    let slice = slices.at(-1);
    if (!slice || slice.count >= slice.capacity) {
      // Each slice holds twice the last and errs half as often: the sum stays below `rate`.
      const capacity = slice ? slice.capacity * 2 : Math.max(exactLimit * 4, 1024);
      slice = new BloomSlice(capacity, rate / 2 ** (slices.length + 1));
      slices.push(slice);
    }
    const [h1, h2] = hashes(key);
    slice.add(h1, h2);
  }

  return {
    add(key) {
      if (exact) {
        if (exact.has(key)) return;
        exact.add(key);
        size += 1;
        if (exact.size > exactLimit) {
          for (const k of exact) addApproximate(k);
          exact = undefined;
        }
        return;
      }
      // Past the exact limit a repeated key cannot be told from a new one: it counts again, harmless.
      addApproximate(key);
      size += 1;
    },
    has(key) {
      if (exact) return exact.has(key);
      const [h1, h2] = hashes(key);
      return slices.some((slice) => slice.has(h1, h2));
    },
    get size() {
      return size;
    },
    get approximate() {
      return exact === undefined;
    },
  };
}
