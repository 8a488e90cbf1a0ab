import { describe, expect, test } from 'vitest';
import type { InventoryRow } from '../../shared/inventory/row.ts';
import { planFor, type PlanOptions } from '../../shared/cost/estimate.ts';
import { PRICES, PricesError, pricesWith } from '../../shared/cost/prices.ts';
import { tallier, type InventoryTally } from '../../shared/cost/tally.ts';

const GiB = 1024 ** 3;
const options: PlanOptions = { region: 'us-east-1', target: 'sse-kms', bucketKey: false, clientSideMatters: false };
const row = (over: Partial<InventoryRow>): InventoryRow => ({ bucket: 'b', key: 'k', isDeleteMarker: false, size: 100, encryptionStatus: 'SSE-S3', ...over });

/** A billion objects spread over many prefixes, all in one mode. */
function fleet(mode: 'sse-s3' | 'sse-kms' | 'none', prefixes = 1000): InventoryTally {
  const n = 1e9;
  return {
    objects: n,
    bytes: n * 1024,
    deleteMarkers: 0,
    byMode: { [mode]: { current: { objects: n, bytes: n * 1024 }, noncurrent: { objects: 0, bytes: 0 }, large: { objects: 0, bytes: 0, parts: 0 } } },
    byKey: {},
    prefixes,
    prefixesCapped: false,
  };
}

describe('tally: objects and bytes by mode and key in one pass', () => {
  test('counts current and noncurrent versions apart, skips delete markers, keys KMS objects, and counts top-level prefixes', () => {
    const t = tallier({ partBytes: 512 * 1024 ** 2, keyOf: (r) => (r.key === 'a/kms' ? 'arn:key/1' : undefined) });
    t.add(row({ key: 'a/x', size: 10 }));
    t.add(row({ key: 'a/x', size: 7, isLatest: false }));
    t.add(row({ key: 'a/kms', encryptionStatus: 'SSE-KMS', size: 5 }));
    t.add(row({ key: 'b/kms', encryptionStatus: 'DSSE-KMS', size: 3 }));
    t.add(row({ key: 'top', encryptionStatus: 'NOT-SSE', size: 6 * GiB }));
    t.add(row({ key: 'gone', isDeleteMarker: true, encryptionStatus: undefined, size: undefined }));
    const r = t.result();
    expect(r.objects).toBe(5);
    expect(r.deleteMarkers).toBe(1);
    expect(r.byMode['sse-s3']).toMatchObject({ current: { objects: 1, bytes: 10 }, noncurrent: { objects: 1, bytes: 7 } });
    expect(r.byMode['none']?.large).toEqual({ objects: 1, bytes: 6 * GiB, parts: 12 });
    expect(r.byKey).toEqual({ 'arn:key/1': { objects: 1, bytes: 5 }, unknown: { objects: 1, bytes: 3 } });
    expect(r.prefixes).toBe(3);
  });
});

describe('the audit, priced', () => {
  test('a HEAD sweep of a billion objects costs about $400 of requests (plus listing); the inventory sweep of SSE-S3 objects $2.50 and no HEAD', () => {
    const plan = planFor('b', fleet('sse-s3'), PRICES, options);
    expect(plan.audit.headSweep.dollars).toBeCloseTo(400 + 5, 2); // 1e9 HEAD × $0.0004/1k + 1e6 LIST × $0.005/1k
    expect(plan.audit.headSweep.kmsCalls).toBe(0);
    expect(plan.audit.inventorySweepFirst).toMatchObject({ s3Requests: 0, dollars: 2.5 });
  });

  test('KMS objects are HEADed once on the first inventory sweep, then only the changed share', () => {
    const plan = planFor('b', fleet('sse-kms'), PRICES, options);
    expect(plan.audit.inventorySweepFirst.s3Requests).toBe(1e9);
    expect(plan.audit.inventorySweepSteady.s3Requests).toBe(1e7);
    expect(plan.audit.inventorySweepSteady.dollars).toBeCloseTo(2.5 + 4, 4);
  });

  test('the rolling re-check HEADs every KMS object once per period, spread over the sweeps: daily sweeps, 30 days, a billion KMS objects', () => {
    const plan = planFor('b', fleet('sse-kms'), PRICES, options);
    expect(plan.audit.reverify).toMatchObject({ days: 30, sweepIntervalHours: 24, headsPerSweep: 33_333_334, s3Requests: 33_333_334 });
    expect(plan.audit.reverify.dollars).toBeCloseTo(33_333_334 * 0.0004 / 1000, 4);
    expect(planFor('b', fleet('sse-s3'), PRICES, options).audit.reverify.headsPerSweep).toBe(0);
    expect(planFor('b', fleet('sse-kms'), PRICES, { ...options, reverifyDays: 7, sweepIntervalHours: 24 * 7 }).audit.reverify.headsPerSweep).toBe(1e9);
  });

  test('with client-side encryption in the policy, every object (not only KMS) is HEADed on the first sweep', () => {
    expect(planFor('b', fleet('sse-s3'), PRICES, { ...options, clientSideMatters: true }).audit.inventorySweepFirst.s3Requests).toBe(1e9);
  });
});

