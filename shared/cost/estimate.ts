// What an audit and a fix of one bucket will cost, before anything runs. Pure: (tally, prices,
// options) → numbers. Every figure is requests × price; every duration is work ÷ the tightest rate
// (S3 per-prefix rates × prefixes, and the share of the Region's KMS quota the run may take).
//
// Fix methods (DESIGN.md "Remediation"), per source mode → target:
// | source                 | target sse-kms                  | target dsse-kms / sse-s3 |
// |------------------------|---------------------------------|--------------------------|
// | sse-s3, sse-kms        | UpdateObjectEncryption (update) | copy                     |
// | none, dsse-kms         | copy                            | copy                     |
// | sse-c                  | blocked (no key to read it)     | blocked                  |
// Objects already in the target mode need nothing (a KMS key change is invisible in the inventory:
// see the keys table). A noncurrent version is never copied in place: it is `blocked` when only a
// copy would fix it. Batch Operations carries the updates only; copies stay per object (conditional).
import { DAY_MS, DEFAULT_REVERIFY_DAYS, reverifyHeadsPerSweep } from '../inventory/reverify.ts';
import { kmsQuotaFor, type Prices } from './prices.ts';
import type { Count, InventoryTally, TallyMode } from './tally.ts';

export type FixTarget = 'sse-kms' | 'dsse-kms' | 'sse-s3';

export interface PlanOptions {
  region: string;
  target: FixTarget;
  bucketKey: boolean;
  /** The policy looks at client-side envelopes: an inventory sweep HEADs new/changed objects of every mode. */
  clientSideMatters: boolean;
  /** Every KMS object is HEADed again at least this often (SSEGUARD_REVERIFY_DAYS; default 30). */
  reverifyDays?: number;
  /** Hours between inventory sweeps (a daily report: 24, the default). */
  sweepIntervalHours?: number;
}

export interface Cost {
  s3Requests: number;
  kmsCalls: number;
  dollars: number;
  hours: number;
  /** What bounds the duration. */
  pacedBy: 's3-read' | 's3-write' | 'kms' | 'none';
}

export interface FixCount extends Count {
  method: 'update' | 'copy' | 'multipart-copy' | 'blocked' | 'none';
}

export interface Plan {
  bucket: string;
  inventoryDate?: string;
  prices: { date: string; region: string; source: string };
  rates: { kmsPerSecond: number; kmsShare: number; prefixes: number; prefixesCapped: boolean; s3ReadPerSecond: number; s3WritePerSecond: number };
  objects: number;
  bytes: number;
  byMode: Partial<Record<TallyMode, { current: Count; noncurrent: Count }>>;
  byKey: Record<string, Count>;
  audit: {
    headSweep: Cost;
    /** First inventory sweep: no recorded finding yet, every KMS object is read once. */
    inventorySweepFirst: Cost;
    /** Later sweeps: only the share of KMS objects that changed. */
    inventorySweepSteady: Cost;
    /** The rolling re-check, per sweep: the KMS objects whose phase falls in the sweep's window (shared/inventory/reverify.ts). */
    reverify: Cost & { days: number; sweepIntervalHours: number; headsPerSweep: number };
  };
  fix: {
    target: FixTarget;
    bucketKey: boolean;
    byMethod: FixCount[];
    perObject: Cost;
    batch: Cost & { jobs: number };
  };
}

const KMS_MODES: readonly TallyMode[] = ['sse-kms', 'dsse-kms'];

function fixMethod(source: TallyMode, target: FixTarget, current: boolean): FixCount['method'] {
  if (source === target) return 'none';
  if (source === 'sse-c' || source === 'unknown' || source === 'client-side') return 'blocked';
  if (target === 'sse-kms' && (source === 'sse-s3' || source === 'sse-kms')) return 'update';
  return current ? 'copy' : 'blocked';
}

