// Scans a bucket (or a prefix of it): lists its keys page by page, audits each object with bounded
// concurrency, and records the findings in batches. Memory stays flat in the number of objects:
// at most one listing page is prefetched, and findings leave as soon as they are recorded.
import { randomUUID } from 'node:crypto';
import type { EncryptionMode } from '../domain/encryption.ts';
import type { Finding } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';
import type { FindingsStore, ScanRun } from '../findings/store.ts';
import type { ListedObject, ObjectLister } from '../inspect/object-inspector.ts';
import type { AuditDependencies } from './audit-object.ts';
import { auditThenFix, type Remediator } from './audit-requests.ts';
import { BatchRecorder } from './batch-recorder.ts';

export interface ScanDependencies extends AuditDependencies {
  lister: ObjectLister;
  store?: FindingsStore;
  /** Fixes objects the policy says to fix; absent: report only. */
  remediate?: Remediator;
}

export interface ScanOptions {
  bucket: string;
  prefix?: string;
  concurrency: number;
  /** Called for every finding, in completion order (the CLI streams JSON from here). */
  onFinding?: (finding: Finding) => void | Promise<void>;
  onProgress?: (progress: { listed: number; audited: number }) => void;
}

export interface KeyExposure {
  objects: number;
  bytes: number;
  verdicts: Partial<Record<Verdict, number>>;
}

export interface ScanResult extends ScanRun {
  bytes: number;
  modes: Partial<Record<EncryptionMode | 'unknown', number>>;
  /** Objects and bytes per KMS key: the blast radius if that key becomes unusable. */
  kmsKeys: Record<string, KeyExposure>;
}

/** Flattens pages into objects, fetching the next page while the current one is audited. */
async function* prefetchingObjects(pages: AsyncIterable<ListedObject[]>, onPage: (size: number) => void) {
  const iterator = pages[Symbol.asyncIterator]();
  let pending = iterator.next();
  for (;;) {
    const page = await pending;
    if (page.done) return;
    pending = iterator.next();
    // Marks a listing failure as handled until it is awaited after this page.
    pending.catch(() => undefined);
    onPage(page.value.length);
    yield* page.value;
  }
}

export async function scanBucket(deps: ScanDependencies, options: ScanOptions): Promise<ScanResult> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number ≥ 1, got ${options.concurrency}`);
  }
  const clock = deps.clock ?? (() => new Date());
  const result: ScanResult = {
    id: randomUUID(),
    bucket: options.bucket,
    prefix: options.prefix ?? '',
    startedAt: clock().toISOString(),
    finishedAt: '',
    objects: 0,
    bytes: 0,
    verdicts: {},
    modes: {},
    kmsKeys: {},
  };
  let listed = 0;
  const objects = prefetchingObjects(deps.lister.pages(options.bucket, options.prefix), (size) => {
    listed += size;
  });
  const recorder = deps.store ? new BatchRecorder(deps.store) : undefined;
  let failure: { error: unknown } | undefined;

  const tally = (finding: Finding) => {
    result.objects += 1;
    result.bytes += finding.size;
    result.verdicts[finding.verdict] = (result.verdicts[finding.verdict] ?? 0) + 1;
    const mode = finding.mode ?? 'unknown';
    result.modes[mode] = (result.modes[mode] ?? 0) + 1;
    if (finding.kmsKeyArn) {
      const exposure = (result.kmsKeys[finding.kmsKeyArn] ??= { objects: 0, bytes: 0, verdicts: {} });
      exposure.objects += 1;
      exposure.bytes += finding.size;
      exposure.verdicts[finding.verdict] = (exposure.verdicts[finding.verdict] ?? 0) + 1;
    }
  };

  const worker = async () => {
    while (!failure) {
      const next = await objects.next();
      if (next.done) return;
      const finding = await auditThenFix(deps, options.bucket, next.value);
      tally(finding);
      await options.onFinding?.(finding);
      await recorder?.add(finding);
      options.onProgress?.({ listed, audited: result.objects });
    }
  };
  const guarded = async () => {
    try {
      await worker();
    } catch (error) {
      failure ??= { error };
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, guarded));
  if (failure) throw failure.error;

  await recorder?.flush();
  result.finishedAt = clock().toISOString();
  if (deps.store) {
    // Every key was looked up during the audit: these come from the cache, not from KMS.
    const keys = await Promise.all(Object.keys(result.kmsKeys).map((arn) => deps.keys.lookup(arn)));
    await deps.store.recordKeys(keys, clock());
    const { bytes: _bytes, modes: _modes, kmsKeys: _keys, ...run } = result;
    await deps.store.recordScan(run);
  }
  return result;
}