describe('the fix, priced and paced', () => {
  test('SSE-S3 → SSE-KMS is an update; without a bucket key it needs a KMS call per object, paced by the KMS quota share', () => {
    const plan = planFor('b', fleet('sse-s3', 100_000), PRICES, options);
    expect(plan.fix.byMethod).toEqual([{ method: 'update', objects: 1e9, bytes: 1e9 * 1024 }]);
    expect(plan.fix.perObject.kmsCalls).toBe(1e9);
    expect(plan.fix.perObject.pacedBy).toBe('kms');
    // 1e9 calls at half of us-east-1's 100,000/s.
    expect(plan.fix.perObject.hours).toBeCloseTo(1e9 / 50_000 / 3600, 3);
    // The same work in a Region with the default 10,000/s quota takes ten times as long.
    expect(planFor('b', fleet('sse-s3', 100_000), PRICES, { ...options, region: 'eu-north-1' }).fix.perObject.hours).toBeCloseTo(1e9 / 5_000 / 3600, 3);
  });

  test('a bucket key cuts the KMS calls a hundredfold; with few prefixes S3 write rates pace the run instead', () => {
    const plan = planFor('b', fleet('sse-s3', 10), PRICES, { ...options, bucketKey: true });
    expect(plan.fix.perObject.kmsCalls).toBe(1e7);
    expect(plan.fix.perObject.pacedBy).toBe('s3-write');
    expect(plan.fix.perObject.hours).toBeCloseTo(1e9 / 35_000 / 3600, 3);
  });

  test('Batch Operations replaces the verifying HEADs by $0.25 a job and $1 per million objects', () => {
    const plan = planFor('b', fleet('sse-s3'), PRICES, { ...options, bucketKey: true });
    const kms = 1e7 * 0.000003;
    expect(plan.fix.perObject.dollars).toBeCloseTo(1e9 * 0.000005 + 1e9 * 0.0000004 + kms, 2);
    expect(plan.fix.batch.jobs).toBe(1);
    expect(plan.fix.batch.dollars).toBeCloseTo(0.25 + 1000 + (1e9 + 2) * 0.000005 + kms, 2);
  });

  test('unencrypted objects need copies (multipart above 5 GiB); SSE-C and noncurrent copies are blocked', () => {
    const t = tallier({ partBytes: 512 * 1024 ** 2 });
    t.add(row({ key: 'small', encryptionStatus: 'NOT-SSE', size: 10 }));
    t.add(row({ key: 'big', encryptionStatus: 'NOT-SSE', size: 6 * GiB }));
    t.add(row({ key: 'old', encryptionStatus: 'NOT-SSE', size: 4, isLatest: false }));
    t.add(row({ key: 'cust', encryptionStatus: 'SSE-C', size: 3 }));
    t.add(row({ key: 'ok', encryptionStatus: 'SSE-KMS', size: 1 }));
    const plan = planFor('b', t.result(), PRICES, options);
    expect(Object.fromEntries(plan.fix.byMethod.map((m) => [m.method, m.objects]))).toEqual({ copy: 1, 'multipart-copy': 1, blocked: 2, none: 1 });
    // small: 1 CopyObject; big: Create + 12 parts + Complete; 2 verifying HEADs.
    expect(plan.fix.perObject.s3Requests).toBe(1 + 14 + 2);
    expect(plan.fix.batch.jobs).toBe(0);
  });
});

describe('prices are one dated table, overridable', () => {
  test('the table says its date and where it comes from', () => {
    expect(PRICES.date).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(PRICES.source).toContain('s3/pricing');
  });

  test('a JSON override replaces the fields it names and keeps the rest', () => {
    const p = pricesWith(JSON.stringify({ region: 'eu-west-3', s3: { getHeadPer1000: 0.00042 }, quotas: { kmsPerSecondByRegion: { 'eu-west-3': 30_000 } } }), 'p.json');
    expect(p.s3.getHeadPer1000).toBe(0.00042);
    expect(p.s3.putCopyPostListPer1000).toBe(PRICES.s3.putCopyPostListPer1000);
    expect(p.quotas.kmsPerSecondByRegion['eu-west-3']).toBe(30_000);
    expect(p.quotas.kmsPerSecondByRegion['us-east-1']).toBe(100_000);
    expect(p.source).toContain('p.json');
  });

  test('DynamoDB request-unit prices can be overridden one at a time', () => {
    const p = pricesWith(JSON.stringify({ dynamodb: { writeRequestUnitsPerMillion: 1.25 } }), 'p.json');
    expect(p.dynamodb).toEqual({ writeRequestUnitsPerMillion: 1.25, readRequestUnitsPerMillion: PRICES.dynamodb.readRequestUnitsPerMillion });
    expect(() => pricesWith('{"dynamodb":{"wru":1}}', 'p.json')).toThrow(PricesError);
  });

  test('an unknown or invalid field is an error with its path', () => {
    expect(() => pricesWith('{"s3":{"headPer1000":1}}', 'p.json')).toThrow(PricesError);
    expect(() => pricesWith('{"s3":{"getHeadPer1000":-1}}', 'p.json')).toThrow(/p\.json: s3\.getHeadPer1000/);
    expect(() => pricesWith('{', 'p.json')).toThrow(/p\.json is not JSON/);
  });
});