export function planFor(bucket: string, tally: InventoryTally, prices: Prices, options: PlanOptions, inventoryDate?: Date): Plan {
  const a = prices.assumptions;
  const kmsPerSecond = kmsQuotaFor(prices, options.region) * a.kmsQuotaShare;
  const s3ReadPerSecond = prices.quotas.s3ReadPerPrefixPerSecond * tally.prefixes;
  const s3WritePerSecond = prices.quotas.s3WritePerPrefixPerSecond * tally.prefixes;
  const put = prices.s3.putCopyPostListPer1000 / 1000;
  const get = prices.s3.getHeadPer1000 / 1000;
  const kmsPrice = prices.kms.per10000Requests / 10_000;

  function cost(reads: number, writes: number, kmsCalls: number, extraDollars = 0): Cost {
    const seconds = { 's3-read': reads / s3ReadPerSecond, 's3-write': writes / s3WritePerSecond, kms: kmsCalls / kmsPerSecond };
    const [pacedBy, longest] = (Object.entries(seconds) as [Cost['pacedBy'], number][]).reduce((x, y) => (y[1] > x[1] ? y : x), ['none', 0] as [Cost['pacedBy'], number]);
    return {
      s3Requests: reads + writes,
      kmsCalls: Math.ceil(kmsCalls),
      dollars: round(reads * get + writes * put + kmsCalls * kmsPrice + extraDollars),
      hours: round(longest / 3600),
      pacedBy,
    };
  }

  const modes = Object.entries(tally.byMode) as [TallyMode, NonNullable<InventoryTally['byMode'][TallyMode]>][];
  const count = (pick: (mode: TallyMode) => boolean) =>
    modes.filter(([mode]) => pick(mode)).reduce((n, [, t]) => n + t.current.objects + t.noncurrent.objects, 0);

  // Audit. A HEAD sweep lists (1,000 keys a page) and HEADs every object; HeadObject calls no KMS.
  const listPages = Math.ceil(tally.objects / 1000);
  const headSweep = cost(tally.objects, listPages, 0);
  const kmsObjects = count((m) => KMS_MODES.includes(m));
  const headedFirst = options.clientSideMatters ? count((m) => m !== 'sse-c') : kmsObjects;
  const inventoryDollars = (tally.objects / 1e6) * prices.s3.inventoryPerMillionObjects;
  const inventorySweepFirst = cost(headedFirst, 0, 0, inventoryDollars);
  const inventorySweepSteady = cost(Math.ceil(headedFirst * a.dailyChangeShare), 0, 0, inventoryDollars);
  const days = options.reverifyDays ?? DEFAULT_REVERIFY_DAYS;
  const sweepIntervalHours = options.sweepIntervalHours ?? 24;
  const headsPerSweep = reverifyHeadsPerSweep(kmsObjects, sweepIntervalHours * 3_600_000, days * DAY_MS);
  // Each re-check is a HeadObject and, when the key's facts are not cached, a DescribeKey: counted per key, not per object.
  const reverify = { ...cost(headsPerSweep, 0, 0), days, sweepIntervalHours, headsPerSweep };

  // Fix.
  const kmsPerWrite = (options.target === 'sse-s3' ? 0 : 1) * (options.bucketKey ? a.bucketKeyKmsFactor : 1);
  const decryptOf = (source: TallyMode) => (KMS_MODES.includes(source) ? 1 : 0);
  const byMethod = new Map<FixCount['method'], FixCount>();
  const add = (method: FixCount['method'], c: Count) => {
    const f = byMethod.get(method) ?? { method, objects: 0, bytes: 0 };
    f.objects += c.objects;
    f.bytes += c.bytes;
    byMethod.set(method, f);
  };
  let updates = 0;
  let updateKms = 0;
  let copyWrites = 0;
  let copyReads = 0;
  let copyKms = 0;
  for (const [source, t] of modes) {
    for (const [current, c] of [[true, t.current], [false, t.noncurrent]] as const) {
      if (c.objects === 0) continue;
      const method = fixMethod(source, options.target, current);
      if (method === 'update') {
        add('update', c);
        updates += c.objects;
        updateKms += c.objects * (decryptOf(source) + kmsPerWrite);
      } else if (method === 'copy') {
        const small = { objects: c.objects - t.large.objects, bytes: c.bytes - t.large.bytes };
        if (small.objects > 0) add('copy', small);
        if (t.large.objects > 0) add('multipart-copy', t.large);
        // CopyObject, or Create + parts + Complete; then a HeadObject to verify.
        copyWrites += small.objects + t.large.parts + 2 * t.large.objects;
        copyReads += c.objects;
        copyKms += c.objects * (decryptOf(source) + kmsPerWrite);
      } else {
        add(method, c);
      }
    }
  }
  // Per object: each update is one request plus a verifying HeadObject.
  const perObject = cost(updates + copyReads, updates + copyWrites, updateKms + copyKms);
  const jobs = updates > 0 ? 1 : 0;
  const batchDollars = jobs * prices.s3.batchPerJob + (updates / 1e6) * prices.s3.batchPerMillionObjects;
  // Batch: the job makes the update requests (one CSV manifest and a completion report written too); no HEAD per object.
  const batch = { ...cost(copyReads, updates + copyWrites + 2 * jobs, updateKms + copyKms, batchDollars), jobs };

  return {
    bucket,
    ...(inventoryDate ? { inventoryDate: inventoryDate.toISOString() } : {}),
    prices: { date: prices.date, region: prices.region, source: prices.source },
    rates: { kmsPerSecond, kmsShare: a.kmsQuotaShare, prefixes: tally.prefixes, prefixesCapped: tally.prefixesCapped, s3ReadPerSecond, s3WritePerSecond },
    objects: tally.objects,
    bytes: tally.bytes,
    byMode: Object.fromEntries(modes.map(([m, t]) => [m, { current: t.current, noncurrent: t.noncurrent }])),
    byKey: tally.byKey,
    audit: { headSweep, inventorySweepFirst, inventorySweepSteady, reverify },
    fix: { target: options.target, bucketKey: options.bucketKey, byMethod: [...byMethod.values()], perObject, batch },
  };
}

// Micro-dollar precision: small buckets cost fractions of a cent, and tests compare exact sums.
const round = (n: number) => Math.round(n * 1e6) / 1e6;

export const isFixTarget = (value: string): value is FixTarget => ['sse-kms', 'dsse-kms', 'sse-s3'].includes(value);
